//! Joining DHCP messages into exchanges, as Zeek's `DHCP::aggregate_msgs`
//! does: the messages of one transaction id, over whatever connections
//! they travelled (client broadcasts from 0.0.0.0, server replies from its
//! own address), make one record.
//!
//! The join runs in the writer thread ([`super::Join`]), where the messages of
//! every worker meet: workers are dealt connections by address pair, so
//! the client's broadcasts and the server's replies of one exchange can be
//! read by different workers (Zeek's cluster sends every message to its
//! manager for the same reason). Workers send the messages they read and
//! their packet time ([`crate::flow::Emitted::Clock`]); the join runs on
//! the slowest worker's time. An exchange is written, as in Zeek:
//! - when its `uids` or `msg_types` reach the configured maximum (Zeek's
//!   `max_uids_per_log_entry`, `max_msg_types_per_log_entry`); a later
//!   message of the same id starts a new one;
//! - at its expiry checks: 10 s after its first message and every 5 s after
//!   that, it is written once no message came for 5 s or it is older than
//!   `max_txid_watch_time` (Zeek's `&create_expire=10secs` and
//!   `join_data_expiration`). Checks are evaluated at their own scheduled
//!   time, not at the time a clock happens to arrive, so records do not
//!   depend on batching. (Zeek runs its table expiry every 10 s of network
//!   time, so its checks can fall a few seconds later than ours; that
//!   matters only for an id reused 5 to 15 s after its exchange went
//!   quiet.)
//! - when packet time goes back (the next capture of a replay), and at the
//!   end of input, like Zeek's `zeek_done`.

use super::message::{type_name, Message};
use super::Settings;
use crate::applayer::{AppRecord, ConnIdent};
use crate::decode::Addr;
use crate::flow::Emitted;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use vagt_schema::{DhcpRecord, EventBody};

/// Exchanges open at once; beyond that the oldest is written
/// (a flood of transaction ids must not grow memory).
const MAX_OPEN: usize = 1024;
/// First expiry check after an exchange's first message (Zeek's
/// `&create_expire`), and the interval of later ones.
const FIRST_CHECK_NS: i64 = 10_000_000_000;
const RECHECK_NS: i64 = 5_000_000_000;
/// Quiet time after which an exchange is over.
const QUIET_NS: i64 = 5_000_000_000;

/// One exchange being joined.
struct Exchange {
    rec: DhcpRecord,
    first: i64,
    last: i64,
    check_at: i64,
    /// The first message's connection, to find the record's segment.
    vlan: u16,
    orig: Addr,
    resp: Addr,
}

/// The open DHCP exchanges, by transaction id.
pub struct Aggregator {
    settings: Settings,
    open: HashMap<u32, Exchange>,
    /// Earliest `check_at` of the open exchanges (or `i64::MAX`).
    next_check: i64,
    /// Exchanges written early because too many were open.
    pub evicted: u64,
}

impl Aggregator {
    pub fn new(settings: Settings) -> Aggregator {
        Aggregator {
            settings: settings.clamped(),
            open: HashMap::new(),
            next_check: i64::MAX,
            evicted: 0,
        }
    }

    /// Exchanges open now.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Joins one message seen at `ts` on connection `conn`.
    pub fn message(
        &mut self,
        ts: i64,
        conn: &ConnIdent,
        is_orig: bool,
        m: &Message,
        out: &mut Vec<Emitted>,
    ) {
        self.tick(ts, out);
        if !self.open.contains_key(&m.xid) && self.open.len() >= MAX_OPEN {
            self.evict_oldest(out);
        }
        let x = self.open.entry(m.xid).or_insert_with(|| Exchange {
            rec: empty_record(ts, conn),
            first: ts,
            last: ts,
            check_at: ts.saturating_add(FIRST_CHECK_NS),
            vlan: conn.vlan,
            orig: conn.orig,
            resp: conn.resp,
        });
        self.next_check = self.next_check.min(x.check_at);
        apply(x, ts, conn, is_orig, m);
        if x.rec.uids.len() >= self.settings.max_uids_per_log_entry
            || x.rec.msg_types.len() >= self.settings.max_msg_types_per_log_entry
        {
            // Zeek writes these without filling `mac` from `chaddr`.
            if let Some(x) = self.open.remove(&m.xid) {
                write(x, out);
            }
        }
    }

    /// Runs the expiry checks due by packet time `now`.
    pub fn tick(&mut self, now: i64, out: &mut Vec<Emitted>) {
        if now < self.next_check {
            return;
        }
        let watch = self.settings.watch_ns();
        let mut due: Vec<(i64, u32)> = Vec::new();
        let mut next = i64::MAX;
        for (&xid, x) in self.open.iter_mut() {
            while x.check_at <= now {
                let at = x.check_at;
                if at - x.last > QUIET_NS || at - x.first > watch {
                    due.push((x.first, xid));
                    break;
                }
                x.check_at = at.saturating_add(RECHECK_NS);
            }
            if x.check_at > now {
                next = next.min(x.check_at);
            }
        }
        self.next_check = next;
        self.write_ids(due, out);
    }

