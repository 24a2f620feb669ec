//! One run through the sensor pipeline and the figures measured of it:
//! throughput, latency percentiles, drops, CPU, memory, connections; and
//! the medians over runs.

use super::Input;
use crate::cli::{DispatchArg, ReplayArgs};
use crate::pacing::{Pace, PaceReport, PacedSource, Schedule};
use crate::rusage;
use crate::stats::{median, median_u64};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use vagt_sensor::capture::Source;
use vagt_sensor::config::Config;
use vagt_sensor::decode::LinkWalker;
use vagt_sensor::flow::{RecordContext, Tracker};
use vagt_sensor::output::NullSink;
use vagt_sensor::pipeline::{self, shard, Dispatch, Mode, PipelineOptions, WorkerLanes};

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

/// Latency percentiles reported, as quantiles (the last is the maximum).
pub const LATENCY_QUANTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("max", 1.0),
];

/// One run through the pipeline.
pub(super) fn run_once(
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
        flush_interval: std::time::Duration::from_secs_f64(cfg.output.flush_interval),
        reopen: None,
        arp: cfg.arp.limits(),
        dhcp: cfg.app.dhcp,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::MixKind;
    use crate::replay::tests::{concurrent_input, recording_of, small_args};
    use crate::replay::{mean_gap, pace_of};

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
}
