//! The on-disk record format: encoding, checked decoding and resynchronisation
//! after corruption. Pure functions over byte slices, no IO, so that the
//! segment scanner, the reader and the overflow rewriter all agree on what a
//! valid record is.
//!
//! ```text
//! magic u16 LE | len u32 LE | crc32 u32 LE | seq u64 LE | time_ms u64 LE | class u8 | payload (len bytes)
//! ```
//! The crc (crc32fast, IEEE) covers everything after the crc field: seq,
//! time_ms, class and payload. The magic is what lets a scanner find the next
//! record after a corrupt length field.

/// First two bytes of every record ("VS" read as a little-endian u16).
pub const MAGIC: u16 = 0x5356;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 2 + 4 + 4 + 8 + 8 + 1;
/// Largest payload the spool accepts. Lengths above it are treated as
/// corruption when reading, which keeps a flipped high bit in a length field
/// from making the scanner skip megabytes of good records.
pub const MAX_PAYLOAD: usize = 16 << 20;

const MAGIC_BYTES: [u8; 2] = MAGIC.to_le_bytes();

/// A record borrowed from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    pub seq: u64,
    pub time_ms: u64,
    pub class: u8,
    pub payload: &'a [u8],
}

/// What `decode` found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A valid record occupying the first `size` bytes.
    Record { rec: RecordRef<'a>, size: usize },
    /// The buffer ends before the record does (a torn tail if nothing follows).
    Incomplete,
    /// Wrong magic, impossible length or checksum mismatch.
    Corrupt,
}

/// Size on disk of a record with a payload of `payload_len` bytes.
pub fn record_size(payload_len: usize) -> usize {
    HEADER_LEN + payload_len
}

/// Appends one encoded record to `out`.
pub fn encode_into(out: &mut Vec<u8>, seq: u64, time_ms: u64, class: u8, payload: &[u8]) {
    debug_assert!(payload.len() <= MAX_PAYLOAD);
    let mut body = [0u8; 17];
    body[..8].copy_from_slice(&seq.to_le_bytes());
    body[8..16].copy_from_slice(&time_ms.to_le_bytes());
    body[16] = class;
    let mut h = crc32fast::Hasher::new();
    h.update(&body);
    h.update(payload);
    let crc = h.finalize();
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC_BYTES);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(payload);
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Payload length announced by a header, if `buf` holds at least a header
/// with the right magic and a plausible length.
pub fn peek_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < HEADER_LEN || buf[..2] != MAGIC_BYTES {
        return None;
    }
    let len = u32_at(buf, 2) as usize;
    (len <= MAX_PAYLOAD).then_some(len)
}

/// Decodes and verifies the record at the start of `buf`.
pub fn decode(buf: &[u8]) -> Decoded<'_> {
    if buf.len() < 2 {
        return Decoded::Incomplete;
    }
    if buf[..2] != MAGIC_BYTES {
        return Decoded::Corrupt;
    }
    if buf.len() < HEADER_LEN {
        return Decoded::Incomplete;
    }
    let len = u32_at(buf, 2) as usize;
    if len > MAX_PAYLOAD {
        return Decoded::Corrupt;
    }
    let size = HEADER_LEN + len;
    if buf.len() < size {
        return Decoded::Incomplete;
    }
    let crc = u32_at(buf, 6);
    if crc32fast::hash(&buf[10..size]) != crc {
        return Decoded::Corrupt;
    }
    Decoded::Record {
        rec: RecordRef {
            seq: u64_at(buf, 10),
            time_ms: u64_at(buf, 18),
            class: buf[26],
            payload: &buf[HEADER_LEN..size],
        },
        size,
    }
}

