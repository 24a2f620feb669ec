//! The results of `replay` as a Markdown table (for people and
//! RESULTS.md) and as JSON (every figure of every run, for machines).

use crate::cli::DispatchArg;
use crate::pacing::Pace;
use crate::replay::{Input, Row, RunResult, LATENCY_QUANTILES};
use crate::stats::{median, mib, min_max, nanos, si, thousands};
use serde_json::{json, Value};
use std::fmt::Write;

/// How the runs were made.
pub struct Setup<'a> {
    pub input: &'a Input,
    pub pace: Pace,
    pub live: bool,
    /// How packets reached the workers.
    pub dispatch: DispatchArg,
    pub runs: usize,
    pub loops: u32,
    pub checksums: bool,
}

impl Setup<'_> {
    fn packets_per_run(&self) -> u64 {
        self.input.recording.packets() as u64 * u64::from(self.loops)
    }

    fn avg_frame(&self) -> f64 {
        self.input.recording.wire_bytes() as f64 / self.input.recording.packets().max(1) as f64
    }

    fn dispatch(&self) -> &'static str {
        match (self.dispatch, self.live) {
            (DispatchArg::Auto, _) => {
                "together (the workers walk the input in chunks, whoever gets there first \
                 dealing each chunk's packets out by flow; one worker reads it alone)"
            }
            (DispatchArg::Split, _) => {
                "split (the input dealt out to per-worker queues by flow hash before timing, \
                 as a multi-queue card or the kernel's fanout delivers it live)"
            }
            (DispatchArg::Queued, true) => {
                "reader thread and queues, live (a full worker queue drops the packet)"
            }
            (DispatchArg::Queued, false) => {
                "reader thread and queues, lossless (the reader waits for the workers)"
            }
        }
    }
}

fn latency_cell(r: &RunResult, i: usize) -> String {
    r.latency_ns.map_or("–".into(), |l| nanos(l[i]))
}

/// The Markdown report: a header saying what was run, and one table row
/// per worker count.
pub fn markdown(setup: &Setup, rows: &[Row]) -> String {
    let mut s = String::new();
    let paced = setup.pace != Pace::Top;
    let _ = writeln!(s, "input: {}", setup.input.description);
    let _ = writeln!(
        s,
        "{} packets per run ({} loop(s)), average frame {:.0} bytes; pace: {}; dispatch: {}; \
         checksums {}; {} run(s) per row, medians shown",
        thousands(setup.packets_per_run()),
        setup.loops,
        setup.avg_frame(),
        setup.pace.describe(),
        setup.dispatch(),
        if setup.checksums {
            "verified"
        } else {
            "not verified"
        },
        setup.runs
    );
    s.push('\n');
    let mut head = String::from("| workers | packets/s | Gbit/s |");
    for (name, _) in LATENCY_QUANTILES {
        let _ = write!(head, " latency {name} |");
    }
    head.push_str(" drops | CPU/packet | peak RSS | connections/s | packets/s range |");
    if paced {
        head.push_str(" target packets/s | on time (10 µs) | pacing p99 |");
    }
    let cols = head.matches('|').count() - 1;
    let _ = writeln!(s, "{head}");
    let _ = writeln!(s, "|{}", "---|".repeat(cols));
    for row in rows {
        let m = &row.median;
        let _ = write!(s, "| {} | {} | {:.2} |", row_name(row), si(m.pps), m.gbps);
        for i in 0..LATENCY_QUANTILES.len() {
            let _ = write!(s, " {} |", latency_cell(m, i));
        }
        let _ = write!(
            s,
            " {} | {} | {} | {} | {} .. {} |",
            thousands(m.queue_drops),
            nanos(m.cpu_ns_per_packet),
            mib(m.peak_rss),
            si(m.connections_per_s),
            si(row.pps_range.0),
            si(row.pps_range.1),
        );
        if paced {
            let _ = write!(
                s,
                " {} | {} | {} |",
                m.target_pps.map_or("–".into(), si),
                m.on_time
                    .map_or("–".into(), |t| format!("{:.1}%", t * 100.0)),
                m.pace_p99_ns.map_or("–".into(), nanos),
            );
        }
        s.push('\n');
    }
    let errors: u64 = rows
        .iter()
        .map(|r| r.median.decode_errors)
        .max()
        .unwrap_or(0);
    let records = rows.first().map_or(0, |r| r.median.records);
    let _ = writeln!(
        s,
        "\n{} connection records per run; {} packets per run could not be decoded{}.",
        thousands(records),
        thousands(errors),
        if errors > 0 && setup.checksums {
            " (bad checksums count here: try --ignore-checksums for captures from \
             offloading hosts)"
        } else {
            ""
        }
    );
    for sc in scaling(rows) {
        let _ = write!(
            s,
            "\n{n} workers ÷ 1: {} (median of the {} rounds' ratios, {} to {})",
            times(sc.vs_one.0),
            sc.rounds,
            times(sc.vs_one.1),
            times(sc.vs_one.2),
            n = sc.workers
        );
        if let (Some(apart), Some(of)) = (sc.apart_vs_one, sc.of_apart) {
            let _ = write!(
                s,
                "; {n} apart ÷ 1: {} ({} to {}), the most this machine gave {n} workers \
                 on this input at the time; {n} workers reached {:.0}% of it",
                times(apart.0),
                times(apart.1),
                times(apart.2),
                of * 100.0,
                n = sc.workers
            );
        }
        s.push_str(".\n");
    }
    if rows.iter().any(|r| r.median.evicted > 0) {
        let _ = writeln!(
            s,
            "The connection table was full: connections were evicted early."
        );
    }
    s
}

