//! What a worker hands on to the writer besides the packets it counted:
//! finished connections (and interim copies of long ones) today, and the
//! application records and notices of later issues, over the same bounded
//! pool of vectors, so that no later kind of event needs its own channel.
//!
//! A connection travels as a [`Snapshot`], turned into its wire event in
//! the writer thread; anything else implements [`Emit`] and builds its own
//! event there, off the packet path.

use super::conn::Snapshot;
use super::record::RecordContext;
use vagt_schema::Event;

/// An event kind a worker produces other than a connection: it builds its
/// wire event in the writer thread, with the sensor's context.
pub trait Emit: Send + std::fmt::Debug {
    fn to_event(&self, ctx: &RecordContext) -> Event;
}

/// One thing a worker hands to the writer.
// Connections are by far the most frequent and travel unboxed in pooled
// vectors: boxing them would cost an allocation per connection on the
// worker; the rarer kinds are boxed instead.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Emitted {
    /// A finished connection, or an interim copy of an open one.
    Conn(Snapshot),
    /// Any other event (application records, notices).
    Other(Box<dyn Emit>),
}

impl Emitted {
    /// The connection, if this is one.
    pub fn conn(&self) -> Option<&Snapshot> {
        match self {
            Emitted::Conn(s) => Some(s),
            Emitted::Other(_) => None,
        }
    }

    /// The wire event, built in the writer thread.
    pub fn to_event(&self, ctx: &RecordContext) -> Event {
        match self {
            Emitted::Conn(s) => super::record::to_event(s, ctx),
            Emitted::Other(e) => e.to_event(ctx),
        }
    }
}

/// Where the connection table puts the connections it writes out: the
/// tracker's vector of [`Emitted`] events, or, in the table's own tests, a
/// plain vector of snapshots.
pub trait Finished {
    fn push_conn(&mut self, s: Snapshot);
    fn count(&self) -> usize;
}

impl Finished for Vec<Snapshot> {
    #[inline]
    fn push_conn(&mut self, s: Snapshot) {
        self.push(s);
    }
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

impl Finished for Vec<Emitted> {
    #[inline]
    fn push_conn(&mut self, s: Snapshot) {
        self.push(Emitted::Conn(s));
    }
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}
