//! Byte-identity of connection events across the typed closed sets.
//!
//! `proto`, `conn_state` and `end_reason` were strings before they became
//! enums. The golden lines below are what the string-typed schema wrote for
//! these records (serde_json and the fast writer agreed on them), pasted
//! literally: every value of every closed set appears, so a renamed variant
//! or a slip in the fast writer shows up as a changed byte.

use std::net::IpAddr;
use vagt_schema::{ConnRecord, ConnState, EndReason, Event, EventBody, Origin, Proto};

/// Written by the schema before the closed sets were typed.
const GOLDEN: &[&str] = &[
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"care","event_type":"conn","ts":1762243200.0105352,"uid":"C4GXVTnJA240","id.orig_h":"10.20.3.0","id.orig_p":40000,"id.resp_h":"10.0.0.60","id.resp_p":443,"proto":"tcp","service":"ssl","duration":0.006201377,"orig_bytes":0,"resp_bytes":35283,"conn_state":"S0","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADdFf","orig_pkts":18,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":6,"orig_l2_addr":"02:00:0a:14:03:30","resp_l2_addr":"02:00:0a:00:00:3c","community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"closed"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243201.0105352,"uid":"C4GXVTnJA241","id.orig_h":"10.20.3.1","id.orig_p":40001,"id.resp_h":"10.0.0.60","id.resp_p":53,"proto":"udp","conn_state":"S1","missed_bytes":1,"history":"ShADdFf","orig_pkts":19,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":17,"vlan":20,"community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"timeout"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243202.0105352,"uid":"C4GXVTnJA242","id.orig_h":"fe80::1","id.orig_p":40002,"id.resp_h":"2001:db8::60","id.resp_p":8,"proto":"icmp","duration":0.018604131,"orig_bytes":338,"resp_bytes":35283,"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":2,"history":"ShADdFf","orig_pkts":20,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":1,"community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"reused"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243203.0105352,"uid":"C4GXVTnJA243","id.orig_h":"10.20.3.3","id.orig_p":40003,"id.resp_h":"10.0.0.60","id.resp_p":0,"proto":"unknown_transport","conn_state":"REJ","local_orig":true,"local_resp":true,"missed_bytes":3,"orig_pkts":21,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":132,"vlan":20,"orig_l2_addr":"02:00:0a:14:03:30","resp_l2_addr":"02:00:0a:00:00:3c","community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"evicted"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"care","event_type":"conn","ts":1762243204.0105352,"uid":"C4GXVTnJA244","id.orig_h":"10.20.3.4","id.orig_p":40004,"id.resp_h":"10.0.0.60","id.resp_p":443,"proto":"tcp","duration":0.031006885,"orig_bytes":676,"resp_bytes":35283,"conn_state":"S2","missed_bytes":0,"history":"ShADdFf","orig_pkts":22,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":6,"community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"shutdown"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243205.0105352,"uid":"C4GXVTnJA245","id.orig_h":"fe80::1","id.orig_p":40005,"id.resp_h":"2001:db8::60","id.resp_p":53,"proto":"udp","service":"ssl","conn_state":"S3","local_orig":true,"local_resp":true,"missed_bytes":1,"history":"ShADdFf","orig_pkts":23,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":17,"vlan":20,"community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"interim":true,"end_reason":"interim"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243206.0105352,"uid":"C4GXVTnJA246","id.orig_h":"10.20.3.6","id.orig_p":40006,"id.resp_h":"10.0.0.60","id.resp_p":8,"proto":"icmp","duration":0.043409639,"orig_bytes":1014,"resp_bytes":35283,"conn_state":"RSTO","local_orig":true,"local_resp":false,"missed_bytes":2,"history":"ShADdFf","orig_pkts":24,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"tunnel_parents":["CaBcDeFgHiJk"],"ip_proto":58,"orig_l2_addr":"02:00:0a:14:03:30","resp_l2_addr":"02:00:0a:00:00:3c","community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"tunnel_depth":1}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243207.0105352,"uid":"C4GXVTnJA247","id.orig_h":"10.20.3.7","id.orig_p":40007,"id.resp_h":"10.0.0.60","id.resp_p":0,"proto":"unknown_transport","conn_state":"RSTR","missed_bytes":3,"history":"ShADdFf","orig_pkts":25,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":47,"vlan":20,"community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"closed"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"care","event_type":"conn","ts":1762243208.0105352,"uid":"C4GXVTnJA248","id.orig_h":"fe80::1","id.orig_p":40008,"id.resp_h":"2001:db8::60","id.resp_p":443,"proto":"tcp","duration":0.055812393,"orig_bytes":1352,"resp_bytes":35283,"conn_state":"RSTOS0","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADdFf","orig_pkts":26,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":6,"community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"timeout"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243209.0105352,"uid":"C4GXVTnJA249","id.orig_h":"10.20.3.9","id.orig_p":40009,"id.resp_h":"10.0.0.60","id.resp_p":53,"proto":"udp","conn_state":"RSTRH","local_orig":true,"local_resp":true,"missed_bytes":1,"orig_pkts":27,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":17,"vlan":20,"inner_vlan":30,"orig_l2_addr":"02:00:0a:14:03:30","resp_l2_addr":"02:00:0a:00:00:3c","community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"shutdown"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243210.0105352,"uid":"C4GXVTnJA24a","id.orig_h":"10.20.3.10","id.orig_p":40010,"id.resp_h":"10.0.0.60","id.resp_p":8,"proto":"tcp","service":"ssl","duration":0.068215147,"orig_bytes":1690,"resp_bytes":35283,"conn_state":"SH","missed_bytes":2,"history":"ShADdFf","orig_pkts":28,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":6,"community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"evicted"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"unassigned","event_type":"conn","ts":1762243211.0105352,"uid":"C4GXVTnJA24b","id.orig_h":"fe80::1","id.orig_p":40011,"id.resp_h":"2001:db8::60","id.resp_p":0,"proto":"tcp","conn_state":"SHR","local_orig":true,"local_resp":true,"missed_bytes":3,"history":"ShADdFf","orig_pkts":29,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":6,"vlan":20,"community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"reused"}"#,
    r#"{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"care","event_type":"conn","ts":1762243212.0105352,"uid":"C4GXVTnJA24c","id.orig_h":"10.20.3.12","id.orig_p":40012,"id.resp_h":"10.0.0.60","id.resp_p":443,"proto":"unknown_transport","duration":0.080617901,"orig_bytes":2028,"resp_bytes":35283,"conn_state":"OTH","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADdFf","orig_pkts":30,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":50,"orig_l2_addr":"02:00:0a:14:03:30","resp_l2_addr":"02:00:0a:00:00:3c","community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471,"end_reason":"timeout"}"#,
];

