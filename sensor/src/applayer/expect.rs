//! Connections a parser announced before they open: FTP's data channels,
//! which the control connection names (PORT and EPRT from the client, the
//! 227 and 229 replies to PASV and EPSV from the server). Zeek schedules
//! its FTP_DATA analyzer for them and names them `ftp-data` in conn.log;
//! Suricata's `app_proto` for them is `ftp-data` too.
//!
//! One table per worker (in [`super::shared::Shared`]), keyed by the
//! responder's address and port as Zeek's `ftp_data_expected` is, with
//! the originator's address when the announcement names it. A new TCP
//! connection that matches, by packet time within [`LIFETIME`] of the
//! announcement, gets the announced service (`flow::transport`, when the
//! table opens the connection). Entries are not used up: Zeek keeps its
//! scheduled analyzers until they expire too.
//!
//! Workers are dealt packets by their outermost address pair, so a data
//! connection between the two hosts of its control connection is seen by
//! the worker that read the announcement. One to a third host (a PASV
//! reply naming another server, FXP transfers between two servers, a
//! server behind NAT that announces its private address) reaches that
//! worker only by chance and is then not named. Live capture through
//! AF_PACKET spreads packets by the kernel's flow hash, which includes the
//! ports, so there a data connection meets its announcement only when the
//! kernel puts it on the same worker (one in N with N workers).
//!
//! The table is bounded ([`MAX_ENTRIES`] per worker): an announcement
//! beyond that evicts the oldest one, and the evictions are counted.

use crate::decode::Addr;
use crate::flow::service::Service;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// How long an announcement stays valid: Zeek's `schedule_analyzer`
/// timeout for FTP data channels (and `ftp_data_expected`'s expiry).
pub const LIFETIME: i64 = 300 * 1_000_000_000;

/// Announcements a worker keeps at most. At 5 minutes each, this is
/// about 14 data connections a second per worker.
pub const MAX_ENTRIES: usize = 4096;

/// Counters of one worker's table.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpectStats {
    /// Announcements registered.
    pub registered: u64,
    /// New connections named by an announcement.
    pub matched: u64,
    /// Announcements dropped at the cap before they expired.
    pub evicted: u64,
    /// Announcements held at most at once.
    pub peak: u64,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The originator the announcement names; `None`: any.
    orig: Option<Addr>,
    /// Packet time (ns) from which the entry no longer matches.
    expires: i64,
    service: Service,
    /// The announcing session's token ([`Expected::owner`]).
    owner: u64,
}

/// One worker's expected connections.
#[derive(Debug)]
pub struct Expected {
    by_resp: HashMap<(Addr, u16), Entry>,
    /// Keys in the order they were registered, with the expiry each was
    /// registered with: the oldest comes off first, at expiry or at the
    /// cap. A key registered again leaves a stale copy behind, skipped
    /// when it comes up.
    order: VecDeque<((Addr, u16), i64)>,
    cap: usize,
    pub stats: ExpectStats,
}

impl Default for Expected {
    fn default() -> Self {
        Expected::new(MAX_ENTRIES)
    }
}

impl Expected {
    pub fn new(cap: usize) -> Expected {
        Expected {
            by_resp: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
            stats: ExpectStats::default(),
        }
    }

    /// Forgets every announcement (the counters stay).
    pub fn clear(&mut self) {
        self.by_resp.clear();
        self.order.clear();
    }

    /// Announcements held now.
    pub fn len(&self) -> usize {
        self.by_resp.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.by_resp.is_empty()
    }

    /// Expects, from packet time `ts` on, a TCP connection from `orig`
    /// (any when `None`) to `resp` port `port`, to be named `service`, on
    /// behalf of the session `owner` names. A later announcement of the
    /// same responder and port replaces it.
    pub fn expect(
        &mut self,
        orig: Option<IpAddr>,
        resp: IpAddr,
        port: u16,
        service: Service,
        ts: i64,
        owner: u64,
    ) {
        self.expire(ts);
        let key = (Addr::from_ip(resp), port);
        if !self.by_resp.contains_key(&key) && self.by_resp.len() >= self.cap {
            self.evict_oldest();
        }
        let expires = ts.saturating_add(LIFETIME);
        let entry = Entry {
            orig: orig.map(Addr::from_ip),
            expires,
            service,
            owner,
        };
        self.by_resp.insert(key, entry);
        self.order.push_back((key, expires));
        if self.order.len() > 2 * self.cap {
            // Many announcements of the same keys: drop the stale copies.
            let by_resp = &self.by_resp;
            self.order
                .retain(|(k, x)| by_resp.get(k).is_some_and(|e| e.expires == *x));
        }
        self.stats.registered += 1;
        self.stats.peak = self.stats.peak.max(self.by_resp.len() as u64);
    }