fn row_name(row: &Row) -> String {
    match row.apart {
        true => format!("{} apart", row.workers),
        false => row.workers.to_string(),
    }
}

fn times(x: f64) -> String {
    format!("{x:.2}×")
}

/// How a worker count compared with one worker, round by round (rows take
/// turns, so the runs of one round met the same machine).
#[derive(Debug, PartialEq)]
pub struct Scaling {
    pub workers: usize,
    pub rounds: usize,
    /// Packets/s of the workers ÷ one worker's: median, lowest, highest.
    pub vs_one: (f64, f64, f64),
    /// The same for the apart runs, when made.
    pub apart_vs_one: Option<(f64, f64, f64)>,
    /// Median of the rounds' packets/s of the workers ÷ apart runs.
    pub of_apart: Option<f64>,
}

/// The scaling of every worker count above one, when one was measured.
pub fn scaling(rows: &[Row]) -> Vec<Scaling> {
    let Some(one) = rows.iter().find(|r| r.workers == 1 && !r.apart) else {
        return Vec::new();
    };
    let ratios = |a: &Row, b: &Row| -> Vec<f64> {
        a.runs
            .iter()
            .zip(&b.runs)
            .filter(|(_, y)| y.pps > 0.0)
            .map(|(x, y)| x.pps / y.pps)
            .collect()
    };
    let spread = |v: &[f64]| -> Option<(f64, f64, f64)> {
        let (lo, hi) = min_max(v)?;
        Some((median(v)?, lo, hi))
    };
    rows.iter()
        .filter(|r| r.workers > 1 && !r.apart)
        .filter_map(|row| {
            let apart = rows.iter().find(|r| r.apart && r.workers == row.workers);
            let vs_one = ratios(row, one);
            Some(Scaling {
                workers: row.workers,
                rounds: vs_one.len(),
                vs_one: spread(&vs_one)?,
                apart_vs_one: apart.and_then(|a| spread(&ratios(a, one))),
                of_apart: apart.and_then(|a| median(&ratios(row, a))),
            })
        })
        .collect()
}

