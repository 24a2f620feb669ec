//! PPP framing and PPPoE sessions.
//!
//! PPP may compress its address/control bytes and its protocol field
//! (RFC 1661 ACFC and PFC), so both forms are accepted.

use super::{be16, ip, mpls, Ctx, DecodeError, Decoded};

const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
const PPP_MPLS: u16 = 0x0281;

/// Decodes a PPP frame (with or without the 0xff 0x03 address/control).
pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, mut data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() >= 2 && data[0] == 0xff && data[1] == 0x03 {
        data = &data[2..];
    }
    let (proto, rest) = match data {
        // An odd first byte is a compressed one-byte protocol field.
        [p, rest @ ..] if p & 1 == 1 => (u16::from(*p), rest),
        [_, _, rest @ ..] => (be16(data, 0), rest),
        _ => return Err(DecodeError::TruncatedLinkHeader),
    };
    match proto {
        PPP_IPV4 | PPP_IPV6 => ip::decode(ctx, rest),
        PPP_MPLS => mpls::decode(ctx, rest),
        // Link and network control protocols (LCP, IPCP, PAP, CHAP, ...)
        // are normal PPP chatter, not decode failures.
        _ => {
            ctx.counters.count(Decoded::NonIp);
            Ok(())
        }
    }
}

/// Decodes a PPPoE session packet: 6-byte PPPoE header, then PPP.
pub(crate) fn decode_pppoe<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 8 {
        return Err(DecodeError::TruncatedPppoe);
    }
    ctx.counters.count(Decoded::Pppoe);
    decode(ctx, &data[6..])
}
