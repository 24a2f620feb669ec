//! The commands: configuration from file and flags, sources, pipeline run,
//! summary and exit code.
//!
//! Exit codes: 0 success; 1 the run failed (output could not be written);
//! 2 bad usage, configuration or input (a file that is not a capture, a
//! truncated capture; records of everything readable are still written).

mod analyze;
mod collect;
mod reveal;

use crate::assets::{store, Inventory, InventorySink};
#[cfg(target_os = "linux")]
use crate::capture::afpacket;
use crate::capture::file::FileSource;
use crate::capture::live::LiveSource;
use crate::capture::{CaptureError, Source};
use crate::cli::{AssetsArgs, Cli, Command, CommonArgs, ConfigArgs, DemoArgs, ReplayArgs, RunArgs};
use crate::config::{CaptureMethod, Config};
use crate::decode::offload::{self, ChecksumMode};
use crate::decode::{DecodeOptions, Decoder};
use crate::flow::{RecordContext, Tracker};
use crate::pipeline::{self, Mode, PipelineOptions, Summary, WorkerLanes};
use clap::Parser;
pub use collect::{replay_collect, replay_collect_analysed};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    crate::log::init(cli.log_format, cli.quiet);
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors are printed even with --quiet: they explain the exit code.
            tracing::error!("{e}");
            2
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32, String> {
    let mut cfg = match &cli.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    match cli.command {
        Command::Replay(args) => replay(&mut cfg, args, cli.quiet),
        Command::Run(args) => live(&mut cfg, args, cli.quiet),
        Command::Demo(args) => demo(&mut cfg, args, cli.quiet),
        Command::Config(args) => config_command(args),
        Command::Assets(args) => assets_command(&mut cfg, args, cli.quiet),
        Command::Rules(args) => match args.action {
            crate::cli::RulesAction::Check { dir } => {
                println!("{}", crate::analysis::check(&dir)?);
                Ok(0)
            }
        },
        Command::Reveal(args) => reveal::run(&cfg, args),
        Command::Analyze(args) => analyze::run(&mut cfg, args, cli.quiet),
        Command::Baseline(args) => match args.action {
            crate::cli::BaselineAction::Show { segment, state_dir } => {
                let dir = state_dir
                    .or_else(|| cfg.analysis.state_dir(false))
                    .unwrap_or_else(|| crate::analysis::LIVE_STATE_DIR.into());
                print!("{}", crate::analysis::show::show(&dir, segment.as_deref())?);
                Ok(0)
            }
        },
    }
}

fn apply_common(cfg: &mut Config, c: &CommonArgs) -> Result<(), String> {
    if let Some(w) = c.workers {
        // 0 picks automatically, as `pipeline.workers = 0` does.
        cfg.pipeline.workers = w;
    }
    if let Some(o) = &c.out {
        cfg.output.path = o.clone();
    }
    if let Some(d) = &c.state_dir {
        cfg.analysis.state_dir = d.clone();
    }
    if let Some(f) = c.format {
        cfg.output.format = f;
    }
    if let Some(m) = c.checksums {
        cfg.decode.checksums = m;
    }
    if c.ignore_checksums {
        cfg.decode.checksums = ChecksumMode::Off;
    }
    if let Some(m) = &c.municipality {
        cfg.sensor.municipality = m.clone();
    }
    if let Some(s) = &c.sensor_id {
        cfg.sensor.sensor_id = s.clone();
    }
    cfg.validate().map_err(|e| e.to_string())
}

/// Opens the capture files of a replay ("-" is standard input). A file
/// that cannot be opened is reported, as a file damaged halfway is, and
/// the others are still replayed.
fn open_files(files: &[PathBuf]) -> (Vec<Box<dyn Source>>, Vec<CaptureError>) {
    let mut sources: Vec<Box<dyn Source>> = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for f in files {
        let opened = if f.as_os_str() == "-" {
            FileSource::open_stdin()
        } else {
            FileSource::open(f)
        };
        match opened {
            Ok(s) => sources.push(Box::new(s)),
            Err(e) => errors.push(e),
        }
    }
    (sources, errors)
}

