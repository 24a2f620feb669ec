//! The reader: hands committed records to the shipper in sequence order,
//! verifies each record's crc as it reads it, supports go-back-N re-sending
//! (`rewind`), and releases delivered records (`ack`): deleting segments that
//! hold only released records and persisting the cursor.
//!
//! The reader finds records by sequence number in the shared index, never by
//! a file position of its own, so segments deleted or rewritten under it by
//! the overflow policy do not confuse it: it continues at the next existing
//! sequence number ≥ its position.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::error::SpoolError;
use crate::record::{self, Decoded, HEADER_LEN};
use crate::shared::{lock, SharedRef, CURSOR_INTERVAL};
use crate::{SpoolStats, StatsHandle};

/// One record as delivered to the shipper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    /// Wall clock (ms since the Unix epoch) when it was appended.
    pub time_ms: u64,
    pub class: u8,
    pub payload: Vec<u8>,
}

/// Read-ahead size: records are read from the file in chunks this large.
const CHUNK: usize = 1 << 20;

/// An open segment and a window of its bytes.
struct Cache {
    key: u64,
    generation: u64,
    file: File,
    start: u64,
    buf: Vec<u8>,
}

impl Cache {
    /// Makes bytes [off, off+need) available, reading ahead up to `limit`
    /// (the committed end). `Ok(false)`: the file is shorter than the index
    /// says (truncated behind the spool's back).
    fn ensure(&mut self, off: u64, need: usize, limit: u64) -> io::Result<bool> {
        if off >= self.start && off + need as u64 <= self.start + self.buf.len() as u64 {
            return Ok(true);
        }
        if off + need as u64 > limit {
            return Ok(false);
        }
        let len = (need.max(CHUNK) as u64).min(limit - off) as usize;
        self.buf.resize(len, 0);
        self.start = off;
        match self.file.read_exact_at(&mut self.buf, off) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.buf.clear();
                Ok(false)
            }
            Err(e) => {
                self.buf.clear();
                Err(e)
            }
        }
    }

    fn slice(&self, off: u64, len: usize) -> &[u8] {
        let at = (off - self.start) as usize;
        &self.buf[at..at + len]
    }
}

/// The shipping half of a spool. Owned by one thread.
pub struct SpoolReader {
    shared: SharedRef,
    /// Sequence number wanted next.
    pos: u64,
    cache: Option<Cache>,
    closed: bool,
}

enum Found {
    Record(Record),
    Corrupt(String),
}

impl SpoolReader {
    pub(crate) fn new(shared: SharedRef, pos: u64) -> Self {
        SpoolReader {
            shared,
            pos,
            cache: None,
            closed: false,
        }
    }

    /// The next committed record with seq ≥ the reader's position, or `None`
    /// when the reader has caught up with the writer. A record that fails
    /// its checksum is counted as corrupt, reported in `last_error`, and
    /// skipped. An IO error is returned without moving the position, so the
    /// next call retries the same record.
    pub fn try_next(&mut self) -> Result<Option<Record>, SpoolError> {
        let mut sh = lock(&self.shared);
        loop {
            if self.pos >= sh.committed_next {
                return Ok(None);
            }
            let pos = self.pos;
            let found = sh
                .segs
                .range(..=pos)
                .next_back()
                .into_iter()
                .chain(sh.segs.range(pos + 1..))
                .find_map(|(k, s)| {
                    let i = s.position(pos);
                    (i < s.entries.len()).then_some((*k, i))
                });
            let Some((key, i)) = found else {
                self.pos = sh.committed_next;
                return Ok(None);
            };
            let seg = &sh.segs[&key];
            let entry = seg.entries[i];
            let (generation, limit) = (seg.generation, seg.len);
            if self
                .cache
                .as_ref()
                .is_none_or(|c| c.key != key || c.generation != generation)
            {
                // Opened under the lock, so the file matches this generation
                // even if a rewrite replaces it right after.
                let file = File::open(&seg.path)
                    .map_err(|e| SpoolError::io("open segment for reading", &seg.path, e))?;
                self.cache = Some(Cache {
                    key,
                    generation,
                    file,
                    start: 0,
                    buf: Vec::new(),
                });
            }
            let Some(cache) = self.cache.as_mut() else {
                continue;
            };
            let found = read_at(cache, entry.off as u64, entry.seq, limit)
                .map_err(|e| SpoolError::io("read segment", &seg.path, e))?;
            self.pos = entry.seq + 1;
            match found {
                Found::Record(r) => return Ok(Some(r)),
                Found::Corrupt(why) => {
                    // Counted once: the entry leaves the index.
                    let Some(seg) = sh.segs.get_mut(&key) else {
                        continue;
                    };
                    let span = seg.span(i);
                    seg.entries.remove(i);
                    let msg = format!(
                        "{}: record {} at offset {} is corrupt ({why}); skipped",
                        seg.path.display(),
                        entry.seq,
                        entry.off
                    );
                    sh.stats.corrupt_records += 1;
                    sh.stats.corrupt_bytes += span;
                    sh.note_error(msg);
                }
            }
        }
    }

