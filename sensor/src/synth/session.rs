//! Sessions of synthetic traffic: a planned list of packets per
//! conversation, and the code that turns the next planned packet into a
//! frame with consistent sequence numbers.

use super::frames::{self, flags, Host, TcpSpec};
use super::rng::Rng;

/// One planned packet of a session.
#[derive(Clone, Copy, Debug)]
pub(super) struct Planned {
    pub(super) from_client: bool,
    pub(super) flags: u8,
    pub(super) payload: u32,
    /// Delay before this packet, in nanoseconds.
    pub(super) gap: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Tcp,
    Udp,
    Ping,
}

pub(super) struct Session {
    pub(super) kind: Kind,
    pub(super) client: Host,
    pub(super) server: Host,
    pub(super) cport: u16,
    pub(super) sport: u16,
    pub(super) vlan: u16,
    pub(super) plan: Vec<Planned>,
    pub(super) next: usize,
    pub(super) client_seq: u32,
    pub(super) server_seq: u32,
    /// UDP: payload of the client's datagrams (its first bytes matter).
    pub(super) udp_payload: &'static [u8],
    pub(super) prefix: &'static [u8],
}

/// Plans a TCP conversation of `rounds` request/response exchanges.
pub(super) fn tcp_plan(
    rng: &mut Rng,
    rounds: (u64, u64),
    req: (u32, u32),
    resp: (u32, u32),
    rtt: i64,
) -> Vec<Planned> {
    let mss = 1460u32;
    let rounds = rng.range(rounds.0, rounds.1);
    let mut p = Vec::new();
    let small = |r: &mut Rng| r.range(20_000, 200_000) as i64;
    p.push(Planned {
        from_client: true,
        flags: flags::SYN,
        payload: 0,
        gap: 0,
    });
    p.push(Planned {
        from_client: false,
        flags: flags::SYN | flags::ACK,
        payload: 0,
        gap: rtt,
    });
    p.push(Planned {
        from_client: true,
        flags: flags::ACK,
        payload: 0,
        gap: small(rng),
    });
    for _ in 0..rounds {
        let mut q = rng.range(u64::from(req.0), u64::from(req.1) + 1) as u32;
        while q > 0 {
            let n = q.min(mss);
            q -= n;
            p.push(Planned {
                from_client: true,
                flags: flags::ACK | if q == 0 { flags::PSH } else { 0 },
                payload: n,
                gap: small(rng),
            });
        }
        let mut r = rng.range(u64::from(resp.0), u64::from(resp.1) + 1) as u32;
        let mut first = true;
        let mut unacked = 0;
        while r > 0 {
            let n = r.min(mss);
            r -= n;
            p.push(Planned {
                from_client: false,
                flags: flags::ACK | if r == 0 { flags::PSH } else { 0 },
                payload: n,
                gap: if first { rtt } else { small(rng) },
            });
            first = false;
            unacked += 1;
            if unacked == 2 || r == 0 {
                p.push(Planned {
                    from_client: true,
                    flags: flags::ACK,
                    payload: 0,
                    gap: small(rng),
                });
                unacked = 0;
            }
        }
    }
    p.push(Planned {
        from_client: true,
        flags: flags::FIN | flags::ACK,
        payload: 0,
        gap: rtt,
    });
    p.push(Planned {
        from_client: false,
        flags: flags::FIN | flags::ACK,
        payload: 0,
        gap: rtt / 2,
    });
    p.push(Planned {
        from_client: true,
        flags: flags::ACK,
        payload: 0,
        gap: small(rng),
    });
    p
}

/// Writes the next packet of `s` into `buf`; returns false when done.
pub(super) fn emit(s: &mut Session, buf: &mut Vec<u8>, id: u16) -> bool {
    let Some(p) = s.plan.get(s.next).copied() else {
        return false;
    };
    s.next += 1;
    let (src, dst) = if p.from_client {
        (&s.client, &s.server)
    } else {
        (&s.server, &s.client)
    };
    let vlan = Some(s.vlan);
    match s.kind {
        Kind::Tcp => {
            let (seq, ack) = if p.from_client {
                (s.client_seq, s.server_seq)
            } else {
                (s.server_seq, s.client_seq)
            };
            let spec = TcpSpec {
                sport: if p.from_client { s.cport } else { s.sport },
                dport: if p.from_client { s.sport } else { s.cport },
                seq,
                ack: if p.flags & flags::ACK != 0 { ack } else { 0 },
                flags: p.flags,
                window: 64240,
                payload_len: p.payload as usize,
                prefix: if p.from_client { s.prefix } else { b"" },
            };
            frames::tcp(buf, src, dst, vlan, &spec, id);
            let mut used = p.payload;
            if p.flags & (flags::SYN | flags::FIN) != 0 {
                used += 1;
            }
            if p.flags & flags::RST != 0 {
                used = 0;
            }
            if p.from_client {
                s.client_seq = s.client_seq.wrapping_add(used);
                // Only the first request carries the protocol's opening.
                if p.payload > 0 {
                    s.prefix = b"";
                }
            } else {
                s.server_seq = s.server_seq.wrapping_add(used);
            }
        }
        Kind::Udp => {
            let (sp, dp) = if p.from_client {
                (s.cport, s.sport)
            } else {
                (s.sport, s.cport)
            };
            let payload = if p.from_client {
                Some(s.udp_payload)
            } else {
                None
            };
            frames::udp(buf, src, dst, vlan, sp, dp, payload, p.payload as usize, id);
        }
        Kind::Ping => {
            let seq = (s.next / 2) as u16;
            frames::icmp_echo(buf, src, dst, vlan, !p.from_client, s.cport, seq, 56, id);
        }
    }
    true
}
