//! Measures the per-packet cost of one tracker (decode + reassembly +
//! connection tracking) on one thread, without the pipeline around it.
//! Used to profile the hot path in isolation (`perf record`, callgrind):
//!
//! ```text
//! cargo run --release -p vagt-sensor --example track_cost -- LOOPS [-C] FILE...
//! ```
//!
//! `-C` skips checksum validation. Each loop shifts timestamps forward so
//! every pass creates fresh connections instead of hitting closed ones.
use std::time::Instant;
use vagt_sensor::capture::{file::FileSource, Next, Source};
use vagt_sensor::config::Config;
use vagt_sensor::flow::Tracker;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let loops = match args.first().map(|a| a.parse::<usize>()) {
        Some(Ok(n)) if args.len() > 1 => n,
        _ => {
            eprintln!("usage: track_cost LOOPS [-C] FILE...");
            std::process::exit(2);
        }
    };
    args.remove(0);
    let checks = !args.iter().any(|a| a == "-C");
    args.retain(|a| a != "-C");
    let mut pkts: Vec<(vagt_sensor::decode::LinkType, i64, Vec<u8>, u32)> = Vec::new();
    for f in &args {
        let mut s = match FileSource::open(f.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("track_cost: {f}: {e}");
                std::process::exit(1);
            }
        };
        while let Ok(Next::Packet(p)) = s.next() {
            pkts.push((p.link, p.ts, p.data.to_vec(), p.wire_len));
        }
    }
    let mut cfg = Config::default();
    cfg.decode.checksums = if checks {
        vagt_sensor::decode::offload::ChecksumMode::Strict
    } else {
        vagt_sensor::decode::offload::ChecksumMode::Off
    };
    let mut t = Tracker::new(cfg.decode_options(), cfg.table_config(1));
    let start = Instant::now();
    let mut n = 0u64;
    for l in 0..loops {
        let shift = l as i64 * 1_000_000_000_000;
        for (link, ts, data, wire) in &pkts {
            t.packet(*link, ts + shift, data, *wire);
            n += 1;
        }
        t.tick(pkts.last().map(|p| p.1 + shift).unwrap_or(0));
        t.finished().clear();
    }
    t.flush();
    let el = start.elapsed().as_secs_f64();
    println!(
        "{n} packets, {:.1} ns/packet, {:.2} M packets/s",
        el * 1e9 / n as f64,
        n as f64 / el / 1e6
    );
}
