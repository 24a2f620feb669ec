//! The targets that decode one frame or packet: link layers, tunnels, IP
//! and transports. Each wraps its input in whatever outer headers it
//! needs (valid ones, so the decoder gets to the part being fuzzed) and
//! hands the frame to `decode_frame`.

use super::{check_packet, decode_frame};
use vagt_sensor::decode::checksum;
use vagt_sensor::decode::{
    Addr, DecodeCounters, DecodeOptions, DecodedPacket, Decoder, Encap, LinkType,
};

/// Decoder settings from the options byte in front of a frame:
/// bit 0 validates checksums, bit 1 leaves tunnels closed, and bits 2..7
/// times 37 are the bytes the snap length cut off (0 to 2331).
pub fn decode_options(b: u8) -> (DecodeOptions, u32) {
    let opts = DecodeOptions {
        validate_checksums: b & 1 != 0,
        decapsulate: b & 2 == 0,
        ..DecodeOptions::default()
    };
    (opts, u32::from(b >> 2) * 37)
}

/// `ethernet`: options byte, then an Ethernet frame (VLAN, QinQ, MPLS,
/// PPPoE, VN-Tag, FabricPath, PBB, LLC/SNAP and everything behind them).
pub fn ethernet(data: &[u8]) {
    let Some((&o, frame)) = data.split_first() else {
        return;
    };
    decode_frame(o, LinkType::ETHERNET, frame);
}

/// Link types `link_types` chooses from (the decoder's, and one it does
/// not know).
pub const LINK_TYPES: &[LinkType] = &[
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::PPP,
    LinkType::RAW,
    LinkType::RAW_OPENBSD,
    LinkType::PPP_SERIAL,
    LinkType::PPP_ETHER,
    LinkType::LINKTYPE_RAW,
    LinkType::C_HDLC,
    LinkType::IEEE802_11,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IEEE802_11_RADIOTAP,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
    LinkType(147),
];

/// `link_types`: options byte, link-type index (into [`LINK_TYPES`],
/// modulo its length), then the frame.
pub fn link_types(data: &[u8]) {
    let [o, l, frame @ ..] = data else {
        return;
    };
    let link = LINK_TYPES[usize::from(*l) % LINK_TYPES.len()];
    decode_frame(*o, link, frame);
}

const ETH_SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const ETH_DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const IP_SRC: [u8; 4] = [192, 0, 2, 1];
const IP_DST: [u8; 4] = [198, 51, 100, 7];

/// Appends an Ethernet header and an IPv4 header (valid checksum) for a
/// payload of `len` bytes of protocol `proto`; returns where IP starts.
fn eth_ipv4(buf: &mut Vec<u8>, proto: u8, len: usize, frag: u16) -> usize {
    buf.extend_from_slice(&ETH_DST);
    buf.extend_from_slice(&ETH_SRC);
    buf.extend_from_slice(&[0x08, 0x00]);
    let at = buf.len();
    let total = (20 + len).min(usize::from(u16::MAX)) as u16;
    buf.extend_from_slice(&[0x45, 0]);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&[0x12, 0x34]);
    buf.extend_from_slice(&frag.to_be_bytes());
    buf.extend_from_slice(&[64, proto, 0, 0]);
    buf.extend_from_slice(&IP_SRC);
    buf.extend_from_slice(&IP_DST);
    let sum = !checksum::fold(checksum::sum(&buf[at..at + 20], 0));
    buf[at + 10..at + 12].copy_from_slice(&sum.to_be_bytes());
    at
}

/// `gre`: options byte, then a GRE header and what it carries, sent as
/// protocol 47 over Ethernet and IPv4.
pub fn gre(data: &[u8]) {
    let Some((&o, body)) = data.split_first() else {
        return;
    };
    let mut frame = Vec::with_capacity(body.len() + 34);
    eth_ipv4(&mut frame, 47, body.len(), 0);
    frame.extend_from_slice(body);
    decode_frame(o, LinkType::ETHERNET, &frame);
}

/// `erspan`: options byte, type byte (0: ERSPAN I, 1: II, 2: III, modulo
/// 3), then the ERSPAN header (none for type I) and the mirrored frame,
/// behind the GRE header that type needs.
pub fn erspan(data: &[u8]) {
    let [o, t, body @ ..] = data else {
        return;
    };
    let gre: &[u8] = match t % 3 {
        // Type I: protocol 0x88be without a sequence number.
        0 => &[0x00, 0x00, 0x88, 0xbe],
        // Type II: with a sequence number.
        1 => &[0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1],
        _ => &[0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1],
    };
    let mut frame = Vec::with_capacity(body.len() + 42);
    eth_ipv4(&mut frame, 47, gre.len() + body.len(), 0);
    frame.extend_from_slice(gre);
    frame.extend_from_slice(body);
    decode_frame(*o, LinkType::ETHERNET, &frame);
}

