//! Prefetching a connection before its packet is processed.
//!
//! With more connections than the caches hold, a packet's lookup is a
//! chain of loads that each wait for memory: the index slot, then the
//! connection it names. A worker that can see a few packets ahead guesses
//! each upcoming packet's key from its raw bytes, asks for the index slot
//! two packets early and for the connection one packet early, so that both
//! loads overlap with the work on the packets in between.
//!
//! The guess covers the frame that dominates a SPAN port (Ethernet, at most
//! one VLAN tag, IPv4, TCP or UDP, not a fragment) and must build the very
//! key the decoder would; anything else yields no guess. A wrong guess
//! costs a wasted load and nothing else: lookups never use it.

use super::index::prefetch;
use super::ConnTable;
use crate::decode::LinkType;
use crate::flow::conn::Conn;

impl ConnTable {
    /// The index hash of the connection a raw frame most likely belongs
    /// to, with its index slot requested from memory; `None` when the
    /// frame is not of the common kind.
    #[inline]
    pub fn prefetch_slot(&self, link: LinkType, frame: &[u8]) -> Option<u64> {
        if link != LinkType::ETHERNET {
            return None;
        }
        let (vlan, at) = match frame.get(12..18)? {
            [0x08, 0x00, ..] => (0, 14),
            [0x81, 0x00, hi, lo, 0x08, 0x00] => (u16::from_be_bytes([*hi, *lo]) & 0x0fff, 18),
            _ => return None,
        };
        let ip = frame.get(at..)?;
        let ihl = usize::from(*ip.first()? & 0x0f) * 4;
        if ip[0] >> 4 != 4 || ihl < 20 {
            return None;
        }
        let proto = *ip.get(9)?;
        // A fragment (more to come, or not the first) has its own path.
        if proto != 6 && proto != 17 || ip[6] & 0x3f != 0 || ip[7] != 0 {
            return None;
        }
        let ports = ip.get(ihl..ihl + 4)?;
        let src = [ip[12], ip[13], ip[14], ip[15]];
        let dst = [ip[16], ip[17], ip[18], ip[19]];
        let sport = u16::from_be_bytes([ports[0], ports[1]]);
        let dport = u16::from_be_bytes([ports[2], ports[3]]);
        let vlan = if self.cfg.vlan_in_key {
            [vlan, 0]
        } else {
            [0, 0]
        };
        // Key order as FlowKey::new has it: IPv4-mapped addresses compare
        // like the 4-byte ones, then ports.
        let sender_first = (u32::from_be_bytes(src), sport) <= (u32::from_be_bytes(dst), dport);
        let hash = if sender_first {
            self.hasher.hash_v4(src, dst, sport, dport, proto, vlan)
        } else {
            self.hasher.hash_v4(dst, src, dport, sport, proto, vlan)
        };
        self.index.prefetch(hash);
        Some(hash)
    }

