//! The concurrent-connections mix: N TCP connections open at once.
//!
//! There are N slots, visited round-robin, one packet per visit. A slot
//! runs one complete connection after another: three-way handshake, one or
//! more request/response exchanges (optionally a bare ACK), and a close by
//! FIN from both sides and a final ACK. A slot that finishes a connection
//! starts a new one on its next turn, so N connections stay open for the
//! whole capture (the first N packets are N SYNs) until the end, when the
//! last ones drain.
//!
//! The packet count is exact: a connection's length is chosen when it
//! starts, and the last one to start takes up whatever the budget has left,
//! so no connection is ever cut short.

use super::pool::{client, clients_for, pad_to_minimum, server, tuple_of};
use super::Mix;
use vagt_sensor::synth::frames::{self, flags, TcpSpec};
use vagt_sensor::synth::rng::Rng;

/// Packets of the shortest connection: handshake, one exchange, close.
pub const MIN_CONN_PACKETS: u64 = 8;
/// Most request/response exchanges drawn for a connection.
const MAX_EXCHANGES: u64 = 8;
const PORTS: &[u16] = &[443, 443, 443, 80, 8443, 445, 993, 25];
const SERVERS: u32 = 1024;

#[derive(Clone, Copy, Debug)]
struct Conn {
    client: u32,
    server: u32,
    sport: u16,
    dport: u16,
    seq_c: u32,
    seq_s: u32,
    step: u32,
    exchanges: u32,
    extra_ack: bool,
}

impl Conn {
    fn packets(&self) -> u32 {
        6 + 2 * self.exchanges + u32::from(self.extra_ack)
    }
}

pub struct Concurrent {
    rng: Rng,
    slots: Vec<Option<Conn>>,
    cursor: usize,
    budget: u64,
    planned: u64,
    active: usize,
    started: u64,
    clients: u32,
    ip_id: u16,
}

impl Concurrent {
    /// `flows` connections open at once, `packets` packets in all (at
    /// least [`MIN_CONN_PACKETS`]).
    pub fn new(seed: u64, flows: u64, packets: u64) -> Concurrent {
        let flows = flows.max(1);
        Concurrent {
            rng: Rng::new(seed),
            slots: vec![None; flows as usize],
            cursor: 0,
            budget: packets,
            planned: 0,
            active: 0,
            started: 0,
            clients: clients_for(flows),
            ip_id: 1,
        }
    }

    /// Plans a new connection if the budget allows one.
    fn start(&mut self) -> Option<Conn> {
        let left = self.budget - self.planned;
        if left < MIN_CONN_PACKETS {
            return None;
        }
        let exchanges = self.rng.range(1, MAX_EXCHANGES + 1);
        let extra_ack = self.rng.chance(0.25);
        let mut len = 6 + 2 * exchanges + u64::from(extra_ack);
        let (mut exchanges, mut extra_ack) = (exchanges, extra_ack);
        if left - len.min(left) < MIN_CONN_PACKETS {
            // The rest of the budget would be too short for another
            // connection: this one takes all of it.
            len = left;
            exchanges = (left - 6) / 2;
            extra_ack = (left - 6) % 2 == 1;
        }
        self.planned += len;
        let (c, sport) = tuple_of(self.started, self.clients);
        self.started += 1;
        Some(Conn {
            client: c,
            server: self.rng.range(0, u64::from(SERVERS)) as u32,
            sport,
            dport: *self.rng.pick(PORTS),
            seq_c: self.rng.next_u64() as u32,
            seq_s: self.rng.next_u64() as u32,
            step: 0,
            exchanges: exchanges as u32,
            extra_ack,
        })
    }