/// Offset (relative to `buf`) of the first position at or after `from` where
/// a complete, valid record starts. Used after a corrupt record: a random
/// byte pair equal to the magic is rejected by the length and crc checks.
pub fn resync(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + 1 < buf.len() {
        let rel = buf[at..].windows(2).position(|w| w == MAGIC_BYTES)?;
        at += rel;
        if let Decoded::Record { .. } = decode(&buf[at..]) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// One step of walking a buffer of records: either a valid record or a span of
/// bytes that had to be skipped.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<'a> {
    Record {
        rec: RecordRef<'a>,
        offset: usize,
        size: usize,
    },
    /// `len` corrupt bytes at `offset`; `torn_tail` when nothing valid follows.
    Skipped {
        offset: usize,
        len: usize,
        torn_tail: bool,
    },
}

/// Walks every record in `buf` (a whole segment's bytes), resynchronising
/// after corruption. Each skipped span counts as one corrupt record: how many
/// records a garbled span used to hold cannot be known.
pub fn walk(buf: &[u8]) -> impl Iterator<Item = Step<'_>> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        if pos >= buf.len() {
            return None;
        }
        match decode(&buf[pos..]) {
            Decoded::Record { rec, size } => {
                let step = Step::Record {
                    rec,
                    offset: pos,
                    size,
                };
                pos += size;
                Some(step)
            }
            Decoded::Incomplete | Decoded::Corrupt => {
                let start = pos;
                match resync(buf, pos + 1) {
                    Some(next) => {
                        pos = next;
                        Some(Step::Skipped {
                            offset: start,
                            len: next - start,
                            torn_tail: false,
                        })
                    }
                    None => {
                        pos = buf.len();
                        Some(Step::Skipped {
                            offset: start,
                            len: buf.len() - start,
                            torn_tail: true,
                        })
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Vec<u8> {
        let mut b = Vec::new();
        encode_into(&mut b, 1, 10, 0, b"alpha");
        encode_into(&mut b, 2, 11, 4, b"");
        encode_into(&mut b, 3, 12, 2, &[7u8; 100]);
        b
    }

    fn records(buf: &[u8]) -> Vec<u64> {
        walk(buf)
            .filter_map(|s| match s {
                Step::Record { rec, .. } => Some(rec.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn roundtrip() {
        let b = three();
        match decode(&b) {
            Decoded::Record { rec, size } => {
                assert_eq!(size, record_size(5));
                assert_eq!((rec.seq, rec.time_ms, rec.class), (1, 10, 0));
                assert_eq!(rec.payload, b"alpha");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(records(&b), vec![1, 2, 3]);
    }

    #[test]
    fn every_prefix_is_incomplete_not_a_record() {
        let mut b = Vec::new();
        encode_into(&mut b, 9, 1, 1, b"payload");
        for cut in 0..b.len() {
            assert_eq!(decode(&b[..cut]), Decoded::Incomplete, "cut at {cut}");
        }
    }

    #[test]
    fn flipped_bit_anywhere_is_detected_and_others_survive() {
        let b = three();
        let first = record_size(5);
        let second = record_size(0);
        for at in first..first + second {
            for bit in 0..8 {
                let mut c = b.clone();
                c[at] ^= 1 << bit;
                let seqs = records(&c);
                assert_eq!(seqs, vec![1, 3], "flip at {at} bit {bit}");
            }
        }
    }

    #[test]
    fn corrupt_length_resyncs() {
        let mut b = three();
        b[2] = 0xff; // first record's length now huge
        b[3] = 0xff;
        let steps: Vec<_> = walk(&b).collect();
        assert!(matches!(
            steps[0],
            Step::Skipped {
                offset: 0,
                torn_tail: false,
                ..
            }
        ));
        assert_eq!(records(&b), vec![2, 3]);
    }

    #[test]
    fn torn_tail_is_reported() {
        let b = three();
        let cut = &b[..b.len() - 3];
        let steps: Vec<_> = walk(cut).collect();
        assert_eq!(records(cut), vec![1, 2]);
        assert!(matches!(
            steps.last(),
            Some(Step::Skipped {
                torn_tail: true,
                ..
            })
        ));
    }
}
