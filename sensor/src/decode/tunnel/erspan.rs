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

/// Length of an ERSPAN type II or III header, if `data` holds one.
pub(crate) fn header_len(version: u8, data: &[u8]) -> Option<usize> {
    match version {
        2 if data.len() >= 8 && data[0] >> 4 == 1 => Some(8),
        // The O flag announces an 8-byte platform-specific subheader.
        3 if data.len() >= 12 && data[0] >> 4 == 2 => {
            let len = if data[11] & 0x01 != 0 { 20 } else { 12 };
            (data.len() >= len).then_some(len)
        }
        _ => None,
    }
}

pub(crate) fn decode_type2<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    let len = header_len(2, data).ok_or(DecodeError::BadErspan)?;
    ctx.counters.count(Decoded::Erspan);
    super::enter(ctx, Encap::Erspan);
    ethernet::decode(ctx, &data[len..])
}

pub(crate) fn decode_type3<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    let len = header_len(3, data).ok_or(DecodeError::BadErspan)?;
    ctx.counters.count(Decoded::Erspan);
    super::enter(ctx, Encap::Erspan);
    ethernet::decode(ctx, &data[len..])
}
