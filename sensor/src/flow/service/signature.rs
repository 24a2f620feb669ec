//! The signatures service probing matches: the first payload bytes of
//! each protocol (with the ports that make a weak signature count), as
//! Zeek's DPD signatures and analyzers' own checks recognise them.

use super::Service;

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

/// Zeek's HTTP ports (`HTTP::ports`): there Zeek reads any request line.
const HTTP_PORTS: &[u16] = &[80, 81, 631, 1080, 3128, 8000, 8080, 8888];

/// A request line with a method outside the list above that Zeek's HTTP
/// analyzer still accepts: any token method, a space, a URI, and either
/// " HTTP/<digit>" later on the line (Zeek's server signature then enables
/// HTTP and replays the request) or an HTTP port (Zeek attaches by port).
fn http_request_line(p: &[u8], resp_port: u16) -> bool {
    let line = &p[..p.len().min(2048)];
    let line = line
        .iter()
        .position(|&c| c == b'\r' || c == b'\n')
        .map_or(line, |e| &line[..e]);
    let method = line
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
        .count();
    if method < 3 || line.get(method) != Some(&b' ') || line.len() <= method + 1 {
        return false;
    }
    let versioned = line
        .windows(7)
        .any(|w| w.starts_with(b" HTTP/") && w[6].is_ascii_digit());
    versioned || HTTP_PORTS.contains(&resp_port)
}

