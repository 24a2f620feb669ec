//! The exchange join against hand-made message sequences.

use super::message::tests::build;
use super::message::{parse, Message};
use super::{Aggregator, Settings};
use crate::applayer::ConnIdent;
use crate::decode::Addr;
use crate::flow::{Emitted, RecordContext};
use crate::site::Site;
use std::net::IpAddr;
use vagt_schema::{ConnId, DhcpRecord, EventBody, Proto};

const SEC: i64 = 1_000_000_000;

fn conn(uid: &str, orig: &str, op: u16, resp: &str, rp: u16) -> ConnIdent {
    let o: IpAddr = orig.parse().expect("addr");
    let r: IpAddr = resp.parse().expect("addr");
    ConnIdent {
        uid: uid.into(),
        id: ConnId {
            orig_h: o,
            orig_p: op,
            resp_h: r,
            resp_p: rp,
        },
        proto: Proto::Udp,
        vlan: 0,
        orig: Addr::default(),
        resp: Addr::default(),
    }
}

fn msg(op: u8, xid: u32, yiaddr: [u8; 4], opts: &[u8]) -> Message {
    parse(&build(
        op,
        xid,
        yiaddr,
        [0x90, 0xb1, 0x1c, 0x99, 0x49, 0x29],
        opts,
    ))
    .expect("parse")
}

fn take(e: &Emitted) -> Option<DhcpRecord> {
    let ctx = RecordContext {
        municipality: String::new(),
        sensor: String::new(),
        site: Site::default(),
        uid_salt: 0,
    };
    match e.to_event(&ctx).map(|ev| ev.body) {
        Some(EventBody::Dhcp(d)) => Some(d),
        _ => None,
    }
}

#[test]
fn joins_an_exchange_over_its_connections() {
    let mut agg = Aggregator::new(Settings::default());
    let mut out = Vec::new();
    let bcast = conn("C1", "0.0.0.0", 68, "255.255.255.255", 67);
    let offer = conn("C2", "10.0.0.1", 67, "10.0.0.9", 68);
    let reply = conn("C3", "10.0.0.1", 67, "255.255.255.255", 68);
    let discover = msg(
        1,
        7,
        [0; 4],
        &[
            53, 1, 1, 12, 2, b'p', b'c', 60, 3, b'a', b'b', b'c', 55, 2, 1, 3,
        ],
    );
    agg.message(0, &bcast, true, &discover, &mut out);
    let o = msg(
        2,
        7,
        [10, 0, 0, 9],
        &[
            53, 1, 2, 51, 4, 0, 0, 0x0e, 0x10, 15, 4, b'x', b'.', b'd', b'k',
        ],
    );
    agg.message(SEC / 100, &offer, true, &o, &mut out);
    let request = msg(1, 7, [0; 4], &[53, 1, 3, 50, 4, 10, 0, 0, 9]);
    agg.message(SEC, &bcast, true, &request, &mut out);
    let ack = msg(2, 7, [10, 0, 0, 9], &[53, 1, 5]);
    agg.message(SEC + SEC / 100, &reply, true, &ack, &mut out);
    assert!(out.is_empty());
    assert_eq!(agg.len(), 1);
    // Not yet quiet for 5 s at the first check (10 s)... it is: last at 1 s.
    agg.tick(10 * SEC, &mut out);
    let recs: Vec<DhcpRecord> = out.iter().filter_map(take).collect();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.uids, ["C1", "C2", "C3"]);
    assert_eq!(r.msg_types, ["DISCOVER", "OFFER", "REQUEST", "ACK"]);
    assert_eq!(r.client_addr, Some("10.0.0.9".parse().expect("addr")));
    assert_eq!(r.server_addr, Some("10.0.0.1".parse().expect("addr")));
    assert_eq!(r.assigned_addr, r.client_addr);
    assert_eq!(r.requested_addr, r.client_addr);
    assert_eq!(r.host_name.as_deref(), Some("pc"));
    assert_eq!(r.domain.as_deref(), Some("x.dk"));
    assert_eq!(r.lease_time, Some(3600.0));
    assert_eq!(r.mac.as_deref(), Some("90:b1:1c:99:49:29"));
    assert_eq!(r.vendor_class.as_deref(), Some("abc"));
    assert_eq!(r.param_list, [1, 3]);
    assert!((r.duration - 1.01).abs() < 1e-9);
}

