//! The Internet checksum (RFC 1071) for IPv4 headers, TCP, UDP and ICMP.
//!
//! Sums are accumulated over 32-bit big-endian words in a 64-bit register and
//! folded at the end; one's-complement addition makes that equal to summing
//! 16-bit words, with a quarter of the additions.

use super::packet::Addr;

/// One's-complement sum of `data` added to `initial`, not yet folded.
#[inline]
pub fn sum(data: &[u8], initial: u64) -> u64 {
    let mut acc = initial;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc += w >> 32;
        acc += w & 0xffff_ffff;
    }
    let rest = chunks.remainder();
    let mut words = rest.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a sum to 16 bits.
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// True when `data` (which includes its own checksum field) sums to 0xffff.
#[inline]
pub fn verifies(data: &[u8], initial: u64) -> bool {
    fold(sum(data, initial)) == 0xffff
}

/// The pseudo-header sum for TCP, UDP and ICMPv6.
#[inline]
pub fn pseudo_header(src: &Addr, dst: &Addr, proto: u8, len: u32) -> u64 {
    let mut acc = u64::from(proto) + u64::from(len);
    if src.is_v4() {
        acc = sum(&src.0[12..], acc);
        acc = sum(&dst.0[12..], acc);
    } else {
        acc = sum(&src.0, acc);
        acc = sum(&dst.0, acc);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sums_correctly() {
        // Example from RFC 1071 section 3: words 0001 f203 f4f5 f6f7.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data, 0)), 0xddf2);
        // Odd length pads with a zero byte.
        assert_eq!(
            fold(sum(&data[..7], 0)),
            fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0], 0))
        );
    }

    #[test]
    fn ipv4_header_with_valid_checksum_verifies() {
        // 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verifies(&hdr, 0));
        let mut bad = hdr;
        bad[11] ^= 1;
        assert!(!verifies(&bad, 0));
    }
}
