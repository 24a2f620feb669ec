//! The application layer: parsers that read what a connection's payload
//! says (DNS queries, TLS handshakes, HTTP requests, ...) and turn it into
//! records that travel to the writer beside the connection records.
//!
//! The shape follows Suricata's Rust app layer and Retina's
//! `ConnParsable`: a small [`Parser`] trait (parse one direction's bytes,
//! hear about gaps, close), a [`registry`] that says which parser reads
//! which recognised service, and per-connection parser state in a side slab
//! ([`AppLayer`]) that is freed when the connection ends, so the 240-byte
//! connection stays as it is. One folder per protocol holds its parser.
//!
//! Probing is `flow::service`: when it recognises a service that has a
//! parser, the parser is attached and reads from that packet on. TCP
//! payload goes through [`stream`] (in-order reassembly per direction, with
//! gaps reported and memory bounded) before a parser sees it; UDP parsers
//! get each datagram.

pub mod bacnet;
pub mod dce_rpc;
pub mod dhcp;
pub mod dnp3;
pub mod dns;
pub mod drive;
pub mod enip;
pub mod expect;
pub mod ftp;
pub mod http;
pub mod krb;
pub mod ldap;
pub mod modbus;
pub mod ntlm;
pub mod ntp;
pub mod ot_tally;
pub mod quic;
pub mod rdp;
pub mod record;
pub mod registry;
pub mod s7comm;
pub mod script;
pub mod shared;
pub mod slab;
pub mod smb;
pub mod smtp;
pub mod snmp;
pub mod ssh;
pub mod steps;
pub mod stream;
pub mod syslog;
pub mod testing;
pub mod text;
pub mod tls;

pub use record::{AppRecord, ConnIdent};
pub use registry::{AppSettings, Registry};
pub use slab::{AppLayer, AppStats};

/// Which way bytes travelled, relative to the connection's originator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// From the originator (client) to the responder (server).
    ToServer,
    /// From the responder back to the originator.
    ToClient,
}

impl Dir {
    pub fn index(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }

    pub fn is_orig(self) -> bool {
        self == Dir::ToServer
    }
}

/// What a parser wants after reading some bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Keep handing it this direction's bytes.
    More,
    /// Nothing more of interest in this direction (encrypted from here on,
    /// or the protocol was not what the probe thought): the direction is
    /// only counted from now on.
    Done,
}

/// What a parser sees of its connection while it runs: the connection's
/// identity, the packet time, and where records and problems go.
pub struct Session<'a> {
    /// Packet time in nanoseconds.
    pub ts: i64,
    pub conn: &'a ConnIdent,
    pub(crate) out: &'a mut Vec<crate::flow::Emitted>,
    pub(crate) weird: &'a mut Weirds,
    /// The worker's state shared by its connections (`shared`).
    pub(crate) shared: &'a mut shared::Shared,
}

impl Session<'_> {
    /// Hands one record to the writer.
    pub fn emit(&mut self, body: vagt_schema::EventBody) {
        self.out
            .push(crate::flow::Emitted::Other(Box::new(AppRecord {
                vlan: self.conn.vlan,
                orig: self.conn.orig,
                resp: self.conn.resp,
                body,
            })));
    }

    /// Announces a TCP connection this one sets up (FTP's data channel):
    /// one from `orig` (any when `None`) to `resp` port `port` that opens
    /// on this worker within `expect::LIFETIME` is named `service`, on
    /// behalf of the session `owner` names (`ftp::data::Notes::owner`).
    pub fn expect(
        &mut self,
        orig: Option<std::net::IpAddr>,
        resp: std::net::IpAddr,
        port: u16,
        service: crate::flow::service::Service,
        owner: u64,
    ) {
        self.shared
            .expected
            .expect(orig, resp, port, service, self.ts, owner);
    }

    /// Counts malformed or unexpected input, as Zeek's `weird.log` does, by
    /// a short reason such as `dns_truncated_answer`.
    pub fn weird(&mut self, reason: &'static str) {
        self.weird.count(reason);
    }
}

/// A protocol parser's state for one connection.
pub trait Parser: Send {
    /// The next bytes of direction `dir`: the stream's next in-order bytes
    /// for TCP, one whole datagram for UDP.
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict;

    /// `len` bytes of direction `dir` were never seen (capture loss); the
    /// next call to `parse` continues after them. Parsers that cannot
    /// resynchronise give up on the direction.
    fn gap(&mut self, _s: &mut Session<'_>, _dir: Dir, _len: u64) -> Verdict {
        Verdict::Done
    }

    /// The sender of direction `dir` closed (FIN) after everything it sent
    /// was handed on. Parsers whose messages end at the sender's close
    /// (Zeek's `EndpointEOF`) act here; others wait for `close`.
    fn eof(&mut self, _s: &mut Session<'_>, _dir: Dir) {}
    /// Bytes per direction this parser reads, given the configured
    /// `depth`. A protocol whose bulk data the parser skips without
    /// buffering (SMB file transfers) may read whole streams, as Suricata's
    /// per-protocol `stream-depth` allows.
    fn depth(&self, configured: u64) -> u64 {
        configured
    }

    /// The connection ended (or the sensor stops): write what is pending,
    /// such as a query that never got its answer.
    fn close(&mut self, s: &mut Session<'_>);
}

/// Counts of malformed input by reason, per worker; summed into the
/// sensor's statistics.
#[derive(Clone, Debug, Default)]
pub struct Weirds {
    counts: Vec<(&'static str, u64)>,
    total: u64,
}

impl Weirds {
    pub fn count(&mut self, reason: &'static str) {
        self.total += 1;
        // A handful of distinct reasons ever occur: a short list beats a map.
        match self.counts.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((reason, 1)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.counts.iter().copied()
    }

    /// Every count together: it changes whenever any count does.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn get(&self, reason: &str) -> u64 {
        self.counts
            .iter()
            .find(|(r, _)| *r == reason)
            .map_or(0, |(_, n)| *n)
    }
}

/// Lower-case hex of raw bytes, as Zeek's `bytestring_to_hexstr` writes
/// fingerprints and hashes. Digit by digit rather than `format!` per byte,
/// which showed in profiles.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    hex_into(&mut s, b);
    s
}

/// [`hex`] appended to `out`.
pub fn hex_into(out: &mut String, b: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for x in b {
        out.push(char::from(DIGITS[usize::from(x >> 4)]));
        out.push(char::from(DIGITS[usize::from(x & 0xf)]));
    }
}
