//! GRE (RFC 2784/2890) and PPTP's enhanced GRE (RFC 2637), with the
//! payloads municipal networks see: IP, transparent Ethernet bridging,
//! ERSPAN mirror sessions, MPLS, PPP, and the 802.11 frames Aruba access
//! points send their controller.

use super::super::packet::Encap;
use super::super::{be16, ethernet, ieee80211, ip, mpls, ppp, Ctx, DecodeError, Decoded};
use super::erspan;

const PROTO_TEB: u16 = 0x6558;
const PROTO_ERSPAN_2: u16 = 0x88be;
const PROTO_ERSPAN_3: u16 = 0x22eb;
const PROTO_PPP: u16 = 0x880b;

/// A parsed GRE header: its length, the payload protocol, and whether it
/// carried a sequence number (which tells ERSPAN type I from type II).
pub(crate) struct GreHeader {
    pub len: usize,
    pub proto: u16,
    pub seq: bool,
}

/// Reads a GRE header; `None` for routing, unknown versions or truncation.
pub(crate) fn header(data: &[u8]) -> Option<GreHeader> {
    if data.len() < 4 {
        return None;
    }
    let flags = data[0];
    let version = data[1] & 0x07;
    let ack = data[1] & 0x80 != 0;
    if flags & 0x40 != 0 || version > 1 {
        // Source routing (deprecated) and unknown versions are not followed.
        return None;
    }
    let seq = flags & 0x10 != 0;
    let mut len = 4;
    for bit in [0x80u8, 0x20, 0x10] {
        // Checksum, key and sequence number each add four bytes.
        if flags & bit != 0 {
            len += 4;
        }
    }
    if version == 1 && ack {
        len += 4;
    }
    let proto = be16(data, 2);
    if data.len() < len || (version == 1 && proto != PROTO_PPP) {
        return None;
    }
    Some(GreHeader { len, proto, seq })
}

/// The mirrored Ethernet frame inside an ERSPAN-in-GRE packet, if `data` is
/// one (used to shard mirror sessions by the traffic they carry).
pub(crate) fn mirrored_frame(data: &[u8]) -> Option<&[u8]> {
    let h = header(data)?;
    let inner = &data[h.len..];
    let skip = match h.proto {
        PROTO_ERSPAN_2 if !h.seq => 0,
        PROTO_ERSPAN_2 => erspan::header_len(2, inner)?,
        PROTO_ERSPAN_3 => erspan::header_len(3, inner)?,
        _ => return None,
    };
    inner.get(skip..)
}

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    let h = header(data).ok_or(DecodeError::BadGre)?;
    let (proto, seq) = (h.proto, h.seq);
    let inner = &data[h.len..];
    ctx.counters.count(Decoded::Gre);
    match proto {
        0x0800 | 0x86dd => {
            super::enter(ctx, Encap::Gre);
            ip::decode(ctx, inner)
        }
        PROTO_TEB => {
            super::enter(ctx, Encap::Gre);
            ethernet::decode(ctx, inner)
        }
        // Without a sequence number the mirror session is ERSPAN type I,
        // which has no header of its own.
        PROTO_ERSPAN_2 if !seq => erspan::decode_type1(ctx, inner),
        PROTO_ERSPAN_2 => erspan::decode_type2(ctx, inner),
        PROTO_ERSPAN_3 => erspan::decode_type3(ctx, inner),
        0x8847 | 0x8848 => {
            super::enter(ctx, Encap::Gre);
            mpls::decode(ctx, inner)
        }
        PROTO_PPP => {
            super::enter(ctx, Encap::Gre);
            ppp::decode(ctx, inner)
        }
        p if is_aruba(p) => {
            super::enter(ctx, Encap::Gre);
            ieee80211::decode(ctx, inner)
        }
        _ => Err(DecodeError::GreUnknownProtocol),
    }
}

/// The protocol types Aruba access points use for the 802.11 frames they
/// tunnel to their controller: the set Zeek's GRE analyzer accepts (its
/// second range, 0x8300 to 0x8370, lies inside the first).
fn is_aruba(proto: u16) -> bool {
    (proto & 0x8200 == 0x8200 && proto & 0x0f == 0) || proto == 0x9000
}