/// The records of `GOLDEN`, line for line: (proto, conn_state,
/// end_reason, ip_proto).
fn rows() -> Vec<(Proto, ConnState, Option<EndReason>, u8)> {
    vec![
        (Proto::Tcp, ConnState::S0, Some(EndReason::Closed), 6),
        (Proto::Udp, ConnState::S1, Some(EndReason::Timeout), 17),
        (Proto::Icmp, ConnState::Sf, Some(EndReason::Reused), 1),
        (
            Proto::UnknownTransport,
            ConnState::Rej,
            Some(EndReason::Evicted),
            132,
        ),
        (Proto::Tcp, ConnState::S2, Some(EndReason::Shutdown), 6),
        (Proto::Udp, ConnState::S3, Some(EndReason::Interim), 17),
        (Proto::Icmp, ConnState::Rsto, None, 58),
        (
            Proto::UnknownTransport,
            ConnState::Rstr,
            Some(EndReason::Closed),
            47,
        ),
        (Proto::Tcp, ConnState::Rstos0, Some(EndReason::Timeout), 6),
        (Proto::Udp, ConnState::Rstrh, Some(EndReason::Shutdown), 17),
        (Proto::Tcp, ConnState::Sh, Some(EndReason::Evicted), 6),
        (Proto::Tcp, ConnState::Shr, Some(EndReason::Reused), 6),
        (
            Proto::UnknownTransport,
            ConnState::Oth,
            Some(EndReason::Timeout),
            50,
        ),
    ]
}

