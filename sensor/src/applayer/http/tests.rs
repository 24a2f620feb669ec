//! Whole conversations through the HTTP parser, checked against the rows
//! Zeek writes for them.

use super::*;
use crate::applayer::Weirds;
use crate::flow::record::RecordContext;
use crate::flow::Emitted;
use vagt_schema::{ConnId, EventBody, HttpRecord, Proto};

/// Every hash on, as `[app] file_hashes = ["md5", "sha1", "sha256"]`.
const ALL_HASHES: hashes::Selection = hashes::Selection::ALL;

fn ident() -> ConnIdent {
    let a = crate::decode::Addr::from_v4([10, 0, 0, 1]);
    let b = crate::decode::Addr::from_v4([10, 0, 0, 2]);
    ConnIdent {
        uid: "Ctest".into(),
        id: ConnId {
            orig_h: a.to_ip(),
            orig_p: 40000,
            resp_h: b.to_ip(),
            resp_p: 80,
        },
        proto: Proto::Tcp,
        vlan: 0,
        orig: a,
        resp: b,
    }
}

/// Steps of a conversation: (from client?, bytes); `None` bytes = FIN.
fn run(steps: &[(bool, Option<&[u8]>)], capture: bool) -> (Vec<HttpRecord>, Weirds) {
    let conn = ident();
    let mut out: Vec<Emitted> = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    shared.file_hashes = ALL_HASHES;
    let mut p: Box<dyn Parser> = if capture {
        make_capturing_passwords(&conn)
    } else {
        make(&conn)
    };
    {
        let mut s = Session {
            ts: 1_000_000_000,
            conn: &conn,
            out: &mut out,
            weird: &mut weird,
            shared: &mut shared,
        };
        for (orig, data) in steps {
            let dir = if *orig { Dir::ToServer } else { Dir::ToClient };
            match data {
                Some(d) => {
                    p.parse(&mut s, dir, d);
                }
                None => p.eof(&mut s, dir),
            }
        }
        p.close(&mut s);
    }
    let ctx = RecordContext::default();
    let rows = out
        .iter()
        .filter_map(|e| match e {
            Emitted::Other(o) => match o.to_event(&ctx).body {
                EventBody::Http(r) => Some(r),
                _ => None,
            },
            _ => None,
        })
        .collect();
    (rows, weird)
}

#[test]
fn pipelined_requests_pair_in_order() {
    let (rows, _) = run(
        &[
            (true, Some(b"GET /a HTTP/1.1\r\nHost: x\r\nReferer: http://r/\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")),
            (false, Some(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n")),
            (false, Some(b"4\r\nwxyz\r\n2;x=1\r\nab\r\n0\r\nX-T: 1\r\n\r\n")),
        ],
        false,
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].trans_depth, rows[0].uri.as_deref()),
        (1, Some("/a"))
    );
    assert_eq!(rows[0].referrer.as_deref(), Some("http://r/"));
    assert_eq!(
        (rows[0].status_code, rows[0].response_body_len),
        (Some(200), 3)
    );
    assert_eq!((rows[1].trans_depth, rows[1].status_code), (2, Some(404)));
    assert_eq!(rows[1].response_body_len, 6);
    assert_eq!(rows[1].version.as_deref(), Some("1.1"));
}

#[test]
fn http09_request_and_late_request_end() {
    // Zeek: the reply ends at the server's close and writes the row; the
    // request (still in its header block) ends at the client's close and
    // opens a second, empty row.
    let (rows, w) = run(
        &[
            (true, Some(b"GET /zeek.html\n")),
            (false, Some(b"<html>\n</html>\n")),
            (false, None),
            (true, None),
        ],
        false,
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].version.as_deref(), Some("0.9"));
    assert_eq!(
        (rows[0].status_code, rows[0].status_msg.as_deref()),
        (Some(0), Some("<empty>"))
    );
    assert_eq!(rows[0].response_body_len, 15);
    assert_eq!((rows[1].trans_depth, rows[1].method.as_deref()), (2, None));
    assert_eq!(w.get("invalid_http_09_request_method"), 0);
}

#[test]
fn bad_request_line_gives_reply_only_row() {
    let (rows, w) = run(
        &[
            (true, Some(b"\xc3\x83 / HTTP/1.1\r\nHost: x\r\n\r\n")),
            (
                false,
                Some(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 5\r\n\r\nnope."),
            ),
        ],
        false,
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].method.as_deref(), rows[0].host.as_deref()),
        (None, None)
    );
    assert_eq!(
        (rows[0].status_code, rows[0].response_body_len),
        (Some(400), 5)
    );
    assert_eq!(w.get("bad_HTTP_request_with_version"), 1);
}

#[test]
fn basic_auth_password_only_when_asked() {
    let req: &[u8] = b"GET / HTTP/1.0\r\nAuthorization: Basic  dGVzdDoxOjM0\r\n\r\n";
    let rep: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    let (rows, _) = run(&[(true, Some(req)), (false, Some(rep))], false);
    assert_eq!(
        (rows[0].username.as_deref(), rows[0].password.as_deref()),
        (Some("test"), None)
    );
    let (rows, _) = run(&[(true, Some(req)), (false, Some(rep))], true);
    assert_eq!(rows[0].password.as_deref(), Some("1:34"));
}