/// Settles `auto` checksums before a replay starts, from the first packets
/// of each file, so that records never depend on how the packets were
/// spread over workers. Returns the summary's note when offload was seen.
/// Standard input cannot be read twice: with it, each worker samples its
/// own first packets instead, as in live capture.
fn settle_checksums(cfg: &mut Config, files: &[PathBuf]) -> Option<String> {
    if cfg.decode.checksums != ChecksumMode::Auto {
        return None;
    }
    let decoder = Decoder::new(DecodeOptions {
        validate_checksums: true,
        ..cfg.decode_options()
    });
    for f in files.iter().filter(|f| f.as_os_str() != "-") {
        let Ok(mut source) = FileSource::open(f) else {
            continue;
        };
        let probe = offload::sample(&decoder, &mut source);
        if probe.offload() {
            cfg.decode.checksums = ChecksumMode::Off;
            let finding = offload::Finding {
                source: f.display().to_string(),
                probe,
            };
            return Some(finding.describe());
        }
    }
    if files.iter().all(|f| f.as_os_str() != "-") {
        cfg.decode.checksums = ChecksumMode::Strict;
    }
    None
}

fn record_context(cfg: &Config) -> Result<RecordContext, String> {
    Ok(RecordContext {
        municipality: cfg.sensor.municipality.clone(),
        sensor: cfg.sensor.sensor_id.clone(),
        site: cfg.site().map_err(|e| e.to_string())?,
        uid_salt: cfg.uid_salt(),
    })
}

/// What feeds the pipeline.
enum Feed {
    /// Sources read in turn (lanes where they can be split).
    Sources(Vec<Box<dyn Source>>),
    /// One input per worker, already split (AF_PACKET fanout rings).
    Lanes(Vec<WorkerLanes>),
}

/// Runs the pipeline over `feed` with `workers` workers.
fn execute(
    cfg: &Config,
    feed: Feed,
    workers: usize,
    mode: Mode,
    progress: bool,
    stop: Arc<AtomicBool>,
) -> Result<Summary, String> {
    // A live sensor appends, so a restart keeps what it wrote before; a
    // replay's output is that replay's alone.
    let existing = match mode {
        Mode::Live if !cfg.output.truncate => crate::output::Existing::Append,
        _ => crate::output::Existing::Truncate,
    };
    let sink = crate::output::open(&cfg.output.path, cfg.output.format, existing)
        .map_err(|e| e.to_string())?;
    let sink = crate::output::ship(cfg, sink, mode == Mode::Live)?;
    let site = cfg.site().map_err(|e| e.to_string())?;
    let sink = crate::assets::in_front(&cfg.assets, site, sink, mode == Mode::Live, progress);
    let sink = crate::analysis::in_front(
        &cfg.analysis,
        &cfg.sensor.sensor_id,
        cfg.segment_kinds(),
        mode == Mode::Live,
        sink,
    )?;
    // A live sensor answers SIGHUP by reopening its output (log rotation),
    // where it would otherwise die.
    let reopen = match mode {
        Mode::Live => {
            let flag = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(signal_hook::consts::SIGHUP, flag.clone())
                .map_err(|e| format!("cannot install the SIGHUP handler: {e}"))?;
            Some(flag)
        }
        Mode::Replay => None,
    };
    let decode = cfg.decode_options();
    let table = cfg.table_config(workers);
    let make = move |_id: usize| Tracker::new(decode.clone(), table.clone());
    let opts = pipeline_options(cfg, workers, mode, progress, reopen);
    let ctx = record_context(cfg)?;
    Ok(match feed {
        Feed::Sources(sources) => pipeline::run(sources, &opts, &make, sink, ctx, stop),
        Feed::Lanes(lanes) => pipeline::run_lanes(lanes, &opts, &make, sink, ctx, stop),
    })
}

