//! One segment file: its name, the in-memory index of its committed records,
//! the scan that rebuilds that index on open, and the atomic rewrite used by
//! the overflow policy.
//!
//! The index holds 16 bytes per record (sequence number, offset, age); that is
//! what lets the reader seek to any sequence number after a rewind, and the
//! stats count pending records and bytes exactly without touching the disk.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::SpoolError;
use crate::record::{self, Step};

/// Extension of segment files.
pub const SEGMENT_EXT: &str = "seg";

/// File name of the segment whose first sequence number is `first_seq`.
pub fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.{SEGMENT_EXT}")
}

/// The first sequence number encoded in a segment file name, if it is one.
pub fn parse_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".seg")?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// Index entry of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    /// Byte offset of the record in the segment file.
    pub off: u32,
    /// Seconds between the segment's `base_time_ms` and the record's time,
    /// saturating (a clock that steps back gives 0).
    pub dt_s: u32,
}

/// Record count per class, for the overflow policy's "does this segment hold
/// records of class c" question.
#[derive(Debug, Clone, Default)]
pub struct ClassCounts(Vec<(u8, u64)>);

impl ClassCounts {
    pub fn add(&mut self, class: u8) {
        match self.0.iter_mut().find(|(c, _)| *c == class) {
            Some((_, n)) => *n += 1,
            None => self.0.push((class, 1)),
        }
    }
    pub fn has(&self, class: u8) -> bool {
        self.0.iter().any(|&(c, n)| c == class && n > 0)
    }
    pub fn classes(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.iter().filter(|(_, n)| *n > 0).map(|&(c, _)| c)
    }
}

/// What the spool knows about one segment file.
#[derive(Debug, Clone)]
pub struct SegInfo {
    /// From the file name; a lower bound of the sequence numbers inside.
    pub first_seq: u64,
    pub path: PathBuf,
    /// Bytes of the file that belong to committed data (a torn tail after
    /// it is ignored).
    pub len: u64,
    pub entries: Vec<Entry>,
    pub base_time_ms: u64,
    pub newest_time_ms: u64,
    pub classes: ClassCounts,
    /// Changes whenever the file is replaced, so a reader holding it open
    /// knows its offsets are stale.
    pub generation: u64,
    /// The writer appends to this one; it is never rewritten or deleted.
    pub active: bool,
}

impl SegInfo {
    pub fn new(first_seq: u64, path: PathBuf, generation: u64) -> Self {
        SegInfo {
            first_seq,
            path,
            len: 0,
            entries: Vec::new(),
            base_time_ms: 0,
            newest_time_ms: 0,
            classes: ClassCounts::default(),
            generation,
            active: false,
        }
    }

    /// Adds a committed record to the index.
    pub fn push(&mut self, seq: u64, off: u64, time_ms: u64, class: u8) {
        if self.entries.is_empty() {
            self.base_time_ms = time_ms;
        }
        self.newest_time_ms = self.newest_time_ms.max(time_ms);
        let dt = time_ms.saturating_sub(self.base_time_ms) / 1000;
        self.entries.push(Entry {
            seq,
            off: off as u32,
            dt_s: dt.min(u32::MAX as u64) as u32,
        });
        self.classes.add(class);
    }

    pub fn last_seq(&self) -> Option<u64> {
        self.entries.last().map(|e| e.seq)
    }

    /// Index of the first entry with a sequence number ≥ `seq`.
    pub fn position(&self, seq: u64) -> usize {
        self.entries.partition_point(|e| e.seq < seq)
    }

    /// Byte length of entry `i` as stored (up to the next entry, or the end
    /// of committed data): includes any corrupt bytes between them.
    pub fn span(&self, i: usize) -> u64 {
        let end = self
            .entries
            .get(i + 1)
            .map(|e| e.off as u64)
            .unwrap_or(self.len);
        end.saturating_sub(self.entries[i].off as u64)
    }

