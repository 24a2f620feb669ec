//! The flow hash that decides which worker a packet goes to.
//!
//! Where the sensor deals packets out itself, `deal` picks the worker from
//! this hash; `worker_of` is the plain split, as a kernel's fanout makes
//! it. The hash is a symmetric hash of the outermost IP address pair, found
//! by the decoder's own link-layer walk (VLAN, MPLS, PPPoE, FabricPath,
//! ...), so both directions of a connection meet in the same worker. Ports
//! are left out on purpose: IP fragments after the first carry none, and a
//! tunnel's inner connections must stay with the tunnel that carries them.

use crate::decode::{LinkType, LinkWalker};

#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn fold(bytes: &[u8]) -> u64 {
    let mut acc = 0u64;
    for chunk in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        acc = mix(acc ^ u64::from_le_bytes(w));
    }
    acc
}

/// The worker (of `workers`) that owns a flow with hash `hash`: the high
/// bits scaled to the range, which spreads as evenly as a remainder and
/// spares the division on every packet.
#[inline]
pub fn worker_of(hash: u64, workers: usize) -> usize {
    (((hash >> 32) * workers as u64) >> 32) as usize
}

/// The worker (of `workers`) a frame goes to.
pub fn worker_for(walker: &mut LinkWalker, link: LinkType, frame: &[u8], workers: usize) -> usize {
    worker_of(flow_hash(walker, link, frame), workers)
}

/// A hash that is equal for both directions of a flow.
#[inline]
pub fn flow_hash(walker: &mut LinkWalker, link: LinkType, frame: &[u8]) -> u64 {
    // The common frame is hashed in place, in the caller; the rest goes
    // the long way, out of line.
    if link == LinkType::ETHERNET {
        if let Some(ip) = plain_ethernet_ipv4(frame) {
            return ipv4_hash(ip);
        }
    }
    walked_hash(walker, link, frame)
}

#[cold]
#[inline(never)]
fn walked_hash(walker: &mut LinkWalker, link: LinkType, frame: &[u8]) -> u64 {
    let Some(ip) = walker.outer_ip(link, frame) else {
        if walker.was_arp() {
            return ARP_HASH;
        }
        return fallback(frame);
    };
    match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => ipv4_hash(ip),
        Some(6) if ip.len() >= 40 => {
            let a = fold(&ip[8..24]);
            let b = fold(&ip[24..40]);
            mix(a.min(b) ^ mix(a.max(b)))
        }
        _ => fallback(frame),
    }
}

#[inline]
fn ipv4_hash(ip: &[u8]) -> u64 {
    let a = u64::from(u32::from_be_bytes([ip[12], ip[13], ip[14], ip[15]]));
    let b = u64::from(u32::from_be_bytes([ip[16], ip[17], ip[18], ip[19]]));
    mix(a.min(b) << 32 | a.max(b))
}

/// The IPv4 header of the most common frame on a SPAN port, Ethernet with
/// at most one VLAN tag, found without the full link walk: every packet is
/// hashed before any work on it starts (by the reader thread, or by the
/// worker walking a shared input). GRE is left to
/// the walk, which looks through mirror (ERSPAN) carriers; everything else
/// yields the same header the walk finds.
#[inline]
fn plain_ethernet_ipv4(frame: &[u8]) -> Option<&[u8]> {
    let at = match frame.get(12..18)? {
        [0x08, 0x00, ..] => 14,
        [0x81, 0x00, _, _, 0x08, 0x00] => 18,
        _ => return None,
    };
    let ip = frame.get(at..at + 20)?;
    (ip[0] >> 4 == 4 && ip[9] != 47).then_some(ip)
}

/// Every ARP frame hashes alike, so that one worker sees a segment's ARP
/// in the order it came: the bindings are judged in the writer thread, and
/// a move from one MAC to another must not arrive there before the binding
/// it replaced. Live lanes should agree: the kernel's flow dissector reads
/// no addresses from ARP (unless asked for its ARP key, which the fanout
/// hash does not), so one VLAN's ARP hashes alike there too (read from the
/// kernel's source, not yet seen on a live capture). ARP is a sliver of
/// the traffic.
const ARP_HASH: u64 = 0x0806_0806_0806_0806;

