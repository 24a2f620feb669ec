//! Determinism: replaying the same captures with 1, 2 and 4 workers yields
//! the same set of connection records, field for field, because sharding
//! keeps each connection on one worker and all timing comes from packet
//! timestamps.

mod common;

use common::*;
use vagt_sensor::config::Config;

fn records(workers: usize, files: &[std::path::PathBuf]) -> Vec<String> {
    let mut cfg = Config::default();
    cfg.pipeline.workers = workers;
    let (events, summary) = replay(&cfg, files);
    assert!(
        summary.source_errors.is_empty(),
        "{:?}",
        summary.source_errors
    );
    let mut v: Vec<String> = conns(&events)
        .iter()
        .map(|c| serde_json::to_string(c).expect("serialise"))
        .collect();
    v.sort();
    v
}

#[test]
fn one_two_and_four_workers_agree() {
    // A synthetic municipal capture (many interleaved connections) plus a
    // mix of real captures with tunnels, VLANs and fragments.
    let dir = std::env::temp_dir().join(format!("vagt-determinism-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let synth = dir.join("municipal.pcap");
    vagt_sensor::synth::municipal::write_pcap(&synth, 11, 60_000).expect("generate");
    let zeek = corpus().join("zeek");
    let mut files = vec![synth];
    for case in [
        "opt.basic",
        "core.tunnels.gtp.outer_ip_frag",
        "core.tunnels.vxlan",
        "core.q-in-q",
        "scripts.base.protocols.ssh.half-duplex-client",
    ] {
        files.push(trace_in(&zeek.join(case)).expect("trace"));
    }
    let one = records(1, &files);
    assert!(one.len() > 1000, "only {} records", one.len());
    for w in [2, 4] {
        let other = records(w, &files);
        assert_eq!(
            one.len(),
            other.len(),
            "{w} workers: different record count"
        );
        for (a, b) in one.iter().zip(other.iter()) {
            assert_eq!(a, b, "{w} workers disagree");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
