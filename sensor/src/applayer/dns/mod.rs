//! DNS over UDP and TCP, as Zeek's `dns.log`: one record per transaction,
//! queries paired with replies by transaction id in the order Zeek pairs
//! them, unanswered queries and unasked replies written when the
//! connection ends.

pub mod message;
mod names;

use super::{ConnIdent, Dir, Parser, Session, Verdict};
use message::Message;
use vagt_schema::{DnsRecord, EventBody, Proto};

/// Unpaired messages kept per connection; beyond that they are written out
/// unpaired (Zeek's `max_pending_msgs`).
const MAX_PENDING: usize = 50;
/// A DNS message over TCP is at most 64 KiB plus its length prefix.
const MAX_TCP_BUFFER: usize = 65_537;

pub fn make(conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Dns {
        tcp: conn.proto == Proto::Tcp,
        netbios: conn.id.resp_p == 137,
        mdns: conn.id.resp_p == 5353 || conn.id.orig_p == 5353,
        queries: Vec::new(),
        replies: Vec::new(),
        buf: [Vec::new(), Vec::new()],
    })
}

/// A transaction being assembled.
struct Txn {
    rec: DnsRecord,
    /// Nanosecond time of its first message.
    ts: i64,
    rtt_set: bool,
}

struct Dns {
    tcp: bool,
    netbios: bool,
    mdns: bool,
    /// Queries waiting for their reply, oldest first.
    queries: Vec<Txn>,
    /// Replies whose query was not seen (yet), oldest first.
    replies: Vec<Txn>,
    /// Partial TCP messages per direction.
    buf: [Vec<u8>; 2],
}

impl Dns {
    fn new_txn(&self, s: &Session<'_>, id: u16) -> Txn {
        Txn {
            rec: DnsRecord {
                ts: ConnIdent::time(s.ts),
                uid: s.conn.uid.clone(),
                id: s.conn.id,
                proto: s.conn.proto,
                trans_id: id,
                rtt: None,
                query: None,
                qclass: None,
                qclass_name: None,
                qtype: None,
                qtype_name: None,
                rcode: None,
                rcode_name: None,
                aa: false,
                tc: false,
                rd: false,
                ra: false,
                z: 0,
                answers: Vec::new(),
                ttls: Vec::new(),
                rejected: false,
                opcode: None,
                opcode_name: None,
            },
            ts: s.ts,
            rtt_set: false,
        }
    }

