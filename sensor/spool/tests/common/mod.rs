//! Test helpers: unique temporary spool directories, removed on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use vagt_spool::{FsyncPolicy, Record, SpoolConfig, SpoolReader};

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "vagt-spool-test-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config with fast fsync and the given segment size.
pub fn cfg(segment_bytes: u64) -> SpoolConfig {
    SpoolConfig {
        segment_bytes,
        fsync: FsyncPolicy::Never,
        ..SpoolConfig::default()
    }
}

pub fn payload(seq_hint: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq_hint as usize * 31 + i) as u8)
        .collect()
}

pub fn drain(r: &mut SpoolReader) -> Vec<Record> {
    r.by_ref().collect()
}

pub fn seqs(recs: &[Record]) -> Vec<u64> {
    recs.iter().map(|r| r.seq).collect()
}

/// Segment files in the directory, sorted.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}