    /// Records and bytes with a sequence number > `acked`.
    pub fn pending(&self, acked: u64) -> (u64, u64) {
        let i = self.position(acked.saturating_add(1));
        match self.entries.get(i) {
            Some(e) => (
                (self.entries.len() - i) as u64,
                self.len.saturating_sub(e.off as u64),
            ),
            None => (0, 0),
        }
    }

    /// Wall-clock time (ms) of entry `i`, at one second resolution.
    pub fn time_of(&self, i: usize) -> u64 {
        self.base_time_ms + self.entries[i].dt_s as u64 * 1000
    }
}

/// Result of scanning a segment file on open.
#[derive(Debug)]
pub struct Scan {
    pub info: SegInfo,
    pub corrupt_records: u64,
    pub corrupt_bytes: u64,
    pub warnings: Vec<String>,
    /// Size of the file; above `info.len` when it ends in garbage.
    pub file_len: u64,
}

/// Reads a whole segment file.
pub fn read_all(path: &Path) -> Result<Vec<u8>, SpoolError> {
    let mut f = File::open(path).map_err(|e| SpoolError::io("open segment", path, e))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|e| SpoolError::io("read segment", path, e))?;
    Ok(buf)
}

/// Rebuilds the index of a segment from its bytes, skipping corrupt spans.
/// Records whose sequence number does not increase are treated as corrupt
/// (they cannot be ordered and would break the index).
pub fn scan(first_seq: u64, path: PathBuf, generation: u64) -> Result<Scan, SpoolError> {
    let buf = read_all(&path)?;
    let mut info = SegInfo::new(first_seq, path, generation);
    let (mut corrupt_records, mut corrupt_bytes) = (0u64, 0u64);
    let mut warnings = Vec::new();
    let mut valid_end = 0u64;
    for step in record::walk(&buf) {
        match step {
            Step::Record { rec, offset, size } => {
                let in_order = info.last_seq().is_none_or(|l| rec.seq > l) && rec.seq >= first_seq;
                if in_order && offset <= u32::MAX as usize {
                    info.push(rec.seq, offset as u64, rec.time_ms, rec.class);
                    valid_end = (offset + size) as u64;
                } else {
                    corrupt_records += 1;
                    corrupt_bytes += size as u64;
                    warnings.push(format!(
                        "{}: record with sequence number {} at offset {offset} is out of order; skipped",
                        info.path.display(),
                        rec.seq
                    ));
                }
            }
            Step::Skipped {
                offset,
                len,
                torn_tail,
            } => {
                corrupt_records += 1;
                corrupt_bytes += len as u64;
                let what = if torn_tail {
                    "incomplete record at the end (torn write, e.g. a crash mid-append)"
                } else {
                    "corrupt bytes"
                };
                warnings.push(format!(
                    "{}: {what}: {len} bytes at offset {offset} skipped",
                    info.path.display()
                ));
            }
        }
    }
    info.len = valid_end;
    Ok(Scan {
        info,
        corrupt_records,
        corrupt_bytes,
        warnings,
        file_len: buf.len() as u64,
    })
}

/// Fsyncs a directory so that creations, renames and deletions in it are
/// durable.
pub fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SpoolError::io("fsync directory", dir, e))
}

/// Creates an empty segment file (failing if it exists) and makes its
/// directory entry durable.
pub fn create(dir: &Path, first_seq: u64) -> Result<(File, PathBuf), SpoolError> {
    let path = dir.join(file_name(first_seq));
    let f = OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| SpoolError::io("create segment", &path, e))?;
    sync_dir(dir)?;
    Ok((f, path))
}

/// Outcome of [`rewrite`]: the new index and what was left out, per class.
pub struct Rewritten {
    pub info: SegInfo,
    /// (class, records, bytes) left out because `keep` said no.
    pub dropped: Vec<(u8, u64, u64)>,
    pub corrupt_records: u64,
    pub corrupt_bytes: u64,
}

