//! AYIYA ("Anything In Anything", used by SixXS-style IPv6 tunnel brokers):
//! identity and signature fields of announced length, then IPv4 or IPv6.

use super::super::packet::Encap;
use super::super::{ip, Ctx, DecodeError, Decoded};

const OP_FORWARD: u8 = 1;

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 8 {
        return Err(DecodeError::BadAyiya);
    }
    let id_len = 1usize << (data[0] >> 4).min(8);
    let sig_len = usize::from(data[1] >> 4) * 4;
    let op_code = data[2] & 0x0f;
    let next_header = data[3];
    let header = 8 + id_len + sig_len;
    if data.len() < header {
        return Err(DecodeError::BadAyiya);
    }
    if op_code != OP_FORWARD || !(next_header == 4 || next_header == 41) {
        // Heartbeats and queries carry no packet.
        return Ok(());
    }
    ctx.counters.count(Decoded::Ayiya);
    super::enter(ctx, Encap::Ayiya);
    ip::decode(ctx, &data[header..])
}
