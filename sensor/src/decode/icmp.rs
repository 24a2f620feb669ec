//! ICMP and ICMPv6 headers: type, code and the checksum.

use super::packet::{Checksum, IcmpMessage, Transport};
use super::{checksum, ip, Ctx, DecodeError, Decoded};

pub(crate) fn decode(ctx: &mut Ctx<'_, '_>, idx: usize) -> Result<(), DecodeError> {
    // A reference, not a copy: the layer is large and this runs per packet.
    let layer = &ctx.out.layers()[idx];
    let v6 = layer.proto == ip::PROTO_ICMPV6;
    let wire_len = layer.total_len - layer.header_len;
    let data = layer.payload;
    if wire_len < 8 || data.len() < 8 {
        return Err(DecodeError::TruncatedIcmp);
    }
    ctx.counters
        .count(if v6 { Decoded::Icmpv6 } else { Decoded::Icmp });
    let complete = data.len() as u32 == wire_len && !layer.frag.more;
    let checksum = if ctx.opts.validate_checksums && complete {
        let initial = if v6 {
            checksum::pseudo_header(&layer.src, &layer.dst, ip::PROTO_ICMPV6, wire_len)
        } else {
            0
        };
        if checksum::verifies(data, initial) {
            Checksum::Good
        } else {
            ctx.counters.error(DecodeError::BadIcmpChecksum);
            Checksum::Bad
        }
    } else {
        Checksum::NotChecked
    };
    ctx.out.layer_mut(idx).transport = Transport::Icmp(IcmpMessage {
        v6,
        icmp_type: data[0],
        code: data[1],
        payload: &data[8..],
        payload_len: wire_len - 8,
        checksum,
    });
    Ok(())
}
