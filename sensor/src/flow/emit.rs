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
use crate::applayer::AppLayer;
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
    /// An ARP frame, read but not judged: the writer's bindings table
    /// (`crate::arp::ArpWatch`) decides whether it is news. Unboxed, as
    /// ARP comes in floods too and is far smaller than a connection.
    Arp(crate::arp::ArpSighting),
    /// A DHCP message, read but not joined: the writer joins the messages
    /// of one exchange, whichever worker read them
    /// (`crate::applayer::dhcp::Join`).
    Dhcp(Box<crate::applayer::dhcp::Sighting>),
    /// A worker's packet time, for the writer's joins, which run their
    /// expiry on the slowest worker's time.
    Clock { worker: u16, now: i64 },
}

impl Emitted {
    /// The connection, if this is one.
    pub fn conn(&self) -> Option<&Snapshot> {
        match self {
            Emitted::Conn(s) => Some(s),
            Emitted::Other(_) | Emitted::Arp(_) | Emitted::Dhcp(_) | Emitted::Clock { .. } => None,
        }
    }

    /// The wire event, built in the writer thread. An ARP frame becomes
    /// the record a table that had never seen its binding would write; the
    /// writer itself asks its [`crate::arp::ArpWatch`] instead, which
    /// writes only news. A DHCP message and a clock are none: they are the
    /// writer's [`crate::applayer::dhcp::Join`]'s to turn into records.
    pub fn to_event(&self, ctx: &RecordContext) -> Option<Event> {
        match self {
            Emitted::Conn(s) => Some(super::record::to_event(s, ctx)),
            Emitted::Other(e) => Some(e.to_event(ctx)),
            Emitted::Arp(a) => Some(crate::arp::first_sight(a, ctx)),
            Emitted::Dhcp(_) | Emitted::Clock { .. } => None,
        }
    }
}

/// Where the connection table puts the connections it writes out: the
/// tracker's [`Outbox`] (events plus the application layer, which must hear
/// when a connection ends), or, in the table's own tests, a plain vector of
/// snapshots.
pub trait Finished {
    fn push_conn(&mut self, s: Snapshot);
    fn count(&self) -> usize;
    /// Connection `idx` (its slot in the table) is being written out for
    /// good: parser state tied to the slot must be settled now.
    #[inline]
    fn conn_ended(&mut self, _idx: u32, _s: &Snapshot) {}
    /// The application layer and the events it writes to, where there is
    /// one.
    #[inline]
    fn app(&mut self) -> Option<(&mut AppLayer, &mut Vec<Emitted>)> {
        None
    }
}

/// What a tracker's packets produce: events for the writer, and the
/// application layer whose parsers add to them.
pub struct Outbox {
    pub events: Vec<Emitted>,
    pub app: AppLayer,
}

impl Finished for Outbox {
    #[inline]
    fn push_conn(&mut self, s: Snapshot) {
        self.events.push(Emitted::Conn(s));
    }
    #[inline]
    fn count(&self) -> usize {
        self.events.len()
    }
    #[inline]
    fn conn_ended(&mut self, idx: u32, s: &Snapshot) {
        if s.conn.services & super::service::ATTACHED != 0 {
            self.app.conn_ended(idx, s.conn.last_ts, &mut self.events);
        }
    }
    #[inline]
    fn app(&mut self) -> Option<(&mut AppLayer, &mut Vec<Emitted>)> {
        Some((&mut self.app, &mut self.events))
    }
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
