//! Tunnelled traffic and the worker count. Workers are chosen by the outer
//! address pair, so a tunnel and everything inside it stay on one worker
//! and the inner connection learns its tunnel's uid. The one exception,
//! stated in `replay --help` and the README: an inner connection carried
//! by *several different tunnels* (different outer address pairs) may be
//! seen by several workers, and then gives one record per worker that saw
//! it instead of one, with every packet still counted exactly once.

mod common;

use common::*;
use std::net::Ipv4Addr;
use vagt_schema::ConnRecord;
use vagt_sensor::config::Config;
use vagt_sensor::synth::frames::{self, Host};
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};

fn host(a: u8, b: u8) -> Host {
    Host {
        mac: [2, 0, 0, 0, a, b],
        ip: Ipv4Addr::new(10, a, 0, b),
    }
}

/// Inner UDP conversations between 192.168.x hosts, each carried by GRE;
/// `tunnels_per_conn` different outer pairs carry each one's packets in
/// turn.
fn capture(path: &std::path::Path, tunnels_per_conn: u8) -> u64 {
    let file = std::fs::File::create(path).expect("create capture");
    let mut w = PcapWriter::new(std::io::BufWriter::new(file), LINKTYPE_ETHERNET, 65535)
        .expect("pcap header");
    let mut packets = 0u64;
    let mut inner = Vec::new();
    let mut outer = Vec::new();
    let mut ts = 1_700_000_000_000_000_000i64;
    for conn in 0..40u8 {
        let client = Host {
            mac: [2, 1, 0, 0, 0, conn],
            ip: Ipv4Addr::new(192, 168, 1, conn),
        };
        let server = Host {
            mac: [2, 1, 0, 0, 1, 1],
            ip: Ipv4Addr::new(192, 168, 2, 1),
        };
        for i in 0..12u16 {
            let (from, to) = if i % 2 == 0 {
                (&client, &server)
            } else {
                (&server, &client)
            };
            let (sport, dport) = if i % 2 == 0 { (5000, 53) } else { (53, 5000) };
            frames::udp(&mut inner, from, to, None, sport, dport, None, 40, i);
            let t = (i as u8) % tunnels_per_conn;
            frames::gre(
                &mut outer,
                &host(conn, 2 * t + 1),
                &host(conn, 2 * t + 2),
                &inner,
                i,
            );
            ts += 1_000_000;
            w.write(ts, &outer).expect("write frame");
            packets += 1;
        }
    }
    use std::io::Write;
    w.into_inner().flush().expect("flush");
    packets
}

fn run(path: &std::path::Path, workers: usize) -> Vec<ConnRecord> {
    let mut cfg = Config::default();
    cfg.pipeline.workers = workers;
    let (events, summary) = replay(&cfg, &[path.to_path_buf()]);
    assert!(
        summary.source_errors.is_empty(),
        "{:?}",
        summary.source_errors
    );
    conns(&events)
}

fn is_inner(c: &ConnRecord) -> bool {
    c.orig_h.to_string().starts_with("192.168.")
}

fn sorted_json(records: &[ConnRecord]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|c| serde_json::to_string(c).expect("serialise"))
        .collect();
    v.sort();
    v
}

#[test]
fn one_tunnel_per_connection_gives_the_same_records_for_any_worker_count() {
    let dir = temp_dir("tunnels-one");
    let path = dir.join("gre.pcap");
    capture(&path, 1);
    let one = run(&path, 1);
    assert_eq!(one.iter().filter(|c| is_inner(c)).count(), 40);
    // GRE carries no connection of its own (as in Zeek, whose conn.log has
    // none for it either); the inner ones name the tunnel as their parent.
    for c in one.iter().filter(|c| is_inner(c)) {
        assert_eq!(c.orig_pkts + c.resp_pkts, 12);
        assert_eq!(c.tunnel_parents.len(), 1, "{c:?}");
    }
    for workers in [2, 4] {
        assert_eq!(
            sorted_json(&run(&path, workers)),
            sorted_json(&one),
            "{workers} workers"
        );
    }
}

#[test]
fn a_connection_over_several_tunnels_is_split_only_by_workers_and_loses_nothing() {
    let dir = temp_dir("tunnels-many");
    let path = dir.join("gre.pcap");
    let packets = capture(&path, 3);
    let one = run(&path, 1);
    let inner_one: Vec<&ConnRecord> = one.iter().filter(|c| is_inner(c)).collect();
    assert_eq!(
        inner_one.len(),
        40,
        "one worker: one record per inner connection"
    );
    for workers in [2, 4] {
        let many = run(&path, workers);
        // Everything else is exact.
        let outer = |v: &[ConnRecord]| {
            sorted_json(
                &v.iter()
                    .filter(|c| !is_inner(c))
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            outer(&many),
            outer(&one),
            "{workers} workers: tunnel records"
        );
        let inner: Vec<&ConnRecord> = many.iter().filter(|c| is_inner(c)).collect();
        let counted: u64 = inner.iter().map(|c| c.orig_pkts + c.resp_pkts).sum();
        assert_eq!(
            counted, packets,
            "{workers} workers: every inner packet once"
        );
        eprintln!(
            "{workers} workers: {} inner records for 40 connections",
            inner.len()
        );
        // At most one record per tunnel, and no more than the workers.
        assert!(
            inner.len() >= 40 && inner.len() <= 40 * 3.min(workers),
            "{}",
            inner.len()
        );
    }
}
