//! ERSPAN mirror sessions (types I, II and III) inside GRE: a switch sends
//! copies of frames to the sensor, so the carried Ethernet frame is the
//! traffic that matters.

use super::super::packet::Encap;
use super::super::{ethernet, Ctx, DecodeError, Decoded};

pub(crate) fn decode_type1<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    ctx.counters.count(Decoded::Erspan);
    super::enter(ctx, Encap::Erspan);
    ethernet::decode(ctx, data)
}

pub(crate) fn decode_type2<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 8 || data[0] >> 4 != 1 {
        return Err(DecodeError::BadErspan);
    }
    ctx.counters.count(Decoded::Erspan);
    super::enter(ctx, Encap::Erspan);
    ethernet::decode(ctx, &data[8..])
}

pub(crate) fn decode_type3<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 12 || data[0] >> 4 != 2 {
        return Err(DecodeError::BadErspan);
    }
    // The O flag announces an 8-byte platform-specific subheader.
    let header = if data[11] & 0x01 != 0 { 20 } else { 12 };
    if data.len() < header {
        return Err(DecodeError::BadErspan);
    }
    ctx.counters.count(Decoded::Erspan);
    super::enter(ctx, Encap::Erspan);
    ethernet::decode(ctx, &data[header..])
}
