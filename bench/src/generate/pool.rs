//! Hosts, flows and frames of an exact size: the material of the IMIX and
//! minimum-size mixes.
//!
//! Clients live in 10.0.0.0/8 and servers in 172.16.0.0/12, each with a
//! locally administered MAC derived from its address. A pool holds a fixed
//! set of flows (TCP or UDP); every frame belongs to one of them, picked at
//! random, and goes in either direction. TCP flows are mid-stream (no
//! handshake, as a capture started on a busy link sees them) with sequence
//! and acknowledgement numbers that follow the data, so a tracker sees
//! consistent connections. Five-tuples are unique: the flow number decides
//! the client and its source port.

use std::net::Ipv4Addr;
use vagt_sensor::synth::frames::{self, flags, Host, TcpSpec};
use vagt_sensor::synth::rng::Rng;

/// Ethernet + IPv4 + TCP headers, no options.
pub const TCP_HEADERS: usize = 14 + 20 + 20;
/// Ethernet + IPv4 + UDP headers.
pub const UDP_HEADERS: usize = 14 + 20 + 8;
/// The smallest Ethernet frame as captured: 64 bytes on the wire less the
/// 4-byte frame check sequence, which captures do not hold.
pub const MIN_FRAME: usize = 60;

const TCP_PORTS: &[u16] = &[443, 443, 443, 80, 445, 3389, 22, 8080];
const UDP_PORTS: &[u16] = &[53, 53, 123, 443, 5060, 161, 514, 4500];
/// Source ports per client before the next client is used.
const PORTS_PER_CLIENT: u32 = 60_000;

/// Client number `i` (0-based) in 10.0.0.0/8.
pub fn client(i: u32) -> Host {
    host(Ipv4Addr::from(0x0a00_0001 + (i % 0x00ff_fff0)))
}

/// Server number `i` (0-based) in 172.16.0.0/12.
pub fn server(i: u32) -> Host {
    host(Ipv4Addr::from(0xac10_0001 + (i % 0x000f_fff0)))
}

fn host(ip: Ipv4Addr) -> Host {
    let o = ip.octets();
    Host {
        mac: [0x02, 0x00, o[0], o[1], o[2], o[3]],
        ip,
    }
}

/// Pads a frame with zero bytes to the Ethernet minimum, as the sender's
/// network card does (the IP length excludes the padding).
pub fn pad_to_minimum(buf: &mut Vec<u8>) {
    if buf.len() < MIN_FRAME {
        buf.resize(MIN_FRAME, 0);
    }
}

/// The five-tuple of connection number `n` among `clients` clients:
/// (client number, source port). Unique for the first
/// `clients * 60,000` connections.
pub fn tuple_of(n: u64, clients: u32) -> (u32, u16) {
    let clients = u64::from(clients.max(1));
    let c = (n % clients) as u32;
    let port = 1024 + ((n / clients) % u64::from(PORTS_PER_CLIENT)) as u16;
    (c, port)
}

/// Clients for `flows` flows: enough that many hosts talk, never more than
/// a /16's worth.
pub fn clients_for(flows: u64) -> u32 {
    flows.clamp(1, 16_384) as u32
}

#[derive(Clone, Copy, Debug)]
struct Flow {
    client: u32,
    server: u32,
    sport: u16,
    dport: u16,
    udp: bool,
    /// Next sequence number of the client and of the server (TCP).
    seq_c: u32,
    seq_s: u32,
    used: bool,
}

/// A fixed set of flows that frames are drawn from.
pub struct FlowPool {
    flows: Vec<Flow>,
    used: u64,
    ip_id: u16,
}

impl FlowPool {
    /// `flows` flows; `udp_share` of them UDP, the rest TCP.
    pub fn new(rng: &mut Rng, flows: u64, servers: u32, udp_share: f64) -> FlowPool {
        let clients = clients_for(flows);
        let flows = (0..flows.max(1))
            .map(|n| {
                let (client, sport) = tuple_of(n, clients);
                let udp = rng.chance(udp_share);
                let dport = *rng.pick(if udp { UDP_PORTS } else { TCP_PORTS });
                Flow {
                    client,
                    server: rng.range(0, u64::from(servers.max(1))) as u32,
                    sport,
                    dport,
                    udp,
                    seq_c: rng.next_u64() as u32,
                    seq_s: rng.next_u64() as u32,
                    used: false,
                }
            })
            .collect();
        FlowPool {
            flows,
            used: 0,
            ip_id: 1,
        }
    }

    /// Flows that have had at least one frame.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Builds a frame of exactly `size` bytes (at least [`MIN_FRAME`]) for a
    /// random flow, in a random direction.
    pub fn frame(&mut self, rng: &mut Rng, size: usize, buf: &mut Vec<u8>) {
        let size = size.max(MIN_FRAME);
        let i = rng.range(0, self.flows.len() as u64) as usize;
        let to_server = rng.chance(0.5);
        let id = self.ip_id;
        self.ip_id = self.ip_id.wrapping_add(1);
        let f = &mut self.flows[i];
        if !f.used {
            f.used = true;
            self.used += 1;
        }
        let (c, s) = (client(f.client), server(f.server));
        let (src, dst) = if to_server { (&c, &s) } else { (&s, &c) };
        let (sport, dport) = if to_server {
            (f.sport, f.dport)
        } else {
            (f.dport, f.sport)
        };
        if f.udp {
            let len = size - UDP_HEADERS;
            frames::udp(buf, src, dst, None, sport, dport, None, len, id);
            return;
        }
        // A minimum-size frame from the server is a bare acknowledgement
        // (padded), as in the ACK stream of a bulk transfer; everything
        // else carries data.
        let bare_ack = size == MIN_FRAME && !to_server;
        let payload_len = if bare_ack { 0 } else { size - TCP_HEADERS };
        let (seq, ack) = if to_server {
            (&mut f.seq_c, f.seq_s)
        } else {
            (&mut f.seq_s, f.seq_c)
        };
        let spec = TcpSpec {
            sport,
            dport,
            seq: *seq,
            ack,
            flags: if bare_ack {
                flags::ACK
            } else {
                flags::ACK | flags::PSH
            },
            window: 64_240,
            payload_len,
            prefix: b"",
        };
        *seq = seq.wrapping_add(payload_len as u32);
        frames::tcp(buf, src, dst, None, &spec, id);
        pad_to_minimum(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_are_unique_and_addresses_in_their_ranges() {
        let clients = clients_for(100_000);
        let mut seen = std::collections::HashSet::new();
        for n in 0..100_000 {
            assert!(seen.insert(tuple_of(n, clients)), "tuple {n} repeats");
        }
        assert_eq!(client(0).ip, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(server(257).ip, Ipv4Addr::new(172, 16, 1, 2));
        assert_eq!(client(5).mac, [2, 0, 10, 0, 0, 6]);
    }

    #[test]
    fn frames_have_the_requested_size() {
        let mut rng = Rng::new(3);
        let mut pool = FlowPool::new(&mut rng, 50, 8, 0.5);
        let mut buf = Vec::new();
        for size in [60, 61, 100, 590, 1514] {
            for _ in 0..40 {
                pool.frame(&mut rng, size, &mut buf);
                assert_eq!(buf.len(), size);
            }
        }
        assert!(pool.used() > 40 && pool.used() <= 50, "{}", pool.used());
    }
}
