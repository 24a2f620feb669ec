//! `vagt-bench replay`: loads the input into memory, then runs it through
//! the sensor pipeline once per run and worker count, measuring each run
//! (throughput, latency percentiles, drops, CPU, memory, connections) and
//! keeping the medians per worker count.

use crate::cli::{DispatchArg, MixKind, ReplayArgs};
use crate::pacing::{Pace, PaceReport, PacedSource, Schedule};
use crate::stats::{median, median_u64, min_max, thousands};
use crate::{generate, report, rusage};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use vagt_sensor::capture::memory::Recording;
use vagt_sensor::capture::{Next, Source};
use vagt_sensor::config::Config;
use vagt_sensor::decode::LinkWalker;
use vagt_sensor::flow::{RecordContext, Tracker};
use vagt_sensor::output::NullSink;
use vagt_sensor::pipeline::{self, shard, Dispatch, Mode, PipelineOptions, WorkerLanes};

/// The loaded input.
pub struct Input {
    pub recording: Recording,
    pub description: String,
    /// Mean gap between packets in packet time (ns), for pacing loops.
    pub mean_gap_ns: f64,
}

/// Everything measured in one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunResult {
    pub packets: u64,
    pub bytes: u64,
    pub wall_s: f64,
    pub pps: f64,
    pub gbps: f64,
    pub records: u64,
    pub connections_per_s: f64,
    pub queue_drops: u64,
    pub decode_errors: u64,
    pub evicted: u64,
    /// Latency in ns: p50, p90, p99, p99.9, max.
    pub latency_ns: Option<[f64; 5]>,
    pub cpu_s: f64,
    pub spin_s: f64,
    pub cpu_ns_per_packet: f64,
    pub peak_rss: u64,
    /// Paced runs: the schedule's rate and the share of packets released
    /// within 10 µs of their due time.
    pub target_pps: Option<f64>,
    pub on_time: Option<f64>,
    /// Paced runs: 99th percentile of how late packets were released (ns).
    pub pace_p99_ns: Option<f64>,
}

/// The runs of one worker count and their medians.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub workers: usize,
    /// Whether these were apart runs (see `apart`): `workers` pipelines
    /// that share nothing.
    pub apart: bool,
    pub runs: Vec<RunResult>,
    pub median: RunResult,
    pub pps_range: (f64, f64),
}

/// Latency percentiles reported, as quantiles (the last is the maximum).
pub const LATENCY_QUANTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("max", 1.0),
];

/// Removes a temporary file when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Loads the capture files, or generates the synthetic mix.
pub fn load_input(args: &ReplayArgs) -> Result<Input, String> {
    let (recording, description) = if args.files.is_empty() {
        let flows = generate::check(args.mix, args.packets, args.flows, 10.0)?;
        let tmp = TempFile(std::env::temp_dir().join(format!(
            "vagt-bench-{}-{}.pcap",
            std::process::id(),
            args.mix.name()
        )));
        let w = generate::generate_to(&tmp.0, args.mix, args.packets, args.seed, flows, 10.0)
            .map_err(|e| format!("cannot generate the synthetic input: {e}"))?;
        let rec = Recording::load(&[&tmp.0]).map_err(|e| e.to_string())?;
        let what = match args.mix {
            MixKind::Municipal => "synthetic municipal mix".to_string(),
            MixKind::Synflood => format!(
                "synthetic SYN flood from {} sources over ordinary traffic",
                thousands(flows)
            ),
            MixKind::Concurrent => {
                format!(
                    "synthetic concurrent mix, {} connections open",
                    thousands(flows)
                )
            }
            m => format!("synthetic {} mix, {} flows", m.name(), thousands(flows)),
        };
        (
            rec,
            format!(
                "{what}, seed {} ({} flows in all)",
                args.seed,
                thousands(w.flows)
            ),
        )
    } else {
        let rec = Recording::load(&args.files).map_err(|e| {
            format!("{e}\n  (replay reads pcap and pcapng files; check the path and the file)")
        })?;
        let names: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
        (rec, names.join(" "))
    };
    if recording.packets() == 0 {
        return Err(format!("{description}: no packets to replay"));
    }
    let mean_gap_ns = mean_gap(&recording);
    Ok(Input {
        recording,
        description,
        mean_gap_ns,
    })
}

