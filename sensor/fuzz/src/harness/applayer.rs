//! Targets for the application-layer parsers (`vagt_sensor::applayer`):
//! TLS records and hellos, certificates, QUIC headers, Initial decryption
//! and CRYPTO frames. Each checks the promises the parsers make beyond
//! not panicking: bounded buffers, fingerprints of a fixed shape.

use vagt_sensor::applayer::quic::{self, crypto, initial};
use vagt_sensor::applayer::tls::{certificate, client_hello, fingerprint, handshake, server_hello};

fn check_ja4(ch: &client_hello::ClientHello) {
    for c in [fingerprint::Carrier::Tcp, fingerprint::Carrier::Quic] {
        let j = fingerprint::ja4(ch, c);
        assert_eq!(j.len(), 36, "JA4 has a fixed length: {j}");
        assert_eq!(fingerprint::ja3(ch).len(), 32);
    }
}

fn check_ja4s(sh: &server_hello::ServerHello) {
    let j = fingerprint::ja4s(sh, fingerprint::Carrier::Tcp);
    assert_eq!(j.len(), 25, "JA4S has a fixed length: {j}");
    let _ = (
        sh.version_name(),
        sh.cipher_name(),
        sh.curve_name(),
        sh.next_protocol(),
    );
}

/// Runs every parser that takes a handshake message of type `t`.
fn handshake_message(t: u8, body: &[u8]) {
    match t {
        1 => {
            if let Ok(ch) = client_hello::parse_client_hello(body) {
                check_ja4(&ch);
                let _ = (ch.server_name(), ch.alpn_strings(), ch.max_version());
            }
        }
        2 => {
            if let Ok(sh) = server_hello::parse_server_hello(body) {
                check_ja4s(&sh);
            }
        }
        11 => {
            if let Ok(chain) = certificate::certificate_chain(body) {
                for der in chain {
                    let _ = certificate::parse_certificate(der);
                }
            }
        }
        12 => {
            let _ = server_hello::parse_server_key_exchange_curve(body, 0xc02f);
        }
        _ => {}
    }
}

/// `tls_records`: a cap byte (the reader's cap is 64 times it), a split
/// byte (the stream is fed in pieces of that many bytes, at least 1),
/// then one direction's TLS stream.
pub fn tls_records(data: &[u8]) {
    let [cap, split, stream @ ..] = data else {
        return;
    };
    let cap = usize::from(*cap) * 64;
    let mut r = handshake::RecordReader::new(cap);
    for piece in stream.chunks(usize::from(*split).max(1)) {
        let res = r.feed(piece, &mut |e| {
            if let handshake::Event::Handshake { msg_type, body } = e {
                assert!(body.len() <= cap, "a message above the cap came out");
                handshake_message(msg_type, body);
            }
        });
        if res.is_err() {
            assert_eq!(res.err(), r.failed());
            break;
        }
    }
    assert!(r.dropped() <= stream.len() as u64);
}

/// `tls_hello`: a handshake message type byte, then its body.
pub fn tls_hello(data: &[u8]) {
    if let [t, body @ ..] = data {
        handshake_message(*t, body);
    }
}

/// `x509`: one DER certificate.
pub fn x509(data: &[u8]) {
    if let Ok(c) = certificate::parse_certificate(data) {
        assert_eq!(c.fingerprint_sha256.len(), 64);
    }
}

/// `quic_initial`: a UDP payload. Every coalesced packet is parsed and
/// each Initial opened with the client's and the server's keys from its
/// own DCID (random input seldom passes the tag; seeds from real captures
/// do).
pub fn quic_initial(data: &[u8]) {
    let mut off = 0;
    for h in initial::coalesced(data) {
        assert!(h.pn_offset <= h.packet_len && off + h.packet_len <= data.len());
        let pkt = &data[off..];
        off += h.packet_len;
        let _ = quic::version_name(h.version);
        for server in [false, true] {
            if let Ok(d) = initial::decrypt_initial(pkt, &h, h.dcid, server) {
                quic_frames(&d.payload);
            }
        }
    }
}

