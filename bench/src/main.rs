//! `vagt-bench`: measures the sensor's packet path.
//!
//! `replay` loads captures into memory (or generates the synthetic municipal
//! mix), then pushes them through the full pipeline — reader, sharded
//! workers (decode, reassembly, connection tracking) and the writer, whose
//! records are built and discarded — once per worker count, several times
//! each, and reports the median packets per second.

use clap::{Parser, Subcommand};
use mimalloc::MiMalloc;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use vagt_sensor::capture::memory::Recording;
use vagt_sensor::capture::Source;
use vagt_sensor::config::Config;
use vagt_sensor::flow::{RecordContext, Tracker};
use vagt_sensor::output::NullSink;
use vagt_sensor::pipeline::{self, Mode, PipelineOptions};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

#[derive(Parser)]
#[command(name = "vagt-bench", version, about = "Benchmarks of the Vagt sensor")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Replay captures from memory through the full pipeline and report
    /// packets per second for each worker count.
    Replay {
        /// Capture files to load; without files, the synthetic municipal
        /// mix is generated (see --packets and --seed).
        files: Vec<PathBuf>,
        /// Worker counts to measure, comma-separated.
        #[arg(long, default_value = "1,2", value_delimiter = ',')]
        workers: Vec<usize>,
        /// Runs per worker count; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Times the input is played per run (later loops shifted in time).
        #[arg(long, default_value_t = 1)]
        loops: u32,
        /// Packets of synthetic traffic when no files are given.
        #[arg(long, default_value_t = 1_000_000)]
        packets: u64,
        /// Seed of the synthetic traffic.
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// Do not verify checksums (as for captures from offloading hosts).
        #[arg(long)]
        ignore_checksums: bool,
        /// Print the results as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Cmd::Replay {
            files,
            workers,
            runs,
            loops,
            packets,
            seed,
            ignore_checksums,
            json,
        } => replay(
            files,
            workers,
            runs,
            loops,
            packets,
            seed,
            ignore_checksums,
            json,
        ),
    };
    std::process::exit(code);
}

#[allow(clippy::too_many_arguments)]
fn replay(
    files: Vec<PathBuf>,
    workers: Vec<usize>,
    runs: usize,
    loops: u32,
    packets: u64,
    seed: u64,
    ignore_checksums: bool,
    json: bool,
) -> i32 {
    let (recording, input) = if files.is_empty() {
        let path = std::env::temp_dir().join(format!("vagt-bench-{}.pcap", std::process::id()));
        if let Err(e) = vagt_sensor::synth::municipal::write_pcap(&path, seed, packets) {
            eprintln!("vagt-bench: cannot generate traffic: {e}");
            return 1;
        }
        let r = Recording::load(&[&path]);
        let _ = std::fs::remove_file(&path);
        (r, format!("synthetic municipal mix, seed {seed}"))
    } else {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        (Recording::load(&files), names.join(" "))
    };
    let recording = match recording {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vagt-bench: error: {e}");
            return 2;
        }
    };
    let total_packets = recording.packets() as u64 * u64::from(loops.max(1));
    let total_bytes = recording.wire_bytes() * u64::from(loops.max(1));
    let mut cfg = Config::default();
    cfg.decode.validate_checksums = !ignore_checksums;
    let mut results = Vec::new();
    for &w in &workers {
        let mut rates: Vec<f64> = Vec::with_capacity(runs);
        let mut records = 0;
        for _ in 0..runs.max(1) {
            let src: Box<dyn Source> = Box::new(recording.source(loops));
            let decode = cfg.decode_options();
            let table = cfg.table_config(w);
            let make = move |_id: usize| Tracker::new(decode.clone(), table.clone());
            let opts = PipelineOptions {
                workers: w,
                batch_packets: cfg.pipeline.batch_packets,
                queue_batches: cfg.pipeline.queue_batches,
                mode: Mode::Replay,
                stats_interval: None,
                progress: false,
                latency: false,
            };
            let ctx = RecordContext {
                municipality: "0000".into(),
                sensor: "bench".into(),
                site: Default::default(),
                uid_salt: 1,
            };
            let started = Instant::now();
            let summary = pipeline::run(
                vec![src],
                &opts,
                &make,
                Box::new(NullSink::default()),
                ctx,
                Arc::new(AtomicBool::new(false)),
            );
            let secs = started.elapsed().as_secs_f64();
            records = summary.records;
            rates.push(summary.packets as f64 / secs);
        }
        rates.sort_by(|a, b| a.total_cmp(b));
        let median = rates[rates.len() / 2];
        results.push((w, median, rates, records));
    }
    let avg_frame = total_bytes as f64 / total_packets.max(1) as f64;
    if json {
        let v: Vec<serde_json::Value> = results
            .iter()
            .map(|(w, median, rates, records)| {
                serde_json::json!({
                    "workers": w,
                    "packets": total_packets,
                    "median_pps": median,
                    "median_gbps": median * avg_frame * 8.0 / 1e9,
                    "runs_pps": rates,
                    "records": records,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
    } else {
        println!("input: {input}");
        println!(
            "{} packets per run, average frame {:.0} bytes, {} runs per row (median shown)",
            total_packets, avg_frame, runs
        );
        println!("| workers | packets/s | Gbit/s | connections | min..max packets/s |");
        println!("|---|---|---|---|---|");
        let base = results.first().map(|r| r.1).unwrap_or(1.0);
        for (w, median, rates, records) in &results {
            println!(
                "| {w} | {:.2} M | {:.2} | {records} | {:.2}..{:.2} M ({:.2}x of {} worker) |",
                median / 1e6,
                median * avg_frame * 8.0 / 1e9,
                rates[0] / 1e6,
                rates[rates.len() - 1] / 1e6,
                median / base,
                workers.first().copied().unwrap_or(1)
            );
        }
    }
    0
}