/// `vagt-sensor assets`: replays capture files into the inventory (the
/// one in --state, if given) and prints it as a table; with no files,
/// prints the inventory kept in --state.
fn assets_command(cfg: &mut Config, args: AssetsArgs, quiet: bool) -> Result<i32, String> {
    if let Some(w) = args.workers {
        cfg.pipeline.workers = w;
    }
    if args.ignore_checksums {
        cfg.decode.checksums = ChecksumMode::Off;
    }
    cfg.validate().map_err(|e| e.to_string())?;
    let site = cfg.site().map_err(|e| e.to_string())?;
    let max = cfg.assets.max_assets;
    let state = args.state.clone().or_else(|| cfg.assets.state_path(false));
    let (inventory, warning) = match &state {
        Some(path) if args.files.is_empty() && !path.exists() => {
            return Err(format!("no asset inventory at {}", path.display()))
        }
        Some(path) => store::load(path, site, max),
        None if args.files.is_empty() => {
            return Err(
                "give capture files to replay, or --state FILE to print a kept \
                        inventory (see vagt-sensor assets --help)"
                    .into(),
            )
        }
        None => (Inventory::new(site, max), None),
    };
    if let Some(w) = warning {
        tracing::warn!("{w}");
    }
    let mut code = 0;
    let inventory = if args.files.is_empty() {
        inventory
    } else {
        let note = settle_checksums(cfg, &args.files);
        let (sources, open_errors) = open_files(&args.files);
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = InventorySink::new(Box::<crate::output::NullSink>::default(), inventory, state)
            .handing_back(tx);
        let workers = cfg.workers();
        let decode = cfg.decode_options();
        let table = cfg.table_config(workers);
        let make = move |_id: usize| Tracker::new(decode.clone(), table.clone());
        let opts = pipeline_options(cfg, workers, Mode::Replay, false, None);
        let stop = Arc::new(AtomicBool::new(false));
        let ctx = record_context(cfg)?;
        let mut summary = pipeline::run(sources, &opts, &make, Box::new(sink), ctx, stop);
        summary.checksum_note = note.or(summary.checksum_note.take());
        summary.source_errors.splice(0..0, open_errors);
        code = finish(&summary, workers, "replayed", quiet);
        rx.recv()
            .map_err(|_| "the asset inventory was lost with the output thread".to_string())?
    };
    print!("{}", crate::assets::table::render(&inventory.assets()));
    Ok(code)
}

/// The pipeline's options from the configuration, for `workers` workers.
fn pipeline_options(
    cfg: &Config,
    workers: usize,
    mode: Mode,
    progress: bool,
    reopen: Option<Arc<AtomicBool>>,
) -> PipelineOptions {
    PipelineOptions {
        workers,
        batch_packets: cfg.pipeline.batch_packets,
        queue_batches: cfg.pipeline.queue_batches,
        mode,
        stats_interval: (mode == Mode::Live).then(|| {
            // With Kafka on, the health topic wants its event more often.
            let every = if cfg.kafka.enabled {
                cfg.output.stats_interval.min(cfg.kafka.health_interval)
            } else {
                cfg.output.stats_interval
            };
            Duration::from_secs_f64(every.max(1.0))
        }),
        progress,
        latency: false,
        dispatch: cfg.pipeline.dispatch,
        flush_interval: Duration::from_secs_f64(cfg.output.flush_interval),
        reopen,
        arp: cfg.arp.limits(),
        dhcp: cfg.app.dhcp,
    }
}

fn replay(cfg: &mut Config, args: ReplayArgs, quiet: bool) -> Result<i32, String> {
    apply_common(cfg, &args.common)?;
    if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return Err("standard input (\"-\") can be read only once; name it once".into());
    }
    let note = settle_checksums(cfg, &args.files);
    let (sources, open_errors) = open_files(&args.files);
    let workers = cfg.workers();
    let mut summary = execute(
        cfg,
        Feed::Sources(sources),
        workers,
        Mode::Replay,
        !args.no_progress && !quiet,
        Arc::new(AtomicBool::new(false)),
    )?;
    summary.checksum_note = note.or(summary.checksum_note.take());
    // Files that could not be opened come first, in the order given.
    summary.source_errors.splice(0..0, open_errors);
    Ok(finish(&summary, workers, "replayed", quiet))
}

