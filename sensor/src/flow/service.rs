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
    set_state(conn, slot, state(conn, slot) + 1);
    let is_orig = conn.is_orig(slot);
    let (orig_port, resp_port) = conn.ports();
    let found = match kind {
        ConnKind::Tcp => tcp_signature(payload, is_orig, resp_port, orig_port),
        ConnKind::Udp => udp_signature(payload, resp_port, orig_port),
        _ => None,
    };
    if let Some(s) = found {
        conn.services |= s.bit() & !cfg.disabled;
        set_state(conn, slot, DONE);
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

fn starts_with_any(p: &[u8], prefixes: &[&[u8]]) -> bool {
    prefixes.iter().any(|x| p.starts_with(x))
}

fn starts_with_ci(p: &[u8], prefix: &[u8]) -> bool {
    p.len() >= prefix.len() && p[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Client commands that open or end an FTP control session.
const FTP_COMMANDS: &[&[u8]] = &[
    b"USER ", b"PASS ", b"AUTH ", b"QUIT", b"SYST", b"FEAT", b"PWD", b"CWD ", b"TYPE ", b"PASV",
    b"EPSV", b"PORT ", b"LIST", b"RETR ", b"STOR ",
];

const HTTP_METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"PATCH ",
    b"TRACE ",
    b"PROPFIND ",
];

fn tcp_signature(p: &[u8], is_orig: bool, resp_port: u16, orig_port: u16) -> Option<Service> {
    let port = |x: u16| resp_port == x || orig_port == x;
    if p.starts_with(b"SSH-") {
        return Some(Service::Ssh);
    }
    if tls_record(p) {
        return Some(Service::Ssl);
    }
    if p.len() >= 10 && p[0] == 0x05 && p[1] == 0x64 {
        return Some(Service::Dnp3);
    }
    if starts_with_any(p, HTTP_METHODS) || p.starts_with(b"HTTP/1.") {
        return Some(Service::Http);
    }
    if starts_with_any(
        p,
        &[
            b"SIP/2.0 ",
            b"INVITE sip:",
            b"REGISTER sip:",
            b"OPTIONS sip:",
        ],
    ) {
        return Some(Service::Sip);
    }
    if !is_orig {
        // Server banners and replies.
        if p.starts_with(b"220") && p.len() > 3 && (p[3] == b' ' || p[3] == b'-') {
            let text = &p[..p.len().min(256)];
            let says = |w: &[u8]| text.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
            if port(21) || port(2811) || says(b"ftp") {
                return Some(Service::Ftp);
            }
            if port(25) || port(587) || says(b"smtp") || says(b"esmtp") || says(b"mail") {
                return Some(Service::Smtp);
            }
        }
        if p.starts_with(b"+OK") && (port(110) || p.len() < 512) {
            return Some(Service::Pop3);
        }
        if p.starts_with(b"* OK") || p.starts_with(b"* PREAUTH") {
            return Some(Service::Imap);
        }
    } else {
        if starts_with_ci(p, b"EHLO ") || starts_with_ci(p, b"HELO ") {
            return Some(Service::Smtp);
        }
        if port(21) && FTP_COMMANDS.iter().any(|c| starts_with_ci(p, c)) {
            return Some(Service::Ftp);
        }
        if starts_with_ci(p, b"NICK ") || (starts_with_ci(p, b"USER ") && port(6667)) {
            return Some(Service::Irc);
        }
        if p.len() > 8 && p[0] == 0x03 && p[1] == 0x00 && p[5] == 0xe0 {
            // TPKT + X.224 connection request: RDP (or ISO-TSAP for S7).
            return Some(if port(102) {
                Service::S7comm
            } else {
                Service::Rdp
            });
        }
        if p.starts_with(b"*") && p.len() > 3 && p[1].is_ascii_digit() && port(6379) {
            return Some(Service::Redis);
        }
        if p.len() >= 2 && p[0] == 0x10 && port(1883) {
            return Some(Service::Mqtt);
        }
    }
    if p.len() >= 8 && (&p[4..8] == b"\xffSMB" || &p[4..8] == b"\xfeSMB") {
        return Some(Service::Smb);
    }
    if p.len() >= 8 && port(502) && p[2] == 0 && p[3] == 0 {
        // MBAP header: protocol id 0 and a length a Modbus PDU can have.
        let len = u16::from_be_bytes([p[4], p[5]]);
        if (2..=254).contains(&len) {
            return Some(Service::Modbus);
        }
    }
    if p.len() >= 24 && port(44818) && enip_command(p) {
        return Some(Service::Enip);
    }
    if port(53) && dns_header(p.get(2..).unwrap_or(&[])) {
        return Some(Service::Dns);
    }
    if port(389) && p.first() == Some(&0x30) {
        return Some(Service::Ldap);
    }
    None
}

fn udp_signature(p: &[u8], resp_port: u16, orig_port: u16) -> Option<Service> {
    let port = |x: u16| resp_port == x || orig_port == x;
    if (port(53) || port(5353) || port(5355) || port(137)) && dns_header(p) {
        return Some(Service::Dns);
    }
    if (port(67) || port(68)) && p.len() >= 240 && p[236..240] == [0x63, 0x82, 0x53, 0x63] {
        return Some(Service::Dhcp);
    }
    if port(123) && p.len() >= 48 {
        let version = (p[0] >> 3) & 0x7;
        if (1..=4).contains(&version) {
            return Some(Service::Ntp);
        }
    }
    if (port(161) || port(162)) && p.len() > 2 && p[0] == 0x30 {
        return Some(Service::Snmp);
    }
    if starts_with_any(
        p,
        &[
            b"SIP/2.0 ",
            b"INVITE sip:",
            b"REGISTER sip:",
            b"OPTIONS sip:",
        ],
    ) {
        return Some(Service::Sip);
    }
    if port(47808) && p.len() >= 4 && p[0] == 0x81 {
        return Some(Service::Bacnet);
    }
    if port(514) && p.first() == Some(&b'<') {
        return Some(Service::Syslog);
    }
    if port(44818) && p.len() >= 24 && enip_command(p) {
        return Some(Service::Enip);
    }
    if p.len() >= 10 && p[0] == 0x05 && p[1] == 0x64 && port(20000) {
        return Some(Service::Dnp3);
    }
    if port(443) && p.len() >= 5 && p[0] & 0xc0 == 0xc0 && p[1..5] != [0, 0, 0, 0] {
        return Some(Service::Quic);
    }
    None
}

/// An EtherNet/IP encapsulation header with a known command.
fn enip_command(p: &[u8]) -> bool {
    matches!(
        u16::from_le_bytes([p[0], p[1]]),
        0x0004 | 0x0063 | 0x0064 | 0x0065 | 0x0066 | 0x006f | 0x0070
    )
}

/// A TLS (or SSL 3) handshake record header.
fn tls_record(p: &[u8]) -> bool {
    p.len() >= 6 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04 && (p[5] == 0x01 || p[5] == 0x02)
}

/// A plausible DNS message header.
fn dns_header(p: &[u8]) -> bool {
    if p.len() < 12 {
        return false;
    }
    let opcode = (p[2] >> 3) & 0xf;
    let qd = u16::from_be_bytes([p[4], p[5]]);
    let an = u16::from_be_bytes([p[6], p[7]]);
    opcode <= 5 && qd <= 16 && an <= 256 && (qd > 0 || an > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_openings() {
        assert_eq!(
            tcp_signature(b"GET / HTTP/1.1\r\n", true, 80, 5000),
            Some(Service::Http)
        );
        assert_eq!(
            tcp_signature(b"SSH-2.0-OpenSSH", false, 22, 5000),
            Some(Service::Ssh)
        );
        assert_eq!(
            tcp_signature(b"220 ProFTPD ready\r\n", false, 21, 5000),
            Some(Service::Ftp)
        );
        assert_eq!(
            tcp_signature(b"220 mx ESMTP\r\n", false, 25, 5000),
            Some(Service::Smtp)
        );
        assert_eq!(
            tcp_signature(b"* OK IMAP4rev1\r\n", false, 143, 5000),
            Some(Service::Imap)
        );
        assert_eq!(
            tcp_signature(&[0x16, 3, 1, 0, 0x80, 1, 0, 0], true, 443, 5000),
            Some(Service::Ssl)
        );
        assert_eq!(tcp_signature(b"hello", true, 80, 5000), None);
        assert_eq!(udp_signature(b"M-SEARCH * HTTP/1.1\r\n", 1900, 5000), None);
    }

    #[test]
    fn no_panic_on_short_payloads() {
        for n in 0..32 {
            let p = vec![0x30u8; n];
            let _ = tcp_signature(&p, true, 502, 44818);
            let _ = tcp_signature(&p, false, 25, 21);
            let _ = udp_signature(&p, 53, 161);
        }
    }

    #[test]
    fn names_are_comma_joined() {
        assert_eq!(
            names(Service::Http.bit() | Service::Ssl.bit()).as_deref(),
            Some("http,ssl")
        );
        assert_eq!(names(0), None);
        assert_eq!(Service::from_name("TLS"), Some(Service::Ssl));
    }
}
