//! GTPv1-U (3GPP TS 29.281), as mobile backhaul and 4G/5G routers carry
//! user traffic: a G-PDU header, optional sequence and extension headers,
//! then the subscriber's IP packet.

use super::super::packet::Encap;
use super::super::{ip, Ctx, DecodeError, Decoded};

const MSG_GPDU: u8 = 0xff;
/// Extension-header chains longer than this are not believed.
const MAX_EXTENSIONS: usize = 8;

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 8 {
        return Err(DecodeError::BadGtp);
    }
    let flags = data[0];
    // Version 1, protocol type GTP (not GTP').
    if flags >> 5 != 1 || flags & 0x10 == 0 {
        return Err(DecodeError::BadGtp);
    }
    if data[1] != MSG_GPDU {
        // Echo, error indication and the like carry no user packet.
        return Ok(());
    }
    let mut at = 8;
    if flags & 0x07 != 0 {
        if data.len() < 12 {
            return Err(DecodeError::BadGtp);
        }
        let mut next = data[11];
        at = 12;
        let mut hops = 0;
        while next != 0 {
            hops += 1;
            if hops > MAX_EXTENSIONS || data.len() <= at {
                return Err(DecodeError::BadGtp);
            }
            let len = usize::from(data[at]) * 4;
            if len == 0 || data.len() < at + len {
                return Err(DecodeError::BadGtp);
            }
            next = data[at + len - 1];
            at += len;
        }
    }
    let inner = &data[at..];
    match inner.first().map(|b| b >> 4) {
        Some(4) | Some(6) => {
            ctx.counters.count(Decoded::Gtp);
            super::enter(ctx, Encap::Gtp);
            ip::decode(ctx, inner)
        }
        _ => Err(DecodeError::BadGtp),
    }
}