fn live(cfg: &mut Config, args: RunArgs, quiet: bool) -> Result<i32, String> {
    apply_common(cfg, &args.common)?;
    if let Some(i) = args.interface {
        cfg.capture.interface = i;
    }
    if let Some(b) = args.bpf {
        cfg.capture.bpf = b;
    }
    if let Some(s) = args.snaplen {
        cfg.capture.snaplen = s;
    }
    if args.no_promisc {
        cfg.capture.promiscuous = false;
    }
    if let Some(b) = args.buffer_mib {
        cfg.capture.buffer_mib = b;
    }
    if let Some(m) = args.method {
        cfg.capture.method = m;
    }
    if args.truncate {
        cfg.output.truncate = true;
    }
    cfg.validate().map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| format!("cannot install signal handler: {e}"))?;
    }
    let (feed, workers, how) = open_live(cfg)?;
    if !quiet {
        tracing::info!(
            interface = cfg.capture.interface,
            method = how,
            workers,
            "capturing on {} ({how}) with {workers} worker(s); stop with Ctrl-C",
            cfg.capture.interface,
        );
    }
    let summary = execute(cfg, feed, workers, Mode::Live, false, stop)?;
    Ok(finish(&summary, workers, "captured", quiet))
}

/// Opens the interface with the configured capture method.
fn open_live(cfg: &Config) -> Result<(Feed, usize, &'static str), String> {
    let pcap = |cfg: &Config| -> Result<(Feed, usize, &'static str), String> {
        let source = LiveSource::open(&cfg.capture).map_err(|e| e.to_string())?;
        let feed = Feed::Sources(vec![Box::new(source)]);
        Ok((feed, cfg.workers_beside_reader(), "libpcap"))
    };
    #[cfg(target_os = "linux")]
    let af_packet = |cfg: &Config| -> Result<(Feed, usize, &'static str), String> {
        let workers = cfg.workers();
        let lanes = afpacket::open(&cfg.capture, workers).map_err(|e| e.to_string())?;
        let feed = lanes
            .into_iter()
            .map(|lane| WorkerLanes::new(vec![Box::new(lane) as Box<dyn Source>]))
            .collect();
        Ok((Feed::Lanes(feed), workers, "af-packet"))
    };
    #[cfg(not(target_os = "linux"))]
    let af_packet = |_: &Config| -> Result<(Feed, usize, &'static str), String> {
        Err("af-packet capture exists on Linux only; set capture.method = \"libpcap\"".into())
    };
    match cfg.capture.method {
        CaptureMethod::Libpcap => pcap(cfg),
        CaptureMethod::AfPacket => af_packet(cfg),
        // Where AF_PACKET rings cannot be had, libpcap may still work; if
        // neither does, the AF_PACKET problem is the one to explain.
        CaptureMethod::Auto => af_packet(cfg).or_else(|e| pcap(cfg).map_err(|_| e)),
    }
}

fn demo(cfg: &mut Config, args: DemoArgs, quiet: bool) -> Result<i32, String> {
    apply_common(cfg, &args.common)?;
    let built_in = cfg.segments.is_empty();
    if built_in {
        // The demo network's own segments, said out loud and written out
        // on request: a replay of the same capture with the same
        // configuration gives the same records.
        cfg.segments = crate::synth::municipal::segments();
        cfg.validate().map_err(|e| e.to_string())?;
    }
    if let Some(path) = &args.write_config {
        write_config(cfg, path)?;
    }
    if !quiet {
        let names: Vec<&str> = cfg.segments.iter().map(|s| s.name.as_str()).collect();
        let whence = match (&args.write_config, built_in) {
            (Some(p), _) => format!("written to {}", p.display()),
            (None, true) => "the demo network's; --write-config FILE saves them".into(),
            (None, false) => "from the configuration".into(),
        };
        tracing::info!("segments {} ({whence})", names.join(", "));
    }
    let (path, temporary) = match &args.pcap {
        Some(p) => (p.clone(), false),
        None => (
            std::env::temp_dir().join(format!("vagt-demo-{}.pcap", std::process::id())),
            true,
        ),
    };
    let truth = crate::synth::municipal::write_pcap(&path, args.seed, args.packets)
        .map_err(|e| format!("cannot write demo capture {}: {e}", path.display()))?;
    if !quiet {
        let scanner = crate::synth::municipal::SCANNER;
        let probes = truth
            .connections
            .iter()
            .filter(|c| c.orig.0 == scanner)
            .count();
        tracing::info!(
            "generated {} packets in {} connections ({}) from seed {}, \
             among them a port scan of {probes} ports from {scanner} (guest)",
            truth.packets,
            truth.connections.len(),
            path.display(),
            args.seed
        );
    }
    let note = settle_checksums(cfg, std::slice::from_ref(&path));
    let source = FileSource::open(&path).map_err(|e| e.to_string())?;
    let workers = cfg.workers();
    let result = execute(
        cfg,
        Feed::Sources(vec![Box::new(source)]),
        workers,
        Mode::Replay,
        !quiet,
        Arc::new(AtomicBool::new(false)),
    );
    if temporary {
        let _ = std::fs::remove_file(&path);
    }
    let mut summary = result?;
    summary.checksum_note = note.or(summary.checksum_note.take());
    Ok(finish(&summary, workers, "replayed", quiet))
}

