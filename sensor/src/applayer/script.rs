//! Runs one application parser over a scripted conversation outside the
//! packet path: the fuzz targets of the parsers and their tests use it.
//! The script is plain bytes, so a fuzzer can write it:
//!
//! * each step starts with a header byte: bit 0 the direction (0 = from
//!   the client), bit 1 "the sender closed" (no payload follows), bit 2 "a
//!   gap" (the next byte is its length, no payload); otherwise the next
//!   byte is the payload length, and that many bytes follow (fewer at the
//!   end of the input);
//! * a direction whose parser answered [`Verdict::Done`] gets nothing more,
//!   as in the worker; `close` runs at the end.

use super::registry::MakeParser;
use super::{ConnIdent, Dir, Session, Verdict, Weirds};
use crate::decode::Addr;
use crate::flow::record::RecordContext;
use crate::flow::Emitted;
use vagt_schema::{ConnId, EventBody, Proto};

/// A TCP connection 10.0.0.1:40000 -> 10.0.0.2:`port` to run parsers on.
pub fn tcp_ident(port: u16) -> ConnIdent {
    let a = Addr::from_v4([10, 0, 0, 1]);
    let b = Addr::from_v4([10, 0, 0, 2]);
    ConnIdent {
        uid: "Cdrive".into(),
        id: ConnId {
            orig_h: a.to_ip(),
            orig_p: 40000,
            resp_h: b.to_ip(),
            resp_p: port,
        },
        proto: Proto::Tcp,
        vlan: 0,
        orig: a,
        resp: b,
    }
}

/// Runs the parser `make` builds over `script`; returns the records it
/// wrote and its weirds.
pub fn run(make: MakeParser, conn: &ConnIdent, script: &[u8]) -> (Vec<EventBody>, Weirds) {
    let mut out: Vec<Emitted> = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    // Every optional computation on, so that scripts and fuzzers reach it.
    shared.file_hashes = crate::applayer::http::hashes::Selection::ALL;
    let mut parser = make(conn);
    let mut done = [false; 2];
    {
        let mut s = Session {
            ts: 1_000_000_000,
            conn,
            out: &mut out,
            weird: &mut weird,
            shared: &mut shared,
        };
        let mut rest = script;
        while let Some((&head, tail)) = rest.split_first() {
            s.ts += 1_000_000;
            let dir = if head & 1 == 0 {
                Dir::ToServer
            } else {
                Dir::ToClient
            };
            let d = dir.index();
            if head & 2 != 0 {
                rest = tail;
                if !done[d] {
                    parser.eof(&mut s, dir);
                }
                continue;
            }
            let Some((&len, tail)) = tail.split_first() else {
                break;
            };
            if head & 4 != 0 {
                rest = tail;
                if !done[d] {
                    done[d] = parser.gap(&mut s, dir, u64::from(len) + 1) == Verdict::Done;
                }
                continue;
            }
            let n = usize::from(len).min(tail.len());
            let (payload, tail) = tail.split_at(n);
            rest = tail;
            if !done[d] && !payload.is_empty() {
                done[d] = parser.parse(&mut s, dir, payload) == Verdict::Done;
            }
        }
        parser.close(&mut s);
    }
    let ctx = RecordContext::default();
    let bodies = out
        .iter()
        .filter_map(|e| match e {
            Emitted::Other(o) => Some(o.to_event(&ctx).body),
            Emitted::Conn(_) | Emitted::Arp(_) | Emitted::Dhcp(_) | Emitted::Clock { .. } => None,
        })
        .collect();
    (bodies, weird)
}

/// Builds a script from (from client?, bytes) steps, cutting long payloads
/// into steps of at most 255 bytes.
pub fn script(steps: &[(bool, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (client, bytes) in steps {
        for chunk in bytes.chunks(255) {
            out.push(u8::from(!client));
            out.push(chunk.len() as u8);
            out.extend_from_slice(chunk);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_reach_the_parser() {
        let s = script(&[
            (true, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            (false, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ]);
        let (bodies, _) = run(crate::applayer::http::make, &tcp_ident(80), &s);
        assert!(matches!(bodies.as_slice(), [EventBody::Http(_)]));
    }
}
