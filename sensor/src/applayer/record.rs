//! How application records leave a worker: the identity of the connection
//! a parser reads ([`ConnIdent`], built once when the parser is attached),
//! and the boxed record ([`AppRecord`]) that the writer thread wraps in the
//! envelope, like a connection record.

use crate::decode::Addr;
use crate::flow::conn::Conn;
use crate::flow::key::FlowKey;
use crate::flow::record::{seconds, uid_of, uid_string, RecordContext};
use crate::flow::{ConnKind, Emit};
use vagt_schema::{ConnId, Event, EventBody, Origin, Proto};

/// The connection a parser reads, as its records name it.
#[derive(Clone, Debug)]
pub struct ConnIdent {
    pub uid: String,
    pub id: ConnId,
    pub proto: Proto,
    /// Outer VLAN and the addresses, to find the segment in the writer.
    pub vlan: u16,
    pub orig: Addr,
    pub resp: Addr,
}

impl ConnIdent {
    pub fn new(salt: u64, key: &FlowKey, conn: &Conn) -> ConnIdent {
        let (orig, op, resp, rp) = if conn.orig_slot == 0 {
            (key.a, key.a_port, key.b, key.b_port)
        } else {
            (key.b, key.b_port, key.a, key.a_port)
        };
        ConnIdent {
            uid: uid_string(uid_of(salt, key, conn.start_ts)),
            id: ConnId {
                orig_h: orig.to_ip(),
                orig_p: op,
                resp_h: resp.to_ip(),
                resp_p: rp,
            },
            proto: match conn.kind {
                ConnKind::Tcp => Proto::Tcp,
                ConnKind::Udp => Proto::Udp,
                ConnKind::Icmp => Proto::Icmp,
                ConnKind::Other => Proto::UnknownTransport,
            },
            vlan: key.vlan[0],
            orig,
            resp,
        }
    }

    /// Packet time as the records write it.
    pub fn time(ns: i64) -> f64 {
        seconds(ns)
    }
}

/// One application record on its way to the writer.
#[derive(Debug)]
pub struct AppRecord {
    pub vlan: u16,
    pub orig: Addr,
    pub resp: Addr,
    pub body: EventBody,
}

impl Emit for AppRecord {
    fn to_event(&self, ctx: &RecordContext) -> Event {
        Event::new(
            Origin {
                municipality: ctx.municipality.clone(),
                sensor: ctx.sensor.clone(),
                segment: ctx
                    .site
                    .segment_of(self.vlan, &self.orig, &self.resp)
                    .to_string(),
            },
            {
                let mut body = self.body.clone();
                super::ssh::set_direction(&mut body, &ctx.site, &self.orig, &self.resp);
                body
            },
        )
    }
}
