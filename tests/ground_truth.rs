//! Synthetic ground truth: the municipal traffic generator knows every
//! connection it created (who, to whom, packets, bytes, state, service,
//! segment). Replaying its capture must reproduce all of them exactly.

mod common;

use common::*;
use std::collections::HashMap;
use vagt_sensor::config::Config;

#[test]
fn generated_connections_are_reported_exactly() {
    let dir = temp_dir("truth");
    let pcap = dir.join("municipal.pcap");
    let truth = vagt_sensor::synth::municipal::write_pcap(&pcap, 2025, 40_000).expect("generate");
    let mut cfg = Config::default();
    cfg.pipeline.workers = 2;
    cfg.segments = vagt_sensor::synth::municipal::segments();
    let (events, summary) = replay(&cfg, &[pcap]);
    assert_eq!(summary.packets, truth.packets);
    assert_eq!(
        summary.decode.total_errors(),
        0,
        "clean traffic decodes cleanly"
    );

    let mut by_tuple: HashMap<(String, u16, String, u16), (String, vagt_schema::ConnRecord)> =
        HashMap::new();
    for e in &events {
        if let vagt_schema::EventBody::Conn(c) = &e.body {
            if !c.interim {
                let key = (
                    c.orig_h.to_string(),
                    c.orig_p,
                    c.resp_h.to_string(),
                    c.resp_p,
                );
                assert!(
                    by_tuple
                        .insert(key, (e.origin.segment.clone(), c.clone()))
                        .is_none(),
                    "duplicate record {c:?}"
                );
            }
        }
    }
    assert_eq!(
        by_tuple.len(),
        truth.connections.len(),
        "one record per generated connection"
    );
    let mut wrong = Vec::new();
    for t in &truth.connections {
        let key = (
            t.orig.0.to_string(),
            t.orig.1,
            t.resp.0.to_string(),
            t.resp.1,
        );
        let Some((segment, c)) = by_tuple.get(&key) else {
            wrong.push(format!("missing {key:?}"));
            continue;
        };
        let got = (
            c.conn_state,
            c.orig_pkts,
            c.resp_pkts,
            c.orig_ip_bytes,
            c.resp_ip_bytes,
            c.orig_bytes.unwrap_or(0),
            c.resp_bytes.unwrap_or(0),
            segment.as_str(),
            c.vlan.unwrap_or(0),
        );
        let want = (
            t.conn_state,
            t.orig_pkts,
            t.resp_pkts,
            t.orig_ip_bytes,
            t.resp_ip_bytes,
            t.orig_bytes,
            t.resp_bytes,
            t.segment,
            t.vlan,
        );
        if got != want {
            wrong.push(format!("{key:?}: got {got:?}, want {want:?}"));
        }
        if let Some(s) = t.service {
            if !c
                .service
                .as_deref()
                .unwrap_or("")
                .split(',')
                .any(|x| x == s)
            {
                wrong.push(format!("{key:?}: service {:?}, want {s}", c.service));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} wrong:\n{}",
        wrong.len(),
        truth.connections.len(),
        wrong.join("\n")
    );
}
