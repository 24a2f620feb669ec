//! Runs one parser over a scripted conversation outside a worker: the
//! fuzz targets and unit tests of the parsers use it to reach a parser
//! through the same [`Session`] (and per-worker state) a worker gives it.

use super::registry::{MakeParser, Registry};
use super::shared::Shared;
use super::{ConnIdent, Dir, Session, Verdict, Weirds};
use crate::flow::Emitted;

/// One step of a conversation: at packet time `ts` (nanoseconds), `data`
/// travels in direction `dir` (a datagram, or the stream's next bytes).
pub struct Step<'a> {
    pub ts: i64,
    pub dir: Dir,
    pub data: &'a [u8],
}

/// What a conversation produced.
pub struct Outcome {
    pub events: Vec<Emitted>,
    pub weird: Weirds,
}

/// Feeds `steps` to a parser made by `make` for connection `conn`, runs
/// the per-worker expiry as a worker's sweeps would, closes the parser and
/// writes what per-worker state still holds.
pub fn drive<'a>(
    make: MakeParser,
    conn: &ConnIdent,
    registry: &Registry,
    steps: impl IntoIterator<Item = Step<'a>>,
) -> Outcome {
    let mut parser = make(conn);
    let mut shared = Shared::new(registry);
    let mut weird = Weirds::default();
    let mut events = Vec::new();
    let mut done = [false; 2];
    let mut now = i64::MIN;
    for step in steps {
        now = now.max(step.ts);
        shared.tick(now, &mut events);
        if done[step.dir.index()] || step.data.is_empty() {
            continue;
        }
        let mut s = Session {
            ts: step.ts,
            conn,
            out: &mut events,
            weird: &mut weird,
            shared: &mut shared,
        };
        done[step.dir.index()] = parser.parse(&mut s, step.dir, step.data) == Verdict::Done;
    }
    let mut s = Session {
        ts: now.max(0),
        conn,
        out: &mut events,
        weird: &mut weird,
        shared: &mut shared,
    };
    parser.close(&mut s);
    shared.flush();
    // As the writer would: DHCP messages joined into exchanges.
    let events = super::dhcp::Join::all(registry.dhcp, events);
    Outcome { events, weird }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Addr;
    use vagt_schema::{ConnId, Proto};

    /// Random and mutated conversations through the UDP-side parsers (a
    /// cheap stand-in for the fuzz targets in every `cargo test`): no
    /// panic, and no more records than datagrams.
    #[test]
    fn random_conversations_never_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let makers: [(MakeParser, u16, &[u8]); 4] = [
            (super::super::dhcp::make, 67, &[]),
            (super::super::ntp::make, 123, &[0x23]),
            (
                super::super::snmp::make,
                161,
                &[0x30, 0x29, 0x02, 0x01, 0x01],
            ),
            (super::super::syslog::make, 514, b"<13>"),
        ];
        for (make, port, prefix) in makers {
            for proto in [Proto::Udp, Proto::Tcp] {
                let conn = ConnIdent {
                    uid: "C1".into(),
                    id: ConnId {
                        orig_h: "0.0.0.0".parse().expect("addr"),
                        orig_p: 68,
                        resp_h: "10.0.0.2".parse().expect("addr"),
                        resp_p: port,
                    },
                    proto,
                    vlan: 0,
                    orig: Addr::default(),
                    resp: Addr::default(),
                };
                for _ in 0..300 {
                    let mut datagrams = Vec::new();
                    for _ in 0..(next() % 6) {
                        let len = (next() % 400) as usize;
                        let mut d: Vec<u8> = prefix.to_vec();
                        d.extend((0..len).map(|_| next() as u8));
                        if port == 67 && d.len() > 240 {
                            d[236..240].copy_from_slice(&[0x63, 0x82, 0x53, 0x63]);
                        }
                        datagrams.push(d);
                    }
                    let steps = datagrams.iter().enumerate().map(|(i, d)| Step {
                        ts: i as i64 * 3_000_000_000,
                        dir: if i % 2 == 0 {
                            Dir::ToServer
                        } else {
                            Dir::ToClient
                        },
                        data: d,
                    });
                    let out = drive(make, &conn, &Registry::default(), steps);
                    let bytes: usize = datagrams.iter().map(Vec::len).sum();
                    assert!(out.events.len() <= bytes + 1);
                }
            }
        }
    }
}
