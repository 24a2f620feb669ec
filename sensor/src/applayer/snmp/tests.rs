//! SNMP messages built by hand (a small BER writer) through the parser.

use super::*;
use crate::applayer::steps::{drive, Step};
use crate::applayer::Registry;
use crate::decode::Addr;
use crate::flow::RecordContext;
use crate::site::Site;
use vagt_schema::{ConnId, Proto};

fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let body: Vec<u8> = parts.concat();
    let mut out = vec![tag];
    if body.len() < 0x80 {
        out.push(body.len() as u8);
    } else {
        out.push(0x82);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(&body);
    out
}

fn int(v: u8) -> Vec<u8> {
    tlv(0x02, &[&[v]])
}

fn binding(oid: &[u8], value: Vec<u8>) -> Vec<u8> {
    tlv(0x30, &[&tlv(0x06, &[oid]), &value])
}

fn pdu(tag: u8, bindings: &[Vec<u8>]) -> Vec<u8> {
    let list: Vec<&[u8]> = bindings.iter().map(|b| b.as_slice()).collect();
    tlv(tag, &[&int(7), &int(0), &int(0), &tlv(0x30, &list)])
}

fn v2c(community: &[u8], pdu: Vec<u8>) -> Vec<u8> {
    tlv(0x30, &[&int(1), &tlv(0x04, &[community]), &pdu])
}

const DESCR: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];
const UPTIME: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 3, 0];

fn run(msgs: &[(i64, Vec<u8>)]) -> Vec<SnmpRecord> {
    let conn = ConnIdent {
        uid: "C1".into(),
        id: ConnId {
            orig_h: "10.0.0.1".parse().expect("addr"),
            orig_p: 50000,
            resp_h: "10.0.0.2".parse().expect("addr"),
            resp_p: 161,
        },
        proto: Proto::Udp,
        vlan: 0,
        orig: Addr::default(),
        resp: Addr::default(),
    };
    let steps = msgs.iter().map(|(ts, d)| Step {
        ts: *ts,
        dir: Dir::ToServer,
        data: d,
    });
    let out = drive(make, &conn, &Registry::default(), steps);
    let ctx = RecordContext {
        municipality: String::new(),
        sensor: String::new(),
        site: Site::default(),
        uid_salt: 0,
    };
    out.events
        .iter()
        .filter_map(|e| match e.to_event(&ctx).map(|ev| ev.body) {
            Some(EventBody::Snmp(r)) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn counts_bindings_and_reads_what_the_agent_says() {
    let null = || tlv(0x05, &[]);
    let get = v2c(
        b"public",
        pdu(GET, &[binding(DESCR, null()), binding(UPTIME, null())]),
    );
    let resp = v2c(
        b"public",
        pdu(
            RESPONSE,
            &[
                binding(DESCR, tlv(0x04, &[b"Linux box\x00"])),
                binding(UPTIME, tlv(0x43, &[&[0x00, 0x98, 0x96, 0x80]])),
            ],
        ),
    );
    let set = v2c(b"private", pdu(SET, &[binding(DESCR, tlv(0x04, &[b"x"]))]));
    let s = 1_000_000_000;
    let recs = run(&[(100 * s, get), (100 * s + s / 2, resp), (101 * s, set)]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.version, "2c");
    assert_eq!(r.community.as_deref(), Some("public"));
    assert_eq!((r.get_requests, r.get_responses, r.set_requests), (2, 2, 1));
    assert_eq!(r.display_string.as_deref(), Some("Linux box\\x00"));
    // 10,000,000 ticks = 100,000 s before the response.
    assert_eq!(r.up_since, Some(100.5 - 100_000.0));
    assert_eq!(r.duration, 1.0);
}

#[test]
fn v3_user_names_and_encrypted_messages() {
    let usm = |user: &[u8]| {
        tlv(
            0x04,
            &[&tlv(
                0x30,
                &[
                    &tlv(0x04, &[]),
                    &int(1),
                    &int(1),
                    &tlv(0x04, &[user]),
                    &tlv(0x04, &[]),
                    &tlv(0x04, &[]),
                ],
            )],
        )
    };
    let global = |flags: u8| {
        tlv(
            0x30,
            &[&int(1), &int(100), &tlv(0x04, &[&[flags]]), &int(3)],
        )
    };
    let scoped = |p: Vec<u8>| tlv(0x30, &[&tlv(0x04, &[]), &tlv(0x04, &[]), &p]);
    let plain = |user: &[u8], p: Vec<u8>| tlv(0x30, &[&int(3), &global(4), &usm(user), &scoped(p)]);
    let empty = plain(b"", pdu(GET, &[]));
    let named = plain(b"alice", pdu(GET_NEXT, &[binding(DESCR, tlv(0x05, &[]))]));
    let recs = run(&[(1, empty), (2, named)]);
    assert_eq!(recs[0].version, "3");
    assert_eq!(recs[0].community.as_deref(), Some("alice"));
    assert_eq!(recs[0].get_requests, 1);
    let secret = tlv(
        0x30,
        &[
            &int(3),
            &global(7),
            &usm(b"bob"),
            &tlv(0x04, &[b"ciphertext"]),
        ],
    );
    let recs = run(&[(1, secret)]);
    assert_eq!(recs[0].community, None);
    assert_eq!(recs[0].get_requests, 0);
}

#[test]
fn refuses_broken_messages() {
    assert_eq!(read(&[0x30, 0x03, 0x02, 0x01]), None);
    assert_eq!(read(b"\x30\x00"), None);
    let bad_oid = v2c(b"c", pdu(GET, &[binding(&[0x2b, 0x81], tlv(0x05, &[]))]));
    assert_eq!(read(&bad_oid), None);
    let recs = run(&[(1, b"garbage".to_vec())]);
    assert!(recs.is_empty());
    // Version 2 (v2u and friends) is not logged.
    let odd = tlv(0x30, &[&int(2), &tlv(0x04, &[b"c"]), &pdu(GET, &[])]);
    assert!(run(&[(1, odd)]).is_empty());
}
