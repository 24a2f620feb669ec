//! Application protocol recognition from the first payload bytes, like
//! Zeek's `service` field or Suricata's `app_proto`.
//!
//! Each direction's first few payload packets are matched against small
//! signatures; nothing is parsed beyond what a signature needs and nothing
//! is buffered. A protocol counts as recognised when one direction shows it
//! unambiguously, or when a banner and a port agree. Names follow Zeek
//! ("ssl" for TLS) so conn records read the same.

use super::conn::{Conn, ConnKind};

/// Recognised application protocols, as bits of `Conn::services`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Service {
    Http = 0,
    Ssl,
    Ssh,
    Ftp,
    Smtp,
    Pop3,
    Imap,
    Dns,
    Dhcp,
    Ntp,
    Snmp,
    Sip,
    Smb,
    Rdp,
    Irc,
    Quic,
    Dnp3,
    Modbus,
    S7comm,
    Bacnet,
    Enip,
    Mqtt,
    Redis,
    Ldap,
    Syslog,
    Krb,
    DceRpc = 26,
    /// Syslog over TCP: Zeek runs a separate analyzer for it and names
    /// the service after that analyzer.
    SyslogTcp,
    /// An FTP data connection: not recognised from its bytes (it carries
    /// a file or a listing) but announced on the control connection
    /// (`applayer::expect`), as Zeek and Suricata name it.
    FtpData,
    /// TLS over UDP (RFC 6347): WebRTC key setup, VPN tunnels.
    Dtls,
}

impl Service {
    pub const ALL: &'static [Service] = &[
        Service::Http,
        Service::Ssl,
        Service::Ssh,
        Service::Ftp,
        Service::Smtp,
        Service::Pop3,
        Service::Imap,
        Service::Dns,
        Service::Dhcp,
        Service::Ntp,
        Service::Snmp,
        Service::Sip,
        Service::Smb,
        Service::Rdp,
        Service::Irc,
        Service::Quic,
        Service::Dnp3,
        Service::Modbus,
        Service::S7comm,
        Service::Bacnet,
        Service::Enip,
        Service::Mqtt,
        Service::Redis,
        Service::Ldap,
        Service::Syslog,
        Service::Krb,
        Service::DceRpc,
        Service::SyslogTcp,
        Service::FtpData,
        Service::Dtls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Http => "http",
            Service::Ssl => "ssl",
            Service::Ssh => "ssh",
            Service::Ftp => "ftp",
            Service::Smtp => "smtp",
            Service::Pop3 => "pop3",
            Service::Imap => "imap",
            Service::Dns => "dns",
            Service::Dhcp => "dhcp",
            Service::Ntp => "ntp",
            Service::Snmp => "snmp",
            Service::Sip => "sip",
            Service::Smb => "smb",
            Service::Rdp => "rdp",
            Service::Irc => "irc",
            Service::Quic => "quic",
            Service::Dnp3 => "dnp3",
            Service::Modbus => "modbus",
            Service::S7comm => "s7comm",
            Service::Bacnet => "bacnet",
            Service::Enip => "enip",
            Service::Mqtt => "mqtt",
            Service::Redis => "redis",
            Service::Ldap => "ldap",
            Service::Syslog => "syslog",
            Service::Krb => "krb",
            Service::DceRpc => "dce_rpc",
            Service::SyslogTcp => "syslog_tcp",
            Service::FtpData => "ftp-data",
            Service::Dtls => "dtls",
        }
    }

    pub fn from_name(name: &str) -> Option<Service> {
        let n = name.to_ascii_lowercase();
        let n = if n == "tls" { "ssl".to_string() } else { n };
        Service::ALL.iter().copied().find(|s| s.name() == n)
    }

    #[inline]
    pub fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// Names of the services in a bit set, comma-separated in a fixed order.
pub fn names(bits: u32) -> Option<String> {
    let bits = bits & !ATTACHED;
    if bits == 0 {
        return None;
    }
    let mut out = String::new();
    for s in Service::ALL.iter().filter(|s| bits & s.bit() != 0) {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(s.name());
    }
    Some(out)
}

/// `names` as a connection's record writes them: Zeek names its TCP
/// Kerberos and LDAP analyzers `krb_tcp` and `ldap_tcp`.
pub fn names_on(bits: u32, tcp: bool) -> Option<String> {
    let n = names(bits)?;
    if !tcp || bits & (Service::Krb.bit() | Service::Ldap.bit()) == 0 {
        return Some(n);
    }
    Some(
        n.split(',')
            .map(|s| match s {
                "krb" => "krb_tcp",
                "ldap" => "ldap_tcp",
                s => s,
            })
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Marks, in `Conn::services`, a connection that an application parser
/// was attached to (`applayer`); no service uses this bit.
pub const ATTACHED: u32 = 1 << 31;

/// Service recognition settings.
#[derive(Clone, Copy, Debug)]
pub struct ServiceConfig {
    pub enabled: bool,
    /// Services never reported (bit set).
    pub disabled: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            enabled: true,
            disabled: 0,
        }
    }
}