/// Writes the configuration a demo ran with, as TOML that `-c` reads back.
fn write_config(cfg: &Config, path: &std::path::Path) -> Result<(), String> {
    // Where the demo wrote its records is no setting for the next run.
    let mut cfg = cfg.clone();
    cfg.output.path = crate::config::OutputSection::default().path;
    let body =
        toml::to_string(&cfg).map_err(|e| format!("cannot write the demo's configuration: {e}"))?;
    let text = format!(
        "# The configuration `vagt-sensor demo` ran with: the demo network's segments\n\
         # and every other setting. `vagt-sensor -c {} replay CAPTURE` gives the\n\
         # demo's records again; `vagt-sensor config` documents each setting.\n\n{body}",
        path.display()
    );
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn config_command(args: ConfigArgs) -> Result<i32, String> {
    match args.check {
        Some(path) => {
            let cfg = Config::load(&path).map_err(|e| e.to_string())?;
            println!(
                "{}: valid ({} segment(s), {} worker(s))",
                path.display(),
                cfg.segments.len(),
                cfg.workers()
            );
        }
        None => print!("{}", Config::default_toml()),
    }
    Ok(0)
}

/// Prints the summary and picks the exit code.
fn finish(s: &Summary, workers: usize, verb: &str, quiet: bool) -> i32 {
    if !quiet {
        eprint!("{}", render_summary(s, workers, verb));
    }
    if let (Some(note), false) = (&s.checksum_note, quiet) {
        tracing::info!("note: {note}");
    }
    for e in &s.source_errors {
        tracing::error!("{e}");
    }
    if let Some(e) = &s.output_error {
        tracing::error!("{e}");
        return 1;
    }
    if !s.source_errors.is_empty() {
        return 2;
    }
    0
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The end-of-run summary shown to the user.
pub fn render_summary(s: &Summary, workers: usize, verb: &str) -> String {
    // A replay's rate is its speed; a live capture's is the traffic's, over
    // the time packets flowed (the run's wall time includes idle minutes).
    let rate = match (s.live, s.traffic()) {
        (false, _) => format!(
            ": {:.0} packets/s, {:.0} Mbit/s",
            s.speed().packets_per_sec,
            s.speed().mbit_per_sec
        ),
        (true, Some(t)) => format!(
            "; while packets flowed ({:.2} s, first to last): {:.0} packets/s, {:.0} Mbit/s",
            t.secs, t.packets_per_sec, t.mbit_per_sec
        ),
        (true, None) => String::new(),
    };
    let mut out = format!(
        "vagt-sensor: {verb} {} packets ({:.1} MB) in {:.2} s with {workers} worker(s){rate}\n",
        thousands(s.packets),
        s.bytes as f64 / 1e6,
        s.wall.as_secs_f64(),
    );
    out += &format!(
        "  connections: {} written, {} evicted early (table full), at most {} held at once\n",
        thousands(s.records),
        thousands(s.table.evicted),
        thousands(s.table.peak)
    );
    let errors: Vec<String> = s
        .decode
        .errors_by_name()
        .map(|(name, n)| format!("{name} {}", thousands(n)))
        .collect();
    if errors.is_empty() {
        out += "  decode errors: none\n";
    } else {
        out += &format!(
            "  decode errors: {} ({})\n",
            thousands(s.decode.total_errors()),
            errors.join(", ")
        );
    }
    let mut drops = vec![format!("queue full {}", thousands(s.queue_drops))];
    if let Some(k) = s.kernel {
        drops.push(format!("kernel {}", thousands(k.dropped)));
        drops.push(format!("interface {}", thousands(k.if_dropped)));
    }
    out += &format!("  drops: {}\n", drops.join(", "));
    out
}
