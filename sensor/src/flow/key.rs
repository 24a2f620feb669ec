//! Connection keys: which packets belong to the same connection.
//!
//! A key is direction-free: both directions of a connection produce the
//! same key, because the endpoints are stored in canonical order (lower
//! address/port first). Only one-way ICMP messages, which have no reply
//! type, keep their direction, as in Zeek.

use crate::decode::Addr;

/// Identifies one connection within a sensor.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct FlowKey {
    /// The endpoint that sorts first (or the sender, for one-way ICMP).
    pub a: Addr,
    pub b: Addr,
    pub a_port: u16,
    pub b_port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Tunnel depth, when configured to tell layers apart; otherwise 0.
    pub depth: u8,
    /// VLAN ids (12 bits each), outermost first, when configured to tell
    /// VLANs apart; otherwise 0.
    pub vlan: [u16; 3],
}

/// A key as a connection stores it. IPv4 addresses sit inline; for IPv6
/// only the last four bytes of each address do, as a quick filter, and the
/// table keeps the full addresses beside the connection. That halves the
/// key for the common case.
///
/// The three VLAN ids are 12 bits each, so the top bits of their words
/// hold the two flags: three ids and the flags take the six bytes that
/// two ids and two `bool`s took, and the connection stays within its 240
/// bytes (it has no padding left to grow into).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct StoredKey {
    pub a4: [u8; 4],
    pub b4: [u8; 4],
    pub a_port: u16,
    pub b_port: u16,
    pub proto: u8,
    pub depth: u8,
    /// VLAN ids in the low 12 bits, outermost first; [`V6`] in the first
    /// one's top bit, [`ONE_WAY`] in the second's. Three scalars rather
    /// than an array: the derived comparison of the whole key then
    /// compiles to a few wide loads.
    tag0: u16,
    tag1: u16,
    tag2: u16,
}

/// A VLAN id's bits in a tag of `StoredKey`.
const VLAN_ID: u16 = 0x0fff;
/// Flag bit (first tag): the addresses are IPv6.
const V6: u16 = 0x8000;
/// Flag bit (second tag): a one-way ICMP message (the key keeps its
/// direction).
const ONE_WAY: u16 = 0x8000;

impl StoredKey {
    #[inline]
    pub fn of(k: &FlowKey, one_way: bool) -> StoredKey {
        let tail = |a: &Addr| [a.0[12], a.0[13], a.0[14], a.0[15]];
        let v6 = !(k.a.is_v4() && k.b.is_v4());
        StoredKey {
            a4: tail(&k.a),
            b4: tail(&k.b),
            a_port: k.a_port,
            b_port: k.b_port,
            proto: k.proto,
            depth: k.depth,
            tag0: (k.vlan[0] & VLAN_ID) | (V6 * u16::from(v6)),
            tag1: (k.vlan[1] & VLAN_ID) | (ONE_WAY * u16::from(one_way)),
            tag2: k.vlan[2] & VLAN_ID,
        }
    }

    /// The addresses are IPv6 (the table keeps them beside the connection).
    #[inline]
    pub fn v6(&self) -> bool {
        self.tag0 & V6 != 0
    }

    /// A one-way ICMP message (the key keeps its direction).
    #[inline]
    pub fn one_way(&self) -> bool {
        self.tag1 & ONE_WAY != 0
    }

    /// The VLAN ids, outermost first.
    #[inline]
    pub fn vlan(&self) -> [u16; 3] {
        [self.tag0, self.tag1, self.tag2].map(|t| t & VLAN_ID)
    }

    /// The full key; `v6` gives the addresses of an IPv6 key.
    pub fn full(&self, v6: Option<(Addr, Addr)>) -> FlowKey {
        let (a, b) = match v6 {
            Some(pair) if self.v6() => pair,
            _ => (Addr::from_v4(self.a4), Addr::from_v4(self.b4)),
        };
        FlowKey {
            a,
            b,
            a_port: self.a_port,
            b_port: self.b_port,
            proto: self.proto,
            depth: self.depth,
            vlan: self.vlan(),
        }
    }
}

