//! A table larger than the caches: tens of thousands of connections open
//! at once, so workers look ahead and prefetch each packet's connection
//! (they only do above a few thousand). The records must be exactly what
//! was sent, connection by connection, whatever the number of workers and
//! whether workers read the input themselves (and look ahead) or are fed
//! by a reader thread (and do not).

mod common;

use common::many::{tally, write_capture};
use common::*;
use vagt_sensor::config::Config;
use vagt_sensor::pipeline::Dispatch;

#[test]
fn tens_of_thousands_of_open_connections_are_tracked_exactly() {
    let dir = temp_dir("many");
    let path = dir.join("many.pcap");
    let truth = write_capture(&path);
    let mut first: Option<Vec<String>> = None;
    for (workers, dispatch) in [
        (1, Dispatch::Auto),
        (2, Dispatch::Auto),
        (4, Dispatch::Auto),
        (2, Dispatch::Queued),
    ] {
        let mut cfg = Config::default();
        cfg.pipeline.workers = workers;
        cfg.pipeline.dispatch = dispatch;
        let (events, summary) = replay(&cfg, std::slice::from_ref(&path));
        assert!(summary.source_errors.is_empty());
        let records = conns(&events);
        assert!(tally(&records) == truth, "{workers} workers, {dispatch:?}");
        let mut lines: Vec<String> = records
            .iter()
            .map(|c| serde_json::to_string(c).expect("serialise"))
            .collect();
        lines.sort();
        match &first {
            None => first = Some(lines),
            Some(f) => assert!(
                f == &lines,
                "{workers} workers, {dispatch:?}: records differ"
            ),
        }
    }
}
