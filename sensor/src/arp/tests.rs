//! The bindings table against hand-made frames: what is news, what is not,
//! segments, and the bounds.

use super::*;
use crate::site::{Segment, Site};

const SEC: i64 = 1_000_000_000;
const GW: [u8; 6] = [0x00, 0x1b, 0x21, 0, 0, 1];
const EVIL: [u8; 6] = [0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc];

fn ctx() -> RecordContext {
    RecordContext {
        municipality: "0751".into(),
        sensor: "s".into(),
        site: Site {
            segments: vec![Segment {
                name: "admin".into(),
                nets: vec!["10.1.0.0/16".parse().expect("net")],
                vlans: vec![20],
            }],
            local_nets: vec![],
        },
        uid_salt: 0,
    }
}

fn reply(ts: i64, mac: [u8; 6], ip: [u8; 4]) -> ArpSighting {
    ArpSighting {
        ts,
        op: ArpOp::Reply,
        src_mac: mac,
        dst_mac: [0, 0, 0, 0, 0, 9],
        sender_mac: mac,
        sender_ip: ip,
        target_mac: [0, 0, 0, 0, 0, 9],
        target_ip: [10, 1, 0, 9],
        vlan: 0,
    }
}

fn request(ts: i64, mac: [u8; 6], ip: [u8; 4], target: [u8; 4]) -> ArpSighting {
    ArpSighting {
        op: ArpOp::Request,
        dst_mac: [0xff; 6],
        target_mac: [0; 6],
        target_ip: target,
        ..reply(ts, mac, ip)
    }
}

fn records(w: &mut ArpWatch, frames: &[ArpSighting]) -> Vec<(String, ArpRecord)> {
    let ctx = ctx();
    let mut out = Vec::new();
    for f in frames {
        w.observe(f, &ctx, |e| -> Result<(), ()> {
            if let EventBody::Arp(r) = &e.body {
                out.push((e.origin.segment.clone(), r.clone()));
            }
            Ok(())
        })
        .expect("memory");
    }
    out
}

#[test]
fn a_binding_is_written_when_new_and_when_moved_never_when_repeated() {
    let mut w = ArpWatch::default();
    let frames = [
        reply(SEC, GW, [10, 1, 0, 1]),
        reply(2 * SEC, GW, [10, 1, 0, 1]),
        reply(3 * SEC, GW, [10, 1, 0, 1]),
        reply(5 * SEC, EVIL, [10, 1, 0, 1]),
        reply(6 * SEC, EVIL, [10, 1, 0, 1]),
        reply(7 * SEC, EVIL, [10, 1, 0, 5]),
        reply(8 * SEC, GW, [10, 1, 0, 1]),
    ];
    let r = records(&mut w, &frames);
    let got: Vec<(&str, &str, Option<&str>, u32)> = r
        .iter()
        .map(|(_, r)| {
            (
                r.change.as_str(),
                r.mac.as_str(),
                r.previous_mac.as_deref(),
                r.mac_ips,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("new", "00:1b:21:00:00:01", None, 1),
            ("moved", "00:0c:29:aa:bb:cc", Some("00:1b:21:00:00:01"), 1),
            ("new", "00:0c:29:aa:bb:cc", None, 2),
            ("moved", "00:1b:21:00:00:01", Some("00:0c:29:aa:bb:cc"), 1),
        ]
    );
    // The owner last answered two seconds before the takeover.
    assert_eq!(r[1].1.previous_age, Some(2.0));
    assert_eq!(r[1].1.ts, 5.0);
    assert!(r.iter().all(|(seg, _)| seg == "admin"));
    let st = w.stats().expect("frames seen");
    assert_eq!((st.frames, st.bindings, st.records), (7, 2, 4));
}

#[test]
fn segments_keep_their_own_bindings() {
    let mut w = ArpWatch::default();
    // The same address in VLAN 20 (admin) and on an unassigned network.
    let mut other = reply(2 * SEC, EVIL, [10, 1, 0, 1]);
    other.vlan = 30;
    let mut outside = reply(3 * SEC, EVIL, [192, 168, 0, 1]);
    outside.target_ip = [192, 168, 0, 2];
    let r = records(&mut w, &[reply(SEC, GW, [10, 1, 0, 1]), other, outside]);
    // VLAN 30 is no segment's, so the address decides: admin again.
    assert_eq!(r[1].1.change, "moved");
    assert_eq!(r[2].0, "unassigned");
    assert_eq!(r[2].1.change, "new");
}

#[test]
fn probes_and_group_macs_bind_nothing_and_gratuitous_is_marked() {
    let mut w = ArpWatch::default();
    let probe = request(SEC, GW, [0, 0, 0, 0], [10, 1, 0, 7]);
    let group = reply(SEC, [0x01, 0, 0x5e, 0, 0, 1], [10, 1, 0, 8]);
    let zero = reply(SEC, [0; 6], [10, 1, 0, 8]);
    let mut garp = request(2 * SEC, GW, [10, 1, 0, 7], [10, 1, 0, 7]);
    garp.dst_mac = [0xff; 6];
    let other_op = ArpSighting {
        op: ArpOp::Other(3),
        ..reply(SEC, GW, [10, 1, 0, 9])
    };
    let r = records(&mut w, &[probe, group, zero, other_op, garp]);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].1.gratuitous);
    assert_eq!(r[0].1.op, "request");
}

