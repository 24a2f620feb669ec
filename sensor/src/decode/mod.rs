//! Packet decoding: from captured bytes to a [`DecodedPacket`].
//!
//! The decoder is layered like the protocols, one file per protocol:
//! `link` picks the first layer from the capture's link type, `ethernet`
//! (with `mpls`, `pppoe`, `ppp`, `ieee80211`) walks the link layers, `arp`
//! reads ARP, `ip`
//! with `ipv4` and `ipv6` reads the network layer, `tcp`, `udp` and `icmp`
//! the transport, and `tunnel/` opens GRE, ERSPAN, VXLAN, Geneve, AYIYA,
//! Teredo, GTP and IP-in-IP so that the inner packet is decoded as well.
//!
//! This layer owns only *parsing*: it never keeps state between packets and
//! never allocates. Connection semantics (what a bad checksum means for a
//! connection, which layers become connections) belong to `flow`.
//! Decoding stops at the first problem; layers decoded before it stay valid
//! and the problem is returned as a [`DecodeError`] to be counted.

pub mod arp;
pub mod checksum;
pub mod counters;
mod ethernet;
mod icmp;
mod ieee80211;
mod ip;
mod ipv4;
mod ipv6;
pub mod link;
mod mpls;
pub mod offload;
pub mod packet;
mod ppp;
pub mod settings;
mod tcp;
pub mod tunnel;
mod udp;

pub use counters::{DecodeCounters, DecodeError, Decoded};
pub use link::LinkType;
pub use packet::{
    Addr, Checksum, DecodedPacket, Encap, Fragment, IcmpMessage, IpLayer, TcpFlags, TcpSegment,
    Transport, UdpDatagram, MAX_IP_LAYERS,
};
pub use settings::DecodeSection;

/// Decoder settings.
#[derive(Clone, Debug)]
pub struct DecodeOptions {
    /// Verify IPv4 header, TCP, UDP and ICMP checksums (like Zeek without -C).
    pub validate_checksums: bool,
    /// Sample the first packets and stop verifying checksums when they show
    /// checksum offload (`offload`; live capture's `auto` mode). The
    /// tracker does the sampling; the decoder only verifies or not.
    pub probe_offload: bool,
    /// Open tunnels and decode the packets inside them.
    pub decapsulate: bool,
    pub vxlan_ports: Vec<u16>,
    pub geneve_ports: Vec<u16>,
    pub teredo_ports: Vec<u16>,
    pub ayiya_ports: Vec<u16>,
    pub gtp_ports: Vec<u16>,
    /// GRE in UDP (RFC 8086).
    pub gre_udp_ports: Vec<u16>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            validate_checksums: true,
            probe_offload: false,
            decapsulate: true,
            vxlan_ports: vec![4789],
            geneve_ports: vec![6081],
            teredo_ports: vec![3544],
            ayiya_ports: vec![5072],
            gtp_ports: vec![2152],
            gre_udp_ports: vec![4754],
        }
    }
}

/// Decodes packets; holds only settings, so one per worker is cheap.
#[derive(Clone, Debug)]
pub struct Decoder {
    opts: DecodeOptions,
    tunnel_ports: tunnel::TunnelPorts,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DecodeOptions::default())
    }
}

/// State threaded through the layer decoders for one packet.
pub(crate) struct Ctx<'d, 'a> {
    pub opts: &'d DecodeOptions,
    pub tunnel_ports: &'d tunnel::TunnelPorts,
    pub out: &'d mut DecodedPacket<'a>,
    pub counters: &'d mut DecodeCounters,
    /// Bytes of the frame that were on the wire but not captured (snaplen).
    pub missing: u32,
    /// VLAN ids of the frame being decoded now, outermost first (up to
    /// three, as Suricata keys flows by).
    pub vlan: [u16; 3],
    /// True while decoding the outermost frame, whose MACs and VLANs describe
    /// the packet as a whole.
    pub outermost: bool,
    /// How the next IP layer was carried.
    pub encap: packet::Encap,
    /// Stop at the first IP header and remember it, instead of decoding it
    /// (used to pick a worker with exactly the decoder's link-layer walk).
    pub stop_at_ip: bool,
    pub first_ip: Option<&'a [u8]>,
}

impl Decoder {
    pub fn new(opts: DecodeOptions) -> Decoder {
        let tunnel_ports = tunnel::TunnelPorts::new(&opts);
        Decoder { opts, tunnel_ports }
    }

    pub fn options(&self) -> &DecodeOptions {
        &self.opts
    }

    /// Decodes one captured frame of `link` type into `out`.
    ///
    /// `wire_len` is the frame's length on the wire; when it exceeds the
    /// captured length the packet was cut by the snap length. On error the
    /// layers decoded so far remain in `out`.
    pub fn decode<'a>(
        &self,
        link: LinkType,
        frame: &'a [u8],
        wire_len: u32,
        out: &mut DecodedPacket<'a>,
        counters: &mut DecodeCounters,
    ) -> Result<(), DecodeError> {
        out.clear();
        let missing = wire_len.saturating_sub(frame.len() as u32);
        let mut ctx = Ctx {
            opts: &self.opts,
            tunnel_ports: &self.tunnel_ports,
            out,
            counters,
            missing,
            vlan: [0; 3],
            outermost: true,
            encap: packet::Encap::None,
            stop_at_ip: false,
            first_ip: None,
        };
        let result = link::decode_frame(&mut ctx, link, frame);
        if let Err(e) = result {
            ctx.counters.error(e);
        }
        result
    }
}

