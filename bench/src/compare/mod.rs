//! `vagt-bench compare`: times peer tools and vagt-sensor on one capture
//! file, each as a whole process (one warm-up round, then `--runs` timed
//! rounds, every tool running once per round, so that a machine whose
//! speed drifts moves all tools alike), and reports median packets/s, the
//! ratio to the libpcap floor (the median of each round's ratio) and
//! median CPU time, as Markdown and JSON.

mod tools;

use crate::cli::CompareArgs;
use crate::stats::{median, mib, min_max, si, thousands};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tools::{Context, Skipped, Tool};
use vagt_sensor::capture::file::FileSource;
use vagt_sensor::capture::{Next, Source};
use vagt_sensor::decode::LinkType;

/// What is in the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FileFacts {
    pub packets: u64,
    pub bytes: u64,
    pub ethernet: bool,
}

/// Counts the capture's packets by streaming it once (never all in memory).
pub fn count_packets(path: &Path) -> Result<FileFacts, String> {
    let mut src = FileSource::open(path).map_err(|e| e.to_string())?;
    let mut f = FileFacts {
        ethernet: true,
        ..Default::default()
    };
    loop {
        match src.next().map_err(|e| e.to_string())? {
            Next::Packet(p) => {
                f.packets += 1;
                f.bytes += u64::from(p.wire_len);
                f.ethernet &= p.link == LinkType::ETHERNET;
            }
            Next::Timeout => {}
            Next::End => break,
        }
    }
    if f.packets == 0 {
        return Err(format!("{}: the capture holds no packets", path.display()));
    }
    Ok(f)
}

/// The outcome for one tool.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub tool: Tool,
    pub version: Option<String>,
    /// Timed runs (the warm-up is not among them).
    pub wall_s: Vec<f64>,
    pub cpu_s: Vec<f64>,
    pub error: Option<String>,
}

impl Outcome {
    pub fn median_wall(&self) -> Option<f64> {
        if self.error.is_some() {
            return None;
        }
        median(&self.wall_s)
    }

    pub fn median_cpu(&self) -> Option<f64> {
        median(&self.cpu_s)
    }
}

/// Packets/s of an outcome, and its ratio to the floor's: the median of
/// the rounds' ratios when both ran every round (runs of one round are
/// close in time), else the ratio of the medians.
fn rates(o: &Outcome, packets: u64, floor: Option<&Outcome>) -> (Option<f64>, Option<f64>) {
    let pps = |o: &Outcome| {
        o.median_wall()
            .filter(|w| *w > 0.0)
            .map(|w| packets as f64 / w)
    };
    let mine = pps(o);
    let ratio = floor.and_then(|f| {
        let paired = f.error.is_none()
            && o.error.is_none()
            && !o.wall_s.is_empty()
            && f.wall_s.len() == o.wall_s.len()
            && o.wall_s.iter().all(|w| *w > 0.0);
        if paired {
            let each: Vec<f64> = f.wall_s.iter().zip(&o.wall_s).map(|(f, w)| f / w).collect();
            median(&each)
        } else {
            match (mine, pps(f)) {
                (Some(p), Some(f)) if f > 0.0 => Some(p / f),
                _ => None,
            }
        }
    });
    (mine, ratio)
}

fn floor_of(outcomes: &[Outcome]) -> Option<&Outcome> {
    outcomes
        .iter()
        .find(|o| o.tool.floor && o.median_wall().is_some_and(|w| w > 0.0))
}

fn floor_pps(outcomes: &[Outcome], packets: u64) -> Option<f64> {
    floor_of(outcomes).and_then(|o| rates(o, packets, None).0)
}

/// The Markdown report.
pub fn markdown(
    path: &Path,
    facts: &FileFacts,
    runs: usize,
    outcomes: &[Outcome],
    skipped: &[Skipped],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "capture: {} ({} packets, {}, average frame {:.0} bytes); each tool run as a whole \
         process, {runs} timed round(s) after one warm-up round, the tools taking turns; \
         medians shown, the ratio to the floor being the median of the rounds' ratios",
        path.display(),
        thousands(facts.packets),
        mib(facts.bytes),
        facts.bytes as f64 / facts.packets.max(1) as f64,
    );
    s.push('\n');
    let _ = writeln!(
        s,
        "| tool | packets/s | vs libpcap floor | wall time | CPU time | CPU/packet | wall range | command |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    let floor = floor_of(outcomes);
    let mut notes = Vec::new();
    for o in outcomes {
        let name = o.tool.title(o.version.as_deref());
        let cmd = format!("`{}`", o.tool.command_line().replace('|', "\\|"));
        let (pps, ratio) = rates(o, facts.packets, floor);
        match (o.median_wall(), pps) {
            (Some(wall), Some(pps)) => {
                let cpu = o.median_cpu().unwrap_or(0.0);
                let (lo, hi) = min_max(&o.wall_s).unwrap_or((wall, wall));
                let _ = writeln!(
                    s,
                    "| {name} | {} | {} | {wall:.3} s | {cpu:.3} s | {} | {lo:.3} .. {hi:.3} s | {cmd} |",
                    si(pps),
                    ratio.map_or("–".into(), |r| format!("{r:.2}×")),
                    crate::stats::nanos(cpu * 1e9 / facts.packets.max(1) as f64),
                );
            }
            _ => {
                let why = o.error.clone().unwrap_or_else(|| "no timed run".into());
                let _ = writeln!(s, "| {name} | failed | – | – | – | – | – | {cmd} |");
                notes.push(format!("{name}: {why}"));
            }
        }
    }
    s.push('\n');
    if floor.is_none() {
        let _ = writeln!(
            s,
            "no libpcap floor: tcpdump was not run or failed, so there are no ratios."
        );
    }
    for n in notes {
        let _ = writeln!(s, "failed: {n}");
    }
    for k in skipped {
        let _ = writeln!(s, "skipped: {} — {}", k.name, k.reason);
    }
    s
}

