//! Ethernet II and 802.3 frames, and everything selected by an ethertype:
//! 802.1Q/802.1ad VLAN tags (QinQ), Cisco VN-Tag and FabricPath, 802.1ah
//! provider backbone bridging, LLC/SNAP, MPLS, PPPoE, ARP and IP.
//!
//! The header itself is read with etherparse; the ethertype dispatch loop is
//! ours because it must also follow the vendor and carrier encapsulations
//! that SPAN ports in municipal networks deliver.

use super::{be16, ip, mpls, ppp, Ctx, DecodeError, Decoded};
use etherparse::Ethernet2HeaderSlice;

const ETH_IPV4: u16 = 0x0800;
const ETH_ARP: u16 = 0x0806;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_IPV6: u16 = 0x86dd;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;
const ETH_PPPOE_SESSION: u16 = 0x8864;
const ETH_FABRICPATH: u16 = 0x8903;
const ETH_VNTAG: u16 = 0x8926;
const ETH_PBB: u16 = 0x88e7;

/// How many stacked tags and shims we follow before giving up; a frame
/// cannot legitimately nest deeper, and the bound keeps hostile input cheap.
const MAX_SHIMS: usize = 16;

/// Decodes an Ethernet frame (the outermost one, or one inside a tunnel).
pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, frame: &'a [u8]) -> Result<(), DecodeError> {
    let eth =
        Ethernet2HeaderSlice::from_slice(frame).map_err(|_| DecodeError::TruncatedLinkHeader)?;
    ctx.counters.count(Decoded::Ethernet);
    if ctx.outermost {
        ctx.out.src_mac = Some(eth.source());
        ctx.out.dst_mac = Some(eth.destination());
    }
    let ethertype = eth.ether_type().0;
    let rest = &frame[eth.slice().len()..];
    if ethertype < 0x0600 {
        return llc(ctx, rest);
    }
    dispatch(ctx, ethertype, rest)
}

/// 802.3 frames carry an LLC header; SNAP headers carry an ethertype.
fn llc<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() >= 8 && data[0] == 0xaa && data[1] == 0xaa && data[2] == 0x03 {
        return dispatch(ctx, be16(data, 6), &data[8..]);
    }
    ctx.counters.count(Decoded::NonIp);
    Ok(())
}

/// Decodes the payload of a frame whose ethertype is `ethertype`.
pub(crate) fn dispatch<'a>(
    ctx: &mut Ctx<'_, 'a>,
    mut ethertype: u16,
    mut data: &'a [u8],
) -> Result<(), DecodeError> {
    for _ in 0..MAX_SHIMS {
        match ethertype {
            ETH_IPV4 | ETH_IPV6 => return ip::decode(ctx, data),
            ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => {
                if data.len() < 4 {
                    return Err(DecodeError::TruncatedVlan);
                }
                let id = be16(data, 0) & 0x0fff;
                if ctx.vlan[0] == 0 {
                    ctx.vlan[0] = id;
                    ctx.counters.count(Decoded::Vlan);
                } else {
                    // The next free place of three; a fourth tag is
                    // decoded past but not kept (Suricata keeps three).
                    if let Some(free) = ctx.vlan[1..].iter_mut().find(|v| **v == 0) {
                        *free = id;
                    }
                    ctx.counters.count(Decoded::QinQ);
                }
                if ctx.outermost {
                    ctx.out.vlan = ctx.vlan;
                }
                ethertype = be16(data, 2);
                data = &data[4..];
            }
            ETH_MPLS | ETH_MPLS_MC => return mpls::decode(ctx, data),
            ETH_PPPOE_SESSION => return ppp::decode_pppoe(ctx, data),
            ETH_ARP => {
                if data.len() < 8 {
                    return Err(DecodeError::TruncatedArp);
                }
                ctx.counters.count(Decoded::Arp);
                // Other hardware or protocol types (RARP, token ring) and
                // short IPv4 ones are counted as ARP, as before, and not
                // read: they announce no IPv4 binding.
                if ctx.outermost {
                    ctx.out.arp = super::arp::ArpPacket::new_checked(data).ok();
                }
                return Ok(());
            }
            ETH_VNTAG => {
                // Four bytes of tag, then the real ethertype.
                if data.len() < 6 {
                    return Err(DecodeError::TruncatedLinkHeader);
                }
                ctx.counters.count(Decoded::VnTag);
                ethertype = be16(data, 4);
                data = &data[6..];
            }
            ETH_FABRICPATH => {
                // FTag/TTL, then the original Ethernet frame.
                if data.len() < 2 + 14 {
                    return Err(DecodeError::TruncatedLinkHeader);
                }
                ctx.counters.count(Decoded::FabricPath);
                ethertype = be16(data, 14);
                data = &data[16..];
            }
            ETH_PBB => {
                // I-TAG (flags and service id), then the customer frame.
                if data.len() < 4 + 14 {
                    return Err(DecodeError::TruncatedLinkHeader);
                }
                ctx.counters.count(Decoded::Pbb);
                ethertype = be16(data, 16);
                data = &data[18..];
            }
            t if t < 0x0600 => return llc(ctx, data),
            other => {
                ctx.counters.count(Decoded::NonIp);
                ctx.out.other_ethertype = Some(other);
                return Ok(());
            }
        }
    }
    Err(DecodeError::TruncatedVlan)
}
