//! DHCP (v4, over UDP 67/68), as Zeek's `dhcp.log`: each datagram is read
//! into a [`message::Message`] by the connection's parser, and the writer
//! thread's [`Join`] joins the messages of one exchange, over all the
//! connections and workers they travelled, into one record
//! ([`aggregate`]). Beyond Zeek, the record keeps the client's vendor
//! class (option 60) and parameter request list (option 55), a device
//! fingerprint for asset inventory.

pub mod aggregate;
mod join;
pub mod message;

use super::{ConnIdent, Dir, Parser, Session, Verdict};
use serde::{Deserialize, Serialize};

pub use aggregate::Aggregator;
pub use join::Join;

/// The `[app.dhcp]` settings: Zeek's options of the same names.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Seconds an exchange is watched at most before it is written.
    pub max_txid_watch_time: f64,
    /// An exchange is written once it spans this many connections.
    pub max_uids_per_log_entry: usize,
    /// ... or holds this many messages.
    pub max_msg_types_per_log_entry: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_txid_watch_time: 30.0,
            max_uids_per_log_entry: 10,
            max_msg_types_per_log_entry: 50,
        }
    }
}

/// Upper bound of both per-record maxima, whatever the configuration says:
/// it bounds the memory of an open exchange.
const MAX_PER_RECORD: usize = 1000;

impl Settings {
    /// The settings within the bounds that keep memory bounded.
    pub fn clamped(self) -> Settings {
        Settings {
            max_txid_watch_time: if self.max_txid_watch_time.is_finite() {
                self.max_txid_watch_time.clamp(0.0, 3600.0)
            } else {
                30.0
            },
            max_uids_per_log_entry: self.max_uids_per_log_entry.clamp(1, MAX_PER_RECORD),
            max_msg_types_per_log_entry: self.max_msg_types_per_log_entry.clamp(1, MAX_PER_RECORD),
        }
    }

    pub(crate) fn watch_ns(&self) -> i64 {
        (self.max_txid_watch_time * 1e9) as i64
    }
}

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Dhcp)
}

/// One DHCP message as a connection's parser read it, on its way to the
/// writer thread, where the messages of all workers are joined: a
/// client's broadcasts and the server's replies travel on different
/// connections, which different workers may read.
#[derive(Clone, Debug)]
pub struct Sighting {
    pub ts: i64,
    pub conn: ConnIdent,
    pub is_orig: bool,
    pub message: message::Message,
}

/// A connection's part: read each datagram and send it on to the writer's
/// join. It keeps no state of its own.
struct Dhcp;

impl Parser for Dhcp {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        match message::parse(data) {
            Ok(message) => {
                s.out.push(crate::flow::Emitted::Dhcp(Box::new(Sighting {
                    ts: s.ts,
                    conn: s.conn.clone(),
                    is_orig: dir.is_orig(),
                    message,
                })));
            }
            Err(e) => s.weird(e.reason()),
        }
        Verdict::More
    }

    fn close(&mut self, _s: &mut Session<'_>) {
        // Exchanges outlive connections: the aggregator writes them.
    }
}

#[cfg(test)]
mod tests;