/// The JSON report: every run of every tool.
pub fn json(
    path: &Path,
    facts: &FileFacts,
    runs: usize,
    outcomes: &[Outcome],
    skipped: &[Skipped],
) -> Value {
    let floor = floor_of(outcomes);
    json!({
        "command": "compare",
        "file": {
            "path": path.display().to_string(),
            "packets": facts.packets,
            "bytes": facts.bytes,
        },
        "runs": runs,
        "floor_packets_per_s": floor_pps(outcomes, facts.packets),
        "tools": outcomes.iter().map(|o| {
            let (pps, ratio) = rates(o, facts.packets, floor);
            json!({
                "name": o.tool.name,
                "title": o.tool.title(o.version.as_deref()),
                "version": o.version,
                "command": o.tool.command_line(),
                "floor": o.tool.floor,
                "status": if o.error.is_some() { "failed" } else { "ok" },
                "error": o.error,
                "wall_s": o.wall_s,
                "cpu_s": o.cpu_s,
                "median_wall_s": o.median_wall(),
                "median_cpu_s": o.median_cpu(),
                "packets_per_s": pps,
                "ratio_to_floor": ratio,
            })
        }).collect::<Vec<_>>(),
        "skipped": skipped.iter().map(|k| json!({"name": k.name, "reason": k.reason})).collect::<Vec<_>>(),
    })
}

