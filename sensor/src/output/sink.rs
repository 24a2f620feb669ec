//! A file sink: an encoder ([`super::encode`]) writing to a destination
//! ([`Lines`]: a file or standard output, whole lines only), as Vector
//! splits a sink into its encoding and its transport.

use super::encode::Encoder;
use super::lines::Lines;
use super::Sink;
use std::io::{self, Write};
use vagt_schema::Event;

pub struct LineSink<E: Encoder> {
    encoder: E,
    dest: Lines,
    /// Encoded bytes of one event, reused from event to event.
    buf: Vec<u8>,
}

impl<E: Encoder> LineSink<E> {
    pub fn new(encoder: E, dest: Lines) -> Self {
        LineSink {
            encoder,
            dest,
            buf: Vec::with_capacity(1024),
        }
    }

    fn put(&mut self) -> io::Result<()> {
        let r = self.dest.write_all(&self.buf);
        self.buf.clear();
        r
    }
}

impl<E: Encoder> Sink for LineSink<E> {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        self.buf.clear();
        self.encoder.encode(event, &mut self.buf);
        self.put()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.buf.clear();
        self.encoder.close(&mut self.buf);
        self.put()?;
        self.dest.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.dest.flush()
    }

    fn reopen(&mut self) -> io::Result<Option<String>> {
        if !self.dest.is_file() {
            return Ok(None);
        }
        self.buf.clear();
        self.encoder.rotate(&mut self.buf);
        self.put()?;
        self.dest.reopen()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::encode::ZeekEncoder;
    use crate::output::lines::Existing;

    /// Rotation closes the old log as Zeek does, and the new file gets a
    /// header of its own before its first record.
    #[test]
    fn reopening_closes_the_old_log_and_heads_the_new_one() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("vagt-zeek-{}.log", std::process::id()));
        let moved = dir.join(format!("vagt-zeek-{}.log.1", std::process::id()));
        let name = path.to_str().expect("utf-8");
        let (lines, _) = Lines::file(name, Existing::Truncate).expect("open");
        let mut sink = LineSink::new(ZeekEncoder::default(), lines);
        // A file whose header has been written, as after a first record.
        sink.finish().expect("a headed, closed log");
        std::fs::rename(&path, &moved).expect("rotate");
        assert!(sink.reopen().expect("reopen").is_some());
        sink.finish().expect("finish");
        let old = std::fs::read_to_string(&moved).expect("old");
        let new = std::fs::read_to_string(&path).expect("new");
        std::fs::remove_file(&path).ok();
        std::fs::remove_file(&moved).ok();
        assert!(
            old.starts_with("#separator") && old.ends_with("#close\n"),
            "{old}"
        );
        assert!(
            new.starts_with("#separator") && new.ends_with("#close\n"),
            "{new}"
        );
    }
}
