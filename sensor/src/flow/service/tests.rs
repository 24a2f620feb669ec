//! Service probing: signatures, roles and names.
use super::signature::*;
use super::*;

#[test]
fn any_http_method_with_a_version_or_on_an_http_port() {
    let sig = |p: &[u8], port| tcp_signature(p, true, port, 40000);
    assert_eq!(sig(b"QUERY /users HTTP/1.1\r\n", 4711), Some(Service::Http));
    assert_eq!(sig(b"CCM_POST /HTTP/1.1\r\n", 80), Some(Service::Http));
    assert_eq!(sig(b"CCM_POST /HTTP/1.1\r\n", 4711), None);
    assert_eq!(sig(b"INVITE sip:a@b SIP/2.0\r\n", 5060), Some(Service::Sip));
    assert_eq!(sig(b"USER bob\r\n", 4711), None);
}

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
    let mut bind = vec![5, 0, 11, 3, 0x10, 0, 0, 0, 72, 0, 0, 0, 1, 0, 0, 0];
    bind.resize(72, 0);
    assert_eq!(
        tcp_signature(&bind, true, 502, 38129),
        Some(Service::DceRpc)
    );
    // SOCKS5 CONNECT to a host name starts alike; its bytes 4..8 are
    // the name.
    assert_eq!(
        tcp_signature(b"\x05\x01\x00\x03\x0bexample.com\x00\x50", true, 1080, 5000),
        None
    );
    assert_eq!(udp_signature(b"M-SEARCH * HTTP/1.1\r\n", 1900, 5000), None);
    assert_eq!(
        tcp_signature(b"51 <13>Oct 11 22:14:15 su", true, 514, 5000),
        Some(Service::SyslogTcp)
    );
    assert_eq!(
        tcp_signature(b"<14>Oct 11 22:14:16 su\n", true, 514, 5000),
        Some(Service::SyslogTcp)
    );
    assert_eq!(tcp_signature(b"1022\0root\0", true, 514, 1022), None);
    assert_eq!(
        udp_signature(b"no priority", 514, 60786),
        Some(Service::Syslog)
    );
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
fn kerberos_and_ldap_requests_on_any_port() {
    let bind = [
        0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0, 0x80, 0,
    ];
    assert_eq!(tcp_signature(&bind, true, 32681, 5000), Some(Service::Ldap));
    assert_eq!(tcp_signature(&bind, false, 32681, 5000), None);
    assert_eq!(tcp_signature(&bind[..5], true, 32681, 5000), None);
    assert_eq!(
        names_on(Service::Ldap.bit() | Service::Krb.bit(), true).as_deref(),
        Some("ldap_tcp,krb_tcp")
    );
    assert_eq!(names_on(Service::Krb.bit(), false).as_deref(), Some("krb"));
}

#[test]
fn quic_initials_on_any_port() {
    let v1 = [0xc3, 0, 0, 0, 1, 8];
    let v2 = [0xd3, 0x6b, 0x33, 0x43, 0xcf, 8];
    assert_eq!(udp_signature(&v1, 4433, 5000), Some(Service::Quic));
    assert_eq!(udp_signature(&v2, 4433, 5000), Some(Service::Quic));
    // A v1 Handshake packet is no Initial.
    assert_eq!(udp_signature(&[0xe3, 0, 0, 0, 1, 8], 4433, 5000), None);
}

#[test]
fn starttls_connections_are_watched_for_a_client_hello() {
    use crate::decode::Addr;
    use crate::flow::key::{FlowKey, PacketTuple, StoredKey};
    let t = PacketTuple {
        src: Addr::from_v4([10, 0, 0, 1]),
        dst: Addr::from_v4([10, 0, 0, 2]),
        src_port: 50000,
        dst_port: 110,
        proto: 6,
        one_way: false,
    };
    let (key, sender_a) = FlowKey::new(&t, 0, [0; 3]);
    let mut conn = Conn::new(StoredKey::of(&key, false), ConnKind::Tcp, 0);
    conn.orig_slot = u8::from(!sender_a);
    let cfg = ServiceConfig::default();
    let orig = usize::from(conn.orig_slot);
    let resp = 1 - orig;
    probe(
        &cfg,
        &mut conn,
        resp,
        b"+OK POP3 ready\r\n",
        ConnKind::Tcp,
        false,
    );
    assert_eq!(names(conn.services).as_deref(), Some("pop3"));
    for line in [&b"CAPA\r\n"[..], b"STLS\r\n"] {
        probe(&cfg, &mut conn, orig, line, ConnKind::Tcp, false);
    }
    let hello = [0x16, 3, 1, 0, 0x80, 1, 0, 0];
    probe(&cfg, &mut conn, orig, &hello, ConnKind::Tcp, false);
    assert_eq!(names(conn.services).as_deref(), Some("ssl,pop3"));
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

/// EtherNet/IP's encapsulation header, as Suricata's probe takes it, on
/// TCP and UDP port 44818 only.
#[test]
fn enip_encapsulation_headers_on_the_encapsulation_port() {
    let msg = |command: u16, length: u16, status: u32, options: u32, body: &[u8]| {
        let mut m = command.to_le_bytes().to_vec();
        m.extend_from_slice(&length.to_le_bytes());
        m.extend_from_slice(&[0; 4]);
        m.extend_from_slice(&status.to_le_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&options.to_le_bytes());
        m.extend_from_slice(body);
        m
    };
    let list_identity = msg(0x63, 0, 0, 0, &[]);
    assert_eq!(
        udp_signature(&list_identity, 44818, 50000),
        Some(Service::Enip)
    );
    assert_eq!(
        udp_signature(&list_identity, 50000, 44818),
        Some(Service::Enip)
    );
    assert_eq!(
        tcp_signature(&list_identity, true, 44818, 50000),
        Some(Service::Enip)
    );
    // Cyclic I/O's port, and any other, takes no encapsulation header.
    assert_eq!(udp_signature(&list_identity, 2222, 2222), None);
    assert_eq!(udp_signature(&list_identity, 44819, 50000), None);
    // Commands Suricata knows beyond the common ones, with their checks.
    for (m, ok) in [
        (msg(0x0000, 0, 0, 0, &[]), true),
        (msg(0x0000, 0, 0, 1, &[]), false),
        (msg(0x0072, 0, 0, 0, &[]), true),
        (msg(0x0073, 0, 0, 0, &[]), true),
        (msg(0x0065, 4, 0, 0, &[1, 0, 0, 0]), true),
        (msg(0x0065, 8, 0, 0, &[0; 8]), false),
        (msg(0x0066, 0, 0, 0, &[]), true),
        (msg(0x0066, 2, 0, 0, &[0; 2]), false),
        (msg(0x0064, 6, 0, 0, &[2, 0, 1, 0, 2, 0]), true),
        (msg(0x0064, 0, 0, 0, &[]), false),
        (msg(0x0063, 0, 0x6a, 0, &[]), true),
        (msg(0x0063, 0, 0x04, 0, &[]), false),
        (msg(0x0071, 0, 0, 0, &[]), false),
    ] {
        let found = udp_signature(&m, 44818, 50000) == Some(Service::Enip);
        assert_eq!(found, ok, "{m:02x?}");
    }
    assert_eq!(udp_signature(&list_identity[..23], 44818, 50000), None);
}
