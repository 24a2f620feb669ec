//! The QUIC parser on the RFC 9001 Appendix A client Initial: the record's
//! connection ids, SNI and ALPN, the history letters, and the ssl record
//! made from the decrypted ClientHello.

use super::*;
use crate::applayer::tls::testutil::unhex;
use crate::applayer::{Session, Weirds};
use vagt_schema::{ConnId, EventBody, Proto};

use super::super::initial::tests::{RFC9001_CLIENT_INITIAL, RFC9001_SERVER_INITIAL};

fn ident() -> ConnIdent {
    let a = crate::decode::Addr::from_v4([10, 0, 0, 1]);
    let b = crate::decode::Addr::from_v4([10, 0, 0, 2]);
    ConnIdent {
        uid: "Cquic".into(),
        id: ConnId {
            orig_h: a.to_ip(),
            orig_p: 50000,
            resp_h: b.to_ip(),
            resp_p: 443,
        },
        proto: Proto::Udp,
        vlan: 0,
        orig: a,
        resp: b,
    }
}

#[test]
fn rfc9001_exchange() {
    let conn = ident();
    let mut out = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut p = QuicParser::default();
    let mut s = Session {
        ts: 0,
        conn: &conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    let client = unhex(RFC9001_CLIENT_INITIAL);
    let server = unhex(RFC9001_SERVER_INITIAL);
    assert_eq!(p.parse(&mut s, Dir::ToServer, &client), Verdict::More);
    assert_eq!(p.parse(&mut s, Dir::ToClient, &server), Verdict::More);
    // A short-header packet each way, then a second and third from the
    // client: "O" at the 1st and 2nd, not the 3rd.
    for _ in 0..3 {
        p.parse(&mut s, Dir::ToServer, &[0x40, 1, 2, 3]);
    }
    p.parse(&mut s, Dir::ToClient, &[0x40, 1, 2, 3]);
    // Without the fixed bit: discarded, after something was decrypted.
    p.parse(&mut s, Dir::ToServer, &[0x00, 1, 2, 3]);
    p.close(&mut s);
    let bodies = crate::applayer::tls::parser::tests::bodies(&out);
    let quic: Vec<_> = bodies
        .iter()
        .filter_map(|b| match b {
            EventBody::Quic(q) => Some(q),
            _ => None,
        })
        .collect();
    assert_eq!(quic.len(), 1);
    let q = quic[0];
    assert_eq!(q.version, "1");
    assert_eq!(q.client_initial_dcid.as_deref(), Some("8394c8f03e515708"));
    assert_eq!(q.client_scid.as_deref(), Some(""));
    assert_eq!(q.server_scid.as_deref(), Some("f067a5502a4262b5"));
    assert_eq!(q.server_name.as_deref(), Some("example.com"));
    assert_eq!(q.client_protocol.as_deref(), Some("alpn"));
    assert_eq!(q.history, "ISisOOoX");
    let ssl: Vec<_> = bodies
        .iter()
        .filter_map(|b| match b {
            EventBody::Ssl(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(ssl.len(), 1);
    assert_eq!(ssl[0].ssl_history, "Cs");
    assert_eq!(ssl[0].version.as_deref(), Some("TLSv13"));
    assert_eq!(ssl[0].curve.as_deref(), Some("x25519"));
    assert!(!ssl[0].established);
    assert!(ssl[0].ja4.as_deref().is_some_and(|j| j.starts_with('q')));
}

#[test]
fn unknown_version_is_one_record_and_the_end() {
    let conn = ident();
    let mut out = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut p = QuicParser::default();
    let mut s = Session {
        ts: 0,
        conn: &conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    let pkt = [0xc0, 0x10, 0x01, 0x00, 0x00, 1, 0x00, 0, 0, 0];
    assert_eq!(p.parse(&mut s, Dir::ToServer, &pkt), Verdict::Done);
    p.close(&mut s);
    let bodies = crate::applayer::tls::parser::tests::bodies(&out);
    assert_eq!(bodies.len(), 1);
    let EventBody::Quic(q) = &bodies[0] else {
        panic!("a quic record");
    };
    assert_eq!(q.version, "unknown-10010000");
    assert_eq!(q.history, "U");
    assert_eq!(q.client_initial_dcid.as_deref(), Some("00"));
}

#[test]
fn never_panics_on_cut_packets() {
    let conn = ident();
    let client = unhex(RFC9001_CLIENT_INITIAL);
    for n in 0..client.len().min(200) {
        let mut out = Vec::new();
        let mut weird = Weirds::default();
        let mut shared =
            crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
        let mut p = QuicParser::default();
        let mut s = Session {
            ts: 0,
            conn: &conn,
            out: &mut out,
            weird: &mut weird,
            shared: &mut shared,
        };
        p.parse(&mut s, Dir::ToServer, &client[..n]);
        p.close(&mut s);
    }
}