/// Mean gap between successive packets in packet time (ns), ignoring
/// jumps back.
fn mean_gap(rec: &Recording) -> f64 {
    let mut src = rec.source(1);
    let (mut prev, mut sum, mut n) = (None::<i64>, 0f64, 0u64);
    while let Ok(Next::Packet(p)) = src.next() {
        if let Some(t) = prev {
            sum += (p.ts - t).clamp(0, crate::pacing::MAX_GAP_NS) as f64;
            n += 1;
        }
        prev = Some(p.ts);
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// The pace the arguments ask for.
pub fn pace_of(args: &ReplayArgs) -> Result<Pace, String> {
    let positive = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(format!("{name} must be a positive number, not {v}"))
        }
    };
    Ok(match (args.pps, args.mbps, args.speed) {
        (Some(r), _, _) => Pace::Pps(positive("--pps", r)?),
        (_, Some(m), _) => Pace::Mbps(positive("--mbps", m)?),
        (_, _, Some(k)) => Pace::Speed(positive("--speed", k)?),
        _ => Pace::Top,
    })
}

/// One run through the pipeline.
fn run_once(
    input: &Input,
    args: &ReplayArgs,
    pace: Pace,
    cfg: &Config,
    w: usize,
) -> Result<RunResult, String> {
    let rec = &input.recording;
    if args.dispatch == DispatchArg::Split && pace != Pace::Top {
        return Err(
            "--dispatch split replays at top speed only; a paced replay goes \
                    through the reader thread (leave out --dispatch)"
                .into(),
        );
    }
    // Dealt out before the clock starts: live, the kernel does this.
    let split: Option<Vec<WorkerLanes>> = (args.dispatch == DispatchArg::Split).then(|| {
        let mut walker = LinkWalker::default();
        rec.partition(w, |link, frame| {
            shard::worker_for(&mut walker, link, frame, w)
        })
        .into_iter()
        .map(|part| WorkerLanes::new(vec![Box::new(part.source(args.loops)) as Box<dyn Source>]))
        .collect()
    });
    let pace_out = Arc::new(Mutex::new(PaceReport::default()));
    let src: Box<dyn Source> = match pace {
        Pace::Top => Box::new(rec.source(args.loops)),
        p => Box::new(PacedSource::new(
            rec.source(args.loops),
            Schedule::new(p, rec.packets() as u64, input.mean_gap_ns),
            pace_out.clone(),
        )),
    };
    let make = tracker_maker(cfg, w);
    let opts = options(args, cfg, w);
    let before = rusage::this_process();
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let sink = Box::new(NullSink::default());
    let summary = match split {
        Some(lanes) => pipeline::run_lanes(lanes, &opts, &make, sink, context(), stop),
        None => pipeline::run(vec![src], &opts, &make, sink, context(), stop),
    };
    let wall_s = started.elapsed().as_secs_f64().max(1e-9);
    let after = rusage::this_process();
    let paced = match pace_out.lock() {
        Ok(p) => *p,
        Err(p) => *p.into_inner(),
    };
    let mut r = result_of(
        &[summary],
        wall_s,
        after.cpu_since(&before).as_secs_f64(),
        w,
    )?;
    r.peak_rss = after.max_rss;
    r.spin_s = paced.spin.as_secs_f64();
    r.cpu_ns_per_packet = ((r.cpu_s - r.spin_s).max(0.0) * 1e9) / r.packets.max(1) as f64;
    if pace != Pace::Top && paced.packets > 0 {
        let schedule_s = paced.schedule_ns / 1e9;
        r.target_pps = (schedule_s > 0.0).then(|| (paced.packets - 1) as f64 / schedule_s);
        r.on_time = Some(1.0 - paced.late as f64 / paced.packets as f64);
        r.pace_p99_ns = Some(paced.late_p99_ns);
    }
    Ok(r)
}

