//! `vagt-sensor analyze`: the analysis stage over events recorded before
//! (JSON Lines as the sensor writes them, or as the centre receives them).
//! The same detectors, baselines and policy as in a replay or a live run,
//! with the configuration's segments, rules and state; only what the stage
//! raises is written. Bad lines are reported with file and line, skipped
//! and counted, never fatal: everything else is still analysed.

use crate::analysis::state::Saver;
use crate::cli::AnalyzeArgs;
use crate::config::{Config, OutputFormat};
use crate::output::{Existing, Sink};
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::time::Instant;
use vagt_detect::Analysis;
use vagt_schema::{Event, EventBody};

/// Bad lines reported one by one; the rest are only counted.
const SHOWN: u64 = 5;

/// What the run read and raised.
#[derive(Default)]
struct Tally {
    events: u64,
    /// Earlier analysis output in the input (alerts, metrics, statistics).
    skipped: u64,
    bad: u64,
    first_bad: Option<String>,
    alerts: u64,
    metrics: u64,
    unreadable: Vec<String>,
}

pub fn run(cfg: &mut Config, args: AnalyzeArgs, quiet: bool) -> Result<i32, String> {
    if let Some(o) = &args.out {
        cfg.output.path = o.clone();
    }
    if let Some(r) = &args.rules {
        cfg.analysis.rules = r.display().to_string();
    }
    if let Some(d) = &args.state_dir {
        cfg.analysis.state_dir = d.clone();
    }
    cfg.validate().map_err(|e| e.to_string())?;
    let (analysis, state_dir) = crate::analysis::stage(
        &cfg.analysis,
        &cfg.sensor.sensor_id,
        cfg.segment_kinds(),
        false,
    )?;
    let saver = state_dir.map(Saver::new);
    // Alerts and metrics have no Zeek log: always JSON Lines.
    let sink = crate::output::open(&cfg.output.path, OutputFormat::Json, Existing::Truncate)
        .map_err(|e| format!("cannot open the output {}: {e}", cfg.output.path))?;

    let start = Instant::now();
    let mut stage = Stage {
        analysis,
        saver,
        sink,
        out: Vec::new(),
        tally: Tally::default(),
    };
    let written = stage.run(&args.files);
    let tally = &stage.tally;
    if !quiet {
        eprintln!(
            "{}",
            summary(tally, args.files.len(), start.elapsed().as_secs_f64())
        );
    }
    // What was learnt and could not be kept is lost: the run failed.
    let unsaved = stage.saver.as_ref().and_then(|s| s.error.as_ref());
    if let Some(e) = unsaved {
        tracing::error!("{e}");
    }
    if let Err(e) = written {
        tracing::error!("cannot write to {}: {e}", cfg.output.path);
        return Ok(1);
    }
    if unsaved.is_some() {
        return Ok(1);
    }
    for e in &tally.unreadable {
        tracing::error!("{e}");
    }
    Ok(if tally.unreadable.is_empty() && tally.bad == 0 {
        0
    } else {
        2
    })
}

/// The stage and where its findings go.
struct Stage {
    analysis: Analysis,
    saver: Option<Saver>,
    sink: Box<dyn Sink>,
    out: Vec<Event>,
    tally: Tally,
}

impl Stage {
    /// Every file in turn, then the end of input: findings that wait for a
    /// window to close are decided and the state saved.
    fn run(&mut self, files: &[std::path::PathBuf]) -> io::Result<()> {
        for file in files {
            self.file(file)?;
        }
        self.analysis.finish(&mut self.out);
        self.pass_on()?;
        if let Some(s) = &mut self.saver {
            s.save(&self.analysis);
        }
        self.sink.end_of_input()?;
        self.sink.finish()
    }

    /// Reads one file of events through the stage. Only a write error
    /// stops the run; a file that cannot be read is reported and skipped.
    fn file(&mut self, path: &Path) -> io::Result<()> {
        let name = path.display().to_string();
        let mut reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
            Box::new(io::stdin().lock())
        } else {
            match std::fs::File::open(path) {
                Ok(f) => Box::new(BufReader::with_capacity(1 << 20, f)),
                Err(e) => {
                    self.tally.unreadable.push(format!(
                        "cannot open {name}: {e}; the other files were analysed"
                    ));
                    return Ok(());
                }
            }
        };
        // Rotated records are often compressed: gzip is read as it comes,
        // known by its magic number rather than the file's name.
        if reader
            .fill_buf()
            .is_ok_and(|b| b.starts_with(&[0x1f, 0x8b]))
        {
            reader = Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::bufread::MultiGzDecoder::new(reader),
            ));
        }
        self.lines(&name, reader)
    }

    fn lines(&mut self, name: &str, mut reader: Box<dyn BufRead>) -> io::Result<()> {
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    self.tally.unreadable.push(format!(
                        "cannot read {name} after line {number}: {e}; the lines before were analysed"
                    ));
                    return Ok(());
                }
            }
            number += 1;
            let text = line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Event>(text) {
                Ok(event) => self.event(&event)?,
                Err(e) => self.bad(format!("{name}:{number}: not an event ({e})")),
            }
        }
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        if matches!(
            event.body,
            EventBody::Alert(_) | EventBody::Stats(_) | EventBody::SegmentMetrics(_)
        ) {
            self.tally.skipped += 1;
            return Ok(());
        }
        self.tally.events += 1;
        self.analysis.observe(event, &mut self.out);
        if let Some(s) = &mut self.saver {
            s.interval_written(&mut self.analysis, false);
        }
        self.pass_on()
    }

    fn bad(&mut self, what: String) {
        self.tally.bad += 1;
        if self.tally.bad <= SHOWN {
            tracing::warn!("{what}; skipped");
        }
        self.tally.first_bad.get_or_insert(what);
    }

    fn pass_on(&mut self) -> io::Result<()> {
        for e in self.out.drain(..) {
            match e.body {
                EventBody::Alert(_) => self.tally.alerts += 1,
                EventBody::SegmentMetrics(_) => self.tally.metrics += 1,
                _ => {}
            }
            self.sink.write(&e)?;
        }
        Ok(())
    }
}

fn summary(t: &Tally, files: usize, secs: f64) -> String {
    let mut s = format!(
        "vagt-sensor: analysed {} events from {files} file(s) in {secs:.2} s ({:.0} events/s): {} alert event(s), {} segment metrics",
        super::thousands(t.events),
        t.events as f64 / secs.max(1e-9),
        super::thousands(t.alerts),
        super::thousands(t.metrics),
    );
    if t.skipped > 0 {
        s.push_str(&format!(
            "; {} earlier alerts, metrics and statistics skipped",
            super::thousands(t.skipped)
        ));
    }
    if let Some(first) = &t.first_bad {
        s.push_str(&format!(
            "; {} line(s) were not events and were skipped (first: {first})",
            super::thousands(t.bad)
        ));
    }
    s
}
