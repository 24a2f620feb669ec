//! Teredo (RFC 4380): IPv6 in UDP, optionally behind authentication and
//! origin-indication headers. A datagram is only taken for Teredo when what
//! follows is a well-formed IPv6 header whose length matches.

use super::super::packet::Encap;
use super::super::{be16, ip, Ctx, DecodeError, Decoded};

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, mut data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() >= 4 && data[0] == 0x00 && data[1] == 0x01 {
        // Authentication: id length, auth length, id, auth, nonce, confirmation.
        let id_len = usize::from(data[2]);
        let auth_len = usize::from(data[3]);
        let len = 4 + id_len + auth_len + 8 + 1;
        if data.len() < len {
            return Err(DecodeError::BadTeredo);
        }
        data = &data[len..];
    }
    if data.len() >= 8 && data[0] == 0x00 && data[1] == 0x00 {
        // Origin indication: obfuscated port and address.
        data = &data[8..];
    }
    if data.len() < 40 || data[0] >> 4 != 6 {
        return Err(DecodeError::BadTeredo);
    }
    if usize::from(be16(data, 4)) + 40 != data.len() {
        return Err(DecodeError::BadTeredo);
    }
    ctx.counters.count(Decoded::Teredo);
    super::enter(ctx, Encap::Teredo);
    ip::decode(ctx, data)
}
