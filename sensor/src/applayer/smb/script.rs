//! Runs the parsers of this folder and of `dce_rpc` on a scripted
//! conversation without a connection table: for their unit tests and fuzz
//! targets, which cannot build a [`Session`] themselves.
//!
//! A script is a list of steps, each a header byte and a two-byte
//! little-endian length: bit 7 of the header picks the direction (set: to
//! the client), bit 6 makes the step a gap of that many bytes instead of
//! that many bytes of data. The connection closes at the end.

use super::super::registry::MakeParser;
use super::super::{ConnIdent, Dir, Session, Verdict, Weirds};
use crate::decode::Addr;
use crate::flow::record::RecordContext;
use crate::flow::Emitted;
use crate::site::Site;
use std::net::{IpAddr, Ipv4Addr};
use vagt_schema::{ConnId, EventBody, Proto};

/// The records a parser wrote for `script`, and the weirds it counted.
pub fn run(make: MakeParser, resp_p: u16, script: &[u8]) -> (Vec<EventBody>, Weirds) {
    let (o, r) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let ident = ConnIdent {
        uid: "Ctest".into(),
        id: ConnId {
            orig_h: IpAddr::V4(o),
            orig_p: 49152,
            resp_h: IpAddr::V4(r),
            resp_p,
        },
        proto: Proto::Tcp,
        vlan: 0,
        orig: Addr::from_v4(o.octets()),
        resp: Addr::from_v4(r.octets()),
    };
    let mut parser = make(&ident);
    let mut out: Vec<Emitted> = Vec::new();
    let mut weird = Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut done = [false; 2];
    let mut ts = 1_000_000_000_000_000_000i64;
    let mut rest = script;
    while let [h, a, b, tail @ ..] = rest {
        let dir = if h & 0x80 != 0 {
            Dir::ToClient
        } else {
            Dir::ToServer
        };
        let len = usize::from(u16::from_le_bytes([*a, *b]));
        ts += 1_000_000;
        let mut s = Session {
            ts,
            conn: &ident,
            out: &mut out,
            weird: &mut weird,
            shared: &mut shared,
        };
        if h & 0x40 != 0 {
            rest = tail;
            if !done[dir.index()] {
                done[dir.index()] = parser.gap(&mut s, dir, len as u64) == Verdict::Done;
            }
            continue;
        }
        let data = &tail[..len.min(tail.len())];
        rest = &tail[data.len()..];
        if !done[dir.index()] {
            done[dir.index()] = parser.parse(&mut s, dir, data) == Verdict::Done;
        }
    }
    let mut s = Session {
        ts,
        conn: &ident,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    parser.close(&mut s);
    let ctx = RecordContext {
        municipality: String::new(),
        sensor: String::new(),
        site: Site::default(),
        uid_salt: 0,
    };
    let bodies = out
        .iter()
        .filter_map(|e| match e {
            Emitted::Other(r) => Some(r.to_event(&ctx).body),
            Emitted::Conn(_) | Emitted::Arp(_) | Emitted::Dhcp(_) | Emitted::Clock { .. } => None,
        })
        .collect();
    (bodies, weird)
}

/// One script step: direction and data.
pub fn step(to_client: bool, data: &[u8]) -> Vec<u8> {
    let mut v = vec![if to_client { 0x80 } else { 0 }];
    v.extend_from_slice(&(data.len() as u16).to_le_bytes());
    v.extend_from_slice(data);
    v
}