/// The identity of a packet as its sender sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PacketTuple {
    pub src: Addr,
    pub dst: Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
    /// ICMP messages without a reply type; their key keeps the direction.
    pub one_way: bool,
}

impl FlowKey {
    /// Builds the key of `t`, and says whether the sender is endpoint `a`.
    pub fn new(t: &PacketTuple, depth: u8, vlan: [u16; 3]) -> (FlowKey, bool) {
        let sender_first = t.one_way || (t.src, t.src_port) <= (t.dst, t.dst_port);
        let key = if sender_first {
            FlowKey {
                a: t.src,
                b: t.dst,
                a_port: t.src_port,
                b_port: t.dst_port,
                proto: t.proto,
                depth,
                vlan,
            }
        } else {
            FlowKey {
                a: t.dst,
                b: t.src,
                a_port: t.dst_port,
                b_port: t.src_port,
                proto: t.proto,
                depth,
                vlan,
            }
        };
        (key, sender_first)
    }
}

/// The hash a connection table files a key under: the key's five 8-byte
/// words, each mixed with a secret drawn when the table is made (so that
/// senders cannot aim many connections at one index slot), folded by
/// 128-bit multiplication. Cheaper than hashing the key's fields one by
/// one, which matters because a worker hashes each key twice: once to
/// prefetch, once to look it up.
#[derive(Clone, Debug)]
pub struct KeyHasher {
    secret: [u64; 6],
}

impl Default for KeyHasher {
    fn default() -> Self {
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        let mut secret = [0u64; 6];
        for (i, s) in secret.iter_mut().enumerate() {
            // Odd, so no multiplication below can lose all bits to zero.
            *s = state.hash_one(i) | 1;
        }
        KeyHasher { secret }
    }
}

#[inline]
fn fold_mul(x: u64, y: u64) -> u64 {
    let full = u128::from(x) * u128::from(y);
    (full as u64) ^ ((full >> 64) as u64)
}

impl KeyHasher {
    #[inline]
    pub fn hash(&self, k: &FlowKey) -> u64 {
        self.hash_with_ports(k, k.a_port, k.b_port)
    }

    /// [`KeyHasher::hash`] of `k`, whose ports are `a_port` and `b_port`,
    /// given apart: a key just built was stored port by port, and the
    /// compiler reads the two ports back as one 32-bit load, which waits
    /// for both 16-bit stores to reach the cache (a store-forwarding stall
    /// that perf put at 15% of the per-packet table logic). Ports still
    /// in registers avoid the round trip.
    #[inline]
    pub fn hash_with_ports(&self, k: &FlowKey, a_port: u16, b_port: u16) -> u64 {
        // One 16-byte load per address, as the address was stored: loads
        // that straddle narrower stores wait for them to reach the cache.
        let halves = |a: &Addr| {
            let x = u128::from_le_bytes(a.0);
            (x as u64, (x >> 64) as u64)
        };
        let (a0, a1) = halves(&k.a);
        let (b0, b1) = halves(&k.b);
        self.words(
            [a0, a1, b0, b1],
            ports_word(a_port, b_port, k.proto, k.depth, k.vlan[0]),
            u64::from(k.vlan[1]) | u64::from(k.vlan[2]) << 16,
        )
    }

    /// The hash of an IPv4 key at tunnel depth 0 with at most two VLAN
    /// ids, from its parts, equal to [`KeyHasher::hash`] of the same key:
    /// `a` and `b` are the addresses as read from the header, in key
    /// order.
    #[inline]
    pub fn hash_v4(
        &self,
        a: [u8; 4],
        b: [u8; 4],
        a_port: u16,
        b_port: u16,
        proto: u8,
        vlan: [u16; 2],
    ) -> u64 {
        let mapped = |x: [u8; 4]| u64::from_le_bytes([0, 0, 0xff, 0xff, x[0], x[1], x[2], x[3]]);
        self.words(
            [0, mapped(a), 0, mapped(b)],
            ports_word(a_port, b_port, proto, 0, vlan[0]),
            u64::from(vlan[1]),
        )
    }

