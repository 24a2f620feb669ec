//! State a protocol keeps across the connections of one worker, beside the
//! per-connection parser state of the slab. Most protocols need none; DHCP
//! joins the messages of one exchange, which travel on several connections
//! (client broadcasts from 0.0.0.0, server replies from its own address),
//! and FTP announces its data connections before they open
//! ([`super::expect`]).
//!
//! Parsers reach it through [`super::Session`]; the worker's timer sweeps
//! run its expiry ([`Shared::tick`], on packet time) and the end of input
//! writes what it still holds ([`Shared::flush`]).

use super::registry::Registry;
use crate::flow::Emitted;

/// The per-worker state of the protocols that have some.
pub struct Shared {
    pub dhcp: super::dhcp::Aggregator,
    /// Connections announced by the connections that set them up (FTP
    /// data channels), which the connection table names as it opens them.
    pub expected: super::expect::Expected,
    /// `[app.ot]`, read by the OT parsers' tallies.
    pub ot: super::ot_tally::Settings,
    /// `[app] file_hashes`: the hashes HTTP bodies get.
    pub file_hashes: super::http::hashes::Selection,
}

impl Shared {
    pub fn new(registry: &Registry) -> Shared {
        Shared {
            dhcp: super::dhcp::Aggregator::new(registry.dhcp),
            expected: super::expect::Expected::default(),
            ot: registry.ot,
            file_hashes: registry.file_hashes,
        }
    }

    /// Packet time reached `now`: writes what has expired by then.
    pub fn tick(&mut self, now: i64, out: &mut Vec<Emitted>) {
        self.dhcp.tick(now, out);
        self.expected.expire(now);
    }

    /// Writes everything held (end of input, or every connection being
    /// written out at once).
    pub fn flush(&mut self, out: &mut Vec<Emitted>) {
        self.dhcp.flush(out);
        // The connections that announced them are gone too; after packet
        // time jumped back, an announcement from later times would
        // otherwise match for as long again.
        self.expected.clear();
    }
}
