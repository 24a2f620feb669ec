//! Opening and recovering a spool directory: validate the configuration,
//! create the directory, load the cursor, scan and verify every segment,
//! derive `next_seq` and `acked`, remove what is fully released, and start a
//! fresh segment for the writer.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::cursor;
use crate::error::SpoolError;
use crate::reader::SpoolReader;
use crate::segment::{self, SegInfo};
use crate::shared::{Shared, SpoolStats};
use crate::writer::SpoolWriter;
use crate::{OpenReport, SpoolConfig};

fn validate(cfg: &SpoolConfig) -> Result<(), SpoolError> {
    if cfg.segment_bytes == 0 || cfg.segment_bytes > 1 << 30 {
        return Err(SpoolError::Config(format!(
            "segment_bytes must be between 1 and 1 GiB, not {}",
            cfg.segment_bytes
        )));
    }
    if cfg.max_bytes == 0 {
        return Err(SpoolError::Config("max_bytes must be above 0".into()));
    }
    Ok(())
}

/// Name of the lock file in the spool directory.
pub const LOCK_FILE: &str = "lock";

/// Takes an exclusive advisory lock (flock) on `dir/lock`: two sensors
/// writing one spool would interleave sequence numbers and delete each
/// other's segments. The kernel drops the lock when the process dies, so a
/// kill -9 leaves nothing stale behind.
fn lock_dir(dir: &Path) -> Result<fs::File, SpoolError> {
    let p = dir.join(LOCK_FILE);
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .map_err(|e| SpoolError::io("create lock file", &p, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(SpoolError::io(
            "lock",
            &p,
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "another process (or another Spool in this one) has this spool open; \
                 stop it or use a different directory",
            ),
        )),
        Err(fs::TryLockError::Error(e)) => Err(SpoolError::io("lock", &p, e)),
    }
}

pub(crate) fn open(
    dir: &Path,
    cfg: SpoolConfig,
) -> Result<(SpoolWriter, SpoolReader, OpenReport), SpoolError> {
    validate(&cfg)?;
    fs::create_dir_all(dir).map_err(|e| SpoolError::io("create spool directory", dir, e))?;
    let lock = if cfg.lock { Some(lock_dir(dir)?) } else { None };
    let mut report = OpenReport::default();

    let mut names = Vec::new();
    let listing = fs::read_dir(dir).map_err(|e| SpoolError::io("list spool directory", dir, e))?;
    for ent in listing {
        let ent = ent.map_err(|e| SpoolError::io("list spool directory", dir, e))?;
        let name = ent.file_name().to_string_lossy().into_owned();
        if let Some(first) = segment::parse_name(&name) {
            names.push(first);
        } else if name.ends_with(".tmp") {
            // A rewrite or cursor update interrupted by a crash; the original
            // is intact because the rename never happened.
            let p = ent.path();
            fs::remove_file(&p).map_err(|e| SpoolError::io("remove leftover", &p, e))?;
            report.warnings.push(format!(
                "{}: leftover of an interrupted write removed",
                p.display()
            ));
        } else if name != cursor::CURSOR_FILE && name != LOCK_FILE {
            report.warnings.push(format!(
                "{}: not a spool file; ignored",
                ent.path().display()
            ));
        }
    }
    names.sort_unstable();

    let loaded = cursor::load(dir);
    let mut generation = 0u64;
    let mut segs = BTreeMap::new();
    let mut stats = SpoolStats::default();
    for first in &names {
        generation += 1;
        let s = segment::scan(*first, dir.join(segment::file_name(*first)), generation)?;
        stats.corrupt_records += s.corrupt_records;
        stats.corrupt_bytes += s.corrupt_bytes;
        report.warnings.extend(s.warnings);
        if s.file_len > s.info.len && !s.info.entries.is_empty() {
            // Garbage after the last valid record (a torn write): nothing can
            // be recovered from it, and cutting it off means it is reported
            // once, not at every start. Segments are never appended to after
            // a restart, so this cannot cut committed data.
            let cut = fs::OpenOptions::new()
                .write(true)
                .open(&s.info.path)
                .and_then(|f| f.set_len(s.info.len).and_then(|()| f.sync_all()));
            if let Err(e) = cut {
                report.warnings.push(format!(
                    "{}: cannot cut the damaged tail off: {e}",
                    s.info.path.display()
                ));
            }
        }
        segs.insert(*first, s.info);
    }
    report.corrupt_records = stats.corrupt_records;
    report.corrupt_bytes = stats.corrupt_bytes;

    // Sequence numbers only go up: take the highest evidence available. An
    // empty segment's name is the next_seq of the moment it was created.
    let max_seq = segs
        .values()
        .filter_map(SegInfo::last_seq)
        .max()
        .unwrap_or(0);
    let max_name = names.last().copied().unwrap_or(0);
    let min_present = segs.values().find_map(|s| s.entries.first().map(|e| e.seq));
    let mut next_seq = (max_seq + 1).max(max_name).max(1);
    let acked = match loaded {
        Ok(Some(c)) => {
            next_seq = next_seq.max(c.next_seq);
            c.acked
        }
        Ok(None) if segs.is_empty() => 0,
        other => {
            let why = match other {
                Err(reason) => reason,
                _ => format!("{}: missing", cursor::path(dir).display()),
            };
            let acked = match min_present {
                Some(first) => first - 1,
                None => next_seq - 1,
            };
            report.warnings.push(format!(
                "cursor unusable ({why}); recovered from the segments: next_seq {next_seq}, \
                 redelivering every record still on disk (from seq {})",
                acked + 1
            ));
            acked
        }
    };

    let mut sh = Shared {
        dir: dir.to_path_buf(),
        cfg: cfg.clone(),
        segs,
        committed_next: next_seq,
        acked,
        next_generation: generation,
        stats,
        cursor_on_disk: None,
        cursor_written: Instant::now(),
        _lock: lock,
    };
    sh.persist_cursor()?;

    // Fully released segments (the deletion was interrupted) and segments
    // without a single valid record hold nothing to deliver.
    let dead: Vec<u64> = sh
        .segs
        .values()
        .filter(|s| s.last_seq().is_none_or(|l| l <= acked))
        .map(|s| s.first_seq)
        .collect();
    for first in dead {
        if sh
            .segs
            .get(&first)
            .is_some_and(|s| s.entries.is_empty() && s.len == 0)
        {
            let path = sh.segs[&first].path.display().to_string();
            if fs::metadata(&path).map(|m| m.len() > 0).unwrap_or(false) {
                report
                    .warnings
                    .push(format!("{path}: no valid record in it; removed"));
            }
        }
        sh.delete_segment(first)?;
    }

    let (file, path) = segment::create(dir, next_seq)?;
    let g = sh.generation();
    let mut info = SegInfo::new(next_seq, path, g);
    info.active = true;
    sh.segs.insert(next_seq, info);

    let (pr, pb) = sh.pending();
    report.pending_records = pr;
    report.pending_bytes = pb;
    report.segments = sh.segs.len() as u64;
    report.next_seq = next_seq;
    report.acked = acked;
    if let Some(w) = report.warnings.last() {
        sh.stats.last_error = Some(w.clone());
    }

    let shared = Arc::new(Mutex::new(sh));
    let writer = SpoolWriter::new(shared.clone(), dir.to_path_buf(), cfg, file, next_seq);
    let reader = SpoolReader::new(shared, acked + 1);
    Ok((writer, reader, report))
}