    /// Requests the connection that `hash` (from [`ConnTable::prefetch_slot`])
    /// most likely names, once its index slot has had time to arrive.
    #[inline]
    pub fn prefetch_conn(&self, hash: u64) {
        let Some(pos) = self.index.guess(hash) else {
            return;
        };
        let conn = self.slab.as_ptr().wrapping_add(pos as usize).cast::<u8>();
        // Every line the connection spans: a packet touches most of them.
        let mut off = 0;
        while off < std::mem::size_of::<Conn>() {
            prefetch(conn.wrapping_add(off));
            off += 64;
        }
        prefetch(conn.wrapping_add(std::mem::size_of::<Conn>() - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{DecodeCounters, DecodeOptions, DecodedPacket, Decoder};
    use crate::flow::key::FlowKey;
    use crate::synth::frames::{self, Host, TcpSpec};
    use std::net::Ipv4Addr;

    /// The hash the table files a decoded frame's connection under.
    fn filed_hash(t: &ConnTable, frame: &[u8]) -> Option<u64> {
        let dec = Decoder::new(DecodeOptions::default());
        let mut pkt = DecodedPacket::default();
        let mut counters = DecodeCounters::default();
        dec.decode(
            LinkType::ETHERNET,
            frame,
            frame.len() as u32,
            &mut pkt,
            &mut counters,
        )
        .ok()?;
        let layer = pkt.layers().first()?;
        let (tuple, _) = super::super::tuple_of(layer)?;
        let vlan = if t.cfg.vlan_in_key {
            layer.vlan
        } else {
            [0; 3]
        };
        let (key, _) = FlowKey::new(&tuple, 0, vlan);
        Some(t.hasher.hash(&key))
    }

    fn host(last: u8, ip: [u8; 4]) -> Host {
        Host {
            mac: [2, 0, 0, 0, 0, last],
            ip: Ipv4Addr::from(ip),
        }
    }

    /// For every frame of the common kind, both directions, with and
    /// without a VLAN tag, the guess is exactly the hash the lookup uses;
    /// otherwise prefetching would fetch the wrong connection.
    #[test]
    fn the_guess_is_the_hash_the_lookup_uses() {
        let mut buf = Vec::new();
        for vlan_in_key in [true, false] {
            let t = ConnTable::new(crate::flow::table::TableConfig {
                vlan_in_key,
                ..Default::default()
            });
            let pairs = [
                (
                    host(1, [10, 0, 0, 1]),
                    host(2, [192, 168, 7, 9]),
                    40000,
                    443,
                ),
                (host(1, [10, 0, 0, 1]), host(2, [10, 0, 0, 1]), 5000, 4000),
                (host(3, [255, 1, 2, 3]), host(4, [0, 0, 0, 0]), 80, 80),
            ];
            for (a, b, ap, bp) in pairs {
                for (src, dst, sport, dport) in [(a, b, ap, bp), (b, a, bp, ap)] {
                    for vlan in [None, Some(0x123)] {
                        let spec = TcpSpec {
                            sport,
                            dport,
                            seq: 1,
                            ack: 0,
                            flags: frames::flags::SYN,
                            window: 100,
                            payload_len: 0,
                            prefix: b"",
                        };
                        frames::tcp(&mut buf, &src, &dst, vlan, &spec, 7);
                        let guess = t.prefetch_slot(LinkType::ETHERNET, &buf);
                        assert!(guess.is_some());
                        assert_eq!(guess, filed_hash(&t, &buf), "tcp {src:?} {vlan:?}");
                        frames::udp(&mut buf, &src, &dst, vlan, sport, dport, None, 20, 7);
                        let guess = t.prefetch_slot(LinkType::ETHERNET, &buf);
                        assert!(guess.is_some());
                        assert_eq!(guess, filed_hash(&t, &buf), "udp {src:?} {vlan:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn frames_of_other_kinds_get_no_guess() {
        let t = ConnTable::new(Default::default());
        let (a, b) = (host(1, [10, 0, 0, 1]), host(2, [10, 0, 0, 2]));
        let mut buf = Vec::new();
        frames::udp(&mut buf, &a, &b, None, 1, 2, None, 20, 7);
        // A fragment: more fragments follow.
        let mut frag = buf.clone();
        frag[14 + 6] = 0x20;
        assert_eq!(t.prefetch_slot(LinkType::ETHERNET, &frag), None);
        // A later fragment.
        frag[14 + 6] = 0;
        frag[14 + 7] = 1;
        assert_eq!(t.prefetch_slot(LinkType::ETHERNET, &frag), None);
        // ICMP, a short IPv4 header, another link type, truncated frames.
        let mut icmp = buf.clone();
        icmp[14 + 9] = 1;
        assert_eq!(t.prefetch_slot(LinkType::ETHERNET, &icmp), None);
        let mut short = buf.clone();
        short[14] = 0x44;
        assert_eq!(t.prefetch_slot(LinkType::ETHERNET, &short), None);
        assert_eq!(t.prefetch_slot(LinkType::RAW, &buf), None);
        for n in 0..buf.len().min(38) {
            assert_eq!(t.prefetch_slot(LinkType::ETHERNET, &buf[..n]), None, "{n}");
        }
        assert!(t.prefetch_slot(LinkType::ETHERNET, &buf).is_some());
    }
}
