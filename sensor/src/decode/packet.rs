//! The decoded view of one packet: borrowed slices and plain numbers.
//!
//! A [`DecodedPacket`] is filled in place by the decoder and reused for every
//! packet, so decoding allocates nothing. It holds the link-layer facts of the
//! outermost frame and up to [`MAX_IP_LAYERS`] IP layers, outermost first: a
//! plain packet has one, a VXLAN packet has two (the outer UDP datagram and
//! the carried inner packet), and so on.

use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How many nested IP layers the decoder follows. Deeper packets keep their
/// outer layers and count a `tunnel_depth_exceeded` decode error.
pub const MAX_IP_LAYERS: usize = 4;

/// An IPv4 or IPv6 address in 16 bytes. IPv4 is stored IPv4-mapped
/// (`::ffff:a.b.c.d`), which gives one ordering for both families.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct Addr(pub [u8; 16]);

/// The order of the bytes, as one big-endian number: every packet's key
/// compares its two addresses, and the bytewise comparison compiled to
/// a loop.
impl Ord for Addr {
    #[inline]
    fn cmp(&self, other: &Addr) -> std::cmp::Ordering {
        u128::from_be_bytes(self.0).cmp(&u128::from_be_bytes(other.0))
    }
}

impl PartialOrd for Addr {
    #[inline]
    fn partial_cmp(&self, other: &Addr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Addr {
    pub fn from_v4(a: [u8; 4]) -> Addr {
        let mut b = [0u8; 16];
        b[10] = 0xff;
        b[11] = 0xff;
        b[12..].copy_from_slice(&a);
        Addr(b)
    }

    pub fn from_v6(a: [u8; 16]) -> Addr {
        Addr(a)
    }

    pub fn is_v4(&self) -> bool {
        // One wide comparison: a byte-by-byte test of the prefix compiled
        // to about 35 instructions, and every packet's key asks twice.
        u128::from_be_bytes(self.0) >> 32 == 0xffff
    }

    /// The four IPv4 bytes; meaningful only when [`Addr::is_v4`] holds.
    pub fn v4_octets(&self) -> [u8; 4] {
        [self.0[12], self.0[13], self.0[14], self.0[15]]
    }

    pub fn is_multicast(&self) -> bool {
        if self.is_v4() {
            self.0[12] & 0xf0 == 0xe0
        } else {
            self.0[0] == 0xff
        }
    }

    /// Multicast, or the IPv4 limited broadcast address.
    pub fn is_group(&self) -> bool {
        self.is_multicast() || (self.is_v4() && self.v4_octets() == [255, 255, 255, 255])
    }

    pub fn to_ip(&self) -> IpAddr {
        if self.is_v4() {
            IpAddr::V4(Ipv4Addr::from(self.v4_octets()))
        } else {
            IpAddr::V6(Ipv6Addr::from(self.0))
        }
    }

    pub fn from_ip(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr::from_v4(v4.octets()),
            IpAddr::V6(v6) => Addr::from_v6(v6.octets()),
        }
    }
}

/// How an IP layer was carried inside the layer before it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Encap {
    #[default]
    None,
    IpInIp,
    Gre,
    Erspan,
    Vxlan,
    Geneve,
    Ayiya,
    Teredo,
    Gtp,
}

/// Result of a checksum check.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Checksum {
    /// Not checked: validation is off, or the packet was not fully captured.
    #[default]
    NotChecked,
    Good,
    Bad,
}

/// TCP flag bits as they appear in the header's flags byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    pub fn urg(self) -> bool {
        self.0 & Self::URG != 0
    }
}

/// A TCP segment.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// Window scale option of a SYN, or -1 when absent.
    pub window_scale: i8,
    /// Payload bytes as far as they were captured.
    pub payload: &'a [u8],
    /// Payload length according to the IP header (may exceed `payload`).
    pub payload_len: u32,
    pub checksum: Checksum,
}

/// A UDP datagram.
#[derive(Clone, Copy, Debug, Default)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    /// The length field of the UDP header.
    pub length: u16,
    pub payload: &'a [u8],
    /// Payload length according to the IP header.
    pub payload_len: u32,
    pub checksum: Checksum,
}

/// An ICMP or ICMPv6 message.
#[derive(Clone, Copy, Debug, Default)]
pub struct IcmpMessage<'a> {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    /// Bytes after the 8-byte ICMP header, as captured.
    pub payload: &'a [u8],
    /// Length after the 8-byte ICMP header according to the IP header.
    pub payload_len: u32,
    pub checksum: Checksum,
}

/// What an IP layer carries.
#[derive(Clone, Copy, Debug, Default)]
pub enum Transport<'a> {
    /// Nothing decoded (yet).
    #[default]
    None,
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    Icmp(IcmpMessage<'a>),
    /// Another IP protocol; `IpLayer::proto` names it.
    Other,
    /// The carrier of a tunnel (GRE, IP-in-IP) that was opened; the carried
    /// packet is the next layer. Not a connection of its own.
    Tunnel,
    /// A fragment after the first: no transport header to read.
    LaterFragment,
}

/// IP fragmentation facts of one IP header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fragment {
    /// Offset of this fragment's data in bytes.
    pub offset: u32,
    pub more: bool,
    pub id: u32,
}

