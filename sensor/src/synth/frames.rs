//! Building Ethernet/IPv4 frames (optionally VLAN-tagged) carrying TCP,
//! UDP or ICMP, with correct checksums.

use crate::decode::checksum;
use std::net::Ipv4Addr;

/// One side of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
}

/// TCP flag bits.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// A TCP segment to build.
#[derive(Clone, Copy, Debug)]
pub struct TcpSpec {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub payload_len: usize,
    /// First payload bytes (the rest is a pattern), e.g. a request line.
    pub prefix: &'static [u8],
}

fn ethernet(buf: &mut Vec<u8>, src: &Host, dst: &Host, vlan: Option<u16>) {
    buf.extend_from_slice(&dst.mac);
    buf.extend_from_slice(&src.mac);
    if let Some(v) = vlan {
        buf.extend_from_slice(&[0x81, 0x00]);
        buf.extend_from_slice(&(v & 0x0fff).to_be_bytes());
    }
    buf.extend_from_slice(&[0x08, 0x00]);
}

/// Appends an IPv4 header; returns its offset in `buf`.
fn ipv4(buf: &mut Vec<u8>, src: &Host, dst: &Host, proto: u8, payload: usize, id: u16) -> usize {
    let at = buf.len();
    let total = (20 + payload) as u16;
    buf.extend_from_slice(&[0x45, 0x00]);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&[0x40, 0x00, 64, proto, 0, 0]);
    buf.extend_from_slice(&src.ip.octets());
    buf.extend_from_slice(&dst.ip.octets());
    let sum = !checksum::fold(checksum::sum(&buf[at..at + 20], 0));
    buf[at + 10..at + 12].copy_from_slice(&sum.to_be_bytes());
    at
}

fn pseudo(src: &Host, dst: &Host, proto: u8, len: usize) -> u64 {
    let mut acc = u64::from(proto) + len as u64;
    acc = checksum::sum(&src.ip.octets(), acc);
    checksum::sum(&dst.ip.octets(), acc)
}

/// Payload bytes: a repeating pattern, so frames are deterministic.
fn fill(buf: &mut Vec<u8>, len: usize, seed: u8) {
    buf.extend((0..len).map(|i| seed.wrapping_add((i % 251) as u8)));
}

/// Builds an Ethernet/IPv4/TCP frame into `buf` (cleared first).
pub fn tcp(buf: &mut Vec<u8>, src: &Host, dst: &Host, vlan: Option<u16>, t: &TcpSpec, id: u16) {
    buf.clear();
    ethernet(buf, src, dst, vlan);
    ipv4(buf, src, dst, 6, 20 + t.payload_len, id);
    let at = buf.len();
    buf.extend_from_slice(&t.sport.to_be_bytes());
    buf.extend_from_slice(&t.dport.to_be_bytes());
    buf.extend_from_slice(&t.seq.to_be_bytes());
    buf.extend_from_slice(&t.ack.to_be_bytes());
    buf.extend_from_slice(&[0x50, t.flags]);
    buf.extend_from_slice(&t.window.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0]);
    let lead = t.prefix.len().min(t.payload_len);
    buf.extend_from_slice(&t.prefix[..lead]);
    fill(buf, t.payload_len - lead, t.seq as u8);
    let len = buf.len() - at;
    let sum = !checksum::fold(checksum::sum(&buf[at..], pseudo(src, dst, 6, len)));
    buf[at + 16..at + 18].copy_from_slice(&sum.to_be_bytes());
}

