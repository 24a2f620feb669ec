//! State a protocol keeps across the connections of one worker, beside the
//! per-connection parser state of the slab. Most protocols need none; FTP
//! announces its data connections before they open ([`super::expect`]),
//! which tell the session what file they carried ([`super::ftp::data`]),
//! and the DHCP join, which runs in the writer thread across workers
//! (`dhcp::Join`), needs the worker's packet time.
//!
//! Parsers reach it through [`super::Session`]; the worker's timer sweeps
//! run its expiry ([`Shared::tick`], on packet time) and the end of input
//! writes what it still holds ([`Shared::flush`]).

use super::registry::Registry;
use crate::flow::Emitted;

/// The per-worker state of the protocols that have some.
pub struct Shared {
    /// The worker's number, which its clock carries to the writer.
    pub worker: u16,
    /// The packet time last sent.
    clock_sent: i64,
    /// Connections announced by the connections that set them up (FTP
    /// data channels), which the connection table names as it opens them.
    pub expected: super::expect::Expected,
    /// What FTP data connections learnt of their files, for the control
    /// sessions that announced them.
    pub ftp_files: super::ftp::data::Notes,
    /// `[app.ot]`, read by the OT parsers' tallies.
    pub ot: super::ot_tally::Settings,
    /// `[app] file_hashes`: the hashes HTTP bodies and FTP transfers get.
    pub file_hashes: super::http::hashes::Selection,
}

impl Shared {
    pub fn new(registry: &Registry) -> Shared {
        Shared {
            worker: 0,
            clock_sent: i64::MIN,
            expected: super::expect::Expected::default(),
            ftp_files: super::ftp::data::Notes::default(),
            ot: registry.ot,
            file_hashes: registry.file_hashes,
        }
    }

    /// Packet time reached `now`: writes what has expired by then.
    pub fn tick(&mut self, now: i64, out: &mut Vec<Emitted>) {
        // Every worker sends its time, whether it read DHCP or not: the
        // join may expire an exchange only once every worker is past the
        // time, or a message still on its way from a slower one would
        // start a second record.
        if now > self.clock_sent {
            self.clock_sent = now;
            out.push(Emitted::Clock {
                worker: self.worker,
                now,
            });
        }
        self.expected.expire(now);
    }

    /// Every connection is being written out at once (end of input, or
    /// packet time went back).
    pub fn flush(&mut self) {
        // After a jump back, the next sweep's time is sent, and the
        // writer's join sees the jump in it; at the end of input the
        // writer writes what the join holds.
        self.clock_sent = i64::MIN;
        // The connections that announced them are gone too; after packet
        // time jumped back, an announcement from later times would
        // otherwise match for as long again.
        self.expected.clear();
        self.ftp_files.clear();
    }
}
