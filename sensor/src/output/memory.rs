//! A sink that keeps events in memory, for tests, benchmarks and embedding.

use super::Sink;
use std::io;
use std::sync::{Arc, Mutex};
use vagt_schema::Event;

/// Collects events into a shared vector.
#[derive(Clone, Default)]
pub struct MemorySink {
    events: Arc<Mutex<Vec<Event>>>,
}

impl MemorySink {
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// Takes the events collected so far.
    pub fn take(&self) -> Vec<Event> {
        match self.events.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

impl Sink for MemorySink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        self.events
            .lock()
            .map_err(|_| io::Error::other("memory sink poisoned"))?
            .push(event.clone());
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}
