//! IEEE 802.11 data frames, optionally behind a radiotap header, as seen on
//! Wi-Fi monitor-mode captures (for example of a guest network).
//!
//! Only unprotected data frames carry decodable payload; management,
//! control and encrypted frames are counted as non-IP and skipped.

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
    let llc = &frame[hdr..];
    // LLC/SNAP: AA AA 03, OUI, ethertype.
    if llc[0] == 0xaa && llc[1] == 0xaa && llc[2] == 0x03 {
        return ethernet::dispatch(ctx, be16(llc, 6), &llc[8..]);
    }
    ctx.counters.count(Decoded::NonIp);
    Ok(())
}