    /// Builds the frame of `conn`'s current step and advances it.
    fn emit(&mut self, conn: &mut Conn, buf: &mut Vec<u8>) {
        let data_end = 3 + 2 * conn.exchanges;
        let close = data_end + u32::from(conn.extra_ack);
        let s = conn.step;
        // (from the client?, flags, payload bytes, sequence space used)
        let (to_server, fl, payload, extra) = match s {
            0 => (true, flags::SYN, 0, 1),
            1 => (false, flags::SYN | flags::ACK, 0, 1),
            2 => (true, flags::ACK, 0, 0),
            _ if s < data_end && (s - 3).is_multiple_of(2) => {
                let n = self.rng.range(64, 601) as usize;
                (true, flags::PSH | flags::ACK, n, 0)
            }
            _ if s < data_end => {
                let n = self.rng.range(200, 1461) as usize;
                (false, flags::PSH | flags::ACK, n, 0)
            }
            _ if s < close => (true, flags::ACK, 0, 0),
            _ if s == close => (true, flags::FIN | flags::ACK, 0, 1),
            _ if s == close + 1 => (false, flags::FIN | flags::ACK, 0, 1),
            _ => (true, flags::ACK, 0, 0),
        };
        let (c, sv) = (client(conn.client), server(conn.server));
        let spec = TcpSpec {
            sport: if to_server { conn.sport } else { conn.dport },
            dport: if to_server { conn.dport } else { conn.sport },
            seq: if to_server { conn.seq_c } else { conn.seq_s },
            ack: match (s, to_server) {
                (0, _) => 0,
                (_, true) => conn.seq_s,
                (_, false) => conn.seq_c,
            },
            flags: fl,
            window: 64_240,
            payload_len: payload,
            prefix: b"",
        };
        let used = payload as u32 + extra;
        if to_server {
            conn.seq_c = conn.seq_c.wrapping_add(used);
            frames::tcp(buf, &c, &sv, None, &spec, self.ip_id);
        } else {
            conn.seq_s = conn.seq_s.wrapping_add(used);
            frames::tcp(buf, &sv, &c, None, &spec, self.ip_id);
        }
        pad_to_minimum(buf);
        self.ip_id = self.ip_id.wrapping_add(1);
        conn.step += 1;
    }
}

impl Mix for Concurrent {
    fn next_frame(&mut self, buf: &mut Vec<u8>) -> bool {
        // At most one full round finds nothing to do before it ends.
        for _ in 0..=self.slots.len() {
            let i = self.cursor;
            self.cursor = (i + 1) % self.slots.len();
            let conn = match self.slots[i] {
                Some(c) => Some(c),
                None => {
                    let c = self.start();
                    self.active += usize::from(c.is_some());
                    c
                }
            };
            if let Some(mut c) = conn {
                self.emit(&mut c, buf);
                if c.step == c.packets() {
                    self.slots[i] = None;
                    self.active -= 1;
                } else {
                    self.slots[i] = Some(c);
                }
                return true;
            }
            if self.active == 0 {
                return false;
            }
        }
        false
    }

    fn flows(&self) -> u64 {
        self.started
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{decode_all, frames_of};
    use super::*;
    use vagt_sensor::capture::recording::Recording;
    use vagt_sensor::decode::LinkType;

    #[test]
    fn exact_count_and_n_connections_open_at_once() {
        let mut mix = Concurrent::new(9, 50, 2001);
        let frames = frames_of(&mut mix, 10_000);
        assert_eq!(frames.len(), 2001);
        let d = decode_all(&frames);
        assert_eq!(d.tcp, 2001);
        // Round-robin: the first 50 packets are 50 SYNs of 50 connections.
        assert_eq!(d.syn_first, 50);
        assert_eq!(d.max_open, 50);
        assert_eq!(d.flows as u64, mix.flows());
        assert!(
            mix.flows() > 50 && mix.flows() < 2001 / 8,
            "{}",
            mix.flows()
        );
        assert_eq!(d.closed, d.flows, "every connection is closed");

        let again = frames_of(&mut Concurrent::new(9, 50, 2001), 10_000);
        assert_eq!(frames, again);
        assert_ne!(
            frames,
            frames_of(&mut Concurrent::new(10, 50, 2001), 10_000)
        );
    }

    #[test]
    fn the_sensor_sees_complete_connections() {
        let frames = frames_of(&mut Concurrent::new(4, 20, 600), 1000);
        let rec = Recording::from_packets(
            frames
                .iter()
                .enumerate()
                .map(|(i, f)| (LinkType::ETHERNET, 1_000_000 * i as i64, f.as_slice())),
        );
        let records = super::super::tests::conn_states(&rec);
        assert!(!records.is_empty());
        let total: u64 = records.iter().map(|r| r.1).sum();
        assert_eq!(total, 600, "every packet belongs to a recorded connection");
        for (state, pkts) in &records {
            assert_eq!(*state, vagt_schema::ConnState::Sf, "{records:?}");
            assert!(*pkts >= MIN_CONN_PACKETS, "{records:?}");
        }
    }
}
