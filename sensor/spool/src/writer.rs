//! The writer: buffers appended records, commits them (write + fsync per
//! policy), publishes the committed end to the reader, rolls segments, and
//! runs the bounds policy after each commit.
//!
//! A failed commit (disk full, IO error) loses exactly the records of that
//! batch: the file is cut back to the last committed offset, the reader never
//! sees any of them, the loss is counted, and the writer stays usable.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::Instant;

use crate::bounds;
use crate::error::SpoolError;
use crate::record::{self, MAX_PAYLOAD};
use crate::segment::{self, SegInfo};
use crate::shared::{lock, now_ms, SharedRef};
use crate::{FsyncPolicy, SpoolConfig, SpoolStats, StatsHandle};

struct Staged {
    seq: u64,
    off: u64,
    time_ms: u64,
    class: u8,
}

/// The appending half of a spool. Owned by one thread.
pub struct SpoolWriter {
    shared: SharedRef,
    dir: PathBuf,
    cfg: SpoolConfig,
    file: File,
    /// Key (first_seq) of the active segment in the shared index.
    seg_first: u64,
    /// Committed bytes of the active segment: the next write goes here.
    seg_len: u64,
    buf: Vec<u8>,
    staged: Vec<Staged>,
    next_seq: u64,
    last_sync: Instant,
    unsynced: bool,
    #[cfg(test)]
    pub(crate) fail_next: Option<io::ErrorKind>,
}

impl SpoolWriter {
    pub(crate) fn new(
        shared: SharedRef,
        dir: PathBuf,
        cfg: SpoolConfig,
        file: File,
        next_seq: u64,
    ) -> Self {
        SpoolWriter {
            shared,
            dir,
            cfg,
            file,
            seg_first: next_seq,
            seg_len: 0,
            buf: Vec::with_capacity(1 << 20),
            staged: Vec::new(),
            next_seq,
            last_sync: Instant::now(),
            unsynced: false,
            #[cfg(test)]
            fail_next: None,
        }
    }

