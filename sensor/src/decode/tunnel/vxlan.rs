//! VXLAN (RFC 7348): an 8-byte header with the I flag, then Ethernet.

use super::super::packet::Encap;
use super::super::{ethernet, Ctx, DecodeError, Decoded};

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 8 + 14 || data[0] & 0x08 == 0 {
        return Err(DecodeError::BadVxlan);
    }
    ctx.counters.count(Decoded::Vxlan);
    super::enter(ctx, Encap::Vxlan);
    ethernet::decode(ctx, &data[8..])
}
