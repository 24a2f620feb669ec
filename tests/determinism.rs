//! Determinism: replaying the same captures with 1, 2 and 4 workers, with
//! workers reading their own lanes or fed by a reader thread, yields the
//! same set of connection records, field for field, because sharding keeps
//! each connection on one worker and all timing comes from packet
//! timestamps; and the same DHCP records, whose exchanges span connections
//! on different workers and are joined in the writer thread.

mod common;

use common::*;
use vagt_schema::EventBody;
use vagt_sensor::config::Config;
use vagt_sensor::pipeline::Dispatch;

fn records(workers: usize, dispatch: Dispatch, files: &[std::path::PathBuf]) -> Vec<String> {
    let mut cfg = Config::default();
    cfg.pipeline.workers = workers;
    cfg.pipeline.dispatch = dispatch;
    // Several corpus captures were made on hosts that offload checksums.
    cfg.decode.checksums = vagt_sensor::decode::offload::ChecksumMode::Off;
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

fn captures_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn one_two_and_four_workers_agree() {
    // A synthetic municipal capture (many interleaved connections) plus
    // every real capture of the corpus (tunnels, VLANs, fragments, broken
    // packets), replayed as one stream whose time jumps back and forth.
    let dir = temp_dir("determinism");
    let synth = dir.join("municipal.pcap");
    vagt_sensor::synth::municipal::write_pcap(&synth, 11, 60_000).expect("generate");
    let mut files = vec![synth];
    for sub in ["zeek", "suricata-verify", "attacks", "ot"] {
        files.extend(captures_under(&corpus().join(sub)));
    }
    assert!(files.len() > 150, "corpus captures: {}", files.len());
    let one = records(1, Dispatch::Auto, &files);
    assert!(one.len() > 1000, "only {} records", one.len());
    for (w, dispatch) in [
        (2, Dispatch::Auto),
        (4, Dispatch::Auto),
        (1, Dispatch::Queued),
        (2, Dispatch::Queued),
        (4, Dispatch::Queued),
    ] {
        let other = records(w, dispatch, &files);
        assert_eq!(
            one.len(),
            other.len(),
            "{w} workers, {dispatch:?}: different record count"
        );
        for (a, b) in one.iter().zip(other.iter()) {
            assert_eq!(a, b, "{w} workers, {dispatch:?} disagree");
        }
    }
}

#[test]
fn dhcp_exchanges_are_whole_with_any_number_of_workers() {
    // A client's broadcasts (from 0.0.0.0) and its server's replies travel
    // on different connections, which are dealt to different workers.
    let files: Vec<_> = captures_under(&corpus().join("zeek-app"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("protocols.dhcp"))
        .collect();
    assert!(files.len() >= 3, "DHCP traces: {}", files.len());
    let dhcp = |workers: usize, dispatch: Dispatch, file: &std::path::Path| {
        let mut cfg = Config::default();
        cfg.pipeline.workers = workers;
        cfg.pipeline.dispatch = dispatch;
        let (events, _) = replay(&cfg, &[file.to_path_buf()]);
        let mut v: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Dhcp(d) => Some(serde_json::to_string(d).expect("serialise")),
                _ => None,
            })
            .collect();
        v.sort();
        v
    };
    let mut exchanges = 0;
    for file in &files {
        let one = dhcp(1, Dispatch::Auto, file);
        exchanges += one.len();
        for (w, dispatch) in [
            (2, Dispatch::Auto),
            (4, Dispatch::Auto),
            (2, Dispatch::Queued),
        ] {
            assert_eq!(
                one,
                dhcp(w, dispatch, file),
                "{}: {w} workers, {dispatch:?}",
                file.display()
            );
        }
    }
    assert!(exchanges > 30, "only {exchanges} DHCP records");
}