/// Builds an Ethernet/IPv4/UDP frame; `payload` (if given) is copied in,
/// otherwise `payload_len` pattern bytes are used.
#[allow(clippy::too_many_arguments)]
pub fn udp(
    buf: &mut Vec<u8>,
    src: &Host,
    dst: &Host,
    vlan: Option<u16>,
    sport: u16,
    dport: u16,
    payload: Option<&[u8]>,
    payload_len: usize,
    id: u16,
) {
    buf.clear();
    ethernet(buf, src, dst, vlan);
    let plen = payload.map_or(payload_len, |p| p.len());
    ipv4(buf, src, dst, 17, 8 + plen, id);
    let at = buf.len();
    buf.extend_from_slice(&sport.to_be_bytes());
    buf.extend_from_slice(&dport.to_be_bytes());
    buf.extend_from_slice(&((8 + plen) as u16).to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    match payload {
        Some(p) => buf.extend_from_slice(p),
        None => fill(buf, plen, sport as u8),
    }
    let mut sum = !checksum::fold(checksum::sum(&buf[at..], pseudo(src, dst, 17, 8 + plen)));
    if sum == 0 {
        sum = 0xffff;
    }
    buf[at + 6..at + 8].copy_from_slice(&sum.to_be_bytes());
}

/// Wraps the IPv4 packet of `inner` (an untagged Ethernet frame) in GRE
/// between `src` and `dst`, as a router's tunnel carries it.
pub fn gre(buf: &mut Vec<u8>, src: &Host, dst: &Host, inner: &[u8], id: u16) {
    let ip = inner.get(14..).unwrap_or_default();
    buf.clear();
    ethernet(buf, src, dst, None);
    ipv4(buf, src, dst, 47, 4 + ip.len(), id);
    // GRE without options, carrying IPv4.
    buf.extend_from_slice(&[0, 0, 0x08, 0x00]);
    buf.extend_from_slice(ip);
}

/// Builds an ICMP echo request (type 8) or reply (type 0).
#[allow(clippy::too_many_arguments)]
pub fn icmp_echo(
    buf: &mut Vec<u8>,
    src: &Host,
    dst: &Host,
    vlan: Option<u16>,
    reply: bool,
    ident: u16,
    seq: u16,
    payload_len: usize,
    id: u16,
) {
    buf.clear();
    ethernet(buf, src, dst, vlan);
    ipv4(buf, src, dst, 1, 8 + payload_len, id);
    let at = buf.len();
    buf.extend_from_slice(&[if reply { 0 } else { 8 }, 0, 0, 0]);
    buf.extend_from_slice(&ident.to_be_bytes());
    buf.extend_from_slice(&seq.to_be_bytes());
    fill(buf, payload_len, 0x41);
    let sum = !checksum::fold(checksum::sum(&buf[at..], 0));
    buf[at + 2..at + 4].copy_from_slice(&sum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Checksum, DecodeCounters, DecodedPacket, Decoder, LinkType, Transport};

    fn host(last: u8) -> Host {
        Host {
            mac: [2, 0, 0, 0, 0, last],
            ip: Ipv4Addr::new(10, 0, 0, last),
        }
    }

    #[test]
    fn built_frames_decode_with_valid_checksums() {
        let (a, b) = (host(1), host(2));
        let mut buf = Vec::new();
        let dec = Decoder::default();
        let mut counters = DecodeCounters::default();

        tcp(
            &mut buf,
            &a,
            &b,
            Some(20),
            &TcpSpec {
                sport: 40000,
                dport: 443,
                seq: 7,
                ack: 0,
                flags: flags::SYN,
                window: 64240,
                payload_len: 3,
                prefix: b"",
            },
            1,
        );
        let mut p = DecodedPacket::default();
        dec.decode(
            LinkType::ETHERNET,
            &buf,
            buf.len() as u32,
            &mut p,
            &mut counters,
        )
        .unwrap();
        assert_eq!(p.vlan, [20, 0, 0]);
        match p.layers()[0].transport {
            Transport::Tcp(s) => {
                assert_eq!(s.checksum, Checksum::Good);
                assert_eq!((s.src_port, s.dst_port, s.payload_len), (40000, 443, 3));
            }
            other => panic!("not tcp: {other:?}"),
        }

        udp(&mut buf, &a, &b, None, 5353, 53, None, 33, 2);
        let mut p = DecodedPacket::default();
        dec.decode(
            LinkType::ETHERNET,
            &buf,
            buf.len() as u32,
            &mut p,
            &mut counters,
        )
        .unwrap();
        assert!(
            matches!(p.layers()[0].transport, Transport::Udp(d) if d.checksum == Checksum::Good)
        );

        icmp_echo(&mut buf, &a, &b, None, false, 1, 1, 56, 3);
        let mut p = DecodedPacket::default();
        dec.decode(
            LinkType::ETHERNET,
            &buf,
            buf.len() as u32,
            &mut p,
            &mut counters,
        )
        .unwrap();
        assert!(
            matches!(p.layers()[0].transport, Transport::Icmp(m) if m.checksum == Checksum::Good)
        );
        assert_eq!(counters.total_errors(), 0);
    }
}
