//! JSON Lines: one event per line, Zeek field names, `event_type` and
//! `schema_version` on every line.

use super::lines::Lines;
use super::Sink;
use std::io::{self, Write};
use vagt_schema::Event;

pub struct JsonSink {
    w: Lines,
    /// One line, reused from record to record.
    line: Vec<u8>,
}

impl JsonSink {
    pub fn new(w: Lines) -> Self {
        JsonSink {
            w,
            line: Vec::with_capacity(1024),
        }
    }
}

impl Sink for JsonSink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        self.line.clear();
        event.write_json(&mut self.line);
        self.line.push(b'\n');
        self.w.write_all(&self.line)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    fn reopen(&mut self) -> io::Result<Option<String>> {
        self.w.reopen()
    }
}