impl Decoder {
    /// Decodes an IP packet that did not arrive in a frame of its own (a
    /// reassembled datagram), as a layer carried with `encap` on `vlan`.
    pub fn decode_ip<'a>(
        &self,
        data: &'a [u8],
        vlan: [u16; 3],
        encap: packet::Encap,
        out: &mut DecodedPacket<'a>,
        counters: &mut DecodeCounters,
    ) -> Result<(), DecodeError> {
        out.clear();
        let mut ctx = Ctx {
            opts: &self.opts,
            tunnel_ports: &self.tunnel_ports,
            out,
            counters,
            missing: 0,
            vlan,
            outermost: false,
            encap,
            stop_at_ip: false,
            first_ip: None,
        };
        let result = ip::decode(&mut ctx, data);
        if let Err(e) = result {
            ctx.counters.error(e);
        }
        result
    }
}

impl Decoder {
    /// Decodes the next A-MSDU subframe left in `DecodedPacket::subframes`
    /// of a packet (`data`), which came `encap` in the layer before; what
    /// follows it is left in `out.subframes` in turn.
    pub fn decode_subframe<'a>(
        &self,
        data: &'a [u8],
        depth: u8,
        encap: packet::Encap,
        out: &mut DecodedPacket<'a>,
        counters: &mut DecodeCounters,
    ) -> Result<(), DecodeError> {
        out.clear();
        out.subframe_depth = depth;
        out.subframe_encap = encap;
        let mut ctx = Ctx {
            opts: &self.opts,
            tunnel_ports: &self.tunnel_ports,
            out,
            counters,
            missing: 0,
            vlan: [0; 3],
            outermost: false,
            encap,
            stop_at_ip: false,
            first_ip: None,
        };
        let result = ieee80211::subframe(&mut ctx, data);
        if let Err(e) = result {
            ctx.counters.error(e);
        }
        result
    }
}

/// Finds the outermost IP header of frames, walking the link layers exactly
/// as the decoder does. The pipeline uses it to send both directions of a
/// connection, and every encapsulation of it, to the same worker.
#[derive(Default)]
pub struct LinkWalker {
    scratch: DecodeCounters,
    decoder: Decoder,
    /// The last frame walked was an Ethernet/IPv4 ARP frame.
    arp: bool,
}

impl LinkWalker {
    /// The bytes from the outermost IP header on, if the frame carries IP.
    /// Mirror sessions (ERSPAN) are looked through: their carrier is no
    /// connection, and the same traffic may arrive from several switches.
    pub fn outer_ip<'a>(&mut self, link: LinkType, frame: &'a [u8]) -> Option<&'a [u8]> {
        let ip = self.first_ip(link, frame)?;
        let (proto, payload) = match ip.first().map(|b| b >> 4) {
            // A header length under 20 bytes is invalid, and its "payload"
            // would overlap the addresses (found by fuzzing: swapping them
            // then changed what the walk looked through).
            Some(4) if ip.len() >= 20 && ip[0] & 0x0f < 5 => return Some(ip),
            Some(4) if ip.len() >= 20 => (ip[9], ip.get(usize::from(ip[0] & 0x0f) * 4..)?),
            Some(6) if ip.len() >= 40 => (ip[6], &ip[40..]),
            _ => return Some(ip),
        };
        if proto == ip::PROTO_GRE {
            if let Some(mirrored) = tunnel::gre::mirrored_frame(payload) {
                if let Some(inner) = self.first_ip(LinkType::ETHERNET, mirrored) {
                    return Some(inner);
                }
            }
        }
        Some(ip)
    }

    fn first_ip<'a>(&mut self, link: LinkType, frame: &'a [u8]) -> Option<&'a [u8]> {
        let mut out = DecodedPacket::default();
        let mut ctx = Ctx {
            opts: &self.decoder.opts,
            tunnel_ports: &self.decoder.tunnel_ports,
            out: &mut out,
            counters: &mut self.scratch,
            missing: 0,
            vlan: [0; 3],
            outermost: true,
            encap: packet::Encap::None,
            stop_at_ip: true,
            first_ip: None,
        };
        let _ = link::decode_frame(&mut ctx, link, frame);
        let first = ctx.first_ip;
        self.arp = out.arp.is_some();
        first
    }

    /// Whether the last frame [`LinkWalker::outer_ip`] walked was an
    /// Ethernet/IPv4 ARP frame.
    pub fn was_arp(&self) -> bool {
        self.arp
    }
}

/// Reads a big-endian u16 at `at`; the caller has checked the length.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a big-endian u32 at `at`; the caller has checked the length.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