/// Payload packets per direction looked at before giving up.
const ATTEMPTS: u8 = 3;
/// Marks a direction whose probing is over.
const DONE: u8 = 0xf;
/// The originator's direction watches for a TLS ClientHello after a
/// protocol that can switch to TLS (STARTTLS, RDP's TLS security) was
/// recognised: states `WATCH..DONE` count its payload packets, so it
/// watches seven of them, as Zeek's analyzers hand over to SSL mid-stream.
const WATCH: u8 = 8;

/// Services whose connections can continue as TLS.
fn may_upgrade(s: Service) -> bool {
    matches!(
        s,
        Service::Smtp
            | Service::Pop3
            | Service::Imap
            | Service::Ftp
            | Service::Irc
            | Service::Ldap
            | Service::Rdp
    )
}

/// Probing state of endpoint `slot`: payload packets looked at, or
/// `DONE`. Both directions share one byte of `Conn::probe`, a nibble each.
fn state(conn: &Conn, slot: usize) -> u8 {
    (conn.probe >> (4 * slot)) & 0xf
}

fn set_state(conn: &mut Conn, slot: usize, v: u8) {
    let shift = 4 * slot;
    conn.probe = (conn.probe & !(0xf << shift)) | ((v & 0xf) << shift);
}

/// Looks at a payload packet from endpoint `slot`; `resp_multicast` says
/// whether the responder's address is a multicast group.
pub fn probe(
    cfg: &ServiceConfig,
    conn: &mut Conn,
    slot: usize,
    payload: &[u8],
    kind: ConnKind,
    resp_multicast: bool,
) {
    if !cfg.enabled || payload.is_empty() || state(conn, slot) == DONE {
        return;
    }
    let first_message = conn.probe == 0;
    let is_orig = conn.is_orig(slot);
    if state(conn, slot) >= WATCH {
        if is_orig && tls_client_hello(payload) {
            conn.services |= Service::Ssl.bit() & !cfg.disabled;
            set_state(conn, slot, DONE);
        } else if is_orig {
            set_state(conn, slot, state(conn, slot) + 1);
        }
        return;
    }
    if kind == ConnKind::Udp && stun(payload) {
        // ICE's connectivity checks come first on a WebRTC 5-tuple and
        // the DTLS handshake after them (RFC 8445, RFC 7983): STUN is no
        // failed attempt at recognising what the connection carries.
        return;
    }
    set_state(conn, slot, state(conn, slot) + 1);
    let (orig_port, resp_port) = conn.ports();
    let found = match kind {
        ConnKind::Tcp => tcp_signature(payload, is_orig, resp_port, orig_port),
        ConnKind::Udp => udp_signature(payload, resp_port, orig_port),
        _ => None,
    };
    if let Some(s) = found {
        conn.services |= s.bit() & !cfg.disabled;
        set_state(conn, slot, DONE);
        let orig_slot = usize::from(!conn.is_orig(0));
        if may_upgrade(s) && conn.services & Service::Ssl.bit() == 0 {
            set_state(conn, orig_slot, WATCH);
        }
        if cfg.disabled & s.bit() == 0
            && sent_by_server(s, payload, kind, is_orig, first_message)
            && !resp_multicast
        {
            // Like Zeek's DNS and NTP analyzers: a server's message from the
            // "originator" means the connection's start was missed.
            conn.flip_roles();
        }
    } else if state(conn, slot) >= ATTEMPTS {
        set_state(conn, slot, DONE);
    }
}

/// Whether a recognised message shows its sender to be the server while
/// the connection holds it for the client (or the reverse).
fn sent_by_server(s: Service, p: &[u8], kind: ConnKind, is_orig: bool, first: bool) -> bool {
    match s {
        Service::Dns if first && is_orig => {
            let hdr = if kind == ConnKind::Tcp {
                p.get(2..)
            } else {
                Some(p)
            };
            hdr.and_then(|h| h.get(2)).is_some_and(|b| b & 0x80 != 0)
        }
        Service::Ntp => {
            let mode = p.first().map_or(0, |b| b & 0x7);
            (mode == 4 && is_orig) || (mode == 3 && !is_orig)
        }
        _ => false,
    }
}

mod signature;
use signature::{stun, tcp_signature, tls_client_hello, udp_signature};

#[cfg(test)]
mod tests;
