//! The sensor's side of the learned state: restored at start from the
//! state folder, saved whenever the analysis stage has written an interval
//! (at most once a second of wall time while busy, so a fast replay does
//! not spend its time writing, and at once when the output goes quiet or
//! the sensor stops). A save that fails is reported once and retried; the
//! sensor keeps running on what it has in memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vagt_detect::state::{self, Loaded};
use vagt_detect::Analysis;

/// Wall time between saves while events keep coming.
const MIN_GAP: Duration = Duration::from_secs(1);

/// Restores `analysis` from `dir`, when it holds a state.
pub fn restore(analysis: &mut Analysis, dir: &Path) -> Result<(), String> {
    let settings = analysis.rules().thresholds.baseline.clone();
    match state::load(dir, &settings) {
        Ok(Loaded::Fresh) => Ok(()),
        Ok(Loaded::Restored(saved)) => {
            let refused = analysis.restore(*saved);
            if !refused.is_empty() {
                tracing::warn!(
                    "learned state of {} in {} is not usable; they start afresh",
                    refused.join(", "),
                    dir.display()
                );
            }
            Ok(())
        }
        Ok(Loaded::SetAside(aside, why)) => {
            tracing::warn!(
                "the analysis state in {} is {why}; moved to {} and learning starts afresh",
                dir.display(),
                aside.display()
            );
            Ok(())
        }
        Err(e) => Err(format!(
            "cannot read the analysis state in {}: {e} (make it readable, or point [analysis] state_dir or --state-dir elsewhere)",
            dir.display()
        )),
    }
}

/// Saves the state as intervals are written.
pub struct Saver {
    dir: PathBuf,
    last: Option<Instant>,
    pending: bool,
    /// Why the last save failed, for health.
    pub error: Option<String>,
}

impl Saver {
    pub fn new(dir: PathBuf) -> Saver {
        Saver {
            dir,
            last: None,
            pending: false,
            error: None,
        }
    }

    /// After events (or, `idle`, when the output went quiet): saves when
    /// an interval was written since the last save.
    pub fn interval_written(&mut self, analysis: &mut Analysis, idle: bool) {
        self.pending |= analysis.take_dirty();
        if self.pending && (idle || self.last.is_none_or(|l| l.elapsed() >= MIN_GAP)) {
            self.save(analysis);
        }
    }

    pub fn save(&mut self, analysis: &Analysis) {
        self.last = Some(Instant::now());
        match state::save(&self.dir, &analysis.saved()) {
            Ok(()) => {
                self.pending = false;
                self.error = None;
            }
            Err(e) => {
                let msg = format!(
                    "cannot save the analysis state in {}: {e}; it is kept in memory and saving is retried",
                    self.dir.display()
                );
                if self.error.as_deref() != Some(msg.as_str()) {
                    tracing::warn!("{msg}");
                }
                self.error = Some(msg);
            }
        }
    }
}