pub(super) fn tcp_signature(
    p: &[u8],
    is_orig: bool,
    resp_port: u16,
    orig_port: u16,
) -> Option<Service> {
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
    if port(102) && p.len() >= 8 && p[..2] == [3, 0] && p[4] == 2 && p[5] == 0xf0 {
        // TPKT + COTP data carrying an S7 PDU (0x32) or S7comm-plus
        // (0x72), either way: a connection seen after its set-up.
        if p[7] == 0x32 || p[7] == 0x72 {
            return Some(Service::S7comm);
        }
    }
    if starts_with_any(p, HTTP_METHODS) || p.starts_with(b"HTTP/1.") {
        return Some(Service::Http);
    }
    if is_orig && http_request_line(p, resp_port) {
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
    // Zeek also attaches its DCE/RPC analyzer to port 135 by port.
    if dce_rpc_pdu(p, port(135)) {
        return Some(Service::DceRpc);
    }
    if p.len() >= 8 && port(502) && p[2] == 0 && p[3] == 0 {
        // MBAP header: protocol id 0 and a length a Modbus PDU can have.
        let len = u16::from_be_bytes([p[4], p[5]]);
        if (2..=254).contains(&len) {
            return Some(Service::Modbus);
        }
    }
    if port(44818) && enip_header(p) {
        return Some(Service::Enip);
    }
    if port(53) && dns_header(p.get(2..).unwrap_or(&[])) {
        return Some(Service::Dns);
    }
    if port(389) && p.first() == Some(&0x30) {
        return Some(Service::Ldap);
    }
    if port(88) && crate::applayer::krb::probe(p, true) {
        return Some(Service::Krb);
    }
    if (port(3268) && p.first() == Some(&0x30)) || (is_orig && ldap_request(p)) {
        return Some(Service::Ldap);
    }
    if port(514) && syslog_frame(p) {
        return Some(Service::SyslogTcp);
    }
    None
}

/// The start of an LDAP request on any port (Zeek's `dpd_ldap_client_tcp`
/// signature): a SEQUENCE, a message id of one to four bytes, then the tag
/// of a delete, bind, search, modify, add, modify-DN, compare or extended
/// request.
fn ldap_request(p: &[u8]) -> bool {
    let len_bytes = match p.get(1) {
        Some(0x05..=0x7f) => 0,
        Some(&b @ 0x81..=0x84) => usize::from(b & 0x7f),
        _ => return false,
    };
    let at = 2 + len_bytes;
    let (Some(0x30), Some(0x02), Some(&n)) = (p.first(), p.get(at), p.get(at + 1)) else {
        return false;
    };
    if !(1..=4).contains(&n) {
        return false;
    }
    matches!(
        p.get(at + 2 + usize::from(n)),
        Some(0x4a | 0x60 | 0x63 | 0x66 | 0x68 | 0x6c | 0x6e | 0x77)
    )
}

/// The start of a syslog frame over TCP (RFC 6587): an octet count and a
/// space, or `<PRI>`; what Zeek's syslog grammar needs to confirm the
/// protocol (rsh, on the same port, is neither).
fn syslog_frame(p: &[u8]) -> bool {
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    match p.first() {
        Some(b'1'..=b'9') => {
            let n = digits(p);
            n <= 6 && p.get(n) == Some(&b' ') && p.get(n + 1) == Some(&b'<')
        }
        Some(b'<') => {
            let n = digits(&p[1..]);
            n > 0 && p.get(n + 1) == Some(&b'>')
        }
        _ => false,
    }
}

pub(super) fn udp_signature(p: &[u8], resp_port: u16, orig_port: u16) -> Option<Service> {
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
    if port(514) {
        // Zeek's syslog grammar takes any datagram on the port (a missing
        // priority is UNSPECIFIED) and confirms the protocol with it.
        return Some(Service::Syslog);
    }
    if port(88) && crate::applayer::krb::probe(p, false) {
        return Some(Service::Krb);
    }
    // Encapsulation messages (List Identity, List Services, ...) on the
    // encapsulation port, as Suricata's `app_proto`. Cyclic I/O (UDP
    // 2222) carries no encapsulation header: Suricata names it nothing.
    if port(44818) && enip_header(p) {
        return Some(Service::Enip);
    }
    if p.len() >= 10 && p[0] == 0x05 && p[1] == 0x64 && port(20000) {
        return Some(Service::Dnp3);
    }
    if port(443) && p.len() >= 5 && p[0] & 0xc0 == 0xc0 && p[1..5] != [0, 0, 0, 0] {
        return Some(Service::Quic);
    }
    if quic_initial(p) {
        return Some(Service::Quic);
    }
    if dtls_client_hello(p) {
        return Some(Service::Dtls);
    }
    None
}

/// A DTLS 1.0 or 1.2 record of epoch 0 opening with a ClientHello of the
/// same family, as Zeek's `dpd_dtls_client` asks: content type 22, version
/// 0xfeff or 0xfefd, an epoch and the high five bytes of the sequence
/// number zero, then the handshake type 1 and, after its 12-byte header,
/// the hello's own DTLS version.
fn dtls_client_hello(p: &[u8]) -> bool {
    let dtls = |major: u8, minor: u8| major == 0xfe && (minor == 0xff || minor == 0xfd);
    p.len() >= 27
        && p[0] == 22
        && dtls(p[1], p[2])
        && p[3..10].iter().all(|&b| b == 0)
        && p[13] == 1
        && dtls(p[25], p[26])
}

/// A STUN message (RFC 5389): the two top bits zero, a length that is a
/// multiple of 4 and matches the datagram, and the magic cookie.
pub(super) fn stun(p: &[u8]) -> bool {
    p.len() >= 20
        && p[0] & 0xc0 == 0
        && p[4..8] == [0x21, 0x12, 0xa4, 0x42]
        && usize::from(u16::from_be_bytes([p[2], p[3]])) == p.len() - 20
        && p[3] & 0x3 == 0
}

/// An EtherNet/IP encapsulation header as Suricata's probe accepts it
/// (`rust/src/enip/enip.rs`, `probe`), over TCP and UDP alike: 24 bytes,
/// a known status, and a known command with what that command implies (a
/// NOP without options, Register Session with its 4-byte body, Unregister
/// Session with none or that, List Interfaces with a count and as many
/// 16-bit words).
pub(super) fn enip_header(p: &[u8]) -> bool {
    let Some(h) = p.get(..24) else {
        return false;
    };
    let le32 = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let command = u16::from_le_bytes([h[0], h[1]]);
    let length = u16::from_le_bytes([h[2], h[3]]);
    let (status, options) = (le32(8), le32(20));
    if !matches!(status, 0..=3 | 0x64 | 0x65 | 0x69 | 0x6a) {
        return false;
    }
    match command {
        0x0000 => options == 0,
        0x0065 => length == 4,
        0x0066 => length == 0 || length == 4,
        0x0064 => {
            let body = &p[24..];
            let count = body.get(..2).map(|c| u16::from_le_bytes([c[0], c[1]]));
            count.is_some_and(|n| body.len() >= 2 + 2 * usize::from(n))
        }
        0x0004 | 0x0063 | 0x006f | 0x0070 | 0x0072 | 0x0073 => true,
        _ => false,
    }
}

/// A TLS (or SSL 3) handshake record header.
pub(super) fn tls_record(p: &[u8]) -> bool {
    p.len() >= 6 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04 && (p[5] == 0x01 || p[5] == 0x02)
}

/// A whole connection-oriented DCE/RPC PDU in one segment: after Zeek's
/// `dpd_dce_rpc` signature (`^\x05[\x00\x01][\x00-\x13]`: version 5.0
/// or 5.1 and a known packet type), but taking any first fragment rather
/// than only the flags `\x03`: Zeek buffers a connection's first bytes and
/// hands them to the analyzer when a later PDU matches (Windows binds set
/// more flags, as in `dce-rpc.dce_rpc_netlogon`), which a first-packets
/// probe cannot. A data representation DCE/RPC uses and a fragment length
/// the segment holds stand for Zeek's analyzer parsing the PDU, and keep
/// out lookalikes such as SOCKS5 requests naming a host. `by_port`
/// (Zeek's port 135 registration): any fragment.
fn dce_rpc_pdu(p: &[u8], by_port: bool) -> bool {
    if p.len() < 16 || p[0] != 5 || p[1] > 1 || p[2] > 0x13 || (p[3] & 0x01 == 0 && !by_port) {
        return false;
    }
    if p[4] & 0xef != 0 || p[5] > 3 || p[6] != 0 || p[7] != 0 {
        return false;
    }
    let len = if p[4] & 0x10 != 0 {
        u16::from_le_bytes([p[8], p[9]])
    } else {
        u16::from_be_bytes([p[8], p[9]])
    };
    (16..=p.len()).contains(&usize::from(len))
}

/// A QUIC version 1 or 2 Initial on any port: Zeek's `dpd_quic_initial`
/// and `dpd_quic_v2_initial` signatures.
fn quic_initial(p: &[u8]) -> bool {
    match p.get(..5) {
        Some([b, 0, 0, 0, 1]) => (0xc0..=0xcf).contains(b),
        Some([b, 0x6b, 0x33, 0x43, 0xcf]) => (0xd0..=0xdf).contains(b),
        _ => false,
    }
}

/// A TLS record holding the start of a ClientHello.
pub(super) fn tls_client_hello(p: &[u8]) -> bool {
    tls_record(p) && p[5] == 0x01
}

/// A plausible DNS message header.
pub(super) fn dns_header(p: &[u8]) -> bool {
    if p.len() < 12 {
        return false;
    }
    let opcode = (p[2] >> 3) & 0xf;
    let qd = u16::from_be_bytes([p[4], p[5]]);
    let an = u16::from_be_bytes([p[6], p[7]]);
    opcode <= 5 && qd <= 16 && an <= 256 && (qd > 0 || an > 0)
}