    /// Buffers one record and returns its sequence number. Nothing reaches
    /// the disk (or the reader) before [`commit`](Self::commit); records not
    /// committed are lost on a crash or drop, by design.
    pub fn append(&mut self, class: u8, payload: &[u8]) -> Result<u64, SpoolError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(SpoolError::TooLarge {
                len: payload.len(),
                max: MAX_PAYLOAD,
            });
        }
        let off = self.seg_len + self.buf.len() as u64;
        if off + record::record_size(payload.len()) as u64 > u32::MAX as u64 {
            return Err(SpoolError::BatchTooLarge {
                bytes: self.buf.len() as u64,
            });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let time_ms = now_ms();
        record::encode_into(&mut self.buf, seq, time_ms, class, payload);
        self.staged.push(Staged {
            seq,
            off,
            time_ms,
            class,
        });
        Ok(seq)
    }

    /// Records appended since the last commit.
    pub fn uncommitted(&self) -> usize {
        self.staged.len()
    }

    fn write_and_sync(&mut self) -> io::Result<bool> {
        #[cfg(test)]
        if let Some(kind) = self.fail_next.take() {
            // Simulate a write that got half-way, then failed.
            let half = &self.buf[..self.buf.len() / 2];
            self.file.write_all_at(half, self.seg_len)?;
            return Err(io::Error::new(kind, "injected failure"));
        }
        self.file.write_all_at(&self.buf, self.seg_len)?;
        let sync = match self.cfg.fsync {
            FsyncPolicy::Batch => true,
            FsyncPolicy::Interval(d) => self.last_sync.elapsed() >= d,
            FsyncPolicy::Never => false,
        };
        if sync {
            self.file.sync_data()?;
        }
        Ok(sync)
    }

    /// Writes the buffered records, fsyncs per policy, and makes them visible
    /// to the reader. On error the whole batch is lost (and counted), the
    /// segment is cut back to its last committed end, and the writer can be
    /// used again. Returns the number of records committed.
    pub fn commit(&mut self) -> Result<usize, SpoolError> {
        if self.staged.is_empty() {
            self.sync_if_due();
            return Ok(0);
        }
        let n = self.staged.len();
        let result = self.write_and_sync();
        let mut sh = lock(&self.shared);
        sh.committed_next = self.next_seq;
        let synced = match result {
            Ok(synced) => synced,
            Err(e) => {
                // The reader only reads up to seg_len, so the half-written
                // bytes are invisible; cutting them off keeps the file clean
                // for the next scan. If even that fails, the next commit
                // overwrites them in place.
                let _ = self.file.set_len(self.seg_len);
                let err = SpoolError::io("commit to segment", &self.segment_path(), e);
                sh.stats.failed_commits += 1;
                sh.stats.failed_records += n as u64;
                sh.note_error(format!("{err}; {n} records lost"));
                self.buf.clear();
                self.staged.clear();
                return Err(err);
            }
        };
        let new_len = self.seg_len + self.buf.len() as u64;
        if let Some(seg) = sh.segs.get_mut(&self.seg_first) {
            for s in &self.staged {
                seg.push(s.seq, s.off, s.time_ms, s.class);
            }
            seg.len = new_len;
        }
        sh.stats.appended += n as u64;
        drop(sh);
        self.seg_len = new_len;
        self.buf.clear();
        self.staged.clear();
        if synced {
            self.last_sync = Instant::now();
            self.unsynced = false;
        } else {
            self.unsynced = true;
        }
        if self.seg_len >= self.cfg.segment_bytes {
            if let Err(e) = self.roll() {
                // Keep appending to the current segment; retried next commit.
                lock(&self.shared).note_error(format!("{e}; still writing to the old segment"));
            }
        }
        if let Err(e) = self.enforce_bounds() {
            lock(&self.shared).note_error(e.to_string());
        }
        Ok(n)
    }

    fn segment_path(&self) -> PathBuf {
        self.dir.join(segment::file_name(self.seg_first))
    }

    fn sync_if_due(&mut self) {
        if let FsyncPolicy::Interval(d) = self.cfg.fsync {
            if self.unsynced && self.last_sync.elapsed() >= d {
                self.sync_now();
            }
        }
    }

    fn sync_now(&mut self) {
        match self.file.sync_data() {
            Ok(()) => {
                self.unsynced = false;
                self.last_sync = Instant::now();
            }
            Err(e) => {
                let err = SpoolError::io("fsync segment", &self.segment_path(), e);
                lock(&self.shared).note_error(err.to_string());
            }
        }
    }

    /// Closes the active segment and starts a new one named after the next
    /// sequence number. Only at a commit boundary (nothing buffered).
    fn roll(&mut self) -> Result<(), SpoolError> {
        debug_assert!(self.staged.is_empty());
        if self.unsynced && self.cfg.fsync != FsyncPolicy::Never {
            self.sync_now();
        }
        let (file, path) = segment::create(&self.dir, self.next_seq)?;
        let mut sh = lock(&self.shared);
        if let Some(old) = sh.segs.get_mut(&self.seg_first) {
            old.active = false;
        }
        let g = sh.generation();
        let mut info = SegInfo::new(self.next_seq, path, g);
        info.active = true;
        sh.segs.insert(self.next_seq, info);
        drop(sh);
        self.file = file;
        self.seg_first = self.next_seq;
        self.seg_len = 0;
        self.unsynced = false;
        Ok(())
    }

    /// Applies `max_bytes` and `max_age` (see [`bounds`]). Called by every
    /// commit; call it periodically when nothing is being appended so the
    /// age bound still applies.
    pub fn enforce_bounds(&mut self) -> Result<(), SpoolError> {
        let need_roll = bounds::enforce(&mut lock(&self.shared), now_ms())?;
        if need_roll && self.seg_len > 0 && self.staged.is_empty() {
            self.roll()?;
            bounds::enforce(&mut lock(&self.shared), now_ms())?;
        }
        Ok(())
    }

    /// A snapshot of the spool's counters.
    pub fn stats(&self) -> SpoolStats {
        lock(&self.shared).snapshot()
    }

    /// A handle for reading stats from another thread.
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(self.shared.clone())
    }
}

impl Drop for SpoolWriter {
    /// Uncommitted records are discarded (as a crash would). Committed but
    /// not yet fsynced data is fsynced unless the policy is `Never`.
    fn drop(&mut self) {
        if self.unsynced && self.cfg.fsync != FsyncPolicy::Never {
            self.sync_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{class, Spool};

    #[test]
    fn failed_commit_is_invisible_counted_and_writer_recovers() {
        let dir = std::env::temp_dir().join(format!("vagt-spool-unit-fail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (mut w, mut r, _) = Spool::open(&dir, SpoolConfig::default()).unwrap();
        w.append(class::ALERT, b"one").unwrap();
        w.commit().unwrap();
        w.append(class::ALERT, b"lost-a").unwrap();
        w.append(class::ALERT, b"lost-b").unwrap();
        w.fail_next = Some(io::ErrorKind::StorageFull);
        let err = w.commit().unwrap_err();
        assert!(err.is_disk_full(), "{err}");
        assert!(err.to_string().contains("disk is full"), "{err}");
        let seq = w.append(class::ALERT, b"after").unwrap();
        assert_eq!(seq, 4);
        w.commit().unwrap();
        let got: Vec<Vec<u8>> = r.by_ref().map(|x| x.payload).collect();
        assert_eq!(got, vec![b"one".to_vec(), b"after".to_vec()]);
        let st = w.stats();
        assert_eq!((st.failed_commits, st.failed_records), (1, 2));
        assert_eq!(st.corrupt_records, 0);
        drop((w, r));
        // Reopen: the half-written batch left nothing behind.
        let (_w, r, rep) = Spool::open(&dir, SpoolConfig::default()).unwrap();
        assert_eq!(rep.corrupt_records, 0, "{:?}", rep.warnings);
        let got: Vec<u64> = r.map(|x| x.seq).collect();
        assert_eq!(got, vec![1, 4]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