/// Builds each worker's tracker; `workers` share the connection cap, as
/// in the sensor.
pub(crate) fn tracker_maker(cfg: &Config, workers: usize) -> impl Fn(usize) -> Tracker + Sync {
    let decode = cfg.decode_options();
    let table = cfg.table_config(workers);
    move |_id: usize| Tracker::new(decode.clone(), table.clone())
}

pub(crate) fn options(args: &ReplayArgs, cfg: &Config, workers: usize) -> PipelineOptions {
    PipelineOptions {
        workers,
        batch_packets: cfg.pipeline.batch_packets,
        queue_batches: cfg.pipeline.queue_batches,
        mode: if args.live { Mode::Live } else { Mode::Replay },
        stats_interval: None,
        progress: false,
        latency: !args.no_latency,
        dispatch: match args.dispatch {
            DispatchArg::Auto | DispatchArg::Split => Dispatch::Auto,
            DispatchArg::Queued => Dispatch::Queued,
        },
    }
}

pub(crate) fn context() -> RecordContext {
    RecordContext {
        municipality: "0000".into(),
        sensor: "bench".into(),
        site: Default::default(),
        uid_salt: 1,
    }
}

/// The figures of a run made of `summaries` (one pipeline, or several run
/// side by side) that took `wall_s` and `cpu_s`.
pub(crate) fn result_of(
    summaries: &[pipeline::Summary],
    wall_s: f64,
    cpu_s: f64,
    workers: usize,
) -> Result<RunResult, String> {
    let wall_s = wall_s.max(1e-9);
    if let Some(e) = summaries.iter().find_map(|s| {
        s.output_error
            .clone()
            .or_else(|| s.source_errors.first().map(|e| e.to_string()))
    }) {
        return Err(format!("the run with {workers} worker(s) failed: {e}"));
    }
    let sum = |get: &dyn Fn(&pipeline::Summary) -> u64| summaries.iter().map(get).sum::<u64>();
    let packets = sum(&|s| s.packets);
    let bytes = sum(&|s| s.bytes);
    let records = sum(&|s| s.records);
    let mut latency: Option<hdrhistogram::Histogram<u64>> = None;
    for h in summaries.iter().filter_map(|s| s.latency.as_ref()) {
        match latency.as_mut() {
            None => latency = Some(h.clone()),
            Some(all) => all
                .add(h)
                .map_err(|e| format!("cannot merge the latency histograms: {e}"))?,
        }
    }
    let latency_ns = latency.map(|h| {
        LATENCY_QUANTILES.map(|(_, q)| {
            if q >= 1.0 {
                h.max() as f64
            } else {
                h.value_at_quantile(q) as f64
            }
        })
    });
    Ok(RunResult {
        packets,
        bytes,
        wall_s,
        pps: packets as f64 / wall_s,
        gbps: bytes as f64 * 8.0 / wall_s / 1e9,
        records,
        connections_per_s: records as f64 / wall_s,
        queue_drops: sum(&|s| s.queue_drops),
        decode_errors: sum(&|s| s.decode.total_errors()),
        evicted: sum(&|s| s.table.evicted),
        latency_ns,
        cpu_s,
        spin_s: 0.0,
        cpu_ns_per_packet: cpu_s * 1e9 / packets.max(1) as f64,
        peak_rss: 0,
        target_pps: None,
        on_time: None,
        pace_p99_ns: None,
    })
}