    /// `inner_vlans`: the second VLAN id, and the third 16 bits up.
    #[inline]
    fn words(&self, addrs: [u64; 4], ports: u64, inner_vlans: u64) -> u64 {
        let s = &self.secret;
        let x = fold_mul(addrs[0] ^ s[0], addrs[1] ^ s[1]);
        let y = fold_mul(addrs[2] ^ s[2], addrs[3] ^ s[3]);
        let z = fold_mul(ports ^ s[4], inner_vlans ^ s[5]);
        fold_mul(x ^ z.rotate_left(23), y ^ s[0].rotate_left(32))
    }
}

#[inline]
fn ports_word(a_port: u16, b_port: u16, proto: u8, depth: u8, vlan0: u16) -> u64 {
    u64::from(a_port)
        | u64::from(b_port) << 16
        | u64::from(proto) << 32
        | u64::from(depth) << 40
        | u64::from(vlan0) << 48
}

/// Zeek's ICMP "ports": the type, and the reply type for request/reply
/// pairs (or the code, for one-way messages). Returns (dst "port", one_way).
pub fn icmp_counterpart(v6: bool, icmp_type: u8, code: u8) -> (u16, bool) {
    let other: Option<u8> = if v6 {
        match icmp_type {
            128 => Some(129),
            129 => Some(128),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            130 => Some(131),
            131 => Some(130),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match icmp_type {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match other {
        Some(t) => (u16::from(t), false),
        None => (u16::from(code), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16) -> PacketTuple {
        PacketTuple {
            src: Addr::from_v4(src),
            dst: Addr::from_v4(dst),
            src_port: sp,
            dst_port: dp,
            proto: 6,
            one_way: false,
        }
    }

    #[test]
    fn both_directions_share_a_key() {
        let fwd = tuple([10, 0, 0, 2], 40000, [10, 0, 0, 1], 80);
        let rev = tuple([10, 0, 0, 1], 80, [10, 0, 0, 2], 40000);
        let (k1, s1) = FlowKey::new(&fwd, 0, [0; 3]);
        let (k2, s2) = FlowKey::new(&rev, 0, [0; 3]);
        assert_eq!(k1, k2);
        assert_ne!(s1, s2);
    }

    #[test]
    fn one_way_icmp_keeps_direction() {
        let mut t = tuple([10, 0, 0, 2], 3, [10, 0, 0, 1], 1);
        t.proto = 1;
        t.one_way = true;
        let (k, sender_first) = FlowKey::new(&t, 0, [0; 3]);
        assert!(sender_first);
        assert_eq!(k.a, t.src);
        assert_eq!(icmp_counterpart(false, 8, 0), (0, false));
        assert_eq!(icmp_counterpart(false, 3, 1), (1, true));
        assert_eq!(icmp_counterpart(true, 135, 0), (136, false));
    }

    #[test]
    fn stored_keys_keep_three_vlan_ids_and_both_flags() {
        let t = tuple([10, 0, 0, 2], 3, [10, 0, 0, 1], 1);
        for vlan in [[0, 0, 0], [4095, 4095, 4095], [100, 200, 300], [1, 0, 2]] {
            let (k, _) = FlowKey::new(&t, 0, vlan);
            for one_way in [false, true] {
                let s = StoredKey::of(&k, one_way);
                assert_eq!((s.vlan(), s.one_way(), s.v6()), (vlan, one_way, false));
                assert_eq!(s.full(None), k);
            }
        }
        let mut k6 = FlowKey::new(&t, 0, [7, 8, 9]).0;
        k6.a = Addr::from_ip("2001:db8::1".parse().unwrap());
        let s = StoredKey::of(&k6, false);
        assert_eq!((s.vlan(), s.v6(), s.one_way()), ([7, 8, 9], true, false));
        // Keys that differ only in the third id are different keys.
        let a = StoredKey::of(&FlowKey::new(&t, 0, [1, 2, 3]).0, false);
        let b = StoredKey::of(&FlowKey::new(&t, 0, [1, 2, 4]).0, false);
        assert_ne!(a, b);
    }
}
