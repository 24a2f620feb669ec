//! The TLS parser over synthetic streams: the record is written once, at
//! the first encrypted record after both ChangeCipherSpecs, with Zeek's
//! history letters in the order the directions were read.

use super::*;
use crate::applayer::tls::testutil::rfc9001_client_hello;
use crate::applayer::{Session, Weirds};
use crate::flow::Emitted;
use vagt_schema::{ConnId, EventBody, Proto, SslRecord};

fn ident() -> ConnIdent {
    let a = crate::decode::Addr::from_v4([10, 0, 0, 1]);
    let b = crate::decode::Addr::from_v4([10, 0, 0, 2]);
    ConnIdent {
        uid: "Ctest".into(),
        id: ConnId {
            orig_h: a.to_ip(),
            orig_p: 50000,
            resp_h: b.to_ip(),
            resp_p: 443,
        },
        proto: Proto::Tcp,
        vlan: 0,
        orig: a,
        resp: b,
    }
}

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    record(22, &m)
}

/// A TLS 1.2 ServerHello choosing TLS_RSA_WITH_AES_128_CBC_SHA.
fn server_hello() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(0); // no session id
    b.extend_from_slice(&[0x00, 0x2f, 0]);
    b
}

/// The bodies of what the parser emitted, as the writer would see them.
pub(crate) fn bodies(out: &[Emitted]) -> Vec<EventBody> {
    let ctx = crate::flow::record::RecordContext {
        municipality: String::new(),
        sensor: String::new(),
        site: Default::default(),
        uid_salt: 0,
    };
    out.iter()
        .filter_map(|e| match e {
            Emitted::Other(o) => Some(o.to_event(&ctx).body),
            Emitted::Conn(_) | Emitted::Arp(_) | Emitted::Dhcp(_) | Emitted::Clock { .. } => None,
        })
        .collect()
}

fn ssl_records(out: &[Emitted]) -> Vec<SslRecord> {
    bodies(out)
        .into_iter()
        .filter_map(|b| match b {
            EventBody::Ssl(s) => Some(s),
            _ => None,
        })
        .collect()
}

#[test]
fn tls12_handshake_is_written_once_when_established() {
    let conn = ident();
    let mut out = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut p = TlsParser::new(&conn);
    let mut s = Session {
        ts: 1_000_000_000,
        conn: &conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    let mut client = handshake(1, &rfc9001_client_hello());
    // Split the hello across two deliveries: the reader keeps the rest.
    let tail = client.split_off(20);
    assert_eq!(p.parse(&mut s, Dir::ToServer, &client), Verdict::More);
    assert_eq!(p.parse(&mut s, Dir::ToServer, &tail), Verdict::More);
    let mut server = handshake(2, &server_hello());
    server.extend(handshake(14, &[]));
    assert_eq!(p.parse(&mut s, Dir::ToClient, &server), Verdict::More);
    let mut client2 = handshake(16, &[0; 8]);
    client2.extend(record(20, &[1]));
    client2.extend(record(22, &[0xaa; 40])); // encrypted Finished
    assert_eq!(p.parse(&mut s, Dir::ToServer, &client2), Verdict::More);
    let mut server2 = record(20, &[1]);
    server2.extend(record(22, &[0xbb; 40]));
    assert_eq!(p.parse(&mut s, Dir::ToClient, &server2), Verdict::Done);
    p.close(&mut s);
    let recs = ssl_records(&out);
    assert_eq!(recs.len(), 1, "one record per connection");
    let r = &recs[0];
    assert_eq!(r.ssl_history, "CsnGIi");
    assert!(r.established);
    assert_eq!(r.version.as_deref(), Some("TLSv12"));
    assert_eq!(r.cipher.as_deref(), Some("TLS_RSA_WITH_AES_128_CBC_SHA"));
    assert_eq!(r.server_name.as_deref(), Some("example.com"));
    assert!(r.ja3.is_some() && r.ja4s.is_some());
}

#[test]
fn garbage_writes_what_was_seen_and_stops() {
    let conn = ident();
    let mut out = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut p = TlsParser::new(&conn);
    let mut s = Session {
        ts: 0,
        conn: &conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    let client = handshake(1, &rfc9001_client_hello());
    assert_eq!(p.parse(&mut s, Dir::ToServer, &client), Verdict::More);
    assert_eq!(
        p.parse(&mut s, Dir::ToClient, b"HTTP/1.1 400"),
        Verdict::Done
    );
    p.close(&mut s);
    let recs = ssl_records(&out);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].ssl_history, "C");
    assert!(!recs[0].established);
    assert_eq!(weird.get("SSL_malformed_record"), 1);
}

#[test]
fn nothing_seen_writes_nothing() {
    let conn = ident();
    let mut out = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut p = TlsParser::new(&conn);
    let mut s = Session {
        ts: 0,
        conn: &conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    p.close(&mut s);
    assert!(out.is_empty());
}

#[test]
fn sni_against_certificate_names() {
    use super::super::certificate::CertInfo;
    use super::super::session::hostname_matches;
    let c = CertInfo {
        subject: "CN=www.example.org,O=X".into(),
        ..CertInfo::default()
    };
    assert!(hostname_matches(&c, "www.example.org"));
    assert!(!hostname_matches(&c, "example.org"));
    let w = CertInfo {
        san_dns: vec!["*.example.com".into(), "example.com".into()],
        ..CertInfo::default()
    };
    assert!(hostname_matches(&w, "a.example.com"));
    assert!(hostname_matches(&w, "example.com"));
    assert!(!hostname_matches(&w, "a.b.example.com"));
    assert!(!hostname_matches(&w, "192.168.1.150"));
}

#[test]
fn mutated_handshakes_never_panic() {
    // A whole TLS 1.2 exchange, then bytes flipped, cut and repeated by a
    // small deterministic generator: the parser must stay within its caps.
    let conn = ident();
    let mut client = handshake(1, &rfc9001_client_hello());
    client.extend(handshake(16, &[0; 8]));
    client.extend(record(20, &[1]));
    let mut server = handshake(2, &server_hello());
    server.extend(handshake(11, &[0, 0, 6, 0, 0, 3, 0x30, 0x01, 0x00]));
    server.extend(handshake(14, &[]));
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..2000 {
        let (mut c, mut sv) = (client.clone(), server.clone());
        for _ in 0..(next() % 4) {
            let v = if next() % 2 == 0 { &mut c } else { &mut sv };
            let i = (next() as usize) % v.len();
            v[i] = next() as u8;
        }
        let cut = (next() as usize) % (c.len() + 1);
        let steps = [
            (Dir::ToServer, &c[..cut]),
            (Dir::ToClient, &sv[..]),
            (Dir::ToServer, &c[cut..]),
        ];
        let mut p = TlsParser::new(&conn);
        let (bodies, _) = run(&conn, &mut p, &steps);
        let ssl = bodies
            .iter()
            .filter(|b| matches!(b, EventBody::Ssl(_)))
            .count();
        assert!(ssl <= 1);
    }
}
