//! `vagt-bench replay`: loads the input into memory, then runs it through
//! the sensor pipeline once per run and worker count (`run`), taking
//! turns, and reports the medians per worker count. `apart` adds the
//! machine's ceiling: single-worker pipelines side by side.

mod apart;
mod run;

use crate::cli::{DispatchArg, MixKind, ReplayArgs};
use crate::pacing::Pace;
use crate::stats::{min_max, thousands};
use crate::{generate, report};
use std::path::PathBuf;
use vagt_sensor::capture::recording::Recording;
use vagt_sensor::capture::{Next, Source};
use vagt_sensor::config::Config;

pub use run::{medians, RunResult, LATENCY_QUANTILES};

/// The loaded input.
pub struct Input {
    pub recording: Recording,
    pub description: String,
    /// Mean gap between packets in packet time (ns), for pacing loops.
    pub mean_gap_ns: f64,
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
    let input = load_input(args)?;
    let mut cfg = match &args.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if args.ignore_checksums {
        cfg.decode.checksums = vagt_sensor::decode::offload::ChecksumMode::Off;
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
                false => run::run_once(&input, args, pace, &cfg, w)?,
                true => apart::run_apart(&input, args, &cfg, w)?,
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
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
            config: None,
            max_connections: None,
        }
    }
}
