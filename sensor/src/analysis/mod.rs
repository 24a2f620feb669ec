//! The analysis stage in the sensor: `vagt-detect` runs in the writer
//! thread in front of the output, after the workers' events are merged (a
//! scanner's connections land on several workers). Every event goes on to
//! the output, then any alerts the stage raised from it. The rules come
//! from a folder (`[analysis] rules`) or, without one, from the files in
//! the repository's `rules/`, built in. SIGHUP reloads them; a broken file
//! leaves the last good set in force and says so.

use crate::output::Sink;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use vagt_detect::{Analysis, Rules, RulesError};

pub mod show;
pub mod state;
use vagt_schema::{AnalysisStats, Event, EventBody};

/// The rules built into the sensor: the repository's `rules/` folder.
const BUILT_IN: [(&str, &str); 3] = [
    (
        "rules/allow.toml",
        include_str!("../../../rules/allow.toml"),
    ),
    (
        "rules/indicators.toml",
        include_str!("../../../rules/indicators.toml"),
    ),
    (
        "rules/thresholds.toml",
        include_str!("../../../rules/thresholds.toml"),
    ),
];

/// The `[analysis]` settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisSection {
    /// Run the detectors and write `alert` events.
    pub enabled: bool,
    /// Folder of rules files (`*.toml`, and indicator feeds `*.intel` and
    /// `*.dat`); "" uses the built-in rules.
    pub rules: String,
    /// Folder of the learned state (baselines, what detectors remember):
    /// "" means /var/lib/vagt for `run` (where it exists) and nothing for
    /// replays, which then start fresh; "none" never saves.
    pub state_dir: String,
    /// Write a `segment_metrics` event per segment and interval.
    pub segment_metrics: bool,
}

impl Default for AnalysisSection {
    fn default() -> Self {
        AnalysisSection {
            enabled: true,
            rules: String::new(),
            state_dir: String::new(),
            segment_metrics: true,
        }
    }
}

/// Where `run` keeps learned state by default: the systemd unit's
/// StateDirectory.
pub const LIVE_STATE_DIR: &str = "/var/lib/vagt";

impl AnalysisSection {
    /// The state folder for a live run (`live`) or a replay.
    pub fn state_dir(&self, live: bool) -> Option<PathBuf> {
        match self.state_dir.as_str() {
            "none" => None,
            "" if live => {
                let p = PathBuf::from(LIVE_STATE_DIR);
                p.is_dir().then_some(p)
            }
            "" => None,
            p => Some(PathBuf::from(p)),
        }
    }
}

/// The built-in rules.
pub fn built_in() -> Result<Rules, RulesError> {
    let mut rules = Rules::default();
    for (name, text) in BUILT_IN {
        rules.add_file(Path::new(name), text)?;
    }
    Ok(rules)
}

