//! Replays into memory, for tests and the bench: the pipeline of
//! `replay` with a memory sink in place of the output file, with or
//! without the analysis stage in front of it.

use super::{open_files, pipeline_options, record_context, settle_checksums, Mode};
use crate::config::Config;
use crate::flow::tracker::Tracker;
use crate::pipeline::{self, Summary};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Replays `files` with `cfg` and returns every event written, in memory.
/// The entry point for tests and benchmarks that check records.
pub fn replay_collect(
    cfg: &Config,
    files: &[std::path::PathBuf],
) -> Result<(Vec<vagt_schema::Event>, Summary), String> {
    collect(cfg, files, Ok)
}

/// [`replay_collect`] with the analysis stage in front of the memory (as
/// `replay` runs it), so the events include the alerts it raised.
pub fn replay_collect_analysed(
    cfg: &Config,
    files: &[std::path::PathBuf],
) -> Result<(Vec<vagt_schema::Event>, Summary), String> {
    collect(cfg, files, |sink| {
        crate::analysis::in_front(
            &cfg.analysis,
            &cfg.sensor.sensor_id,
            cfg.segment_kinds(),
            false,
            sink,
        )
    })
}

fn collect(
    cfg: &Config,
    files: &[std::path::PathBuf],
    wrap: impl FnOnce(Box<dyn crate::output::Sink>) -> Result<Box<dyn crate::output::Sink>, String>,
) -> Result<(Vec<vagt_schema::Event>, Summary), String> {
    let mut cfg = cfg.clone();
    let note = settle_checksums(&mut cfg, files);
    let (sources, errors) = open_files(files);
    if let Some(e) = errors.first() {
        return Err(e.to_string());
    }
    let sink = crate::output::memory::MemorySink::new();
    let workers = cfg.workers();
    let decode = cfg.decode_options();
    let table = cfg.table_config(workers);
    let make = move |_id: usize| Tracker::new(decode.clone(), table.clone());
    let opts = pipeline_options(&cfg, workers, Mode::Replay, false, None);
    let mut summary = pipeline::run(
        sources,
        &opts,
        &make,
        wrap(Box::new(sink.clone()))?,
        record_context(&cfg)?,
        Arc::new(AtomicBool::new(false)),
    );
    summary.checksum_note = note.or(summary.checksum_note);
    Ok((sink.take(), summary))
}