#[test]
fn a_sweep_is_written_with_its_numbers() {
    let mut w = ArpWatch::default();
    let frames: Vec<ArpSighting> = (1..=200u8)
        .map(|i| {
            request(
                SEC + i64::from(i) * SEC / 100,
                EVIL,
                [10, 1, 0, 66],
                [10, 1, 1, i],
            )
        })
        .collect();
    let r = records(&mut w, &frames);
    let sweeps: Vec<&ArpRecord> = r
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.change == "sweep")
        .collect();
    assert_eq!(sweeps.len(), 2, "{sweeps:?}");
    assert_eq!(sweeps[0].targets, Some(64));
    assert!(
        sweeps[0].duration.is_some_and(|d| (0.6..0.7).contains(&d)),
        "{sweeps:?}"
    );
    assert_eq!(sweeps[0].mac, "00:0c:29:aa:bb:cc");
    // The sender's own binding was written once, as new.
    assert_eq!(r.iter().filter(|(_, r)| r.change == "new").count(), 1);
    // Unicast requests (a router revalidating its neighbours) are no sweep.
    let mut w = ArpWatch::default();
    let unicast: Vec<ArpSighting> = (1..=200u8)
        .map(|i| {
            let mut f = request(SEC, GW, [10, 1, 0, 1], [10, 1, 1, i]);
            f.dst_mac = [0, 0, 0, 0, 1, i];
            f
        })
        .collect();
    assert!(records(&mut w, &unicast)
        .iter()
        .all(|(_, r)| r.change != "sweep"));
}

#[test]
fn a_flood_of_addresses_stays_within_the_cap_and_counts_its_evictions() {
    let mut w = ArpWatch::new(Limits {
        bindings: 1000,
        senders: 10,
        ..Limits::default()
    });
    let frames: Vec<ArpSighting> = (0..20_000u32)
        .map(|i| {
            let ip = (0x0a01_0000 + i).to_be_bytes();
            let mac = [2, 0, 0, 0, (i >> 8) as u8, i as u8];
            reply(i64::from(i) * SEC, mac, ip)
        })
        .collect();
    let r = records(&mut w, &frames);
    assert_eq!(r.len(), 20_000, "each address was new once");
    let st = w.stats().expect("stats");
    assert!(st.bindings <= 1000);
    assert_eq!(st.bindings + st.bindings_evicted, 20_000);
    // The MAC counts shrank with the bindings they counted.
    let held: u32 = w.mac_ips.values().sum();
    assert_eq!(u64::from(held), st.bindings);
}

#[test]
fn first_sight_writes_what_a_fresh_table_would() {
    let ctx = ctx();
    let e = first_sight(&reply(SEC, GW, [10, 1, 0, 1]), &ctx);
    let EventBody::Arp(r) = e.body else {
        panic!("not arp: {e:?}")
    };
    assert_eq!((r.change.as_str(), r.mac_ips), ("new", 1));
    let e = first_sight(&reply(SEC, [0; 6], [10, 1, 0, 1]), &ctx);
    assert!(matches!(e.body, EventBody::Arp(_)));
}