/// The median of every figure over `runs`.
pub fn medians(runs: &[RunResult]) -> RunResult {
    let f = |get: &dyn Fn(&RunResult) -> f64| {
        median(&runs.iter().map(get).collect::<Vec<_>>()).unwrap_or(0.0)
    };
    let u = |get: &dyn Fn(&RunResult) -> u64| median_u64(&runs.iter().map(get).collect::<Vec<_>>());
    let opt = |get: &dyn Fn(&RunResult) -> Option<f64>| {
        let v: Vec<f64> = runs.iter().filter_map(get).collect();
        median(&v)
    };
    let latency_ns = runs.iter().all(|r| r.latency_ns.is_some()).then(|| {
        let mut out = [0.0; 5];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = opt(&|r| r.latency_ns.map(|l| l[i])).unwrap_or(0.0);
        }
        out
    });
    RunResult {
        packets: u(&|r| r.packets),
        bytes: u(&|r| r.bytes),
        wall_s: f(&|r| r.wall_s),
        pps: f(&|r| r.pps),
        gbps: f(&|r| r.gbps),
        records: u(&|r| r.records),
        connections_per_s: f(&|r| r.connections_per_s),
        queue_drops: u(&|r| r.queue_drops),
        decode_errors: u(&|r| r.decode_errors),
        evicted: u(&|r| r.evicted),
        latency_ns: latency_ns.filter(|_| !runs.is_empty()),
        cpu_s: f(&|r| r.cpu_s),
        spin_s: f(&|r| r.spin_s),
        cpu_ns_per_packet: f(&|r| r.cpu_ns_per_packet),
        peak_rss: runs.iter().map(|r| r.peak_rss).max().unwrap_or(0),
        target_pps: opt(&|r| r.target_pps),
        on_time: opt(&|r| r.on_time),
        pace_p99_ns: opt(&|r| r.pace_p99_ns),
    }
}