    /// The service announced for a TCP connection from `orig` to `resp`
    /// port `port` that opens at packet time `ts`, if any.
    pub fn lookup(&mut self, orig: &Addr, resp: &Addr, port: u16, ts: i64) -> Option<Service> {
        let e = self.by_resp.get(&(*resp, port))?;
        if ts >= e.expires || e.orig.is_some_and(|o| o != *orig) {
            return None;
        }
        self.stats.matched += 1;
        Some(e.service)
    }

    /// The session that announced the connection to `resp` port `port`
    /// (a data connection asks once, when it first carries data), so that
    /// what it learns reaches that session ([`super::ftp::data`]).
    pub fn owner(&self, resp: &Addr, port: u16) -> Option<u64> {
        self.by_resp.get(&(*resp, port)).map(|e| e.owner)
    }

    /// Forgets the announcements that expired by packet time `now`.
    /// Lookups check the expiry themselves; this only frees the memory.
    pub fn expire(&mut self, now: i64) {
        while let Some(&(key, expires)) = self.order.front() {
            let live = self.is_live(&key, expires);
            if live && expires > now {
                break;
            }
            self.order.pop_front();
            if live {
                self.by_resp.remove(&key);
            }
        }
    }

    fn is_live(&self, key: &(Addr, u16), expires: i64) -> bool {
        self.by_resp.get(key).is_some_and(|e| e.expires == expires)
    }

    fn evict_oldest(&mut self) {
        while let Some((key, expires)) = self.order.pop_front() {
            if self.is_live(&key, expires) {
                self.by_resp.remove(&key);
                self.stats.evicted += 1;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn addr(s: &str) -> Addr {
        Addr::from_ip(ip(s))
    }

    const S: i64 = 1_000_000_000;

    #[test]
    fn matches_responder_port_and_originator_within_the_lifetime() {
        let mut t = Expected::default();
        t.expect(
            Some(ip("10.0.0.1")),
            ip("10.0.0.2"),
            50000,
            Service::FtpData,
            10 * S,
            7,
        );
        let (o, r) = (addr("10.0.0.1"), addr("10.0.0.2"));
        assert_eq!(t.owner(&r, 50000), Some(7));
        assert_eq!(t.owner(&r, 50001), None);
        assert_eq!(t.lookup(&o, &r, 50000, 11 * S), Some(Service::FtpData));
        // Not used up: a second connection within the lifetime matches too.
        assert_eq!(t.lookup(&o, &r, 50000, 12 * S), Some(Service::FtpData));
        assert_eq!(t.lookup(&o, &r, 50001, 11 * S), None);
        assert_eq!(t.lookup(&addr("10.0.0.3"), &r, 50000, 11 * S), None);
        assert_eq!(t.lookup(&o, &r, 50000, 10 * S + LIFETIME), None);
        assert_eq!(t.stats.matched, 2);
        t.expire(10 * S + LIFETIME);
        assert!(t.is_empty());
    }

    #[test]
    fn any_originator_when_none_is_named() {
        let mut t = Expected::default();
        t.expect(None, ip("2001:db8::2"), 2000, Service::FtpData, 0, 0);
        let r = addr("2001:db8::2");
        assert!(t.lookup(&addr("2001:db8::9"), &r, 2000, S).is_some());
    }

    #[test]
    fn the_cap_evicts_the_oldest_and_counts_it() {
        let mut t = Expected::new(3);
        for p in 0..5u16 {
            t.expect(
                None,
                ip("10.0.0.2"),
                1000 + p,
                Service::FtpData,
                i64::from(p) * S,
                0,
            );
        }
        assert_eq!(t.len(), 3);
        assert_eq!(t.stats.evicted, 2);
        assert_eq!(t.stats.peak, 3);
        let r = addr("10.0.0.2");
        let o = addr("10.0.0.1");
        assert_eq!(t.lookup(&o, &r, 1000, 5 * S), None);
        assert_eq!(t.lookup(&o, &r, 1001, 5 * S), None);
        assert!(t.lookup(&o, &r, 1004, 5 * S).is_some());
    }

    #[test]
    fn announcing_a_key_again_renews_it_and_leaves_no_growth() {
        let mut t = Expected::new(2);
        for i in 0..100 {
            t.expect(None, ip("10.0.0.2"), 21000, Service::FtpData, i * S, 0);
        }
        assert_eq!(t.len(), 1);
        assert!(t.order.len() <= 4, "stale copies are dropped");
        assert_eq!(t.stats.evicted, 0);
        // Renewed at 99 s: still valid just before 99 s + the lifetime.
        let (o, r) = (addr("10.0.0.1"), addr("10.0.0.2"));
        assert!(t.lookup(&o, &r, 21000, 99 * S + LIFETIME - 1).is_some());
        t.expire(50 * S + LIFETIME);
        assert_eq!(t.len(), 1, "the renewed entry outlives its stale copies");
    }
}
