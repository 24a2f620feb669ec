//! State shared by the writer and the reader (and stats handles) behind one
//! mutex: the segment index, the committed end, the released position, the
//! counters, and the cursor persistence schedule. Neither side does long work
//! under the lock except segment rewrites for the overflow policy, which are
//! rare and bounded by one segment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cursor::{self, Cursor};
use crate::error::SpoolError;
use crate::segment::SegInfo;
use crate::SpoolConfig;

/// Records and bytes dropped for one class by the overflow or age policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    pub records: u64,
    pub bytes: u64,
}

/// A snapshot of the spool's counters. Cheap: no IO, one pass over the
/// segment list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Committed records not yet released (seq > acked), and their bytes on disk.
    pub pending_records: u64,
    pub pending_bytes: u64,
    /// Age of the oldest pending record in seconds (1 s resolution).
    pub oldest_pending_age_s: Option<u64>,
    /// Records committed since open.
    pub appended: u64,
    /// Records released by acks since open.
    pub released: u64,
    /// Dropped by the overflow and age policies since open, per class.
    pub dropped: BTreeMap<u8, Dropped>,
    /// Dropped records whose class could not be read any more (bit rot).
    pub dropped_unreadable: Dropped,
    /// Corrupt records found and skipped (on open and while reading).
    pub corrupt_records: u64,
    pub corrupt_bytes: u64,
    /// Commits that failed (disk full, IO error) and the records they lost.
    pub failed_commits: u64,
    pub failed_records: u64,
    /// Segment files and their total size.
    pub segments: u64,
    pub disk_bytes: u64,
    pub next_seq: u64,
    pub acked: u64,
    /// The most recent error or corruption, human-readable.
    pub last_error: Option<String>,
}

impl SpoolStats {
    /// Records and bytes dropped for `class` so far.
    pub fn dropped_class(&self, class: u8) -> Dropped {
        self.dropped.get(&class).copied().unwrap_or_default()
    }

    /// All records dropped by the policies.
    pub fn dropped_records(&self) -> u64 {
        self.dropped.values().map(|d| d.records).sum::<u64>() + self.dropped_unreadable.records
    }
}

pub(crate) struct Shared {
    pub dir: PathBuf,
    pub cfg: SpoolConfig,
    pub segs: BTreeMap<u64, SegInfo>,
    /// Every sequence number below this was committed or lost for good.
    pub committed_next: u64,
    pub acked: u64,
    pub next_generation: u64,
    pub stats: SpoolStats,
    pub cursor_on_disk: Option<Cursor>,
    pub cursor_written: Instant,
    /// Holds the directory's exclusive lock for as long as the writer or
    /// the reader lives.
    pub _lock: Option<std::fs::File>,
}

pub(crate) type SharedRef = Arc<Mutex<Shared>>;

/// Locks the shared state. A panic in the other thread while it held the lock
/// leaves consistent-enough data (every update is a few assignments), so a
/// poisoned lock is taken over rather than propagated as a second panic.
pub(crate) fn lock(s: &SharedRef) -> MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Minimum time between cursor writes caused by acks.
pub(crate) const CURSOR_INTERVAL: Duration = Duration::from_secs(1);

impl Shared {
    pub fn generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    pub fn note_error(&mut self, msg: String) {
        self.stats.last_error = Some(msg);
    }

    pub fn pending(&self) -> (u64, u64) {
        self.segs.values().fold((0, 0), |(r, b), s| {
            let (sr, sb) = s.pending(self.acked);
            (r + sr, b + sb)
        })
    }

    pub fn snapshot(&self) -> SpoolStats {
        let mut st = self.stats.clone();
        let (r, b) = self.pending();
        st.pending_records = r;
        st.pending_bytes = b;
        st.oldest_pending_age_s = self.segs.values().find_map(|s| {
            let i = s.position(self.acked.saturating_add(1));
            (i < s.entries.len()).then(|| now_ms().saturating_sub(s.time_of(i)) / 1000)
        });
        st.segments = self.segs.len() as u64;
        st.disk_bytes = self.segs.values().map(|s| s.len).sum();
        st.next_seq = self.committed_next;
        st.acked = self.acked;
        st
    }

    pub fn cursor(&self) -> Cursor {
        Cursor {
            next_seq: self.committed_next.max(self.acked + 1),
            acked: self.acked,
        }
    }

    /// Writes the cursor if it changed.
    pub fn persist_cursor(&mut self) -> Result<(), SpoolError> {
        let c = self.cursor();
        if self.cursor_on_disk == Some(c) {
            return Ok(());
        }
        let r = cursor::store(&self.dir, &c);
        match &r {
            Ok(()) => {
                self.cursor_on_disk = Some(c);
                self.cursor_written = Instant::now();
            }
            Err(e) => self.note_error(e.to_string()),
        }
        r
    }

    /// Removes a segment from the index and deletes its file. The cursor is
    /// persisted first: it must hold a `next_seq` beyond every number the
    /// deleted file held, or a crash right after could reuse numbers. If the
    /// cursor cannot be written (a full disk, where deleting is exactly what
    /// frees space), a newer segment file still proves the numbering, so the
    /// deletion goes ahead; a crash before the next cursor write then only
    /// redelivers released records.
    pub fn delete_segment(&mut self, first_seq: u64) -> Result<(), SpoolError> {
        if let Err(e) = self.persist_cursor() {
            let newer = self.segs.range(first_seq + 1..).next().is_some();
            if !newer {
                return Err(e);
            }
        }
        let Some(info) = self.segs.remove(&first_seq) else {
            return Ok(());
        };
        match std::fs::remove_file(&info.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => {
                // Keep it indexed: a later ack retries the deletion.
                let err = SpoolError::io("delete segment", &info.path, e);
                self.note_error(err.to_string());
                self.segs.insert(first_seq, info);
                Err(err)
            }
        }
    }
}