/// `vagt-bench replay`.
pub fn run(args: &ReplayArgs) -> Result<(), String> {
    if args.workers.is_empty() || args.workers.iter().any(|&w| w == 0 || w > 256) {
        return Err("--workers takes worker counts from 1 to 256, e.g. --workers 1,2,4".into());
    }
    if args.runs == 0 || args.loops == 0 {
        return Err("--runs and --loops must be at least 1".into());
    }
    let pace = pace_of(args)?;
    if args.apart && pace != Pace::Top {
        return Err("--apart compares runs at top speed; leave out the pace".into());
    }
    if args.apart && !args.workers.iter().any(|&w| w > 1) {
        return Err(
            "--apart measures what several workers could reach: give a worker count above 1, \
             e.g. --workers 1,2"
                .into(),
        );
    }
    if let Some(p) = &args.json {
        crate::check_output_path(p, "--json")?;
    }
    if let Some(p) = &args.plot {
        crate::check_output_path(p, "--plot")?;
    }
    let input = load_input(args)?;
    let mut cfg = match &args.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if args.ignore_checksums {
        cfg.decode.validate_checksums = false;
    }
    if let Some(n) = args.max_connections {
        cfg.flow.max_connections = n;
    }
    cfg.validate().map_err(|e| e.to_string())?;
    // Rows take turns, run by run, so that a machine whose speed drifts
    // (shared, noisy) weighs on every row alike and the ratios between
    // rows stay fair.
    let mut kinds: Vec<(usize, bool)> = args.workers.iter().map(|&w| (w, false)).collect();
    if args.apart {
        kinds.extend(args.workers.iter().filter(|&&w| w > 1).map(|&w| (w, true)));
    }
    let mut by_kind: Vec<Vec<RunResult>> = vec![Vec::new(); kinds.len()];
    for _ in 0..args.runs {
        for (runs, &(w, apart)) in by_kind.iter_mut().zip(&kinds) {
            runs.push(match apart {
                false => run_once(&input, args, pace, &cfg, w)?,
                true => crate::apart::run_apart(&input, args, &cfg, w)?,
            });
        }
    }
    let mut rows = Vec::new();
    for (runs, &(w, apart)) in by_kind.into_iter().zip(&kinds) {
        let pps: Vec<f64> = runs.iter().map(|r| r.pps).collect();
        rows.push(Row {
            workers: w,
            apart,
            median: medians(&runs),
            pps_range: min_max(&pps).unwrap_or((0.0, 0.0)),
            runs,
        });
    }
    let setup = report::Setup {
        input: &input,
        pace,
        live: args.live,
        dispatch: if pace == Pace::Top {
            args.dispatch
        } else {
            DispatchArg::Queued
        },
        runs: args.runs,
        loops: args.loops,
        checksums: !args.ignore_checksums,
    };
    let to_stdout = |p: &Option<PathBuf>| p.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if !to_stdout(&args.json) {
        print!("{}", report::markdown(&setup, &rows));
    }
    if let Some(path) = &args.json {
        let json = report::json(&setup, &rows);
        crate::write_output(path, &format!("{json:#}\n"))?;
    }
    if let Some(path) = &args.plot {
        let title = format!("vagt-sensor replay: {}", input.description);
        let points = |apart: bool| -> Vec<crate::plot::Point> {
            rows.iter()
                .filter(|r| r.apart == apart)
                .map(|r| crate::plot::Point {
                    workers: r.workers,
                    pps: r.median.pps,
                    low: r.pps_range.0,
                    high: r.pps_range.1,
                })
                .collect()
        };
        crate::write_output(
            path,
            &crate::plot::throughput_svg(&title, &points(false), &points(true)),
        )?;
        if !to_stdout(&args.json) {
            println!("\nchart written to {}", path.display());
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn run_with(pps: f64, lat: Option<[f64; 5]>) -> RunResult {
        RunResult {
            pps,
            packets: 10,
            latency_ns: lat,
            peak_rss: pps as u64,
            ..Default::default()
        }
    }

    #[test]
    fn medians_per_figure() {
        let runs = [
            run_with(3.0, Some([1.0, 2.0, 3.0, 4.0, 50.0])),
            run_with(1.0, Some([3.0, 4.0, 5.0, 6.0, 70.0])),
            run_with(2.0, Some([2.0, 3.0, 4.0, 5.0, 60.0])),
        ];
        let m = medians(&runs);
        assert_eq!(m.pps, 2.0);
        assert_eq!(m.packets, 10);
        assert_eq!(m.latency_ns, Some([2.0, 3.0, 4.0, 5.0, 60.0]));
        assert_eq!(m.peak_rss, 3, "peak RSS is the largest seen");
        let m = medians(&[run_with(1.0, None), run_with(2.0, Some([1.0; 5]))]);
        assert_eq!(m.latency_ns, None);
        assert_eq!(m.pps, 1.5);
    }

    #[test]
    fn a_small_replay_counts_every_packet_and_connection() {
        let frames = crate::generate::tests::frames_of(
            crate::generate::mix_for(MixKind::Concurrent, 1, 10, 400)
                .unwrap()
                .as_mut(),
            1000,
        );
        let recording = recording_of(&frames);
        let input = Input {
            mean_gap_ns: mean_gap(&recording),
            recording,
            description: "test".into(),
        };
        assert_eq!(input.mean_gap_ns, 1000.0);
        let args = small_args();
        let pace = pace_of(&args).unwrap();
        let r = run_once(&input, &args, pace, &Config::default(), 2).unwrap();
        assert_eq!(r.packets, 800);
        assert_eq!(r.decode_errors, 0);
        assert_eq!(r.queue_drops, 0);
        let conns = crate::generate::tests::conn_states(&input.recording).len() as u64;
        assert_eq!(r.records, 2 * conns);
        // 800 packets at 200,000/s take at least 4 ms.
        assert!(r.wall_s >= 0.004, "{}", r.wall_s);
        let target = r.target_pps.unwrap();
        assert!((target - 200_000.0).abs() < 1.0, "{target}");
        assert!(r.on_time.is_some() && r.pace_p99_ns.is_some());
        assert!(r.latency_ns.is_some_and(|l| l[4] >= l[0] && l[0] > 0.0));
        assert!(r.cpu_s > 0.0 && r.peak_rss > 0);

        // At top speed every worker reads the input itself: same counts.
        let top = run_once(&input, &args, Pace::Top, &Config::default(), 2).unwrap();
        assert_eq!((top.packets, top.records), (r.packets, r.records));
        assert_eq!((top.target_pps, top.on_time), (None, None));
    }

    /// Every dispatch at top speed, with 1 to 3 workers, counts every
    /// packet and writes one record per connection (twice over, for two
    /// loops): dealing the input out by flow hash keeps each connection on
    /// one worker, across loops too.
    #[test]
    fn every_dispatch_writes_every_connection_once() {
        let (input, conns) = concurrent_input(3, 50);
        let packets = 2 * input.recording.packets() as u64;
        assert!(conns >= 50 && packets >= 4000, "{conns} {packets}");
        for dispatch in [DispatchArg::Auto, DispatchArg::Split, DispatchArg::Queued] {
            for workers in 1..=3 {
                let args = ReplayArgs {
                    pps: None,
                    dispatch,
                    workers: vec![workers],
                    ..small_args()
                };
                let r = run_once(&input, &args, Pace::Top, &Config::default(), workers).unwrap();
                assert_eq!(r.packets, packets, "{dispatch:?} {workers}");
                assert_eq!(r.records, 2 * conns, "{dispatch:?} {workers}");
            }
        }
        let paced = ReplayArgs {
            dispatch: DispatchArg::Split,
            ..small_args()
        };
        let e = run_once(
            &input,
            &paced,
            pace_of(&paced).unwrap(),
            &Config::default(),
            2,
        );
        assert!(e.is_err_and(|e| e.contains("top speed")));
    }

    /// Asking for apart runs that cannot be compared fails before any
    /// loading, with what to do.
    #[test]
    fn apart_needs_top_speed_and_several_workers() {
        let one = ReplayArgs {
            pps: None,
            apart: true,
            workers: vec![1],
            ..small_args()
        };
        assert!(run(&one).is_err_and(|e| e.contains("--workers 1,2")));
        let paced = ReplayArgs {
            apart: true,
            ..small_args()
        };
        assert!(run(&paced).is_err_and(|e| e.contains("top speed")));
    }

    /// 3,000 frames of the seeded concurrent mix over `flows` flows, 1 µs
    /// apart, and how many connections they hold.
    pub(crate) fn concurrent_input(seed: u64, flows: u64) -> (Input, u64) {
        let frames = crate::generate::tests::frames_of(
            crate::generate::mix_for(MixKind::Concurrent, seed, flows, 2000)
                .unwrap()
                .as_mut(),
            3000,
        );
        let recording = recording_of(&frames);
        let conns = crate::generate::tests::conn_states(&recording).len() as u64;
        let input = Input {
            mean_gap_ns: mean_gap(&recording),
            recording,
            description: "test".into(),
        };
        (input, conns)
    }

    /// Frames 1 µs apart, as a recording.
    pub(crate) fn recording_of(frames: &[Vec<u8>]) -> Recording {
        Recording::from_packets(frames.iter().enumerate().map(|(i, f)| {
            (
                vagt_sensor::decode::LinkType::ETHERNET,
                i as i64 * 1000,
                f.as_slice(),
            )
        }))
    }

    pub(crate) fn small_args() -> ReplayArgs {
        ReplayArgs {
            files: vec![],
            workers: vec![2],
            runs: 1,
            loops: 2,
            pps: Some(200_000.0),
            mbps: None,
            speed: None,
            live: false,
            dispatch: DispatchArg::Auto,
            no_latency: false,
            apart: false,
            ignore_checksums: false,
            mix: MixKind::Concurrent,
            packets: 400,
            seed: 1,
            flows: None,
            json: None,
            plot: None,
            config: None,
            max_connections: None,
        }
    }
}
