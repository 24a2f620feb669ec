//! Teredo (RFC 4380): IPv6 in UDP, optionally behind authentication and
//! origin-indication headers. A datagram is only taken for Teredo when what
//! follows is a well-formed IPv6 header whose length matches.
//!
//! Like Zeek, Teredo is looked for on any UDP port, not only the
//! configured ones: clients talk to relays on whatever port the relay
//! picked, so a client's traffic (and the replies to what it sent through
//! its server) arrives on ports nobody configures. [`detect`] is Zeek's
//! `TeredoAnalyzer::DetectProtocol`.

use super::super::packet::Encap;
use super::super::{be16, ip, Ctx, DecodeError, Decoded};

/// Teredo addresses sit in 2001:0000::/32.
const TEREDO_PREFIX: [u8; 4] = [0x20, 0x01, 0x00, 0x00];
const IPV6_HEADER: usize = 40;
const NO_NEXT_HEADER: u8 = 59;

/// Whether a datagram on a port not configured for any tunnel looks like
/// Teredo: an IPv6 header with a Teredo source or destination address, or
/// an origin indication (possibly after an authentication header) followed
/// by an IPv6 header.
#[inline]
pub(crate) fn detect(data: &[u8]) -> bool {
    // The cheap test first: this runs on every such datagram.
    if data.len() < IPV6_HEADER {
        return false;
    }
    let v6 = data[0] >> 4 == 6;
    let header = data[0] == 0 && data[1] <= 1;
    if !(v6 || header) {
        return false;
    }
    if v6 && (data[8..12] == TEREDO_PREFIX || data[24..28] == TEREDO_PREFIX) {
        return true;
    }
    // Zeek reads the second byte as the header type even when the first
    // says IPv6; kept so that the same datagrams count as Teredo.
    let mut rest = data;
    let mut tag = u16::from(data[1]);
    if tag == 1 {
        // Authentication: 13 bytes besides the id and the value, and an
        // IPv6 header must still fit behind it.
        let skip = 13 + usize::from(rest[2]) + usize::from(rest[3]);
        match rest.get(skip..) {
            Some(r) if r.len() >= IPV6_HEADER => rest = r,
            _ => return false,
        }
        tag = be16(rest, 0);
    }
    // Origin indication, then the IPv6 header.
    tag == 0 && rest.len() >= 8 + IPV6_HEADER && rest[8] >> 4 == 6
}

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
    if data.len() < IPV6_HEADER || data[0] >> 4 != 6 {
        return Err(DecodeError::BadTeredo);
    }
    let carried = usize::from(be16(data, 4)) + IPV6_HEADER;
    if carried != data.len() {
        // Zeek lets one thing through: a bubble (no next header, no
        // payload) with bytes behind it. It is still a bubble; what
        // follows is nobody's payload.
        let bubble = carried == IPV6_HEADER && data[6] == NO_NEXT_HEADER;
        if !bubble || data.len() < carried {
            return Err(DecodeError::BadTeredo);
        }
        data = &data[..carried];
    }
    ctx.counters.count(Decoded::Teredo);
    super::enter(ctx, Encap::Teredo);
    ip::decode(ctx, data)
}