/// A UDP datagram to `dport` (checksum zero: none) carrying `body`, over
/// Ethernet and IPv4.
fn udp_frame(dport: u16, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(body.len() + 42);
    eth_ipv4(&mut frame, 17, 8 + body.len(), 0);
    frame.extend_from_slice(&49152u16.to_be_bytes());
    frame.extend_from_slice(&dport.to_be_bytes());
    let len = (8 + body.len()).min(usize::from(u16::MAX)) as u16;
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(body);
    frame
}

/// `vxlan`: options byte, then a VXLAN header and inner frame, sent to UDP
/// port 4789.
pub fn vxlan(data: &[u8]) {
    let Some((&o, body)) = data.split_first() else {
        return;
    };
    decode_frame(o, LinkType::ETHERNET, &udp_frame(4789, body));
}

/// `geneve`: options byte, then a Geneve header (with options) and what it
/// carries, sent to UDP port 6081.
pub fn geneve(data: &[u8]) {
    let Some((&o, body)) = data.split_first() else {
        return;
    };
    decode_frame(o, LinkType::ETHERNET, &udp_frame(6081, body));
}

// ---------------------------------------------------------------------------
// IP and transport

/// Tunnel kinds `ip` may say a datagram came from.
const ENCAPS: &[Encap] = &[
    Encap::None,
    Encap::IpInIp,
    Encap::Gre,
    Encap::Erspan,
    Encap::Vxlan,
    Encap::Geneve,
    Encap::Ayiya,
    Encap::Teredo,
];

/// `ip`: options byte, then an IP packet (IPv4 with options, IPv6 with
/// extension headers, fragments of either). It is decoded as a frame of
/// raw IP and, as a reassembled datagram is, through `Decoder::decode_ip`.
pub fn ip(data: &[u8]) {
    let Some((&o, packet)) = data.split_first() else {
        return;
    };
    decode_frame(o, LinkType::RAW, packet);
    let (opts, _) = decode_options(o);
    let decoder = Decoder::new(opts);
    let mut counters = DecodeCounters::default();
    let mut pkt = DecodedPacket::default();
    let encap = ENCAPS[usize::from(o >> 2) % ENCAPS.len()];
    let vlan = [u16::from(o >> 5), 0, 0];
    let _ = decoder.decode_ip(packet, vlan, encap, &mut pkt, &mut counters);
    check_packet(packet, &pkt);
}

/// `transport`: options byte, a selector byte, then a transport header and
/// payload, which get an IP header and an Ethernet frame around them.
/// Selector bits 0..2 pick the protocol (TCP, UDP, ICMP, ICMPv6, SCTP,
/// TCP, UDP, GRE), bit 3 IPv6, bit 4 writes the correct checksum into the
/// header, bit 5 makes the packet a first fragment.
pub fn transport(data: &[u8]) {
    let [o, sel, body @ ..] = data else {
        return;
    };
    let proto = [6u8, 17, 1, 58, 132, 6, 17, 47][usize::from(sel & 7)];
    let v6 = sel & 8 != 0 || proto == 58;
    let mut seg = body.to_vec();
    let (src, dst) = if v6 {
        (
            Addr::from_v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            Addr::from_v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
        )
    } else {
        (Addr::from_v4(IP_SRC), Addr::from_v4(IP_DST))
    };
    if sel & 0x10 != 0 {
        fix_checksum(&mut seg, proto, &src, &dst);
    }
    let more = sel & 0x20 != 0;
    let mut frame = Vec::with_capacity(seg.len() + 62);
    if v6 {
        frame.extend_from_slice(&ETH_DST);
        frame.extend_from_slice(&ETH_SRC);
        frame.extend_from_slice(&[0x86, 0xdd]);
        let ext = if more { 8 } else { 0 };
        let plen = (ext + seg.len()).min(usize::from(u16::MAX)) as u16;
        frame.extend_from_slice(&[0x60, 0, 0, 0]);
        frame.extend_from_slice(&plen.to_be_bytes());
        frame.push(if more { 44 } else { proto });
        frame.push(64);
        frame.extend_from_slice(&src.0);
        frame.extend_from_slice(&dst.0);
        if more {
            frame.extend_from_slice(&[proto, 0, 0, 1, 0, 0, 0, 9]);
        }
    } else {
        eth_ipv4(&mut frame, proto, seg.len(), if more { 0x2000 } else { 0 });
    }
    frame.extend_from_slice(&seg);
    decode_frame(*o, LinkType::ETHERNET, &frame);
}

/// Writes the checksum `proto` expects into `seg`, if it is long enough to
/// hold one.
fn fix_checksum(seg: &mut [u8], proto: u8, src: &Addr, dst: &Addr) {
    let at = match proto {
        6 => 16,
        17 => 6,
        1 | 58 => 2,
        _ => return,
    };
    if seg.len() < at + 2 {
        return;
    }
    seg[at] = 0;
    seg[at + 1] = 0;
    let len = seg.len() as u32;
    let initial = if proto == 1 {
        0
    } else {
        checksum::pseudo_header(src, dst, proto, len)
    };
    let sum = !checksum::fold(checksum::sum(seg, initial));
    seg[at..at + 2].copy_from_slice(&sum.to_be_bytes());
}
