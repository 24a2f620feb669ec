//! Geneve (RFC 8926): a variable header with options, then Ethernet or IP
//! as its protocol type says.

use super::super::packet::Encap;
use super::super::{be16, ethernet, ip, Ctx, DecodeError, Decoded};

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 8 || data[0] >> 6 != 0 {
        return Err(DecodeError::BadGeneve);
    }
    let header = 8 + usize::from(data[0] & 0x3f) * 4;
    if data.len() < header {
        return Err(DecodeError::BadGeneve);
    }
    let inner = &data[header..];
    match be16(data, 2) {
        0x6558 => {
            ctx.counters.count(Decoded::Geneve);
            super::enter(ctx, Encap::Geneve);
            ethernet::decode(ctx, inner)
        }
        0x0800 | 0x86dd => {
            ctx.counters.count(Decoded::Geneve);
            super::enter(ctx, Encap::Geneve);
            ip::decode(ctx, inner)
        }
        _ => Err(DecodeError::BadGeneve),
    }
}