/// A scratch folder for tool logs, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `vagt-bench compare`.
pub fn run(args: &CompareArgs) -> Result<(), String> {
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    if let Some(bad) = args
        .tools
        .iter()
        .find(|t| !tools::NAMES.contains(&t.as_str()))
    {
        return Err(format!(
            "--tools: unknown tool {bad:?}; known are {}",
            tools::NAMES.join(", ")
        ));
    }
    if args.sensor_workers.contains(&0) {
        return Err("--sensor-workers takes counts of at least 1".into());
    }
    if let Some(p) = &args.json {
        crate::check_output_path(p, "--json")?;
    }
    let facts = count_packets(&args.file)?;
    let scratch =
        Scratch(std::env::temp_dir().join(format!("vagt-bench-compare-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0)
        .map_err(|e| format!("cannot create {}: {e}", scratch.0.display()))?;
    // softflowd exports to this socket; it is never read (the kernel
    // discards what does not fit its buffer).
    let sink = std::net::UdpSocket::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot open a loopback UDP socket for softflowd's export: {e}"))?;
    let export_port = sink.local_addr().map_err(|e| e.to_string())?.port();
    // An absolute path, so every tool reads the same file whatever it does
    // with its working directory.
    let file = std::fs::canonicalize(&args.file).unwrap_or_else(|_| args.file.clone());
    let ctx = Context {
        file: &file,
        ethernet: facts.ethernet,
        sensor: tools::find_sensor(args.sensor.as_deref()),
        sensor_workers: &args.sensor_workers,
        ignore_checksums: args.ignore_checksums,
        export_port,
        scratch: &scratch.0,
    };
    let (tools, skipped) = tools::tools(&ctx, &args.tools);
    let timeout = Duration::from_secs(args.timeout.max(1));
    let quiet = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let mut outcomes: Vec<Outcome> = tools
        .into_iter()
        .map(|tool| Outcome {
            version: tools::version(&tool),
            tool,
            wall_s: Vec::new(),
            cpu_s: Vec::new(),
            error: None,
        })
        .collect();
    // Round 0 warms the page cache and the tools' files. A tool that fails
    // sits out the rounds after.
    for round in 0..=args.runs {
        if !quiet {
            match round {
                0 => eprintln!("vagt-bench: warm-up round ..."),
                r => eprintln!("vagt-bench: round {r} of {} ...", args.runs),
            }
        }
        for o in outcomes.iter_mut().filter(|o| o.error.is_none()) {
            match tools::time_run(&o.tool, timeout, &scratch.0) {
                Ok(_) if round == 0 => {}
                Ok(t) => {
                    o.wall_s.push(t.wall.as_secs_f64());
                    o.cpu_s.push(t.cpu.as_secs_f64());
                }
                Err(e) => o.error = Some(e),
            }
        }
    }
    drop(sink);
    if !quiet {
        print!(
            "{}",
            markdown(&args.file, &facts, args.runs, &outcomes, &skipped)
        );
    }
    if let Some(path) = &args.json {
        let v = json(&args.file, &facts, args.runs, &outcomes, &skipped);
        crate::write_output(path, &format!("{v:#}\n"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &'static str, floor: bool, walls: &[f64], error: Option<&str>) -> Outcome {
        Outcome {
            tool: Tool {
                name,
                product: name,
                role: if floor {
                    "libpcap floor".into()
                } else {
                    String::new()
                },
                program: PathBuf::from(format!("/usr/bin/{name}")),
                args: vec!["-r".into(), "f.pcap".into()],
                version_args: &[],
                version_marker: "",
                floor,
            },
            version: Some("1.0".into()),
            wall_s: walls.to_vec(),
            cpu_s: walls.iter().map(|w| w * 0.9).collect(),
            error: error.map(String::from),
        }
    }

    /// A capture of a million packets, 500 bytes each.
    const MILLION: FileFacts = FileFacts {
        packets: 1_000_000,
        bytes: 500_000_000,
        ethernet: true,
    };

    #[test]
    fn ratios_to_the_floor_from_median_wall_times() {
        let facts = MILLION;
        let outcomes = vec![
            outcome("tcpdump", true, &[0.5, 0.4, 0.6], None),
            outcome("argus", false, &[2.0, 2.2, 1.8], None),
            outcome("softflowd", false, &[], Some("exited with 1: bad")),
        ];
        let skipped = vec![Skipped {
            name: "suricata",
            reason: "not installed".into(),
        }];
        let md = markdown(Path::new("f.pcap"), &facts, 3, &outcomes, &skipped);
        assert!(
            md.contains("| tcpdump 1.0, libpcap floor | 2.00 M | 1.00× | 0.500 s | 0.450 s |"),
            "{md}"
        );
        assert!(
            md.contains("| argus 1.0 | 500.0 k | 0.25× | 2.000 s |"),
            "{md}"
        );
        assert!(
            md.contains("failed: softflowd 1.0: exited with 1: bad"),
            "{md}"
        );
        assert!(md.contains("skipped: suricata — not installed"), "{md}");
        assert!(md.contains("1,000,000 packets"));
        let v = json(Path::new("f.pcap"), &facts, 3, &outcomes, &skipped);
        assert_eq!(v["floor_packets_per_s"], 2_000_000.0);
        assert_eq!(v["tools"][1]["ratio_to_floor"], 0.25);
        assert_eq!(v["tools"][1]["median_cpu_s"], 1.8);
        assert_eq!(v["tools"][2]["status"], "failed");
        assert_eq!(v["tools"][2]["packets_per_s"], Value::Null);
        assert_eq!(v["skipped"][0]["name"], "suricata");
    }

    #[test]
    fn the_ratio_pairs_the_runs_of_each_round() {
        let facts = MILLION;
        // The machine slowed down threefold in the last round: every tool
        // took the same share of the floor's time in each round, which
        // the ratio of the medians (1.0 / 6.0) would not show.
        let outcomes = vec![
            outcome("tcpdump", true, &[1.0, 1.0, 3.0], None),
            outcome("argus", false, &[2.0, 6.0, 6.0], None),
        ];
        let v = json(Path::new("f.pcap"), &facts, 3, &outcomes, &[]);
        assert_eq!(v["tools"][1]["ratio_to_floor"], 0.5);
        assert_eq!(v["floor_packets_per_s"], 1_000_000.0);
    }

    #[test]
    fn counting_a_capture_and_a_missing_file() {
        let path =
            std::env::temp_dir().join(format!("vagt-bench-count-{}.pcap", std::process::id()));
        let w = crate::generate::generate_to(&path, crate::cli::MixKind::Imix, 120, 1, 10, 10.0);
        let facts = count_packets(&path);
        let _ = std::fs::remove_file(&path);
        let (w, facts) = (w.unwrap(), facts.unwrap());
        assert_eq!((facts.packets, facts.bytes), (120, w.bytes));
        assert!(facts.ethernet);
        let e = count_packets(Path::new("/nonexistent/x.pcap")).unwrap_err();
        assert!(e.contains("/nonexistent/x.pcap"), "{e}");
    }
}