    /// From now on, deliver again from the first record with seq ≥ `seq`
    /// (not before the first unreleased one). For re-sending after a failed
    /// delivery.
    pub fn rewind(&mut self, seq: u64) {
        let acked = lock(&self.shared).acked;
        self.pos = seq.max(acked + 1);
    }

    /// The sequence number the next `next()` starts looking at.
    pub fn read_position(&self) -> u64 {
        self.pos
    }

    /// Highest released sequence number.
    pub fn acked(&self) -> u64 {
        lock(&self.shared).acked
    }

    /// Releases every record with seq ≤ `seq`. Acks must come in order: an
    /// ack at or below the current one does nothing, and an ack beyond the
    /// committed end is clamped to it. Segments holding only released records
    /// are deleted; the cursor is written at most once a second (and always
    /// before a deletion, and on `sync_cursor`, `close` and drop). An error
    /// means the cursor could not be written or a file not deleted; the
    /// release itself took effect and both are retried later (a crash before
    /// then redelivers released records, it never loses any).
    pub fn ack(&mut self, seq: u64) -> Result<(), SpoolError> {
        let mut sh = lock(&self.shared);
        let seq = seq.min(sh.committed_next.saturating_sub(1));
        if seq <= sh.acked {
            return Ok(());
        }
        let old = sh.acked;
        let released: u64 = sh
            .segs
            .values()
            .map(|s| (s.position(seq + 1) - s.position(old + 1)) as u64)
            .sum();
        sh.stats.released += released;
        sh.acked = seq;
        self.pos = self.pos.max(seq + 1);
        let dead: Vec<u64> = sh
            .segs
            .values()
            .filter(|s| !s.active && s.last_seq().is_none_or(|l| l <= seq))
            .map(|s| s.first_seq)
            .collect();
        for key in dead {
            sh.delete_segment(key)?;
        }
        if sh.cursor_written.elapsed() >= CURSOR_INTERVAL {
            sh.persist_cursor()?;
        }
        Ok(())
    }

    /// Writes the cursor now if it changed.
    pub fn sync_cursor(&mut self) -> Result<(), SpoolError> {
        lock(&self.shared).persist_cursor()
    }

    /// Writes the cursor and closes the reader, reporting any error (drop
    /// does the same but can only record the error in the stats).
    pub fn close(mut self) -> Result<(), SpoolError> {
        self.closed = true;
        self.sync_cursor()
    }

    pub fn stats(&self) -> SpoolStats {
        lock(&self.shared).snapshot()
    }

    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(self.shared.clone())
    }
}

fn read_at(cache: &mut Cache, off: u64, seq: u64, limit: u64) -> io::Result<Found> {
    if !cache.ensure(off, HEADER_LEN, limit)? {
        return Ok(Found::Corrupt("segment shorter than indexed".into()));
    }
    let Some(len) = record::peek_len(cache.slice(off, HEADER_LEN)) else {
        return Ok(Found::Corrupt("bad header".into()));
    };
    let size = HEADER_LEN + len;
    if !cache.ensure(off, size, limit)? {
        return Ok(Found::Corrupt("length runs past the committed end".into()));
    }
    match record::decode(cache.slice(off, size)) {
        Decoded::Record { rec, .. } if rec.seq == seq => Ok(Found::Record(Record {
            seq: rec.seq,
            time_ms: rec.time_ms,
            class: rec.class,
            payload: rec.payload.to_vec(),
        })),
        Decoded::Record { rec, .. } => Ok(Found::Corrupt(format!(
            "holds sequence number {} instead",
            rec.seq
        ))),
        _ => Ok(Found::Corrupt("checksum mismatch".into())),
    }
}

impl Iterator for SpoolReader {
    type Item = Record;

    /// Like [`SpoolReader::try_next`], but an IO error is recorded in the
    /// stats' `last_error` and ends this pass (`None`); calling again retries.
    fn next(&mut self) -> Option<Record> {
        match self.try_next() {
            Ok(r) => r,
            Err(e) => {
                lock(&self.shared).note_error(e.to_string());
                None
            }
        }
    }
}

impl Drop for SpoolReader {
    fn drop(&mut self) {
        if !self.closed {
            let _ = lock(&self.shared).persist_cursor();
        }
    }
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send>() {}
    is_send::<SpoolReader>();
    is_send::<crate::SpoolWriter>();
}
