//! The network layer: picks IPv4 or IPv6, records the layer, and hands its
//! payload to the transport decoder or to a tunnel.

use super::packet::{Encap, IpLayer, Transport};
use super::{icmp, ipv4, ipv6, tcp, tunnel, udp, Ctx, DecodeError, Decoded};

pub(crate) const PROTO_ICMP: u8 = 1;
pub(crate) const PROTO_IPIP: u8 = 4;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const PROTO_IPV6: u8 = 41;
pub(crate) const PROTO_GRE: u8 = 47;
pub(crate) const PROTO_ICMPV6: u8 = 58;
pub(crate) const PROTO_NONE: u8 = 59;
pub(crate) const PROTO_SCTP: u8 = 132;

/// Decodes an IP packet starting at `data`.
pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if ctx.stop_at_ip {
        ctx.first_ip = Some(data);
        return Ok(());
    }
    match data.first().map(|b| b >> 4) {
        Some(4) => ipv4::decode(ctx, data),
        Some(6) => ipv6::decode(ctx, data),
        Some(_) => Err(DecodeError::UnknownIpVersion),
        None => Err(DecodeError::TruncatedIp),
    }
}

/// Records a decoded IP layer and decodes what it carries.
#[inline(always)]
pub(crate) fn push_and_descend<'a>(
    ctx: &mut Ctx<'_, 'a>,
    mut layer: IpLayer<'a>,
) -> Result<(), DecodeError> {
    layer.vlan = ctx.vlan;
    layer.encap = ctx.encap;
    let idx = ctx
        .out
        .push_layer(layer)
        .ok_or(DecodeError::TunnelDepthExceeded)?;
    transport(ctx, idx)
}

/// Decodes the transport of layer `idx`, and the tunnel behind it if any.
fn transport<'a>(ctx: &mut Ctx<'_, 'a>, idx: usize) -> Result<(), DecodeError> {
    // The fields needed, not a copy of the whole (large) layer.
    let (frag, proto, payload, encap) = {
        let l = &ctx.out.layers()[idx];
        (l.frag, l.proto, l.payload, l.encap)
    };
    if frag.is_fragment() {
        ctx.counters.count(Decoded::Fragment);
        if frag.offset != 0 {
            ctx.out.layer_mut(idx).transport = Transport::LaterFragment;
            return Ok(());
        }
    }
    match proto {
        PROTO_TCP => tcp::decode(ctx, idx),
        PROTO_UDP => udp::decode(ctx, idx),
        PROTO_ICMP | PROTO_ICMPV6 => icmp::decode(ctx, idx),
        PROTO_GRE if ctx.opts.decapsulate && !frag.more => {
            ctx.out.layer_mut(idx).transport = Transport::Tunnel;
            tunnel::gre::decode(ctx, payload)
        }
        PROTO_IPIP | PROTO_IPV6 if ctx.opts.decapsulate && !frag.more => {
            ctx.out.layer_mut(idx).transport = Transport::Tunnel;
            ctx.counters.count(Decoded::IpInIp);
            tunnel::enter(ctx, Encap::IpInIp);
            decode(ctx, payload)
        }
        PROTO_SCTP => {
            ctx.out.layer_mut(idx).transport = Transport::Other;
            if payload.len() < 12 {
                return Err(DecodeError::TruncatedSctp);
            }
            ctx.counters.count(Decoded::Sctp);
            Ok(())
        }
        PROTO_NONE => {
            // A Teredo "bubble" legitimately carries nothing.
            if encap == Encap::Teredo {
                Ok(())
            } else {
                Err(DecodeError::Ipv6NoNextHeader)
            }
        }
        _ => {
            ctx.out.layer_mut(idx).transport = Transport::Other;
            ctx.counters.count(Decoded::OtherIpProto);
            Ok(())
        }
    }
}
