//! TCP headers.
//!
//! The header is read with etherparse. Of the options only the window scale
//! of a SYN is kept, because connection tracking needs nothing else.

use super::packet::{Checksum, TcpFlags, TcpSegment, Transport};
use super::{checksum, ip, Ctx, DecodeError, Decoded};
use etherparse::err::tcp::HeaderSliceError;
use etherparse::TcpHeaderSlice;

pub(crate) fn decode(ctx: &mut Ctx<'_, '_>, idx: usize) -> Result<(), DecodeError> {
    // A reference, not a copy: the layer is large and this runs per packet.
    let layer = &ctx.out.layers()[idx];
    let wire_len = layer.total_len - layer.header_len;
    if wire_len < 20 {
        return Err(DecodeError::TruncatedTcp);
    }
    let data = layer.payload;
    let hdr = TcpHeaderSlice::from_slice(data).map_err(|e| match e {
        HeaderSliceError::Len(_) => DecodeError::TruncatedTcp,
        HeaderSliceError::Content(_) => DecodeError::BadTcpHeaderLength,
    })?;
    let header_len = hdr.slice().len() as u32;
    if header_len > wire_len {
        return Err(DecodeError::TruncatedTcp);
    }
    ctx.counters.count(Decoded::Tcp);
    let flags = TcpFlags(hdr.slice()[13]);
    let payload_len = wire_len - header_len;
    let complete = data.len() as u32 == wire_len && !layer.frag.more;
    let checksum = if ctx.opts.validate_checksums && complete {
        let pseudo = checksum::pseudo_header(&layer.src, &layer.dst, ip::PROTO_TCP, wire_len);
        if checksum::verifies(data, pseudo) {
            Checksum::Good
        } else {
            ctx.counters.error(DecodeError::BadTcpChecksum);
            Checksum::Bad
        }
    } else {
        Checksum::NotChecked
    };
    let segment = TcpSegment {
        src_port: hdr.source_port(),
        dst_port: hdr.destination_port(),
        seq: hdr.sequence_number(),
        ack: hdr.acknowledgment_number(),
        flags,
        window: hdr.window_size(),
        window_scale: if flags.syn() {
            window_scale(hdr.options())
        } else {
            -1
        },
        payload: &data[header_len as usize..],
        payload_len,
        checksum,
    };
    ctx.out.layer_mut(idx).transport = Transport::Tcp(segment);
    Ok(())
}

/// The window-scale option's shift count, or -1 when there is none.
fn window_scale(mut opts: &[u8]) -> i8 {
    while let Some(&kind) = opts.first() {
        match kind {
            0 => break,
            1 => opts = &opts[1..],
            _ => {
                let Some(&len) = opts.get(1) else { break };
                let len = usize::from(len);
                if len < 2 || len > opts.len() {
                    break;
                }
                if kind == 3 && len >= 3 {
                    return opts[2].min(127) as i8;
                }
                opts = &opts[len..];
            }
        }
    }
    -1
}

#[cfg(test)]
mod tests {
    use super::window_scale;

    #[test]
    fn window_scale_is_found_behind_other_options() {
        // MSS 1460, SACK permitted, NOP, window scale 7.
        let opts = [2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7];
        assert_eq!(window_scale(&opts), 7);
        assert_eq!(window_scale(&[2, 4, 0x05, 0xb4]), -1);
        // A zero length must not loop forever.
        assert_eq!(window_scale(&[5, 0, 3, 3, 7]), -1);
    }
}