/// `quic_frames`: a decrypted Initial payload, whose CRYPTO frames are
/// assembled and read as a handshake message.
pub fn quic_frames(data: &[u8]) {
    let Ok(frames) = crypto::parse_frames(data) else {
        return;
    };
    let mut asm = crypto::CryptoAssembler::new(4096);
    if asm.add_frames(&frames).is_err() {
        return;
    }
    assert!(asm.contiguous().len() <= 4096);
    if let Some((t, body)) = asm.first_message() {
        handshake_message(t, body);
    }
}

/// Cuts an input into parser steps: each a header byte (bit 7: from the
/// responder; bits 0-6: length, at least 1) and that many bytes.
fn steps(mut data: &[u8]) -> Vec<(vagt_sensor::applayer::Dir, &[u8])> {
    use vagt_sensor::applayer::Dir;
    let mut out = Vec::new();
    while let Some((&h, rest)) = data.split_first() {
        let n = usize::from(h & 0x7f).max(1).min(rest.len());
        let dir = if h & 0x80 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        out.push((dir, &rest[..n]));
        data = &rest[n..];
    }
    out
}

fn ident(proto: vagt_schema::Proto) -> vagt_sensor::applayer::ConnIdent {
    let a = vagt_sensor::decode::Addr::from_v4([10, 0, 0, 1]);
    let b = vagt_sensor::decode::Addr::from_v4([10, 0, 0, 2]);
    vagt_sensor::applayer::ConnIdent {
        uid: "Cfuzz".into(),
        id: vagt_schema::ConnId {
            orig_h: a.to_ip(),
            orig_p: 50000,
            resp_h: b.to_ip(),
            resp_p: 443,
        },
        proto,
        vlan: 0,
        orig: a,
        resp: b,
    }
}

/// `tls_stream`: both directions of a TLS connection as steps (see
/// [`steps`]) through the TLS parser. At most one ssl record, its history
/// within Zeek's cap, and a bounded number of x509 records.
pub fn tls_stream(data: &[u8]) {
    use vagt_schema::EventBody;
    use vagt_sensor::applayer::tls::parser::{run, TlsParser};
    use vagt_sensor::applayer::tls::session::MAX_CHAIN;
    let conn = ident(vagt_schema::Proto::Tcp);
    let mut p = TlsParser::new(&conn);
    let (bodies, _) = run(&conn, &mut p, &steps(data));
    let mut ssl = 0;
    let mut x509 = 0;
    for b in &bodies {
        match b {
            EventBody::Ssl(r) => {
                ssl += 1;
                assert!(r.ssl_history.len() <= 101, "history over the cap");
                assert!(r.cert_chain_fps.as_ref().map_or(0, Vec::len) <= MAX_CHAIN);
                assert!(r.client_cert_chain_fps.as_ref().map_or(0, Vec::len) <= MAX_CHAIN);
            }
            EventBody::X509(_) => x509 += 1,
            other => panic!("unexpected record {other:?}"),
        }
    }
    assert!(ssl <= 1, "one ssl record per connection");
    assert!(x509 <= 2 * MAX_CHAIN);
}

/// `quic_datagrams`: datagrams of a QUIC connection as steps (see
/// [`steps`]) through the QUIC parser. quic histories stay within the
/// cap; at most one ssl record.
pub fn quic_datagrams(data: &[u8]) {
    use vagt_schema::EventBody;
    use vagt_sensor::applayer::quic::parser::QuicParser;
    use vagt_sensor::applayer::tls::parser::run;
    let conn = ident(vagt_schema::Proto::Udp);
    let mut p = QuicParser::default();
    let steps = steps(data);
    let (bodies, _) = run(&conn, &mut p, &steps);
    let mut ssl = 0;
    for b in &bodies {
        match b {
            EventBody::Quic(q) => assert!(q.history.len() <= 100, "history over the cap"),
            EventBody::Ssl(_) => ssl += 1,
            other => panic!("unexpected record {other:?}"),
        }
    }
    assert!(ssl <= 1);
    // A record needs a long-header packet, so never more than the steps.
    assert!(bodies.len() <= steps.len() + 1);
}
