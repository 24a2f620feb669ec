//! GRE (RFC 2784/2890) and PPTP's enhanced GRE (RFC 2637), with the
//! payloads municipal networks see: IP, transparent Ethernet bridging,
//! ERSPAN mirror sessions, MPLS and PPP.

use super::super::packet::Encap;
use super::super::{be16, ethernet, ip, mpls, ppp, Ctx, DecodeError, Decoded};
use super::erspan;

const PROTO_TEB: u16 = 0x6558;
const PROTO_ERSPAN_2: u16 = 0x88be;
const PROTO_ERSPAN_3: u16 = 0x22eb;
const PROTO_PPP: u16 = 0x880b;

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 4 {
        return Err(DecodeError::BadGre);
    }
    let flags = data[0];
    let version = data[1] & 0x07;
    let checksum = flags & 0x80 != 0;
    let routing = flags & 0x40 != 0;
    let key = flags & 0x20 != 0;
    let seq = flags & 0x10 != 0;
    let ack = data[1] & 0x80 != 0;
    let proto = be16(data, 2);
    if routing || version > 1 {
        return Err(DecodeError::BadGre);
    }
    let mut header = 4;
    if checksum {
        header += 4;
    }
    if key {
        header += 4;
    }
    if seq {
        header += 4;
    }
    if version == 1 && ack {
        header += 4;
    }
    if data.len() < header {
        return Err(DecodeError::BadGre);
    }
    let inner = &data[header..];
    if version == 1 && proto != PROTO_PPP {
        return Err(DecodeError::GreUnknownProtocol);
    }
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
        _ => Err(DecodeError::GreUnknownProtocol),
    }
}
