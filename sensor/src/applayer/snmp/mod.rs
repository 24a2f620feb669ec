//! SNMP (v1, v2c, v3 over UDP 161/162), as Zeek's `snmp.log`: one record
//! per connection, written when it ends, counting the variable bindings
//! of requests and responses and keeping what an agent says about itself
//! (sysDescr, sysUpTime).
//!
//! The community string of v1 and v2c is a password: the record keeps it
//! as Zeek does, and SCHEMA.md marks it SECRET. For v3 Zeek's log shows
//! the USM user name of a plaintext message there (and nothing for
//! encrypted ones); Vagt does the same with the first non-empty one.

pub mod ber;

use super::text::escape;
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use vagt_schema::{EventBody, SnmpRecord};

/// sysDescr.0 and sysUpTime.0.
const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
const SYS_UPTIME: &str = "1.3.6.1.2.1.1.3.0";

/// PDU tags (context-specific, constructed).
const GET: u8 = 0xa0;
const GET_NEXT: u8 = 0xa1;
const RESPONSE: u8 = 0xa2;
const SET: u8 = 0xa3;
const GET_BULK: u8 = 0xa5;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Snmp {
        rec: None,
        first: None,
    })
}

struct Snmp {
    /// The connection's record, from its first SNMP message on.
    rec: Option<SnmpRecord>,
    /// Time of the first message.
    first: Option<i64>,
}

/// One message as the log needs it.
#[derive(Debug, Default, PartialEq)]
pub struct Message {
    pub version: i64,
    /// v1/v2c community, or a v3 plaintext message's user name.
    pub community: Option<String>,
    /// The PDU's tag; `None` for an encrypted v3 PDU.
    pub pdu: Option<u8>,
    pub bindings: u64,
    pub sys_descr: Option<String>,
    pub uptime_ticks: Option<u64>,
}

impl Parser for Snmp {
    fn parse(&mut self, s: &mut Session<'_>, _dir: Dir, data: &[u8]) -> Verdict {
        match read(data) {
            Some(m) if matches!(m.version, 0 | 1 | 3) => self.apply(s, &m),
            // Zeek reports other versions without logging them.
            Some(_) => s.weird("snmp_unknown_version"),
            None => s.weird("snmp_bad_message"),
        }
        Verdict::More
    }

    fn close(&mut self, s: &mut Session<'_>) {
        if let Some(rec) = self.rec.take() {
            s.emit(EventBody::Snmp(rec));
        }
    }
}

impl Snmp {
    fn apply(&mut self, s: &Session<'_>, m: &Message) {
        let first = *self.first.get_or_insert(s.ts);
        let rec = self.rec.get_or_insert_with(|| SnmpRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            duration: 0.0,
            version: match m.version {
                0 => "1",
                1 => "2c",
                _ => "3",
            }
            .to_string(),
            community: None,
            get_requests: 0,
            get_bulk_requests: 0,
            get_responses: 0,
            set_requests: 0,
            display_string: None,
            up_since: None,
        });
        if rec.community.is_none() {
            rec.community.clone_from(&m.community);
        }
        rec.duration = (s.ts - first) as f64 / 1e9;
        let n = m.bindings;
        match m.pdu {
            Some(GET | GET_NEXT) => rec.get_requests += n,
            Some(GET_BULK) => rec.get_bulk_requests += n,
            Some(SET) => rec.set_requests += n,
            Some(RESPONSE) => {
                rec.get_responses += n;
                if m.sys_descr.is_some() {
                    rec.display_string.clone_from(&m.sys_descr);
                }
                if let Some(t) = m.uptime_ticks {
                    rec.up_since = Some(ConnIdent::time(s.ts) - t as f64 / 100.0);
                }
            }
            _ => {}
        }
    }
}

/// Reads one message; `None` when it is not well-formed SNMP.
pub fn read(d: &[u8]) -> Option<Message> {
    let mut top = ber::Reader::new(ber::Reader::new(d).expect(0x30)?);
    let version = top.integer()?;
    let mut m = Message {
        version,
        ..Message::default()
    };
    match version {
        0 | 1 => {
            let community = top.expect(0x04)?;
            m.community = Some(escape(community));
            pdu(&mut m, top.element()?)?;
        }
        3 => {
            let mut global = ber::Reader::new(top.expect(0x30)?);
            let _id = global.integer()?;
            let _max = global.integer()?;
            let flags = global.expect(0x04)?;
            let model = global.integer()?;
            let security = top.expect(0x04)?;
            let data = top.element()?;
            let encrypted = flags.first().is_some_and(|f| f & 0x02 != 0);
            if data.tag == 0x04 || encrypted {
                return Some(m);
            }
            if data.tag != 0x30 {
                return None;
            }
            if model == 3 {
                m.community = usm_user(security).filter(|u| !u.is_empty());
            }
            let mut scoped = ber::Reader::new(data.value);
            let _engine = scoped.expect(0x04)?;
            let _context = scoped.expect(0x04)?;
            pdu(&mut m, scoped.element()?)?;
        }
        _ => {}
    }
    Some(m)
}

/// The user name in USM security parameters (RFC 3414).
fn usm_user(p: &[u8]) -> Option<String> {
    let mut r = ber::Reader::new(ber::Reader::new(p).expect(0x30)?);
    let _engine = r.expect(0x04)?;
    let _boots = r.integer()?;
    let _time = r.integer()?;
    Some(escape(r.expect(0x04)?))
}

/// Reads a PDU: counts its bindings and picks out sysDescr and sysUpTime.
fn pdu(m: &mut Message, t: ber::Tlv<'_>) -> Option<()> {
    m.pdu = Some(t.tag);
    if !matches!(
        t.tag,
        GET | GET_NEXT | RESPONSE | SET | GET_BULK | 0xa6..=0xa8
    ) {
        // A v1 trap or an unknown PDU: nothing the log counts.
        return Some(());
    }
    let mut r = ber::Reader::new(t.value);
    let _request_id = r.integer()?;
    let _error_status_or_non_repeaters = r.integer()?;
    let _error_index_or_max_repetitions = r.integer()?;
    let mut list = ber::Reader::new(r.expect(0x30)?);
    while !list.is_empty() {
        let mut binding = ber::Reader::new(list.expect(0x30)?);
        let name = ber::oid(binding.expect(0x06)?)?;
        let value = binding.element()?;
        m.bindings += 1;
        if t.tag != RESPONSE {
            continue;
        }
        match (name.as_str(), value.tag) {
            // OCTET STRING or Opaque.
            (SYS_DESCR, 0x04 | 0x44) => m.sys_descr = Some(escape(value.value)),
            // Counter32, Gauge32, TimeTicks, Counter64.
            (SYS_UPTIME, 0x41 | 0x42 | 0x43 | 0x46) => m.uptime_ticks = ber::unsigned(value.value),
            _ => {}
        }
    }
    Some(())
}

#[cfg(test)]
mod tests;
