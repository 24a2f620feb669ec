//! Application records: what the sensor read inside connections, one module
//! per Zeek log it mirrors (`dns.log`, `ssl.log`, ...). Every record carries
//! the connection's `uid` and its identity (`id.orig_h` ...), so it joins
//! with the conn record, and field names follow Zeek's log where Zeek has
//! the field. Fields that can identify a person are marked `PERSONAL` in
//! `SCHEMA.md`; the pseudonymisation transform treats exactly those.

mod arp;
mod auth;
mod bacnet;
mod dnp3;
mod dns;
mod enip;
mod ftp;
mod http;
mod kerberos;
mod ldap;
mod modbus;
mod ot;
mod quic;
mod rdp;
mod s7comm;
mod smtp;
mod ssh;
mod ssl;

pub use arp::{ArpRecord, ArpStats};
pub use auth::AuthRecord;
pub use bacnet::BacnetRecord;
pub use dnp3::Dnp3Record;
pub use dns::DnsRecord;
pub use enip::EnipRecord;
pub use ftp::FtpRecord;
pub use http::HttpRecord;
pub use kerberos::KerberosRecord;
pub use ldap::{LdapRecord, LdapSearchRecord};
pub use modbus::ModbusRecord;
pub use ot::{OtClass, OtSummaryRecord};
pub use rdp::RdpRecord;
pub use s7comm::S7commRecord;
pub use smtp::SmtpRecord;
pub use ssh::SshRecord;
mod dce_rpc;
mod ntlm;
mod smb;

pub use dce_rpc::DceRpcRecord;
pub use ntlm::NtlmRecord;
pub use smb::{SmbFilesRecord, SmbMappingRecord};
mod dhcp;
mod ntp;
mod snmp;
mod syslog;

pub use dhcp::DhcpRecord;
pub use ntp::NtpRecord;
pub use quic::QuicRecord;
pub use snmp::SnmpRecord;
pub use ssl::{SslRecord, X509Record};
pub use syslog::SyslogRecord;

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The connection an application record belongs to, named as Zeek names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnId {
    #[serde(rename = "id.orig_h")]
    pub orig_h: IpAddr,
    #[serde(rename = "id.orig_p")]
    pub orig_p: u16,
    #[serde(rename = "id.resp_h")]
    pub resp_h: IpAddr,
    #[serde(rename = "id.resp_p")]
    pub resp_p: u16,
}
