//! Runs one parser on scripted input without a connection table: for the
//! parsers' unit tests and their fuzz targets, which cannot build a
//! [`Session`] themselves (its outputs are the worker's).
//!
//! A fuzz input is a list of steps, each a header byte and a two-byte
//! little-endian length: bit 7 of the header picks the direction (set: to
//! the client), bit 6 makes the step a gap of that many bytes instead of
//! that many bytes of data. [`fuzz`] checks that the parser never panics
//! and that its records stay bounded by its input.

use super::registry::MakeParser;
use super::{ConnIdent, Dir, Parser, Session, Verdict, Weirds};
use crate::decode::Addr;
use crate::flow::record::RecordContext;
use crate::flow::Emitted;
use crate::site::Site;
use std::net::{IpAddr, Ipv4Addr};
use vagt_schema::{ConnId, EventBody, Proto};

/// One parser and what it wrote.
pub struct Driver {
    ident: ConnIdent,
    parser: Box<dyn Parser>,
    out: Vec<Emitted>,
    pub weird: Weirds,
    pub ts: i64,
    done: [bool; 2],
    shared: super::shared::Shared,
}

impl Driver {
    /// A parser for a connection 10.0.0.1:`orig_p` -> 10.0.0.2:`resp_p`.
    pub fn new(make: MakeParser, proto: Proto, orig_p: u16, resp_p: u16) -> Driver {
        let (o, r) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let ident = ConnIdent {
            uid: "Ctest".into(),
            id: ConnId {
                orig_h: IpAddr::V4(o),
                orig_p,
                resp_h: IpAddr::V4(r),
                resp_p,
            },
            proto,
            vlan: 0,
            orig: Addr::from_ip(IpAddr::V4(o)),
            resp: Addr::from_ip(IpAddr::V4(r)),
        };
        Driver {
            parser: make(&ident),
            ident,
            out: Vec::new(),
            weird: Weirds::default(),
            shared: super::shared::Shared::new(&super::Registry::default()),
            ts: 1_000_000_000,
            done: [false; 2],
        }
    }

    fn session(&mut self) -> (Session<'_>, &mut Box<dyn Parser>) {
        (
            Session {
                ts: self.ts,
                conn: &self.ident,
                out: &mut self.out,
                weird: &mut self.weird,
                shared: &mut self.shared,
            },
            &mut self.parser,
        )
    }

    /// Hands `data` to the parser unless it is done with `dir`.
    pub fn parse(&mut self, dir: Dir, data: &[u8]) -> Verdict {
        if self.done[dir.index()] {
            return Verdict::Done;
        }
        self.ts += 1_000;
        let (mut s, p) = self.session();
        let v = p.parse(&mut s, dir, data);
        self.done[dir.index()] = v == Verdict::Done;
        v
    }

    pub fn gap(&mut self, dir: Dir, len: u64) -> Verdict {
        if self.done[dir.index()] {
            return Verdict::Done;
        }
        let (mut s, p) = self.session();
        let v = p.gap(&mut s, dir, len);
        self.done[dir.index()] = v == Verdict::Done;
        v
    }

    pub fn close(&mut self) {
        let (mut s, p) = self.session();
        p.close(&mut s);
    }

    /// The records written so far, as the writer would send them.
    pub fn records(&self) -> Vec<EventBody> {
        let ctx = RecordContext {
            municipality: String::new(),
            sensor: String::new(),
            site: Site::default(),
            uid_salt: 0,
        };
        self.out
            .iter()
            .filter_map(|e| match e {
                Emitted::Other(r) => Some(r.to_event(&ctx).body),
                Emitted::Conn(_) | Emitted::Arp(_) | Emitted::Dhcp(_) | Emitted::Clock { .. } => {
                    None
                }
            })
            .collect()
    }
}

/// Runs `make`'s parser on a fuzz input (layout above) and closes it;
/// returns the number of records. Panics if the parser writes more
/// records than the input could justify.
pub fn fuzz(make: MakeParser, proto: Proto, resp_p: u16, data: &[u8]) -> usize {
    let mut d = Driver::new(make, proto, 40000, resp_p);
    let mut at = 0;
    let mut steps = 0usize;
    while let Some(h) = data.get(at..at + 3) {
        let dir = if h[0] & 0x80 != 0 {
            Dir::ToClient
        } else {
            Dir::ToServer
        };
        let len = usize::from(u16::from_le_bytes([h[1], h[2]]));
        at += 3;
        steps += 1;
        if h[0] & 0x40 != 0 {
            d.gap(dir, len as u64);
            continue;
        }
        let end = (at + len).min(data.len());
        d.parse(dir, &data[at..end]);
        at = end;
    }
    d.close();
    let n = d.records().len();
    // Every record needs some bytes of its own behind it, or a step (a
    // gap), plus the one a connection may write when it ends.
    assert!(
        n <= data.len() + steps + 1,
        "{n} records from {} bytes",
        data.len()
    );
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random inputs (xorshift), each starting with a plausible
    /// opening so that the parsers get past their first check.
    fn inputs(opening: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..400).map(move |i| {
            let len = 8 + i % 300;
            let mut v = vec![0, opening.len() as u8, 0];
            v.extend_from_slice(opening);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(x as u8);
            }
            v
        })
    }

    #[test]
    fn parsers_survive_random_input() {
        let cases: [(MakeParser, Proto, u16, &[u8]); 5] = [
            (super::super::ssh::make, Proto::Tcp, 22, b"SSH-2.0-x\r\n"),
            (
                super::super::krb::make,
                Proto::Tcp,
                88,
                b"\0\0\0\x30\x6a\x2e\x30",
            ),
            (super::super::krb::make, Proto::Udp, 88, b"\x7e\x2e\x30"),
            (
                super::super::ldap::make,
                Proto::Tcp,
                389,
                b"\x30\x0c\x02\x01\x01\x60",
            ),
            (
                super::super::rdp::make,
                Proto::Tcp,
                3389,
                b"\x03\x00\x00\x40\x02\xf0\x80\x7f\x65",
            ),
        ];
        for (make, proto, port, opening) in cases {
            for input in inputs(opening) {
                fuzz(make, proto, port, &input);
            }
        }
    }
}
