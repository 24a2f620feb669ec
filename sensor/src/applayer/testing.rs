//! Drives a parser without the packet path: a connection identity and a
//! session that feeds it bytes and collects what it emits. Used by the
//! parsers' unit tests and by the fuzz targets (`sensor/fuzz`).

use super::{ot_tally, AppSettings, ConnIdent, Dir, Parser, Session, Weirds};
use crate::decode::Addr;
use crate::flow::Emitted;
use vagt_schema::{ConnId, EventBody, Proto};

/// A connection 10.0.0.1:40000 -> 10.0.0.2:`resp_p`.
pub fn ident(proto: Proto, resp_p: u16) -> ConnIdent {
    let orig: std::net::IpAddr = "10.0.0.1".parse().expect("address");
    let resp: std::net::IpAddr = "10.0.0.2".parse().expect("address");
    ConnIdent {
        uid: "Ctest".into(),
        id: ConnId {
            orig_h: orig,
            orig_p: 40000,
            resp_h: resp,
            resp_p,
        },
        proto,
        vlan: 0,
        orig: Addr::from_ip(orig),
        resp: Addr::from_ip(resp),
    }
}

/// Feeds `steps` (direction, bytes) to `parser`, closes it, and returns the
/// bodies it emitted and the weirds it counted. OT parsers write every
/// message, as Zeek's logs have them (`[app.ot] records = "every"`).
pub fn run(
    parser: &mut dyn Parser,
    conn: &ConnIdent,
    steps: &[(Dir, &[u8])],
) -> (Vec<EventBody>, Weirds) {
    let settings = AppSettings {
        ot: ot_tally::Settings {
            records: ot_tally::OtRecords::Every,
            ..Default::default()
        },
        ..Default::default()
    };
    run_with(parser, conn, steps, &settings)
}

/// [`run`] with the given `[app]` settings; step `n` (from 0) is at
/// second `n + 1`.
pub fn run_with(
    parser: &mut dyn Parser,
    conn: &ConnIdent,
    steps: &[(Dir, &[u8])],
    settings: &AppSettings,
) -> (Vec<EventBody>, Weirds) {
    let mut out: Vec<Emitted> = Vec::new();
    let mut weird = Weirds::default();
    let mut shared =
        crate::applayer::shared::Shared::new(&crate::applayer::Registry::new(settings));
    for (n, (dir, data)) in steps.iter().enumerate() {
        let mut s = Session {
            ts: 1_000_000_000 * (n as i64 + 1),
            conn,
            out: &mut out,
            weird: &mut weird,
            shared: &mut shared,
        };
        parser.parse(&mut s, *dir, data);
    }
    let mut s = Session {
        ts: 1_000_000_000 * (steps.len() as i64 + 1),
        conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    parser.close(&mut s);
    let ctx = crate::flow::record::RecordContext::default();
    let bodies = out
        .into_iter()
        .filter_map(|e| match e {
            Emitted::Other(b) => Some(b.to_event(&ctx).body),
            Emitted::Conn(_) | Emitted::Arp(_) | Emitted::Dhcp(_) | Emitted::Clock { .. } => None,
        })
        .collect();
    (bodies, weird)
}