    fn message(&mut self, s: &mut Session<'_>, bytes: &[u8]) {
        let m = match message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                s.weird(e.reason());
                return;
            }
        };
        // Multicast DNS answers carry id 0 and answer whoever asked
        // (RFC 6762, 18.1): Zeek pairs none of them.
        let pairs = !(self.mdns && m.id == 0);
        let (mut txn, complete) = if !pairs {
            (self.new_txn(s, m.id), false)
        } else if m.qr {
            match take(&mut self.queries, m.id) {
                Some(t) => (t, true),
                None => (self.new_txn(s, m.id), false),
            }
        } else {
            match take(&mut self.replies, m.id) {
                Some(t) => (t, true),
                None => (self.new_txn(s, m.id), false),
            }
        };
        if m.qr {
            self.apply_reply(s, &mut txn, &m);
        } else {
            self.apply_query(&mut txn, &m);
        }
        if complete {
            s.emit(EventBody::Dns(txn.rec));
            return;
        }
        let list = if m.qr {
            &mut self.replies
        } else {
            &mut self.queries
        };
        if list.len() >= MAX_PENDING {
            for t in list.drain(..) {
                s.emit(EventBody::Dns(t.rec));
            }
        }
        list.push(txn);
    }

    fn apply_query(&self, txn: &mut Txn, m: &Message) {
        let r = &mut txn.rec;
        r.opcode = Some(m.opcode);
        r.opcode_name = Some(names::opcode(m.opcode));
        // An update's "question" is the zone it changes, which Zeek does
        // not log as a query.
        let (Some((name, qtype, qclass)), false) = (&m.question, m.opcode == 5) else {
            return;
        };
        r.rd = m.rd;
        r.tc = m.tc;
        r.z = m.z;
        r.qclass = Some(*qclass);
        r.qclass_name = Some(names::class(*qclass));
        r.qtype = Some(*qtype);
        r.qtype_name = Some(if self.netbios && *qtype == 33 {
            "NBSTAT".to_string()
        } else {
            names::qtype(*qtype)
        });
        r.query = Some(if self.netbios {
            names::netbios(name)
        } else {
            name.clone()
        });
    }

    fn apply_reply(&self, s: &mut Session<'_>, txn: &mut Txn, m: &Message) {
        let r = &mut txn.rec;
        if r.opcode.is_none() {
            r.opcode = Some(m.opcode);
            r.opcode_name = Some(names::opcode(m.opcode));
        }
        r.rcode = Some(m.rcode);
        r.rcode_name = Some(names::rcode(m.rcode));
        // Zeek's two rules: a failure without the question, or a question
        // answered with no record in any section.
        let empty = m.ancount == 0 && m.nscount == 0 && m.arcount == 0;
        if (m.rcode != 0 && m.qdcount == 0) || (m.qdcount > 0 && empty) {
            r.rejected = true;
        }
        if m.truncated {
            s.weird("dns_truncated_message");
        }
        if m.opcode == 5 {
            return update_reply(s, txn, m);
        }
        for a in &m.answers {
            let Some(text) = &a.text else {
                continue;
            };
            if r.query.is_none() {
                r.query = Some(a.owner.clone());
            }
            r.aa = m.aa;
            r.ra = m.ra;
            if !txn.rtt_set {
                txn.rtt_set = true;
                let rtt = s.ts - txn.ts;
                // A zero round trip means only the reply was seen.
                r.rtt = (rtt != 0).then(|| rtt as f64 / 1e9);
            }
            if !text.is_empty() {
                r.answers.push(text.clone());
                r.ttls.push(f64::from(a.ttl));
            }
        }
    }

    /// TCP: messages behind a two-byte length, possibly split anywhere.
    fn stream(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        let mut buf = std::mem::take(&mut self.buf[dir.index()]);
        buf.extend_from_slice(data);
        let mut at = 0;
        while let Some(len) = buf.get(at..at + 2) {
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            let Some(msg) = buf.get(at + 2..at + 2 + len) else {
                break;
            };
            self.message(s, msg);
            at += 2 + len;
        }
        buf.drain(..at);
        if buf.len() > MAX_TCP_BUFFER {
            s.weird("dns_tcp_message_too_long");
            return Verdict::Done;
        }
        self.buf[dir.index()] = buf;
        Verdict::More
    }
}

/// A dynamic update's reply: its prerequisites and updates, as Zeek lists
/// them among the answers.
fn update_reply(s: &Session<'_>, txn: &mut Txn, m: &Message) {
    let records = m.answers.iter().map(|a| (a, true));
    for (a, pre) in records.chain(m.updates.iter().map(|a| (a, false))) {
        let r = &mut txn.rec;
        if r.query.is_none() {
            r.query = Some(a.owner.clone());
        }
        r.aa = m.aa;
        r.ra = m.ra;
        if !txn.rtt_set {
            txn.rtt_set = true;
            let rtt = s.ts - txn.ts;
            r.rtt = (rtt != 0).then(|| rtt as f64 / 1e9);
        }
        r.answers.push(message::update_text(a, pre));
        r.ttls.push(f64::from(a.ttl));
    }
}

/// Removes and returns the oldest transaction with id `id`.
fn take(list: &mut Vec<Txn>, id: u16) -> Option<Txn> {
    let i = list.iter().position(|t| t.rec.trans_id == id)?;
    Some(list.remove(i))
}

impl Parser for Dns {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.tcp {
            return self.stream(s, dir, data);
        }
        self.message(s, data);
        Verdict::More
    }

    fn gap(&mut self, _s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // A length prefix lost in a gap cannot be found again.
        self.buf[dir.index()].clear();
        Verdict::Done
    }

    fn close(&mut self, s: &mut Session<'_>) {
        for t in self.queries.drain(..).chain(self.replies.drain(..)) {
            s.emit(EventBody::Dns(t.rec));
        }
    }
}