#[test]
fn informational_reply_and_connect() {
    let (rows, _) = run(
        &[
            (
                true,
                Some(b"POST /u HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"),
            ),
            (false, Some(b"HTTP/1.1 100 Continue\r\n\r\n")),
            (true, Some(b"data")),
            (
                false,
                Some(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
            ),
        ],
        false,
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].info_code, rows[0].status_code),
        (Some(100), Some(201))
    );
    assert_eq!(rows[0].request_body_len, 4);

    let (rows, _) = run(
        &[
            (
                true,
                Some(b"CONNECT mail:25 HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n"),
            ),
            (
                false,
                Some(b"HTTP/1.0 200 Connection established\r\n\r\n220 mail ESMTP\r\n"),
            ),
            (true, Some(b"EHLO x\r\n")),
        ],
        false,
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].method.as_deref(), Some("CONNECT"));
    assert_eq!(rows[0].proxied, ["PROXY-CONNECTION -> keep-alive"]);
    assert_eq!(rows[0].response_body_len, 0);
}

#[test]
fn gap_inside_body_is_counted() {
    let conn = ident();
    let mut out = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    shared.file_hashes = ALL_HASHES;
    let mut p = make(&conn);
    let mut s = Session {
        ts: 0,
        conn: &conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    p.parse(&mut s, Dir::ToServer, b"GET / HTTP/1.1\r\n\r\n");
    p.parse(
        &mut s,
        Dir::ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",
    );
    assert_eq!(p.gap(&mut s, Dir::ToClient, 5), Verdict::More);
    p.parse(&mut s, Dir::ToClient, b"cde");
    p.close(&mut s);
    assert_eq!(out.len(), 1);
    let ctx = RecordContext::default();
    let Some(EventBody::Http(row)) = out[0].to_event(&ctx).map(|ev| ev.body) else {
        panic!("not http")
    };
    assert_eq!(row.resp_sha256, None, "a body with a gap has no hash");
}

const ABC_MD5: &str = "900150983cd24fb0d6963f7d28e17f72";
const ABC_SHA1: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = gz.write_all(data);
    gz.finish().unwrap_or_default()
}

#[test]
fn bodies_read_whole_are_hashed_after_decoding() {
    // Plain, by Content-Length; an upload too.
    let (rows, _) = run(
        &[
            (
                true,
                Some(b"POST /up HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"),
            ),
            (
                false,
                Some(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
            ),
        ],
        false,
    );
    let r = &rows[0];
    assert_eq!(r.orig_md5.as_deref(), Some(ABC_MD5));
    assert_eq!(r.resp_md5.as_deref(), Some(ABC_MD5));
    assert_eq!(r.resp_sha1.as_deref(), Some(ABC_SHA1));
    assert_eq!(r.resp_sha256.as_deref(), Some(ABC_SHA256));
    // Gzip inside chunks, with a trailer: the hash is of "abc".
    let z = gzip(b"abc");
    let (a, b) = z.split_at(z.len() / 2);
    let mut reply =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    for piece in [a, b] {
        reply.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        reply.extend_from_slice(piece);
        reply.extend_from_slice(b"\r\n");
    }
    reply.extend_from_slice(b"0\r\nX-Trailer: 1\r\n\r\n");
    let (rows, _) = run(
        &[
            (true, Some(b"GET / HTTP/1.1\r\n\r\n")),
            (false, Some(&reply)),
        ],
        false,
    );
    assert_eq!(rows[0].response_body_len, 3);
    assert_eq!(rows[0].resp_sha256.as_deref(), Some(ABC_SHA256));
    assert_eq!(rows[0].orig_md5, None, "no request body");
    // A body that runs until the server closes, ended by its close.
    let (rows, _) = run(
        &[
            (true, Some(b"GET / HTTP/1.0\r\n\r\n")),
            (
                false,
                Some(b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nabc"),
            ),
            (false, None),
        ],
        false,
    );
    assert_eq!(rows[0].resp_sha256.as_deref(), Some(ABC_SHA256));
}

#[test]
fn bodies_not_read_whole_have_no_hash() {
    for reply in [
        // Cut short by the connection's end.
        &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"[..],
        // A piece of a file.
        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-2/10\r\nContent-Length: 3\r\n\r\nabc",
        // A form: its files are its parts.
        b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=x\r\nContent-Length: 3\r\n\r\nabc",
        // Nothing to hash.
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ] {
        let (rows, _) = run(&[(true, Some(b"GET / HTTP/1.1\r\n\r\n")), (false, Some(reply))], false);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].resp_sha256, None, "{}", String::from_utf8_lossy(reply));
        assert_eq!(rows[0].resp_md5, None);
    }
}

#[test]
fn garbage_never_panics() {
    let mut seed = 7u64;
    for _ in 0..200 {
        let mut steps: Vec<(bool, Vec<u8>)> = Vec::new();
        for _ in 0..6 {
            let mut b = Vec::new();
            for _ in 0..(seed % 64) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = b"GET HTTP/1.1 200\r\n:%0chunked Content-Length: 5\r\n\r\n";
                b.push(pick[(seed >> 33) as usize % pick.len()]);
            }
            steps.push((seed & 1 == 0, b));
        }
        let borrowed: Vec<(bool, Option<&[u8]>)> = steps
            .iter()
            .map(|(o, b)| (*o, Some(b.as_slice())))
            .collect();
        let _ = run(&borrowed, false);
    }
}
