//! Building frames byte by byte for tests that need encapsulations the
//! synthetic traffic generator does not make (Teredo, VXLAN, Aruba GRE,
//! VN-Tag, stacked VLAN tags, Geneve): IPv4 and IPv6 with correct
//! checksums, and the headers around them.

#![allow(dead_code)]

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use vagt_sensor::decode::checksum;
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;
pub const NO_NEXT: u8 = 59;

/// An Ethernet frame: the given tags (each an ethertype and the two bytes
/// that follow it, e.g. `(0x8100, vlan id)`), then `ethertype`.
pub fn ether(tags: &[(u16, &[u8])], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    for (t, body) in tags {
        f.extend_from_slice(&t.to_be_bytes());
        f.extend_from_slice(body);
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// 802.1Q tag bytes for `ether`.
pub fn vlan(id: u16) -> [u8; 2] {
    id.to_be_bytes()
}

fn addrs(src: &str, dst: &str) -> (IpAddr, IpAddr) {
    (src.parse().expect("src"), dst.parse().expect("dst"))
}

fn pseudo(src: &IpAddr, dst: &IpAddr, proto: u8, len: usize) -> u64 {
    let mut acc = u64::from(proto) + len as u64;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = checksum::sum(&s.octets(), acc);
            checksum::sum(&d.octets(), acc)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            acc = checksum::sum(&s.octets(), acc);
            checksum::sum(&d.octets(), acc)
        }
        _ => panic!("mixed address families"),
    }
}

/// Fills in the checksum of a transport segment at `at` in `seg`.
fn transport_checksum(seg: &mut [u8], at: usize, initial: u64) {
    seg[at..at + 2].copy_from_slice(&[0, 0]);
    let mut sum = !checksum::fold(checksum::sum(seg, initial));
    if sum == 0 {
        sum = 0xffff;
    }
    seg[at..at + 2].copy_from_slice(&sum.to_be_bytes());
}

/// An IP packet (v4 or v6 by the addresses) carrying `l4` as `proto`, with
/// the transport checksum computed (TCP, UDP, ICMP, ICMPv6).
pub fn ip(proto: u8, src: &str, dst: &str, l4: &[u8]) -> Vec<u8> {
    let (s, d) = addrs(src, dst);
    let mut l4 = l4.to_vec();
    let n = l4.len();
    match proto {
        TCP if l4.len() >= 20 => transport_checksum(&mut l4, 16, pseudo(&s, &d, TCP, n)),
        UDP if l4.len() >= 8 => transport_checksum(&mut l4, 6, pseudo(&s, &d, UDP, n)),
        ICMP if l4.len() >= 4 => transport_checksum(&mut l4, 2, 0),
        ICMPV6 if l4.len() >= 4 => transport_checksum(&mut l4, 2, pseudo(&s, &d, ICMPV6, n)),
        _ => {}
    }
    match (s, d) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = vec![0x45, 0];
            p.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
            p.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            let sum = !checksum::fold(checksum::sum(&p, 0));
            p[10..12].copy_from_slice(&sum.to_be_bytes());
            p.extend_from_slice(&l4);
            p
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut p = vec![0x60, 0, 0, 0];
            p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            p.extend_from_slice(&[proto, 64]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&l4);
            p
        }
        _ => panic!("mixed address families"),
    }
}

/// A UDP datagram (checksum filled in by `ip`).
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = sport.to_be_bytes().to_vec();
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

/// A TCP segment (checksum filled in by `ip`).
pub fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = sport.to_be_bytes().to_vec();
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ack.to_be_bytes());
    p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

/// An ICMP or ICMPv6 echo message (checksum filled in by `ip`).
pub fn echo(kind: u8, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![kind, 0, 0, 0];
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// Writes `frames` (Ethernet) to `dir/name`, one a second from `t0`
/// seconds unless a frame gives its own offset in milliseconds.
pub fn capture(dir: &Path, name: &str, frames: &[(u64, Vec<u8>)]) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("create capture");
    let mut w = PcapWriter::new(std::io::BufWriter::new(file), LINKTYPE_ETHERNET, 65535)
        .expect("pcap header");
    for (ms, f) in frames {
        w.write(1_700_000_000_000_000_000 + *ms as i64 * 1_000_000, f)
            .expect("write frame");
    }
    w.into_inner().flush().expect("flush");
    path
}

/// One segment of a built TCP conversation: who sends it, its flags, its
/// payload length and the payload's first bytes (a pattern fills the rest).
pub struct Segment {
    pub from_client: bool,
    pub flags: u8,
    pub len: usize,
    pub prefix: &'static [u8],
}

impl Segment {
    /// A segment whose payload is `payload`, whole.
    pub fn carrying(from_client: bool, flags: u8, payload: &'static [u8]) -> Segment {
        Segment {
            from_client,
            flags,
            len: payload.len(),
            prefix: payload,
        }
    }
}

/// A host for [`conversation`]: MAC `02:00:00:00:00:n`, address `ip`.
pub fn host(n: u8, ip: &str) -> vagt_sensor::synth::frames::Host {
    vagt_sensor::synth::frames::Host {
        mac: [2, 0, 0, 0, 0, n],
        ip: ip.parse().expect("a test's own address"),
    }
}

/// A TCP conversation as capture bytes: frames `step_ns` apart from
/// `start_ns`, each side's sequence number advancing with its payload, SYN
/// and FIN, and acknowledging the other's. `each` sees every frame as
/// built (Ethernet, IPv4 and TCP headers are 14, 20 and 20 bytes).
pub fn conversation(
    client: &vagt_sensor::synth::frames::Host,
    server: &vagt_sensor::synth::frames::Host,
    (cport, sport): (u16, u16),
    segments: &[Segment],
    (start_ns, step_ns): (i64, i64),
    mut each: impl FnMut(&Segment, &[u8]),
) -> Vec<u8> {
    use vagt_sensor::synth::frames::{self, flags, TcpSpec};
    let (mut cseq, mut sseq) = (1000u32, 5000u32);
    let mut pcap = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET, 65535).expect("pcap");
    let mut buf = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        let (src, dst, from, to, seq, ack) = if s.from_client {
            (client, server, cport, sport, cseq, sseq)
        } else {
            (server, client, sport, cport, sseq, cseq)
        };
        let spec = TcpSpec {
            sport: from,
            dport: to,
            seq,
            ack: if s.flags & flags::ACK != 0 { ack } else { 0 },
            flags: s.flags,
            window: 64_240,
            payload_len: s.len,
            prefix: s.prefix,
        };
        frames::tcp(&mut buf, src, dst, None, &spec, i as u16);
        each(s, &buf);
        pcap.write(start_ns + i as i64 * step_ns, &buf)
            .expect("frame");
        let advance = s.len as u32 + u32::from(s.flags & (flags::SYN | flags::FIN) != 0);
        if s.from_client {
            cseq = cseq.wrapping_add(advance);
        } else {
            sseq = sseq.wrapping_add(advance);
        }
    }
    pcap.into_inner()
}