/// A short name for the rules in force: "built-in", or the first 12 hex
/// digits of a SHA-256 over the files' names and contents, so the centre
/// sees which sensors run which rules.
fn rules_version(rules: &Rules) -> String {
    use sha2::{Digest, Sha256};
    if rules.files.is_empty() {
        return "built-in".into();
    }
    let mut h = Sha256::new();
    for f in &rules.files {
        h.update(
            f.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        h.update(std::fs::read(f).unwrap_or_default());
    }
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The rules `settings` name.
pub fn load(settings: &AnalysisSection) -> Result<Rules, RulesError> {
    if settings.rules.is_empty() {
        built_in()
    } else {
        Rules::load_dir(Path::new(&settings.rules))
    }
}

/// The analysis stage `settings` describe, with what it learnt before
/// restored from its state folder (returned, for saving), where it has one.
pub fn stage(
    settings: &AnalysisSection,
    sensor_id: &str,
    kinds: BTreeMap<String, String>,
    live: bool,
) -> Result<(Analysis, Option<PathBuf>), String> {
    let mut rules = load(settings).map_err(|e| format!("rules: {e}"))?;
    rules.segment_kinds = kinds;
    let mut analysis = Analysis::new(rules, sensor_id);
    analysis.write_metrics = settings.segment_metrics;
    let state = settings.state_dir(live);
    if let Some(dir) = &state {
        state::restore(&mut analysis, dir)?;
    }
    Ok((analysis, state))
}

/// Puts the analysis stage in front of `sink` when enabled; `kinds` says
/// what each configured segment is for (care and OT alerts rank higher).
pub fn in_front(
    settings: &AnalysisSection,
    sensor_id: &str,
    kinds: BTreeMap<String, String>,
    live: bool,
    sink: Box<dyn Sink>,
) -> Result<Box<dyn Sink>, String> {
    if !settings.enabled {
        return Ok(sink);
    }
    let (analysis, state) = stage(settings, sensor_id, kinds, live)?;
    Ok(Box::new(AnalysisSink {
        inner: sink,
        rules_version: rules_version(analysis.rules()),
        analysis,
        dir: (!settings.rules.is_empty()).then(|| PathBuf::from(&settings.rules)),
        rules_error: None,
        out: Vec::new(),
        state: state.map(state::Saver::new),
    }))
}

/// The stage in front of the output.
pub struct AnalysisSink {
    inner: Box<dyn Sink>,
    pub analysis: Analysis,
    /// The rules folder, for reloads.
    dir: Option<PathBuf>,
    /// Why the last reload failed, for the stats event.
    rules_error: Option<String>,
    /// Which rules are in force, for the stats event.
    rules_version: String,
    out: Vec<Event>,
    /// Saves the learned state, when there is a folder for it.
    state: Option<state::Saver>,
}

impl AnalysisSink {
    fn pass_on(&mut self) -> io::Result<()> {
        for alert in self.out.drain(..) {
            self.inner.write(&alert)?;
        }
        Ok(())
    }
}

impl Sink for AnalysisSink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        if matches!(event.body, EventBody::Stats(_)) {
            // The sensor's health carries the stage's own.
            let a = &self.analysis.stats;
            let mut with = event.clone();
            if let EventBody::Stats(s) = &mut with.body {
                s.analysis = Some(AnalysisStats {
                    events: a.events,
                    notices: a.notices,
                    alerts: a.alerts,
                    allowed: a.allowed,
                    open_alerts: self.analysis.open_alerts() as u64,
                    rules_files: self.analysis.rules().files.len() as u64,
                    rules_error: self.rules_error.clone(),
                    tracked: self.analysis.tracked().entries,
                    evictions: self.analysis.tracked().evicted,
                    state_error: self.state.as_ref().and_then(|s| s.error.clone()),
                    rules_version: Some(self.rules_version.clone()),
                    segments: Some(self.analysis.segments_learning(s.ts)),
                });
            }
            return self.inner.write(&with);
        }
        self.inner.write(event)?;
        self.analysis.observe(event, &mut self.out);
        if let Some(s) = &mut self.state {
            s.interval_written(&mut self.analysis, false);
        }
        self.pass_on()
    }

    fn end_of_input(&mut self) -> io::Result<()> {
        // Findings that wait for a window to close, and the updates of
        // alerts that repeated, are decided now, before the final
        // statistics.
        self.analysis.finish(&mut self.out);
        if let Some(s) = &mut self.state {
            s.save(&self.analysis);
        }
        self.pass_on()?;
        self.inner.end_of_input()
    }

    fn finish(&mut self) -> io::Result<()> {
        // Without an end of input (a live sensor stopping), the same.
        self.analysis.finish(&mut self.out);
        if let Some(s) = &mut self.state {
            s.save(&self.analysis);
        }
        self.pass_on()?;
        self.inner.finish()
    }

    fn flush(&mut self) -> io::Result<()> {
        // The output is quiet for a moment: a save held back is done now.
        if let Some(s) = &mut self.state {
            s.interval_written(&mut self.analysis, true);
        }
        self.inner.flush()
    }

    fn reopen(&mut self) -> io::Result<Option<String>> {
        let said = self.inner.reopen()?;
        let Some(dir) = &self.dir else {
            return Ok(said);
        };
        let rules = match Rules::load_dir(dir) {
            Ok(r) => {
                let n = r.files.len();
                let indicators = r.indicators.len();
                self.rules_version = rules_version(&r);
                self.rules_error = None;
                self.analysis.set_rules(r);
                format!(
                    "rules reloaded from {} ({n} files, {indicators} indicators)",
                    dir.display()
                )
            }
            Err(e) => {
                self.rules_error = Some(e.to_string());
                format!("rules NOT reloaded, the last good set stays in force: {e}")
            }
        };
        Ok(Some(match said {
            Some(s) => format!("{s}; {rules}"),
            None => rules,
        }))
    }
}

/// `vagt-sensor rules check DIR`: every file read as the sensor would,
/// and what they hold (indicators per type, feed lines skipped).
pub fn check(dir: &Path) -> Result<String, String> {
    let rules = Rules::load_dir(dir).map_err(|e| e.to_string())?;
    Ok(format!(
        "{}: {} file(s), {} allow entr{}, {} — ok",
        dir.display(),
        rules.files.len(),
        rules.allow.len(),
        if rules.allow.len() == 1 { "y" } else { "ies" },
        rules.indicators.summary()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn care_and_ot_segments_are_critical_and_unknown_kinds_refused() {
        let cfg: crate::config::Config = toml::from_str(
            "[[segments]]\nname = \"pleje\"\nkind = \"care\"\n[[segments]]\nname = \"kontor\"\nkind = \"admin\"\n[[segments]]\nname = \"vand\"\nkind = \"ot\"\n",
        )
        .expect("config");
        let rules = Rules {
            segment_kinds: cfg.segment_kinds(),
            ..Rules::default()
        };
        let critical: Vec<&str> = ["pleje", "kontor", "vand", "other"]
            .into_iter()
            .filter(|s| rules.is_critical(s))
            .collect();
        assert_eq!(critical, vec!["pleje", "vand"]);
        let bad: crate::config::Config =
            toml::from_str("[[segments]]\nname = \"x\"\nkind = \"hospital\"\n").expect("parses");
        let e = bad.site().expect_err("unknown kind");
        assert!(e.to_string().contains("segments[0].kind"), "{e}");
    }

    #[test]
    fn the_built_in_rules_are_the_defaults_and_say_so() {
        // rules/thresholds.toml documents every threshold with its
        // default: it must agree with the code.
        let rules = built_in().expect("built-in rules load");
        assert_eq!(rules.thresholds, vagt_detect::rules::Thresholds::default());
        assert!(rules.allow.is_empty());
        // rules/indicators.toml only shows how to write them.
        assert!(rules.indicators.is_empty());
    }
}
