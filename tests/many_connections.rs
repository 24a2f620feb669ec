//! A table larger than the caches: tens of thousands of connections open
//! at once, so workers look ahead and prefetch each packet's connection
//! (they only do above a few thousand). The records must be exactly what
//! was sent, connection by connection, whatever the number of workers and
//! whether workers read the input themselves (and look ahead) or are fed
//! by a reader thread (and do not).

mod common;

use common::*;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use vagt_sensor::config::Config;
use vagt_sensor::pipeline::Dispatch;
use vagt_sensor::synth::frames::{self, flags, Host, TcpSpec};
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use vagt_sensor::synth::rng::Rng;

const CLIENTS: u32 = 24_000;

/// What was sent on one connection: packets each way.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sent {
    orig: u64,
    resp: u64,
}

fn host(i: u32, base: [u8; 2]) -> Host {
    let [_, _, c, d] = i.to_be_bytes();
    Host {
        mac: [2, 0, base[0], base[1], c, d],
        ip: Ipv4Addr::new(base[0], base[1], c, d),
    }
}

/// Every client opens a TCP connection (half of them on a VLAN) and sends
/// a UDP datagram pair; all handshakes come first, then data in a seeded
/// random order, then the closes, so every connection is open at once.
fn write_capture(path: &std::path::Path) -> BTreeMap<(Ipv4Addr, u16, &'static str), Sent> {
    let mut truth = BTreeMap::new();
    let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET, 65535).expect("pcap");
    let mut buf = Vec::new();
    let mut ts = 1_700_000_000_000_000_000i64;
    let mut tick = || {
        ts += 20_000;
        ts
    };
    let server = |i: u32| host(i % 64, [192, 168]);
    let tcp = |sport: u16, dport: u16, seq: u32, ack: u32, f: u8| TcpSpec {
        sport,
        dport,
        seq,
        ack,
        flags: f,
        window: 1000,
        payload_len: if f == flags::ACK | flags::PSH { 100 } else { 0 },
        prefix: b"",
    };
    let vlan = |i: u32| i.is_multiple_of(2).then_some(100 + (i % 7) as u16);
    let port = |i: u32| 20_000 + (i % 40_000) as u16;
    for step in 0..3 {
        for i in 0..CLIENTS {
            let (c, s) = (host(i, [10, 1]), server(i));
            let (cp, sp) = (port(i), 443);
            let (f, from_client) = match step {
                0 => (tcp(cp, sp, 1000, 0, flags::SYN), true),
                1 => (tcp(sp, cp, 5000, 1001, flags::SYN | flags::ACK), false),
                _ => (tcp(cp, sp, 1001, 5001, flags::ACK), true),
            };
            let (a, b) = if from_client { (&c, &s) } else { (&s, &c) };
            frames::tcp(&mut buf, a, b, vlan(i), &f, 1);
            w.write(tick(), &buf).expect("write");
        }
    }
    let mut rng = Rng::new(0x7a67_2026);
    let mut order: Vec<u32> = (0..CLIENTS).collect();
    for k in (1..order.len()).rev() {
        order.swap(k, rng.range(0, k as u64 + 1) as usize);
    }
    for &i in &order {
        let (c, s) = (host(i, [10, 1]), server(i));
        let data = tcp(port(i), 443, 1001, 5001, flags::ACK | flags::PSH);
        frames::tcp(&mut buf, &c, &s, vlan(i), &data, 2);
        w.write(tick(), &buf).expect("write");
        frames::udp(&mut buf, &c, &s, None, port(i), 53, None, 30, 3);
        w.write(tick(), &buf).expect("write");
        frames::udp(&mut buf, &s, &c, None, 53, port(i), None, 60, 4);
        w.write(tick(), &buf).expect("write");
    }
    for &i in order.iter().rev() {
        let (c, s) = (host(i, [10, 1]), server(i));
        let (cp, sp) = (port(i), 443);
        let fin = flags::FIN | flags::ACK;
        frames::tcp(&mut buf, &c, &s, vlan(i), &tcp(cp, sp, 1101, 5001, fin), 5);
        w.write(tick(), &buf).expect("write");
        frames::tcp(&mut buf, &s, &c, vlan(i), &tcp(sp, cp, 5001, 1102, fin), 6);
        w.write(tick(), &buf).expect("write");
        frames::tcp(
            &mut buf,
            &c,
            &s,
            vlan(i),
            &tcp(cp, sp, 1102, 5002, flags::ACK),
            7,
        );
        w.write(tick(), &buf).expect("write");
        truth.insert((c.ip, cp, "tcp"), Sent { orig: 5, resp: 2 });
        truth.insert((c.ip, cp, "udp"), Sent { orig: 1, resp: 1 });
    }
    std::fs::write(path, w.into_inner()).expect("write capture");
    truth
}

#[test]
fn tens_of_thousands_of_open_connections_are_tracked_exactly() {
    let dir = std::env::temp_dir().join(format!("vagt-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("many.pcap");
    let truth = write_capture(&path);
    let mut first: Option<Vec<String>> = None;
    for (workers, dispatch) in [
        (1, Dispatch::Auto),
        (2, Dispatch::Auto),
        (4, Dispatch::Auto),
        (2, Dispatch::Queued),
    ] {
        let mut cfg = Config::default();
        cfg.pipeline.workers = workers;
        cfg.pipeline.dispatch = dispatch;
        let (events, summary) = replay(&cfg, std::slice::from_ref(&path));
        assert!(summary.source_errors.is_empty());
        let records = conns(&events);
        let mut seen = BTreeMap::new();
        for r in &records {
            let Some(ip) = (match r.orig_h {
                std::net::IpAddr::V4(ip) => Some(ip),
                _ => None,
            }) else {
                panic!("unexpected IPv6 record {r:?}");
            };
            let sent = Sent {
                orig: r.orig_pkts,
                resp: r.resp_pkts,
            };
            let old = seen.insert(
                (ip, r.orig_p, if r.proto == "tcp" { "tcp" } else { "udp" }),
                sent,
            );
            assert!(old.is_none(), "{workers} workers: two records for {r:?}");
            if r.proto == "tcp" {
                assert_eq!(r.conn_state, "SF", "{r:?}");
            }
        }
        assert_eq!(seen, truth, "{workers} workers, {dispatch:?}");
        let mut lines: Vec<String> = records
            .iter()
            .map(|c| serde_json::to_string(c).expect("serialise"))
            .collect();
        lines.sort();
        match &first {
            None => first = Some(lines),
            Some(f) => assert!(
                f == &lines,
                "{workers} workers, {dispatch:?}: records differ"
            ),
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
