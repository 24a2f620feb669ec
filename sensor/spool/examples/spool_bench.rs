//! Throughput measurement (not a test): appends 1,000,000 records of 400
//! bytes in batches of 1,000 with an fsync per batch, then reads and acks
//! them all, and prints records/s for each phase.
//!
//! `cargo run -p vagt-spool --release --example spool_bench [DIR]`
//! (DIR defaults to a fresh directory under the system temp dir; it is
//! removed at the end). `SPOOL_BENCH_FSYNC=never` skips the fsyncs, to see
//! how much of the time is the disk.

use std::time::Instant;

use vagt_spool::{FsyncPolicy, Spool, SpoolConfig};

const RECORDS: u64 = 1_000_000;
const BATCH: u64 = 1_000;
const PAYLOAD: usize = 400;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = match std::env::args_os().nth(1) {
        Some(d) => d.into(),
        None => std::env::temp_dir().join(format!("vagt-spool-bench-{}", std::process::id())),
    };
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = SpoolConfig {
        max_bytes: 2 << 30, // everything fits: measure the spool, not the overflow policy
        fsync: match std::env::var("SPOOL_BENCH_FSYNC").as_deref() {
            Ok("never") => FsyncPolicy::Never,
            _ => FsyncPolicy::Batch,
        },
        ..SpoolConfig::default()
    };
    let cfg_fsync = cfg.fsync;
    let (mut w, mut r, _) = Spool::open(&dir, cfg)?;
    let payload: Vec<u8> = (0..PAYLOAD).map(|i| (i * 7) as u8).collect();

    let t = Instant::now();
    for i in 0..RECORDS {
        w.append((i % 5) as u8, &payload)?;
        if (i + 1).is_multiple_of(BATCH) {
            w.commit()?;
        }
    }
    w.commit()?;
    let append_s = t.elapsed().as_secs_f64();
    let st = w.stats();

    let t = Instant::now();
    let mut n = 0u64;
    let mut bytes = 0usize;
    while let Some(rec) = r.try_next()? {
        n += 1;
        bytes += rec.payload.len();
        if n.is_multiple_of(BATCH) {
            r.ack(rec.seq)?;
        }
    }
    r.ack(n)?;
    r.sync_cursor()?;
    let read_s = t.elapsed().as_secs_f64();
    assert_eq!(n, RECORDS, "every record read back");
    assert_eq!(bytes, RECORDS as usize * PAYLOAD);

    println!(
        "append+commit: {RECORDS} records x {PAYLOAD} B, batches of {BATCH}, fsync {:?}: \
         {:.2} s, {:.0} records/s, {:.1} MB/s on disk ({} segments)",
        cfg_fsync,
        append_s,
        RECORDS as f64 / append_s,
        st.disk_bytes as f64 / append_s / 1e6,
        st.segments
    );
    println!(
        "read+ack:      {n} records: {:.2} s, {:.0} records/s",
        read_s,
        n as f64 / read_s
    );
    let end = r.stats();
    println!(
        "after: pending {} records, {} segments, released {}",
        end.pending_records, end.segments, end.released
    );
    drop((w, r));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
