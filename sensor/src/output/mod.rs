//! Sinks: where finished records go.
//!
//! The output stage runs on its own thread, turns finished connections into
//! wire events (`flow::record`) and writes them as JSON Lines or as a
//! Zeek-style TSV conn.log, through [`lines::Lines`] (whole lines only,
//! appended to an existing file unless told to start afresh). Later sinks
//! (Kafka) plug in behind the same [`Sink`] trait.

pub mod json;
pub mod lines;
pub mod memory;
pub mod settings;
pub mod zeek;

pub use lines::Existing;
use lines::Lines;
pub use settings::{OutputFormat, OutputSection};
use std::io;
use vagt_schema::Event;

/// A destination for events.
pub trait Sink: Send {
    fn write(&mut self, event: &Event) -> io::Result<()>;
    /// Flushes and closes; called once at the end.
    fn finish(&mut self) -> io::Result<()>;
    /// Hands the complete records held so far to the destination now; the
    /// writer thread calls it on a timer, so that what is finished does
    /// not wait in memory on a quiet network.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Opens the destination's path again, for log rotation (SIGHUP); says
    /// what it did, `None` where there is nothing to reopen.
    fn reopen(&mut self) -> io::Result<Option<String>> {
        Ok(None)
    }
}

/// A sink that only counts, for benchmarks of the packet path.
#[derive(Default)]
pub struct NullSink {
    pub events: u64,
}

impl Sink for NullSink {
    fn write(&mut self, _event: &Event) -> io::Result<()> {
        self.events += 1;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Opens the configured sink; `path` "-" is standard output. An existing
/// file is appended to or started afresh as `existing` says; a repair made
/// to it (an incomplete last line cut off) is reported on standard error.
pub fn open(path: &str, format: OutputFormat, existing: Existing) -> io::Result<Box<dyn Sink>> {
    let w = if path == "-" {
        Lines::stdout()
    } else {
        let (w, repair) = Lines::file(path, existing)?;
        if let Some(r) = repair {
            eprintln!("vagt-sensor: {r}");
        }
        w
    };
    Ok(match format {
        OutputFormat::Json => Box::new(json::JsonSink::new(w)),
        OutputFormat::Zeek => Box::new(zeek::ZeekSink::new(w)),
    })
}
