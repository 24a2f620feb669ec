//! UDP headers, and the hand-off to UDP-borne tunnels (VXLAN, Geneve,
//! Teredo, AYIYA, GTP-U) recognised by their well-known ports, and to
//! Teredo recognised by its content on any other port.

use super::packet::{Checksum, Transport, UdpDatagram};
use super::{be16, checksum, ip, tunnel, Ctx, DecodeError, Decoded};

pub(crate) fn decode(ctx: &mut Ctx<'_, '_>, idx: usize) -> Result<(), DecodeError> {
    // A reference, not a copy: the layer is large and this runs per packet.
    let layer = &ctx.out.layers()[idx];
    let wire_len = layer.total_len - layer.header_len;
    let data = layer.payload;
    if wire_len < 8 || data.len() < 8 {
        return Err(DecodeError::TruncatedUdp);
    }
    ctx.counters.count(Decoded::Udp);
    let src_port = be16(data, 0);
    let dst_port = be16(data, 2);
    let length = be16(data, 4);
    let stored = be16(data, 6);
    let more_fragments = layer.frag.more;
    let complete = data.len() as u32 == wire_len && !more_fragments;
    let tunnel_port = tunnel::is_udp_tunnel_port(ctx.tunnel_ports, src_port, dst_port);
    // IPv4 allows "no checksum" (zero); tunnels do so over IPv6 as well.
    let skip = stored == 0 && (layer.version == 4 || tunnel_port);
    let checksum = if ctx.opts.validate_checksums && complete && !skip {
        let pseudo = checksum::pseudo_header(&layer.src, &layer.dst, ip::PROTO_UDP, wire_len);
        if checksum::verifies(data, pseudo) {
            Checksum::Good
        } else {
            ctx.counters.error(DecodeError::BadUdpChecksum);
            Checksum::Bad
        }
    } else {
        Checksum::NotChecked
    };
    let payload = &data[8..];
    ctx.out.layer_mut(idx).transport = Transport::Udp(UdpDatagram {
        src_port,
        dst_port,
        length,
        payload,
        payload_len: wire_len - 8,
        checksum,
    });
    if ctx.opts.decapsulate && !more_fragments && checksum != Checksum::Bad {
        if tunnel_port {
            return tunnel::udp(ctx, src_port, dst_port, payload);
        }
        if tunnel::teredo_detected(ctx.opts, payload) {
            return tunnel::teredo::decode(ctx, payload);
        }
    }
    Ok(())
}