/// One connection event; `i` varies the fields around the closed sets so
/// that optional fields are both present and absent across the set.
fn event(
    i: usize,
    proto: Proto,
    conn_state: ConnState,
    end_reason: Option<EndReason>,
    ip_proto: u8,
) -> Event {
    let v6 = i % 3 == 2;
    let (orig_h, resp_h): (IpAddr, IpAddr) = if v6 {
        (
            "fe80::1".parse().expect("literal"),
            "2001:db8::60".parse().expect("literal"),
        )
    } else {
        (
            IpAddr::from([10, 20, 3, i as u8]),
            IpAddr::from([10, 0, 0, 60]),
        )
    };
    let timed = i.is_multiple_of(2);
    Event::new(
        Origin {
            municipality: "0751".into(),
            sensor: "raadhus-1".into(),
            segment: if i.is_multiple_of(4) {
                "care"
            } else {
                "unassigned"
            }
            .into(),
        },
        EventBody::Conn(ConnRecord {
            ts: 1_762_243_200.0105352 + i as f64,
            uid: format!("C4GXVTnJA24{i:x}"),
            orig_h,
            orig_p: 40_000 + i as u16,
            resp_h,
            resp_p: [443, 53, 8, 0][i % 4],
            proto,
            service: i.is_multiple_of(5).then(|| "ssl".to_string()),
            duration: timed.then_some(0.006201377 * (i + 1) as f64),
            orig_bytes: timed.then_some(169 * i as u64),
            resp_bytes: timed.then_some(35_283),
            conn_state,
            local_orig: (i % 3 != 1).then_some(true),
            local_resp: (i % 3 != 1).then_some(i % 2 == 1),
            missed_bytes: (i % 4) as u64,
            history: (i % 6 != 3).then(|| "ShADdFf".to_string()),
            orig_pkts: 18 + i as u64,
            orig_ip_bytes: 889,
            resp_pkts: 27,
            resp_ip_bytes: 36_363,
            tunnel_parents: if i % 7 == 6 {
                vec!["CaBcDeFgHiJk".to_string()]
            } else {
                vec![]
            },
            ip_proto,
            vlan: (i % 2 == 1).then_some(20),
            inner_vlan: (i == 9).then_some(30),
            third_vlan: None,
            orig_l2_addr: i.is_multiple_of(3).then(|| "02:00:0a:14:03:30".to_string()),
            resp_l2_addr: i.is_multiple_of(3).then(|| "02:00:0a:00:00:3c".to_string()),
            community_id: "1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=".into(),
            orig_link_bytes: 961,
            resp_link_bytes: 36_471,
            tunnel_depth: (i % 7 == 6) as u8,
            interim: i == 5,
            end_reason,
        }),
    )
}

fn events() -> Vec<Event> {
    rows()
        .into_iter()
        .enumerate()
        .map(|(i, (p, c, e, n))| event(i, p, c, e, n))
        .collect()
}

#[test]
fn the_rows_cover_every_value_of_every_closed_set() {
    let rows = rows();
    for p in Proto::ALL {
        assert!(rows.iter().any(|r| r.0 == *p), "{p} missing");
    }
    for c in ConnState::ALL {
        assert!(rows.iter().any(|r| r.1 == *c), "{c} missing");
    }
    for e in EndReason::ALL {
        assert!(rows.iter().any(|r| r.2 == Some(*e)), "{e} missing");
    }
    assert!(
        rows.iter().any(|r| r.2.is_none()),
        "absent end_reason missing"
    );
    assert_eq!(rows.len(), GOLDEN.len());
}

#[test]
fn serde_json_writes_the_golden_bytes() {
    for (i, (ev, want)) in events().iter().zip(GOLDEN).enumerate() {
        let got = serde_json::to_string(ev).expect("serialise");
        assert_eq!(got, *want, "record {i}");
    }
}

#[test]
fn the_fast_writer_writes_the_golden_bytes() {
    let mut buf = Vec::new();
    for (i, (ev, want)) in events().iter().zip(GOLDEN).enumerate() {
        buf.clear();
        ev.write_json(&mut buf);
        assert_eq!(String::from_utf8_lossy(&buf), *want, "record {i}");
    }
}

#[test]
fn golden_lines_read_back_into_the_typed_records() {
    for (i, (ev, line)) in events().iter().zip(GOLDEN).enumerate() {
        let back: Event = serde_json::from_str(line).expect("golden line parses");
        assert_eq!(&back, ev, "record {i}");
    }
}

#[test]
fn an_unknown_value_fails_the_record_with_a_clear_error() {
    let line = GOLDEN[0].replace(r#""conn_state":"S0""#, r#""conn_state":"S9""#);
    let err = serde_json::from_str::<Event>(&line)
        .unwrap_err()
        .to_string();
    assert!(err.contains(r#"unknown conn_state "S9""#), "{err}");
    let line = GOLDEN[0].replace(r#""proto":"tcp""#, r#""proto":"sctp""#);
    let err = serde_json::from_str::<Event>(&line)
        .unwrap_err()
        .to_string();
    assert!(err.contains(r#"unknown proto "sctp""#), "{err}");
}

/// A third VLAN id is written after `inner_vlan` by both writers and read
/// back; records without one (every golden line) keep their bytes.
#[test]
fn a_third_vlan_follows_the_inner_one() {
    let mut ev = events().swap_remove(9);
    if let EventBody::Conn(c) = &mut ev.body {
        c.third_vlan = Some(40);
    }
    let want = GOLDEN[9].replace(r#""inner_vlan":30,"#, r#""inner_vlan":30,"third_vlan":40,"#);
    assert_ne!(want, GOLDEN[9]);
    assert_eq!(serde_json::to_string(&ev).expect("serialise"), want);
    let mut buf = Vec::new();
    ev.write_json(&mut buf);
    assert_eq!(String::from_utf8_lossy(&buf), want);
    let back: Event = serde_json::from_str(&want).expect("parses");
    assert_eq!(back, ev);
}
