//! The overflow and age policies: what to drop when the unreleased data
//! exceeds `max_bytes`, or is older than `max_age`.
//!
//! Size: drop the least important class first (highest class number), oldest
//! segment first, by rewriting closed segments without it (same sequence
//! numbers; temp file + rename, so a crash leaves the old or the new file).
//! ALERTs (class 0) are only lost when whole oldest segments are deleted
//! after every other class is gone. Stop at 90 % of `max_bytes`, so the
//! policy does not run again at the next commit.
//!
//! Age: delete closed segments whose newest record is older than `max_age`.
//!
//! The active segment is never touched; `enforce` asks the writer to roll it
//! when that is needed to get under the bound. Every record dropped with
//! seq > acked is counted per class (records and bytes on disk). The reader
//! copes because it looks records up by sequence number in the shared index,
//! and notices rewritten files by their generation.

use crate::error::SpoolError;
use crate::segment::{self, SegInfo};
use crate::shared::Shared;

/// Headroom: after an overflow, shrink to this fraction (per mille) of max_bytes.
const TARGET_PER_MILLE: u64 = 900;

fn closed_keys(sh: &Shared) -> Vec<u64> {
    sh.segs
        .values()
        .filter(|s| !s.active)
        .map(|s| s.first_seq)
        .collect()
}

/// Deletes a closed segment and counts its unreleased records as dropped.
fn drop_segment(sh: &mut Shared, first_seq: u64) -> Result<(), SpoolError> {
    let Some(info) = sh.segs.get(&first_seq) else {
        return Ok(());
    };
    let census = segment::census(info, sh.acked);
    sh.delete_segment(first_seq)?;
    for (class, records, bytes) in census {
        let d = match class {
            Some(c) => sh.stats.dropped.entry(c).or_default(),
            None => &mut sh.stats.dropped_unreadable,
        };
        d.records += records;
        d.bytes += bytes;
    }
    Ok(())
}

/// Rewrites a closed segment keeping only classes `< class`.
fn drop_class(sh: &mut Shared, first_seq: u64, class: u8) -> Result<(), SpoolError> {
    let Some(info) = sh.segs.get(&first_seq) else {
        return Ok(());
    };
    let generation = sh.next_generation + 1;
    let rw = segment::rewrite(&sh.dir, info, sh.acked, generation, &|c| c < class)?;
    sh.next_generation = generation;
    for (c, records, bytes) in &rw.dropped {
        let d = sh.stats.dropped.entry(*c).or_default();
        d.records += records;
        d.bytes += bytes;
    }
    sh.stats.corrupt_records += rw.corrupt_records;
    sh.stats.corrupt_bytes += rw.corrupt_bytes;
    let empty = rw.info.entries.is_empty();
    sh.segs.insert(first_seq, rw.info);
    if empty {
        sh.delete_segment(first_seq)?;
    }
    Ok(())
}

fn over_age(s: &SegInfo, cutoff_ms: u64) -> bool {
    !s.entries.is_empty() && s.newest_time_ms < cutoff_ms
}

/// Applies both bounds to the closed segments. Returns true when the active
/// segment should be rolled (it holds data that is too old, or the bound
/// cannot be met without it).
pub(crate) fn enforce(sh: &mut Shared, now_ms: u64) -> Result<bool, SpoolError> {
    let mut need_roll = false;
    let cutoff = now_ms.saturating_sub(sh.cfg.max_age.as_millis() as u64);
    for key in closed_keys(sh) {
        if sh.segs.get(&key).is_some_and(|s| over_age(s, cutoff)) {
            drop_segment(sh, key)?;
        }
    }
    if sh
        .segs
        .values()
        .any(|s| s.active && over_age(s, cutoff) && s.pending(sh.acked).0 > 0)
    {
        need_roll = true;
    }

    let max = sh.cfg.max_bytes;
    if sh.pending().1 <= max {
        return Ok(need_roll);
    }
    let target = max / 1000 * TARGET_PER_MILLE + max % 1000 * TARGET_PER_MILLE / 1000;
    let mut classes: Vec<u8> = sh
        .segs
        .values()
        .filter(|s| !s.active)
        .flat_map(|s| s.classes.classes().collect::<Vec<_>>())
        .filter(|&c| c > 0)
        .collect();
    classes.sort_unstable_by(|a, b| b.cmp(a));
    classes.dedup();
    for class in classes {
        for key in closed_keys(sh) {
            if sh.pending().1 <= target {
                return Ok(need_roll);
            }
            let has = sh
                .segs
                .get(&key)
                .is_some_and(|s| s.classes.has(class) && s.pending(sh.acked).0 > 0);
            if has {
                drop_class(sh, key, class)?;
            }
        }
    }
    for key in closed_keys(sh) {
        if sh.pending().1 <= target {
            return Ok(need_roll);
        }
        drop_segment(sh, key)?;
    }
    Ok(need_roll || sh.pending().1 > target)
}