#[test]
fn writes_at_the_limits_and_starts_again() {
    let mut agg = Aggregator::new(Settings {
        max_msg_types_per_log_entry: 4,
        ..Settings::default()
    });
    let mut out = Vec::new();
    for i in 0..5u16 {
        let c = conn(&format!("C{i}"), "10.0.0.5", 68, "10.0.0.1", 67);
        let inform = msg(1, 9, [0; 4], &[53, 1, 8]);
        agg.message(i64::from(i) * SEC / 10, &c, true, &inform, &mut out);
        let ack = msg(2, 9, [0; 4], &[53, 1, 5]);
        agg.message(i64::from(i) * SEC / 10 + 1, &c, false, &ack, &mut out);
    }
    let recs: Vec<DhcpRecord> = out.iter().filter_map(take).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].msg_types, ["INFORM", "ACK", "INFORM", "ACK"]);
    assert_eq!(recs[0].uids, ["C0", "C1"]);
    assert_eq!(agg.len(), 1);
    agg.flush(&mut out);
    assert_eq!(out.iter().filter_map(take).count(), 3);
    assert!(agg.is_empty());
}

#[test]
fn keeps_an_active_exchange_until_it_goes_quiet() {
    let mut agg = Aggregator::new(Settings::default());
    let mut out = Vec::new();
    let c = conn("C1", "0.0.0.0", 68, "255.255.255.255", 67);
    for s in 0..9 {
        agg.message(s * SEC, &c, true, &msg(1, 3, [0; 4], &[53, 1, 1]), &mut out);
    }
    // At 10 s the last message is 2 s old: checked again at 15 s.
    agg.tick(12 * SEC, &mut out);
    assert!(out.is_empty());
    agg.tick(15 * SEC, &mut out);
    let recs: Vec<DhcpRecord> = out.iter().filter_map(take).collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].msg_types.len(), 9);
    // No client identifier and no server reply: the mac is chaddr.
    assert_eq!(recs[0].mac.as_deref(), Some("90:b1:1c:99:49:29"));
}

#[test]
fn bounds_open_exchanges() {
    let mut agg = Aggregator::new(Settings::default());
    let mut out = Vec::new();
    let c = conn("C1", "0.0.0.0", 68, "255.255.255.255", 67);
    for xid in 0..5000u32 {
        agg.message(1, &c, true, &msg(1, xid, [0; 4], &[53, 1, 1]), &mut out);
    }
    assert!(agg.len() <= 1024);
    assert_eq!(out.len() + agg.len(), 5000);
}

/// The client's messages read by one worker and the server's by another,
/// each worker's arriving as a batch: the writer's join makes the record
/// one worker reading everything would write, messages in time order.
#[test]
fn joins_across_workers_in_time_order() {
    use super::{Join, Sighting};
    let bcast = conn("C1", "0.0.0.0", 68, "255.255.255.255", 67);
    let reply = conn("C2", "10.0.0.1", 67, "10.0.0.9", 68);
    let sight = |ts: i64, conn: &ConnIdent, op: u8, yiaddr: [u8; 4], kind: u8| {
        Emitted::Dhcp(Box::new(Sighting {
            ts,
            conn: conn.clone(),
            is_orig: true,
            message: msg(op, 7, yiaddr, &[53, 1, kind]),
        }))
    };
    let client = [
        sight(0, &bcast, 1, [0; 4], 1),
        sight(SEC, &bcast, 1, [0; 4], 3),
    ];
    let server = [
        sight(SEC / 10, &reply, 2, [10, 0, 0, 9], 2),
        sight(SEC + SEC / 10, &reply, 2, [10, 0, 0, 9], 5),
    ];
    let clock = |worker: u16, now: i64| Emitted::Clock { worker, now };
    let mut join = Join::new(Settings::default(), 2);
    let mut out = Vec::new();
    // Worker 0 runs ahead: its messages and a clock far past them come
    // first; nothing may be written before worker 1 catches up.
    for e in &client {
        join.take(e, &mut out);
    }
    join.take(&clock(0, 30 * SEC), &mut out);
    assert!(
        out.is_empty(),
        "written before the slower worker's messages"
    );
    for e in &server {
        join.take(e, &mut out);
    }
    join.take(&clock(1, 30 * SEC), &mut out);
    let recs: Vec<DhcpRecord> = out.iter().filter_map(take).collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].msg_types, ["DISCOVER", "OFFER", "REQUEST", "ACK"]);
    assert_eq!(recs[0].uids, ["C1", "C2"]);
    assert_eq!(
        recs[0].assigned_addr,
        Some("10.0.0.9".parse().expect("addr"))
    );
}
