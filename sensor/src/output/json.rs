//! JSON Lines: one event per line, Zeek field names, `event_type` and
//! `schema_version` on every line.

use super::Sink;
use std::io::{self, Write};
use vagt_schema::Event;

pub struct JsonSink<W: Write + Send> {
    w: W,
}

impl<W: Write + Send> JsonSink<W> {
    pub fn new(w: W) -> Self {
        JsonSink { w }
    }
}

impl<W: Write + Send> Sink for JsonSink<W> {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, event)?;
        self.w.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}