fn run_json(r: &RunResult) -> Value {
    let latency = r.latency_ns.map(|l| {
        let mut m = serde_json::Map::new();
        for ((name, _), v) in LATENCY_QUANTILES.iter().zip(l) {
            m.insert(format!("{name}_ns"), json!(v));
        }
        Value::Object(m)
    });
    json!({
        "packets": r.packets,
        "bytes": r.bytes,
        "wall_s": r.wall_s,
        "packets_per_s": r.pps,
        "gbit_per_s": r.gbps,
        "records": r.records,
        "connections_per_s": r.connections_per_s,
        "queue_drops": r.queue_drops,
        "decode_errors": r.decode_errors,
        "evicted": r.evicted,
        "latency": latency,
        "cpu_s": r.cpu_s,
        "pacer_spin_s": r.spin_s,
        "cpu_ns_per_packet": r.cpu_ns_per_packet,
        "peak_rss_bytes": r.peak_rss,
        "target_packets_per_s": r.target_pps,
        "on_time_share": r.on_time,
        "pacing_late_p99_ns": r.pace_p99_ns,
    })
}

/// Every figure of every run, and the medians.
pub fn json(setup: &Setup, rows: &[Row]) -> Value {
    let pace = match setup.pace {
        Pace::Top => json!({"kind": "top"}),
        Pace::Pps(v) => json!({"kind": "pps", "value": v}),
        Pace::Mbps(v) => json!({"kind": "mbps", "value": v}),
        Pace::Speed(v) => json!({"kind": "speed", "value": v}),
    };
    json!({
        "command": "replay",
        "input": {
            "description": setup.input.description,
            "packets": setup.input.recording.packets(),
            "bytes": setup.input.recording.wire_bytes(),
            "average_frame_bytes": setup.avg_frame(),
        },
        "loops": setup.loops,
        "packets_per_run": setup.packets_per_run(),
        "pace": pace,
        "dispatch": match setup.dispatch {
            DispatchArg::Auto => "lanes",
            DispatchArg::Split => "split",
            DispatchArg::Queued => "queued",
        },
        "mode": if setup.live { "live" } else { "replay" },
        "checksums_verified": setup.checksums,
        "runs_per_row": setup.runs,
        "scaling": scaling(rows).iter().map(|sc| json!({
            "workers": sc.workers,
            "rounds": sc.rounds,
            "vs_one_median": sc.vs_one.0,
            "vs_one_min": sc.vs_one.1,
            "vs_one_max": sc.vs_one.2,
            "apart_vs_one_median": sc.apart_vs_one.map(|a| a.0),
            "share_of_apart_median": sc.of_apart,
        })).collect::<Vec<_>>(),
        "rows": rows.iter().map(|row| json!({
            "workers": row.workers,
            "apart": row.apart,
            "median": run_json(&row.median),
            "packets_per_s_min": row.pps_range.0,
            "packets_per_s_max": row.pps_range.1,
            "runs": row.runs.iter().map(run_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vagt_sensor::capture::recording::Recording;
    use vagt_sensor::decode::LinkType;

    fn setup_rows() -> (Input, Vec<Row>) {
        let frame = [0u8; 100];
        let input = Input {
            recording: Recording::from_packets((0..4).map(|i| (LinkType::ETHERNET, i, &frame[..]))),
            description: "four frames".into(),
            mean_gap_ns: 1.0,
        };
        let run = RunResult {
            packets: 4,
            bytes: 400,
            pps: 2_500_000.0,
            gbps: 2.0,
            records: 7,
            latency_ns: Some([1_500.0, 2_000.0, 9_000.0, 12_000.0, 3_000_000.0]),
            cpu_ns_per_packet: 410.0,
            peak_rss: 64 << 20,
            connections_per_s: 95_300.0,
            target_pps: Some(1e6),
            on_time: Some(0.995),
            pace_p99_ns: Some(4_200.0),
            ..Default::default()
        };
        let rows = vec![Row {
            workers: 2,
            apart: false,
            runs: vec![run.clone()],
            median: run,
            pps_range: (1_520_000.0, 2_470_000.0),
        }];
        (input, rows)
    }

    #[test]
    fn markdown_table_has_every_figure() {
        let (input, rows) = setup_rows();
        let setup = Setup {
            input: &input,
            pace: Pace::Pps(1e6),
            live: true,
            dispatch: DispatchArg::Queued,
            runs: 1,
            loops: 2,
            checksums: true,
        };
        let md = markdown(&setup, &rows);
        let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(table.len(), 3, "{md}");
        let cols = |l: &str| l.matches('|').count();
        assert!(table.iter().all(|l| cols(l) == cols(table[0])), "{md}");
        for want in [
            "| 2 | 2.50 M | 2.00 |",
            "1.5 µs",
            "12.0 µs",
            "3.00 ms",
            "410 ns",
            "64.0 MiB",
            "95.3 k",
            "1.52 M .. 2.47 M",
            "99.5%",
            "4.2 µs",
            "8 packets per run",
            "live (a full worker queue drops",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
    }

    #[test]
    fn json_holds_medians_and_runs() {
        let (input, rows) = setup_rows();
        let setup = Setup {
            input: &input,
            pace: Pace::Top,
            live: false,
            dispatch: DispatchArg::Auto,
            runs: 1,
            loops: 1,
            checksums: false,
        };
        let v = json(&setup, &rows);
        assert_eq!(v["rows"][0]["workers"], 2);
        assert_eq!(v["rows"][0]["median"]["packets_per_s"], 2_500_000.0);
        assert_eq!(v["rows"][0]["median"]["latency"]["p99.9_ns"], 12_000.0);
        assert_eq!(v["rows"][0]["runs"].as_array().map(Vec::len), Some(1));
        assert_eq!(v["input"]["packets"], 4);
        assert_eq!(v["pace"]["kind"], "top");
        assert_eq!(v["checksums_verified"], false);
        assert_eq!(v["dispatch"], "lanes");
        let md = markdown(&setup, &rows);
        assert!(!md.contains("on time"), "no pacing columns at top speed");
    }

    /// A row of runs at the given packet rates, one per round.
    fn row_of(workers: usize, apart: bool, pps: &[f64]) -> Row {
        let runs: Vec<RunResult> = pps
            .iter()
            .map(|&pps| RunResult {
                pps,
                ..Default::default()
            })
            .collect();
        Row {
            workers,
            apart,
            median: crate::replay::medians(&runs),
            pps_range: min_max(pps).unwrap_or_default(),
            runs,
        }
    }

    /// Ratios pair the runs of one round: the machine's slow second round
    /// slows every row and cancels out, where a ratio of the rows' medians
    /// (6 ÷ 4 = 1.5) would not.
    #[test]
    fn scaling_pairs_the_runs_of_each_round() {
        let rows = vec![
            row_of(1, false, &[4.0, 2.0, 4.0]),
            row_of(2, false, &[7.0, 3.6, 7.4]),
            row_of(2, true, &[7.6, 4.0, 8.0]),
        ];
        let sc = scaling(&rows);
        assert_eq!(sc.len(), 1);
        let sc = &sc[0];
        assert_eq!((sc.workers, sc.rounds), (2, 3));
        assert!((sc.vs_one.0 - 1.8).abs() < 1e-9, "{sc:?}");
        assert!((sc.vs_one.1 - 1.75).abs() < 1e-9 && (sc.vs_one.2 - 1.85).abs() < 1e-9);
        let apart = sc.apart_vs_one.unwrap();
        assert!((apart.0 - 2.0).abs() < 1e-9, "{sc:?}");
        assert!(
            (sc.of_apart.unwrap() - 0.921_052_631_578_947_4).abs() < 1e-9,
            "{sc:?}"
        );

        let input = Input {
            recording: Recording::from_packets([(LinkType::ETHERNET, 0, &[0u8; 60][..])]),
            description: "one frame".into(),
            mean_gap_ns: 1.0,
        };
        let setup = Setup {
            input: &input,
            pace: Pace::Top,
            live: false,
            dispatch: DispatchArg::Split,
            runs: 3,
            loops: 1,
            checksums: false,
        };
        let md = markdown(&setup, &rows);
        assert!(md.contains("| 2 apart |"), "{md}");
        assert!(md.contains("2 workers ÷ 1: 1.80×"), "{md}");
        assert!(md.contains("2 apart ÷ 1: 2.00×"), "{md}");
        assert!(md.contains("reached 92% of it"), "{md}");
        let v = json(&setup, &rows);
        assert_eq!(v["rows"][2]["apart"], true);
        assert_eq!(v["scaling"][0]["rounds"], 3);

        // Without a row of one worker there is nothing to compare with.
        assert!(scaling(&rows[1..]).is_empty());
    }
}