/// Non-IP frames: a symmetric hash of the first twelve bytes (the MAC pair
/// on Ethernet).
fn fallback(frame: &[u8]) -> u64 {
    if frame.len() < 12 {
        return 0;
    }
    let a = fold(&frame[0..6]);
    let b = fold(&frame[6..12]);
    mix(a.min(b) ^ mix(a.max(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth_ipv4(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[14 + 12..14 + 16].copy_from_slice(&src);
        f[14 + 16..14 + 20].copy_from_slice(&dst);
        f
    }

    #[test]
    fn both_directions_hash_alike() {
        let w = &mut LinkWalker::default();
        let a = eth_ipv4([10, 0, 0, 1], [192, 168, 1, 9]);
        let b = eth_ipv4([192, 168, 1, 9], [10, 0, 0, 1]);
        let c = eth_ipv4([10, 0, 0, 2], [192, 168, 1, 9]);
        let h = |f: &[u8], w: &mut LinkWalker| flow_hash(w, LinkType::ETHERNET, f);
        assert_eq!(h(&a, w), h(&b, w));
        assert_ne!(h(&a, w), h(&c, w));
        // A VLAN tag around the same packet does not move it.
        let mut tagged = a[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x14]);
        tagged.extend_from_slice(&a[12..]);
        assert_eq!(h(&a, w), h(&tagged, w));
    }

    #[test]
    fn the_quick_path_finds_the_header_the_walk_finds() {
        let w = &mut LinkWalker::default();
        let plain = eth_ipv4([10, 0, 0, 1], [192, 168, 1, 9]);
        let mut tagged = plain[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x14]);
        tagged.extend_from_slice(&plain[12..]);
        for f in [&plain, &tagged] {
            let quick = plain_ethernet_ipv4(f).expect("quick path taken");
            let walked = w.outer_ip(LinkType::ETHERNET, f).expect("walk finds IP");
            assert_eq!(quick.as_ptr(), walked.as_ptr());
        }
        // GRE goes the long way (ERSPAN carriers are looked through).
        let mut gre = plain.clone();
        gre[14 + 9] = 47;
        assert!(plain_ethernet_ipv4(&gre).is_none());
    }

    #[test]
    fn workers_get_even_shares() {
        for workers in [1usize, 2, 3, 4, 7] {
            let mut counts = vec![0u32; workers];
            for i in 0..70_000u64 {
                let w = worker_of(mix(i), workers);
                assert!(w < workers);
                counts[w] += 1;
            }
            let even = 70_000 / workers as u32;
            for c in counts {
                assert!(
                    c.abs_diff(even) < even / 20,
                    "{workers} workers: {c} vs {even}"
                );
            }
        }
    }

    #[test]
    fn every_arp_frame_goes_to_one_worker() {
        let w = &mut LinkWalker::default();
        let arp = |mac: u8, tagged: bool| {
            let mut f = vec![0xff; 6];
            f.extend_from_slice(&[0, 0x1b, 0x21, 0, 0, mac]);
            if tagged {
                f.extend_from_slice(&[0x81, 0x00, 0x00, 0x14]);
            }
            f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
            f.extend_from_slice(&[0, 0x1b, 0x21, 0, 0, mac, 10, 0, 0, mac]);
            f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 1]);
            f
        };
        let h = |f: &[u8], w: &mut LinkWalker| flow_hash(w, LinkType::ETHERNET, f);
        let first = h(&arp(1, false), w);
        assert_eq!(first, ARP_HASH);
        for mac in 2..40 {
            assert_eq!(h(&arp(mac, mac % 2 == 0), w), first);
        }
        // An IP frame walked after it is hashed by its addresses again.
        let ip = eth_ipv4([10, 0, 0, 1], [192, 168, 1, 9]);
        let mut tagged = ip[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x14, 0x81, 0x00, 0x00, 0x15]);
        tagged.extend_from_slice(&ip[12..]);
        assert_ne!(h(&tagged, w), ARP_HASH);
        assert_eq!(h(&tagged, w), h(&ip, w));
    }

    #[test]
    fn short_or_odd_frames_do_not_panic() {
        let w = &mut LinkWalker::default();
        for n in 0..64 {
            let f = vec![0x81u8; n];
            let _ = flow_hash(w, LinkType::ETHERNET, &f);
            let _ = flow_hash(w, LinkType::LINUX_SLL2, &f);
            let _ = flow_hash(w, LinkType::RAW, &f);
            let _ = flow_hash(w, LinkType::IEEE802_11, &f);
        }
    }
}