/// Atomically replaces the segment with a copy holding only the records with
/// seq > `acked` for which `keep(class)` is true (same sequence numbers):
/// write a temp file, fsync, rename over the original, fsync the directory.
/// If nothing would be kept the caller should delete the segment instead.
pub fn rewrite(
    dir: &Path,
    info: &SegInfo,
    acked: u64,
    generation: u64,
    keep: &dyn Fn(u8) -> bool,
) -> Result<Rewritten, SpoolError> {
    let buf = read_all(&info.path)?;
    let end = (info.len as usize).min(buf.len());
    let mut out = Vec::with_capacity(end);
    let mut new = SegInfo::new(info.first_seq, info.path.clone(), generation);
    let mut dropped: Vec<(u8, u64, u64)> = Vec::new();
    let (mut corrupt_records, mut corrupt_bytes) = (0, 0);
    for (i, e) in info.entries.iter().enumerate() {
        let off = e.off as usize;
        match record::decode(buf.get(off..end).unwrap_or(&[])) {
            record::Decoded::Record { rec, size } => {
                if rec.seq <= acked {
                    // Already released: nothing to keep or count.
                } else if keep(rec.class) {
                    new.push(rec.seq, out.len() as u64, rec.time_ms, rec.class);
                    out.extend_from_slice(&buf[off..off + size]);
                } else {
                    match dropped.iter_mut().find(|d| d.0 == rec.class) {
                        Some(d) => {
                            d.1 += 1;
                            d.2 += size as u64;
                        }
                        None => dropped.push((rec.class, 1, size as u64)),
                    }
                }
            }
            _ => {
                // Rotted since it was indexed: nothing to copy.
                corrupt_records += 1;
                corrupt_bytes += info.span(i);
            }
        }
    }
    new.len = out.len() as u64;
    let tmp = dir.join(format!("{}.tmp", file_name(info.first_seq)));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&out)?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(SpoolError::io("write rewritten segment", &tmp, e));
    }
    fs::rename(&tmp, &info.path).map_err(|e| SpoolError::io("replace segment", &info.path, e))?;
    sync_dir(dir)?;
    Ok(Rewritten {
        info: new,
        dropped,
        corrupt_records,
        corrupt_bytes,
    })
}

/// Counts the records with seq > `acked` in a segment about to be deleted,
/// per class: (class, records, bytes). Records that no longer decode are
/// returned as class `None` with their indexed span.
pub fn census(info: &SegInfo, acked: u64) -> Vec<(Option<u8>, u64, u64)> {
    let mut out: Vec<(Option<u8>, u64, u64)> = Vec::new();
    let start = info.position(acked.saturating_add(1));
    if start >= info.entries.len() {
        return out;
    }
    let buf = read_all(&info.path).unwrap_or_default();
    let end = (info.len as usize).min(buf.len());
    for i in start..info.entries.len() {
        let off = info.entries[i].off as usize;
        let (class, size) = match record::decode(buf.get(off..end).unwrap_or(&[])) {
            record::Decoded::Record { rec, size } => (Some(rec.class), size as u64),
            _ => (None, info.span(i)),
        };
        match out.iter_mut().find(|d| d.0 == class) {
            Some(d) => {
                d.1 += 1;
                d.2 += size;
            }
            None => out.push((class, 1, size)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(file_name(42), "00000000000000000042.seg");
        assert_eq!(parse_name("00000000000000000042.seg"), Some(42));
        assert_eq!(parse_name("42.seg"), None);
        assert_eq!(parse_name("00000000000000000042.seg.tmp"), None);
        assert_eq!(parse_name(&file_name(u64::MAX)), Some(u64::MAX));
    }

    #[test]
    fn pending_counts_after_ack() {
        let mut s = SegInfo::new(1, PathBuf::from("x"), 0);
        for (i, seq) in [1u64, 2, 5, 9].iter().enumerate() {
            s.push(*seq, i as u64 * 100, 1000, 0);
        }
        s.len = 400;
        assert_eq!(s.pending(0), (4, 400));
        assert_eq!(s.pending(2), (2, 200));
        assert_eq!(s.pending(4), (2, 200));
        assert_eq!(s.pending(9), (0, 0));
        assert_eq!(s.span(3), 100);
    }
}
