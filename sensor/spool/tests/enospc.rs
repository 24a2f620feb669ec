//! A real full disk. Needs a small filesystem, so it is ignored by default:
//!
//! ```text
//! mkdir -p /tmp/small && mount -t tmpfs -o size=2m tmpfs /tmp/small
//! VAGT_SPOOL_SMALL_FS=/tmp/small cargo test -p vagt-spool --release --test enospc -- --ignored
//! ```
//! The commit that hits ENOSPC fails with a clear error, its records are
//! counted as lost and never seen by the reader, the writer keeps working
//! once acks free space, and a reopen finds no corruption.

mod common;

use vagt_spool::{FsyncPolicy, Spool, SpoolConfig};

#[test]
#[ignore = "needs VAGT_SPOOL_SMALL_FS: a directory on a filesystem of a few MiB"]
fn disk_full_commit_fails_cleanly_and_recovers_after_acks() {
    let Some(root) = std::env::var_os("VAGT_SPOOL_SMALL_FS") else {
        eprintln!("VAGT_SPOOL_SMALL_FS not set; skipped");
        return;
    };
    let dir = std::path::Path::new(&root).join(format!("spool-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = SpoolConfig {
        segment_bytes: 128 << 10,
        max_bytes: 1 << 30, // the disk is the limit, not the policy
        fsync: FsyncPolicy::Batch,
        ..SpoolConfig::default()
    };
    let (mut w, mut r, _) = Spool::open(&dir, cfg.clone()).unwrap();
    let payload = [0x5au8; 400];
    let mut committed = 0u64;
    let mut lost = 0u64;
    let mut failures = 0;
    for _ in 0..1000 {
        for _ in 0..100 {
            w.append(3, &payload).unwrap();
        }
        match w.commit() {
            Ok(n) => committed += n as u64,
            Err(e) => {
                assert!(e.is_disk_full(), "{e}");
                assert!(e.to_string().contains("disk is full"), "{e}");
                lost += 100;
                failures += 1;
                if failures == 3 {
                    break;
                }
            }
        }
    }
    assert_eq!(failures, 3, "the filesystem never filled up");
    let st = w.stats();
    assert_eq!((st.failed_commits, st.failed_records), (3, lost));
    assert_eq!(st.appended, committed);

    // Something else takes the last free blocks: even the cursor cannot be
    // written now, yet acks must still free space by deleting segments.
    let filler = std::path::Path::new(&root).join(format!("filler-{}", std::process::id()));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        while f.write_all(&[0u8; 4096]).is_ok() {}
        let _ = f.sync_all();
    }

    // The shipper catches up: everything committed, in order, nothing else.
    let mut n = 0u64;
    let mut last = 0;
    for rec in r.by_ref() {
        assert!(rec.seq > last);
        last = rec.seq;
        n += 1;
    }
    assert_eq!(n, committed);
    r.ack(last).unwrap();
    assert!(
        w.stats().segments <= 2,
        "released segments deleted on a full disk"
    );

    // Space is free again: the writer works.
    for _ in 0..100 {
        w.append(0, &payload).unwrap();
    }
    assert_eq!(w.commit().unwrap(), 100);
    drop((w, r));
    let (_w, mut r, rep) = Spool::open(&dir, cfg).unwrap();
    assert_eq!(rep.corrupt_records, 0, "{:?}", rep.warnings);
    assert_eq!(r.by_ref().count(), 100);
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&filler);
}
