//! Sinks: where finished records go.
//!
//! The output stage runs on its own thread, turns finished connections into
//! wire events (`flow::record`) and writes them as JSON Lines or as a
//! Zeek-style TSV conn.log. Later sinks (Kafka) plug in behind the same
//! [`Sink`] trait.

pub mod json;
pub mod memory;
pub mod zeek;

use crate::config::OutputFormat;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use vagt_schema::Event;

/// A destination for events.
pub trait Sink: Send {
    fn write(&mut self, event: &Event) -> io::Result<()>;
    /// Flushes and closes; called once at the end.
    fn finish(&mut self) -> io::Result<()>;
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

/// Opens the configured sink; `path` "-" is standard output.
pub fn open(path: &str, format: OutputFormat) -> io::Result<Box<dyn Sink>> {
    let w: Box<dyn Write + Send> = if path == "-" {
        Box::new(io::stdout())
    } else {
        Box::new(File::create(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create output file {path}: {e}"))
        })?)
    };
    let w = BufWriter::with_capacity(1 << 20, w);
    Ok(match format {
        OutputFormat::Json => Box::new(json::JsonSink::new(w)),
        OutputFormat::Zeek => Box::new(zeek::ZeekSink::new(w)),
    })
}