    /// Writes every open exchange (the worker stops, or packet time went
    /// back and everything is written out).
    pub fn flush(&mut self, out: &mut Vec<Emitted>) {
        let all: Vec<(i64, u32)> = self.open.iter().map(|(&id, x)| (x.first, id)).collect();
        self.write_ids(all, out);
        self.next_check = i64::MAX;
    }

    fn evict_oldest(&mut self, out: &mut Vec<Emitted>) {
        if let Some((first, id)) = self.open.iter().map(|(&id, x)| (x.first, id)).min() {
            self.evicted += 1;
            self.write_ids(vec![(first, id)], out);
        }
    }

    /// Writes the exchanges named, oldest first (a fixed order, whatever
    /// the map's).
    fn write_ids(&mut self, mut ids: Vec<(i64, u32)>, out: &mut Vec<Emitted>) {
        ids.sort_unstable();
        for (_, id) in ids {
            if let Some(mut x) = self.open.remove(&id) {
                // As Zeek's expiry does: a client that sent no client
                // identifier and got no server reply is known by chaddr.
                if x.rec.mac.is_none() {
                    x.rec.mac = x.rec.client_chaddr.clone();
                }
                write(x, out);
            }
        }
    }
}

fn empty_record(ts: i64, conn: &ConnIdent) -> DhcpRecord {
    DhcpRecord {
        ts: ConnIdent::time(ts),
        uids: vec![conn.uid.clone()],
        client_addr: None,
        server_addr: None,
        client_port: None,
        server_port: None,
        mac: None,
        host_name: None,
        client_fqdn: None,
        domain: None,
        requested_addr: None,
        assigned_addr: None,
        lease_time: None,
        client_message: None,
        server_message: None,
        msg_types: Vec::new(),
        duration: 0.0,
        client_chaddr: None,
        vendor_class: None,
        param_list: Vec::new(),
    }
}

/// One message's contribution, in the order of Zeek's handler.
fn apply(x: &mut Exchange, ts: i64, conn: &ConnIdent, is_orig: bool, m: &Message) {
    let r = &mut x.rec;
    r.duration = (ts - x.first) as f64 / 1e9;
    if !r.uids.contains(&conn.uid) {
        r.uids.push(conn.uid.clone());
    }
    r.msg_types.push(type_name(m.msg_type));
    let id = &conn.id;
    let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    // A message from the originator is the client's when it comes from
    // 0.0.0.0 or the client port or goes to the server port; otherwise it
    // is a server broadcasting (Zeek's rule).
    let is_client = is_orig && (id.orig_h == unspecified || id.orig_p == 68 || id.resp_p == 67);
    if let Some(text) = &m.message {
        if is_client {
            r.client_message = Some(text.clone());
        } else {
            r.server_message = Some(text.clone());
        }
    }
    x.last = ts;
    if is_client {
        if id.orig_h != unspecified && id.orig_h != IpAddr::V4(Ipv4Addr::BROADCAST) {
            r.client_addr = Some(id.orig_h);
        }
        if m.host_name.is_some() {
            r.host_name.clone_from(&m.host_name);
        }
        if m.client_fqdn.is_some() {
            r.client_fqdn.clone_from(&m.client_fqdn);
        }
        match &m.client_id_mac {
            Some(mac) => r.mac = Some(mac.clone()),
            None => r.client_chaddr = Some(m.chaddr.clone()),
        }
        if let Some(a) = m.requested_addr {
            r.requested_addr = Some(IpAddr::V4(a));
        }
        if m.vendor_class.is_some() {
            r.vendor_class.clone_from(&m.vendor_class);
        }
        if let Some(p) = &m.param_list {
            r.param_list.clone_from(p);
        }
        return;
    }
    let assigned = !m.yiaddr.is_unspecified();
    if assigned {
        // A server reply to a unicast address flips the connection: the
        // server is then the responder.
        let (server, sp, cp) = if is_orig {
            (id.orig_h, id.orig_p, id.resp_p)
        } else {
            (id.resp_h, id.resp_p, id.orig_p)
        };
        r.server_addr = Some(server);
        r.server_port = Some(sp);
        r.client_port = Some(cp);
        r.assigned_addr = Some(IpAddr::V4(m.yiaddr));
    }
    if !m.chaddr.is_empty() && r.mac.is_none() {
        r.mac = Some(m.chaddr.clone());
    }
    if r.client_addr.is_none() {
        r.client_addr = r.assigned_addr;
    }
    if m.domain.is_some() {
        r.domain.clone_from(&m.domain);
    }
    if let Some(l) = m.lease {
        r.lease_time = Some(f64::from(l));
    }
}

fn write(x: Exchange, out: &mut Vec<Emitted>) {
    out.push(Emitted::Other(Box::new(AppRecord {
        vlan: x.vlan,
        orig: x.orig,
        resp: x.resp,
        body: EventBody::Dhcp(x.rec),
    })));
}
