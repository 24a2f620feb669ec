//! Encoders: how events become bytes, apart from where the bytes go (the
//! destinations, `output::lines`). An encoder may keep state across
//! events (a header written once) and may have something to say when its
//! output ends or is rotated (Zeek's `#close`).

pub mod json;
pub mod zeek;

pub use json::JsonEncoder;
pub use zeek::ZeekEncoder;

use vagt_schema::Event;

/// Turns events into bytes, whole lines at a time.
pub trait Encoder: Send {
    /// Appends `event`'s encoding to `out`, or nothing for events this
    /// format has no place for.
    fn encode(&mut self, event: &Event, out: &mut Vec<u8>);
    /// Appends what ends the output (a trailer) to `out`, at the end of
    /// the run.
    fn close(&mut self, _out: &mut Vec<u8>) {}
    /// Appends what ends a file about to be rotated (SIGHUP) to `out`; the
    /// next event starts the new file.
    fn rotate(&mut self, _out: &mut Vec<u8>) {}
}
