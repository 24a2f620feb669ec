//! Which parser reads which recognised service, and the application-layer
//! settings (`[app]`): whether parsers run, which are off, and the
//! reassembly limits.

use super::record::ConnIdent;
use super::stream::Limits;
use super::Parser;
use crate::flow::service::Service;
use serde::{Deserialize, Serialize};

/// Makes a parser for a newly recognised connection.
pub type MakeParser = fn(&ConnIdent) -> Box<dyn Parser>;

/// The parsers there are: one per service that has one.
fn builtin(s: Service) -> Option<MakeParser> {
    match s {
        Service::Dns => Some(super::dns::make),
        Service::Modbus => Some(super::modbus::make),
        Service::Dnp3 => Some(super::dnp3::make),
        Service::Bacnet => Some(super::bacnet::make),
        Service::S7comm => Some(super::s7comm::make),
        Service::Enip => Some(super::enip::make),
        Service::Ssh => Some(super::ssh::make),
        Service::Krb => Some(super::krb::make),
        Service::Ldap => Some(super::ldap::make),
        Service::Rdp => Some(super::rdp::make),
        Service::Http => Some(super::http::make),
        Service::Ftp => Some(super::ftp::make),
        Service::FtpData => Some(super::ftp::data::make),
        Service::Smtp => Some(super::smtp::make),
        Service::Smb => Some(super::smb::make),
        Service::DceRpc => Some(super::dce_rpc::make),
        Service::Dhcp => Some(super::dhcp::make),
        Service::Ntp => Some(super::ntp::make),
        Service::Syslog => Some(super::syslog::make),
        Service::SyslogTcp => Some(super::syslog::make),
        Service::Snmp => Some(super::snmp::make),
        Service::Ssl => Some(super::tls::parser::make),
        Service::Quic => Some(super::quic::parser::make),
        Service::Dtls => Some(super::tls::dtls::make),
        _ => None,
    }
}

/// The `[app]` section of the configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppSettings {
    /// Run the application parsers at all.
    pub enabled: bool,
    /// Services whose parser does not run (their names as in `service`).
    pub disabled: Vec<String>,
    /// Bytes per direction a parser reads; after that the connection is only
    /// counted (Suricata's `stream.reassembly.depth`). 0 = no limit. A
    /// parser may read further (`Parser::depth`): SMB and the industrial
    /// protocols read whole streams.
    pub depth: u64,
    /// Bytes one direction may hold ahead of a hole before the hole is
    /// given up as a gap.
    pub max_held_per_stream: usize,
    /// Bytes all held segments of one worker may take; beyond that,
    /// out-of-order segments are dropped (and counted).
    pub reassembly_memory: usize,
    /// Write HTTP basic-auth passwords into `http` records (Zeek's
    /// `HTTP::default_capture_password`); off, only the user name is.
    pub http_capture_password: bool,
    /// Write FTP passwords of named users (Zeek's
    /// `FTP::default_capture_password`); off, they read "<hidden>".
    /// Anonymous logins' passwords (mail addresses) are always written.
    pub ftp_capture_password: bool,
    /// Hashes each HTTP body and each FTP transfer read whole gets ("md5",
    /// "sha1", "sha256"), for file indicators; none by default (SHA-256
    /// alone costs about 1 ns a body byte, all three about 5 ns:
    /// bench/RESULTS.md). With any, FTP data connections are read to their
    /// end, past `depth`.
    pub file_hashes: Vec<super::http::hashes::Algorithm>,
    /// `[app.dhcp]`: how DHCP messages are joined into exchanges.
    pub dhcp: super::dhcp::Settings,
    /// `[app.ot]`: which industrial messages are written one by one.
    pub ot: super::ot_tally::Settings,
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            enabled: true,
            disabled: Vec::new(),
            depth: 1 << 20,
            max_held_per_stream: 256 << 10,
            reassembly_memory: 64 << 20,
            http_capture_password: false,
            ftp_capture_password: false,
            file_hashes: Vec::new(),
            dhcp: super::dhcp::Settings::default(),
            ot: super::ot_tally::Settings::default(),
        }
    }
}

impl AppSettings {
    /// Names in `disabled` that are no service; the configuration refuses
    /// them.
    pub fn unknown_names(&self) -> Vec<String> {
        self.disabled
            .iter()
            .filter(|n| Service::from_name(n).is_none())
            .cloned()
            .collect()
    }
}

/// The parsers that run, per service.
#[derive(Clone, Debug)]
pub struct Registry {
    parsers: [Option<MakeParser>; 32],
    /// Services (bits of `Conn::services`) that have a parser that runs.
    pub mask: u32,
    pub limits: Limits,
    pub memory: usize,
    pub dhcp: super::dhcp::Settings,
    pub ot: super::ot_tally::Settings,
    pub file_hashes: super::http::hashes::Selection,
}

impl Registry {
    pub fn new(settings: &AppSettings) -> Registry {
        let mut parsers: [Option<MakeParser>; 32] = [None; 32];
        let mut mask = 0;
        if settings.enabled {
            for &s in Service::ALL {
                let off = settings
                    .disabled
                    .iter()
                    .any(|n| Service::from_name(n) == Some(s));
                if let (Some(make), false) = (builtin(s), off) {
                    parsers[s as usize] = Some(make);
                    mask |= s.bit();
                }
            }
        }
        let http = crate::flow::service::Service::Http as usize;
        if settings.http_capture_password && parsers[http].is_some() {
            parsers[http] = Some(super::http::make_capturing_passwords);
        }
        let ftp = crate::flow::service::Service::Ftp as usize;
        if settings.ftp_capture_password && parsers[ftp].is_some() {
            parsers[ftp] = Some(super::ftp::make_capturing_passwords);
        }
        Registry {
            parsers,
            mask,
            limits: Limits {
                depth: if settings.depth == 0 {
                    u64::MAX
                } else {
                    settings.depth
                },
                max_held: settings.max_held_per_stream,
            },
            memory: settings.reassembly_memory,
            dhcp: settings.dhcp,
            ot: settings.ot,
            file_hashes: super::http::hashes::Selection::of(&settings.file_hashes),
        }
    }

    /// No parser runs.
    pub fn none() -> Registry {
        Registry::new(&AppSettings {
            enabled: false,
            ..AppSettings::default()
        })
    }

    /// The parser of the first service in `services` (a bit set) that has
    /// one.
    pub fn parser_for(&self, services: u32) -> Option<MakeParser> {
        let bits = services & self.mask;
        if bits == 0 {
            return None;
        }
        self.parsers[bits.trailing_zeros() as usize]
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(&AppSettings::default())
    }
}
