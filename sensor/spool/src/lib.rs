//! Durable write-ahead spool for Vagt (issue 14).
//!
//! Every event the sensor ships is first appended here and fsynced per batch;
//! a shipper thread reads the records in sequence order, hands them to Kafka
//! and acknowledges them once Kafka did. Only acknowledged ("released")
//! records are deleted. Uplink outages, kill -9 and full disks must not lose
//! events silently: whatever is lost (a failed commit, corruption, the
//! overflow policy) is counted in [`SpoolStats`].
//!
//! This crate owns the spool directory: segment files, the cursor file, their
//! formats and recovery. It does not know what the payload bytes mean.
//!
//! # On disk
//! A directory of segment files `NNNNNNNNNNNNNNNNNNNN.seg` (20-digit first
//! sequence number; rolled once a segment exceeds `segment_bytes`, at a
//! commit boundary), a `lock` file (flock, one process at a time), and a `cursor` file with `next_seq` and `acked` (see
//! [`cursor`]). A segment is a sequence of records:
//! ```text
//! magic u16 LE (0x5356) | len u32 LE | crc32 u32 LE | seq u64 LE | time_ms u64 LE | class u8 | payload
//! ```
//! `len` is the payload length, the crc32 covers seq, time_ms, class and
//! payload. After a bad record a scanner looks for the next magic whose record
//! checks out.
//!
//! # Use
//! ```no_run
//! use vagt_spool::{Spool, SpoolConfig, class};
//! let (mut w, mut r, report) = Spool::open("/var/spool/vagt".as_ref(), SpoolConfig::default())?;
//! for warning in &report.warnings { eprintln!("{warning}"); }
//! w.append(class::ALERT, b"event")?;
//! w.commit()?; // one fsync per batch
//! // shipper thread:
//! while let Some(rec) = r.next() { /* send rec.payload */ r.ack(rec.seq)?; }
//! # Ok::<(), vagt_spool::SpoolError>(())
//! ```
//! Threads: [`SpoolWriter`] and [`SpoolReader`] are `Send`; give each to one
//! thread. They coordinate through a mutex that is held only briefly (and
//! while the overflow policy rewrites a segment). [`StatsHandle`] serves a
//! third thread.
//!
//! # Guarantees and limits
//! - A committed record (with [`FsyncPolicy::Batch`]) survives kill -9 and
//!   power loss; uncommitted records are lost by design. Delivery is
//!   at-least-once: released records can come again after a crash if the
//!   cursor (written at most once a second) lagged.
//! - Sequence numbers strictly increase across restarts, also when every
//!   segment was released. Numbers of records lost before they were
//!   committed may be handed out again (nobody saw them).
//! - Acks must come in order; `ack(n)` releases everything ≤ n.
//! - Losses are counted, never silent: failed commits
//!   ([`SpoolStats::failed_records`]), corruption
//!   ([`SpoolStats::corrupt_records`]), the overflow and age policies
//!   ([`SpoolStats::dropped`]).
//! - Memory: the index costs 16 bytes per record on disk (about 40 MB for
//!   1 GiB of 400-byte records); opening reads each segment into memory once.
//! - On a full disk a commit fails and its records are counted as lost; the
//!   overflow policy does not shed records to make room (its rewrite needs
//!   space itself): keep `max_bytes` below the free space.
//! - One process per directory (an flock on `dir/lock`).

pub mod bounds;
pub mod cursor;
mod error;
mod open;
pub mod reader;
pub mod record;
pub mod segment;
mod shared;
pub mod writer;

use std::path::Path;
use std::time::Duration;

pub use error::SpoolError;
pub use reader::{Record, SpoolReader};
pub use record::MAX_PAYLOAD;
pub use shared::{Dropped, SpoolStats};
pub use writer::SpoolWriter;

/// Record classes. A lower number is more important: when the spool exceeds
/// `max_bytes`, the overflow policy drops the highest-numbered class first
/// (oldest records first), and ALERT records only when nothing else is left.
/// Other values are allowed and are treated the same way (255 goes first).
pub mod class {
    pub const ALERT: u8 = 0;
    pub const HEALTH: u8 = 1;
    pub const ASSET: u8 = 2;
    pub const APP: u8 = 3;
    pub const CONN: u8 = 4;
}

/// When the writer fsyncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// On every commit: a committed record survives power loss.
    Batch,
    /// At a commit at least this long after the previous fsync (and on roll
    /// and drop): a crash can lose up to this much committed data.
    Interval(Duration),
    /// Never (tests, benchmarks): durability is left to the kernel.
    Never,
}

/// Spool configuration.
#[derive(Debug, Clone)]
pub struct SpoolConfig {
    /// A segment is rolled once it exceeds this (default 8 MiB, at most 1 GiB).
    pub segment_bytes: u64,
    /// Bound on unreleased bytes (default 1 GiB); beyond it the overflow
    /// policy drops records down to 90 % of it.
    pub max_bytes: u64,
    /// Records older than this are dropped, whole segments at a time
    /// (default 7 days).
    pub max_age: Duration,
    pub fsync: FsyncPolicy,
    /// Take an exclusive lock on the directory (default true), so that a
    /// second process opening the same spool fails instead of corrupting it.
    /// Only tests that simulate a crash in-process (by leaking the writer and
    /// reader) turn it off.
    pub lock: bool,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            segment_bytes: 8 << 20,
            max_bytes: 1 << 30,
            max_age: Duration::from_secs(7 * 24 * 3600),
            fsync: FsyncPolicy::Batch,
            lock: true,
        }
    }
}

/// What `open` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Committed, unreleased records found, and their bytes.
    pub pending_records: u64,
    pub pending_bytes: u64,
    /// Corrupt records (or corrupt spans, including torn tails) skipped.
    pub corrupt_records: u64,
    pub corrupt_bytes: u64,
    pub segments: u64,
    pub next_seq: u64,
    pub acked: u64,
    /// Human-readable findings: corruption, a bad cursor, leftovers removed.
    pub warnings: Vec<String>,
}

/// Entry point.
pub struct Spool;

impl Spool {
    /// Opens (or creates) the spool in `dir` and recovers it: scans every
    /// segment, verifies every record, and positions the reader after the
    /// last released record. The writer starts a new segment.
    pub fn open(
        dir: &Path,
        cfg: SpoolConfig,
    ) -> Result<(SpoolWriter, SpoolReader, OpenReport), SpoolError> {
        open::open(dir, cfg)
    }
}

/// A cloneable handle for reading stats from a third thread.
#[derive(Clone)]
pub struct StatsHandle(shared::SharedRef);

impl StatsHandle {
    pub fn stats(&self) -> SpoolStats {
        shared::lock(&self.0).snapshot()
    }
}
