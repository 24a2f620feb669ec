//! Link types and the first layer of every frame.
//!
//! A capture source tells which link-layer header its frames start with
//! (libpcap's DLT value). This module owns that mapping and hands the frame
//! to the right first-layer decoder: Ethernet, Linux cooked capture v1/v2,
//! BSD loopback, raw IP, PPP, Cisco HDLC or IEEE 802.11 (with radiotap).

use super::{be16, ethernet, ieee80211, ip, ppp, Ctx, DecodeError, Decoded};

/// A capture link type, named after libpcap's DLT values.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct LinkType(pub i32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const PPP: LinkType = LinkType(9);
    pub const RAW: LinkType = LinkType(12);
    pub const RAW_OPENBSD: LinkType = LinkType(14);
    pub const PPP_SERIAL: LinkType = LinkType(50);
    pub const PPP_ETHER: LinkType = LinkType(51);
    /// LINKTYPE_RAW as written in files; libpcap normally maps it to RAW.
    pub const LINKTYPE_RAW: LinkType = LinkType(101);
    pub const C_HDLC: LinkType = LinkType(104);
    pub const IEEE802_11: LinkType = LinkType(105);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// True when the decoder understands this link type.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            LinkType::NULL
                | LinkType::ETHERNET
                | LinkType::PPP
                | LinkType::RAW
                | LinkType::RAW_OPENBSD
                | LinkType::PPP_SERIAL
                | LinkType::PPP_ETHER
                | LinkType::LINKTYPE_RAW
                | LinkType::C_HDLC
                | LinkType::IEEE802_11
                | LinkType::LOOP
                | LinkType::LINUX_SLL
                | LinkType::IEEE802_11_RADIOTAP
                | LinkType::IPV4
                | LinkType::IPV6
                | LinkType::LINUX_SLL2
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            LinkType::NULL => "BSD loopback (NULL)",
            LinkType::ETHERNET => "Ethernet",
            LinkType::PPP => "PPP",
            LinkType::RAW | LinkType::RAW_OPENBSD | LinkType::LINKTYPE_RAW => "raw IP",
            LinkType::PPP_SERIAL => "PPP in HDLC framing",
            LinkType::PPP_ETHER => "PPPoE",
            LinkType::C_HDLC => "Cisco HDLC",
            LinkType::IEEE802_11 => "IEEE 802.11",
            LinkType::LOOP => "OpenBSD loopback",
            LinkType::LINUX_SLL => "Linux cooked capture v1",
            LinkType::IEEE802_11_RADIOTAP => "IEEE 802.11 with radiotap",
            LinkType::IPV4 => "raw IPv4",
            LinkType::IPV6 => "raw IPv6",
            LinkType::LINUX_SLL2 => "Linux cooked capture v2",
            _ => "unsupported",
        }
    }
}

/// Decodes a whole frame, starting at its link layer.
pub(crate) fn decode_frame<'a>(
    ctx: &mut Ctx<'_, 'a>,
    link: LinkType,
    frame: &'a [u8],
) -> Result<(), DecodeError> {
    match link {
        LinkType::ETHERNET => ethernet::decode(ctx, frame),
        LinkType::LINUX_SLL => {
            // 16 bytes: packet type, ARPHRD type, address length, 8 address
            // bytes, then the protocol (an ethertype).
            if frame.len() < 16 {
                return Err(DecodeError::TruncatedLinkHeader);
            }
            ctx.counters.count(Decoded::LinuxSll);
            ethernet::dispatch(ctx, be16(frame, 14), &frame[16..])
        }
        LinkType::LINUX_SLL2 => {
            // 20 bytes, protocol first.
            if frame.len() < 20 {
                return Err(DecodeError::TruncatedLinkHeader);
            }
            ctx.counters.count(Decoded::LinuxSll);
            ethernet::dispatch(ctx, be16(frame, 0), &frame[20..])
        }
        LinkType::NULL | LinkType::LOOP => {
            if frame.len() < 4 {
                return Err(DecodeError::TruncatedLinkHeader);
            }
            ctx.counters.count(Decoded::Loopback);
            // The address family is in the capturing host's byte order for
            // NULL, network order for LOOP; accept both.
            let le = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
            let be = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            let family = if le < 256 { le } else { be };
            match family {
                // AF_INET everywhere; AF_INET6 differs between BSDs and Linux.
                2 | 10 | 24 | 28 | 30 => ip::decode(ctx, &frame[4..]),
                _ => {
                    ctx.counters.count(Decoded::NonIp);
                    Ok(())
                }
            }
        }
        LinkType::RAW
        | LinkType::RAW_OPENBSD
        | LinkType::LINKTYPE_RAW
        | LinkType::IPV4
        | LinkType::IPV6 => {
            ctx.counters.count(Decoded::RawIp);
            ip::decode(ctx, frame)
        }
        LinkType::PPP | LinkType::PPP_SERIAL => {
            ctx.counters.count(Decoded::Ppp);
            ppp::decode(ctx, frame)
        }
        LinkType::PPP_ETHER => ppp::decode_pppoe(ctx, frame),
        LinkType::C_HDLC => {
            // Address, control, then an ethertype.
            if frame.len() < 4 {
                return Err(DecodeError::TruncatedLinkHeader);
            }
            ctx.counters.count(Decoded::Ppp);
            ethernet::dispatch(ctx, be16(frame, 2), &frame[4..])
        }
        LinkType::IEEE802_11 => ieee80211::decode(ctx, frame),
        LinkType::IEEE802_11_RADIOTAP => ieee80211::decode_radiotap(ctx, frame),
        _ => Err(DecodeError::UnsupportedLinkType),
    }
}
