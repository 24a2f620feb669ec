//! `vagt-sensor baseline show [SEGMENT]`: the learned baselines as tables
//! people read. Without a segment, one line per segment (learnt hours,
//! learning or not, hosts known); with one, what each hour of the week
//! normally holds, "mean ± spread", beside the samples it rests on.

use std::fmt::Write;
use std::path::Path;
use vagt_detect::baseline::{clock, metrics::METRICS, Baselines, Settings};
use vagt_detect::detectors::volume::bytes;
use vagt_detect::state::{self, Loaded};

/// A count for people: 950, 12.3k, 4.1M.
fn count(n: f64) -> String {
    match n {
        n if n >= 1e6 => format!("{:.1}M", n / 1e6),
        n if n >= 1e4 => format!("{:.0}k", n / 1e3),
        n if n >= 1e3 => format!("{:.1}k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

fn value(metric: &str, v: f64) -> String {
    if metric.starts_with("bytes") {
        bytes(v)
    } else {
        count(v)
    }
}

/// The baselines saved in `dir`.
fn load(dir: &Path) -> Result<Baselines, String> {
    // Show only reads: a bad file is left where it is for the sensor.
    match state::load_readonly(dir, &Settings::default()) {
        Ok(Loaded::Restored(s)) => Ok(s.baselines),
        Ok(Loaded::Fresh) => Err(format!(
            "no learned state in {} yet (the sensor saves {} there once it has written an interval)",
            dir.display(),
            state::FILE
        )),
        Ok(Loaded::SetAside(_, why)) => Err(format!("the state in {} is {why}", dir.display())),
        Err(e) => Err(format!("cannot read {}: {e}", state::path(dir).display())),
    }
}

/// The text `baseline show` prints.
pub fn show(dir: &Path, segment: Option<&str>) -> Result<String, String> {
    let b = load(dir)?;
    let learning = b.settings().learning;
    let mut out = String::new();
    let Some(name) = segment else {
        let _ = writeln!(
            out,
            "{:<20} {:>8} {:>17} {:>10}  learning",
            "segment", "hours", "first seen", "hosts"
        );
        for (name, s) in &b.segments {
            let hosts = b.hosts.iter().filter(|(_, h)| h.segment == *name).count();
            let age = b.now - s.first;
            let _ = writeln!(
                out,
                "{:<20} {:>8} {:>17} {:>10}  {}",
                name,
                s.hours,
                clock::date_time(s.first),
                hosts,
                if age < learning {
                    format!(
                        "yes, {:.1} of {:.0} days",
                        age / clock::DAY,
                        learning / clock::DAY
                    )
                } else {
                    "done".to_string()
                }
            );
        }
        if b.segments.is_empty() {
            out.push_str("(no segment seen yet)\n");
        }
        return Ok(out);
    };
    let Some(s) = b.segments.get(name) else {
        let known: Vec<&str> = b.segments.keys().map(String::as_str).collect();
        return Err(format!(
            "no baseline for segment {name:?}; the state knows: {}",
            if known.is_empty() {
                "none yet".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    let _ = writeln!(
        out,
        "segment {name}: first seen {}, {} hours learnt; each cell is the normal for that hour, mean ± spread (samples)",
        clock::date_time(s.first),
        s.hours
    );
    let _ = write!(out, "{:<16}", "hour");
    for m in METRICS {
        let _ = write!(out, " {m:>22}");
    }
    out.push('\n');
    for how in 0..168u8 {
        let cells: Vec<_> = s.seasonal.iter().map(|m| m.slot(how)).collect();
        if cells.iter().all(|c| c.samples() == 0) {
            continue;
        }
        let _ = write!(out, "{:<16}", clock::slot_name(how));
        for (m, c) in METRICS.iter().zip(&cells) {
            let cell = format!(
                "{} ± {} ({})",
                value(m, c.mean()),
                value(m, c.spread()),
                c.samples()
            );
            let _ = write!(out, " {cell:>22}");
        }
        out.push('\n');
    }
    Ok(out)
}
