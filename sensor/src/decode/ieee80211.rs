//! IEEE 802.11 data frames, optionally behind a radiotap header, as seen on
//! Wi-Fi monitor-mode captures (for example of a guest network), or inside
//! GRE from Aruba access points to their controller.
//!
//! Only unprotected data frames carry decodable payload; management,
//! control and encrypted frames are counted as non-IP and skipped. A QoS
//! frame may aggregate several packets (A-MSDU): the first is decoded with
//! the frame, and the rest are left in `DecodedPacket::subframes` for the
//! tracker to decode one by one, as Zeek counts each of them as a packet.

use super::{be16, ethernet, Ctx, DecodeError, Decoded};

/// Skips the radiotap header (its length is little-endian at offset 2).
pub(crate) fn decode_radiotap<'a>(
    ctx: &mut Ctx<'_, 'a>,
    frame: &'a [u8],
) -> Result<(), DecodeError> {
    if frame.len() < 8 {
        return Err(DecodeError::TruncatedRadiotap);
    }
    let len = usize::from(u16::from_le_bytes([frame[2], frame[3]]));
    if len < 8 || len > frame.len() {
        return Err(DecodeError::TruncatedRadiotap);
    }
    decode(ctx, &frame[len..])
}

/// Decodes an 802.11 MAC frame.
pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, frame: &'a [u8]) -> Result<(), DecodeError> {
    if frame.len() < 24 {
        return Err(DecodeError::Truncated80211);
    }
    ctx.counters.count(Decoded::Ieee80211);
    let fc = frame[0];
    let flags = frame[1];
    let frame_type = (fc >> 2) & 0x3;
    let subtype = (fc >> 4) & 0xf;
    let protected = flags & 0x40 != 0;
    // Type 2 is data; subtypes with bit 2 set (null, QoS null) carry none.
    if frame_type != 2 || subtype & 0x4 != 0 || protected {
        ctx.counters.count(Decoded::NonIp);
        return Ok(());
    }
    let to_ds = flags & 0x01 != 0;
    let from_ds = flags & 0x02 != 0;
    let mut hdr = 24;
    if to_ds && from_ds {
        hdr += 6;
    }
    let qos = subtype & 0x8 != 0;
    // The A-MSDU bit of the QoS control field.
    let amsdu = qos && frame.get(hdr).is_some_and(|b| b & 0x80 != 0);
    if qos {
        hdr += 2;
        // The order bit on a QoS frame announces an HT control field.
        if flags & 0x80 != 0 {
            hdr += 4;
        }
    }
    if frame.len() < hdr + 8 {
        return Err(DecodeError::Truncated80211);
    }
    if ctx.outermost {
        let mac = |at: usize| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&frame[at..at + 6]);
            m
        };
        // Destination and source depend on the distribution-system bits.
        let (dst, src) = match (to_ds, from_ds) {
            (false, false) => (mac(4), mac(10)),
            (true, false) => (mac(16), mac(10)),
            (false, true) => (mac(4), mac(16)),
            (true, true) => (mac(16), mac(24)),
        };
        ctx.out.dst_mac = Some(dst);
        ctx.out.src_mac = Some(src);
    }
    if amsdu {
        ctx.out.subframe_depth = ctx.out.layer_count().min(usize::from(u8::MAX)) as u8;
        ctx.out.subframe_encap = ctx.encap;
        return subframe(ctx, &frame[hdr..]);
    }
    llc(ctx, &frame[hdr..])
}

/// Decodes the first A-MSDU subframe of `data` (destination, source,
/// length, then an LLC frame padded to four bytes) and leaves the rest in
/// `DecodedPacket::subframes`.
pub(crate) fn subframe<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    if data.len() < 14 {
        return Err(DecodeError::Truncated80211);
    }
    let len = usize::from(be16(data, 12));
    let Some(msdu) = data.get(14..14 + len) else {
        return Err(DecodeError::Truncated80211);
    };
    // Every subframe but the last is padded to a multiple of four bytes.
    let padded = (14 + len).next_multiple_of(4);
    ctx.out.subframes = data.get(padded..).unwrap_or_default();
    llc(ctx, msdu)
}

/// LLC/SNAP: AA AA 03, OUI, ethertype.
fn llc<'a>(ctx: &mut Ctx<'_, 'a>, llc: &'a [u8]) -> Result<(), DecodeError> {
    if llc.len() >= 8 && llc[0] == 0xaa && llc[1] == 0xaa && llc[2] == 0x03 {
        return ethernet::dispatch(ctx, be16(llc, 6), &llc[8..]);
    }
    ctx.counters.count(Decoded::NonIp);
    Ok(())
}
