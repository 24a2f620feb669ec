//! MPLS label stacks.
//!
//! MPLS does not say what it carries, so after the bottom-of-stack label we
//! look at the first nibble like routers do: 4 is IPv4, 6 is IPv6, and 0 is
//! an Ethernet pseudowire behind a control word.

use super::{ethernet, ip, Ctx, DecodeError, Decoded};

/// Label stacks deeper than this are treated as garbage.
const MAX_LABELS: usize = 16;

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, mut data: &'a [u8]) -> Result<(), DecodeError> {
    ctx.counters.count(Decoded::Mpls);
    for _ in 0..MAX_LABELS {
        if data.len() < 4 {
            return Err(DecodeError::TruncatedMpls);
        }
        let bottom = data[2] & 0x01 != 0;
        data = &data[4..];
        if bottom {
            return payload(ctx, data);
        }
    }
    Err(DecodeError::TruncatedMpls)
}

fn payload<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    match data.first().map(|b| b >> 4) {
        Some(4) | Some(6) => ip::decode(ctx, data),
        Some(0) if data.len() >= 4 + 14 => ethernet::decode(ctx, &data[4..]),
        Some(_) => Err(DecodeError::MplsUnknownPayload),
        None => Err(DecodeError::TruncatedMpls),
    }
}