impl Fragment {
    pub fn is_fragment(&self) -> bool {
        self.more || self.offset != 0
    }
}

/// One IP layer of a packet.
#[derive(Clone, Copy, Debug, Default)]
pub struct IpLayer<'a> {
    /// 4 or 6.
    pub version: u8,
    pub src: Addr,
    pub dst: Addr,
    /// Upper-layer protocol (after IPv6 extension headers).
    pub proto: u8,
    /// Total length of the IP packet per its header (IPv6: 40 + payload length).
    pub total_len: u32,
    /// Header length including IPv4 options or IPv6 extension headers.
    pub header_len: u32,
    pub ttl: u8,
    pub flow_label: u32,
    pub frag: Fragment,
    /// VLAN ids that apply to this layer, outermost first; 0 = none.
    pub vlan: [u16; 3],
    /// How this layer was carried in the layer before it.
    pub encap: Encap,
    /// The IP header bytes (for checksums).
    pub header: &'a [u8],
    /// The IP payload as captured, never longer than the header says.
    pub payload: &'a [u8],
    pub transport: Transport<'a>,
}

/// Everything the decoder learnt about one packet.
#[derive(Clone, Copy)]
pub struct DecodedPacket<'a> {
    /// MAC addresses of the outermost Ethernet frame, when there is one.
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    /// VLAN ids of the outermost frame, outermost first; 0 = none.
    pub vlan: [u16; 3],
    /// The ARP packet of an outermost Ethernet/IPv4 ARP frame (ARP inside
    /// tunnels belongs to another network's segments and is only counted).
    pub arp: Option<super::arp::ArpPacket<'a>>,
    /// Ethertype of a non-IP frame, for counting.
    pub other_ethertype: Option<u16>,
    /// A-MSDU subframes not decoded yet (802.11 aggregates several packets
    /// in one frame; the layers hold the first): empty when there are
    /// none. The tracker decodes them one by one
    /// (`Decoder::decode_subframe`), as siblings of the first.
    pub subframes: &'a [u8],
    /// Layers before the 802.11 frame of `subframes`, and how it was
    /// carried.
    pub subframe_depth: u8,
    pub subframe_encap: Encap,
    /// Only the first `layer_count` are initialised: a packet is decoded
    /// millions of times a second, and most have a single layer.
    layers: [MaybeUninit<IpLayer<'a>>; MAX_IP_LAYERS],
    layer_count: usize,
}

impl Default for DecodedPacket<'_> {
    fn default() -> Self {
        DecodedPacket {
            src_mac: None,
            dst_mac: None,
            vlan: [0; 3],
            arp: None,
            other_ethertype: None,
            subframes: &[],
            subframe_depth: 0,
            subframe_encap: Encap::None,
            layers: [const { MaybeUninit::uninit() }; MAX_IP_LAYERS],
            layer_count: 0,
        }
    }
}

impl std::fmt::Debug for DecodedPacket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedPacket")
            .field("src_mac", &self.src_mac)
            .field("dst_mac", &self.dst_mac)
            .field("vlan", &self.vlan)
            .field("arp", &self.arp)
            .field("layers", &self.layers())
            .finish()
    }
}

impl<'a> DecodedPacket<'a> {
    /// Forgets the previous packet without touching the layer storage.
    pub fn clear(&mut self) {
        self.src_mac = None;
        self.dst_mac = None;
        self.vlan = [0; 3];
        self.arp = None;
        self.other_ethertype = None;
        self.subframes = &[];
        self.layer_count = 0;
    }

    /// The IP layers, outermost first.
    pub fn layers(&self) -> &[IpLayer<'a>] {
        let n = self.layer_count.min(MAX_IP_LAYERS);
        // SAFETY: the first `layer_count` elements were written by
        // `push_layer` and never uninitialised again; MaybeUninit<T> has the
        // layout of T.
        unsafe { std::slice::from_raw_parts(self.layers.as_ptr().cast::<IpLayer<'a>>(), n) }
    }

    /// Adds a layer; returns its index, or `None` when the packet is already
    /// [`MAX_IP_LAYERS`] deep.
    #[inline(always)]
    pub fn push_layer(&mut self, layer: IpLayer<'a>) -> Option<usize> {
        if self.layer_count >= MAX_IP_LAYERS {
            return None;
        }
        self.layers[self.layer_count].write(layer);
        self.layer_count += 1;
        Some(self.layer_count - 1)
    }

    /// Layer `i`, which must have been pushed (panics otherwise: a decoder
    /// bug, never input-dependent).
    pub fn layer_mut(&mut self, i: usize) -> &mut IpLayer<'a> {
        assert!(i < self.layer_count, "layer {i} was not decoded");
        // SAFETY: checked above that layer `i` was written by `push_layer`.
        unsafe { self.layers[i].assume_init_mut() }
    }

    pub fn layer_count(&self) -> usize {
        self.layer_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_addresses_round_trip_through_the_mapped_form() {
        let a = Addr::from_v4([10, 1, 2, 3]);
        assert!(a.is_v4());
        assert_eq!(a.to_ip(), "10.1.2.3".parse::<IpAddr>().unwrap());
        let b = Addr::from_ip("fe80::1".parse().unwrap());
        assert!(!b.is_v4());
        assert_eq!(b.to_ip(), "fe80::1".parse::<IpAddr>().unwrap());
    }
}
