//! Tests of what events tell the inventory: who is a device, MAC
//! attribution, bounds, eviction, names and hints.

use super::*;
use crate::assets::{Inventory, MAX_IPS, MAX_SERVICES};
use crate::site::Site;
use vagt_schema::{AssetRecord, Origin};

fn origin(segment: &str) -> Origin {
    Origin {
        municipality: "0751".into(),
        sensor: "s".into(),
        segment: segment.into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn conn(
    ts: f64,
    orig: (&str, Option<&str>),
    resp: (&str, Option<&str>),
    port: u16,
    proto: &str,
    service: Option<&str>,
    state: &str,
    resp_pkts: u64,
) -> Event {
    let c: ConnRecord = serde_json::from_value(serde_json::json!({
        "ts": ts, "uid": "C1", "id.orig_h": orig.0, "id.orig_p": 40000,
        "id.resp_h": resp.0, "id.resp_p": port, "proto": proto, "service": service,
        "conn_state": state, "missed_bytes": 0, "orig_pkts": 2, "orig_ip_bytes": 1,
        "resp_pkts": resp_pkts, "resp_ip_bytes": 1, "ip_proto": 6,
        "orig_l2_addr": orig.1, "resp_l2_addr": resp.1,
        "community_id": "1:x", "orig_link_bytes": 1, "resp_link_bytes": 1
    }))
    .expect("conn record");
    Event::new(origin("ot"), EventBody::Conn(c))
}

fn tcp(ts: f64, orig: &str, resp: &str, port: u16) -> Event {
    conn(ts, (orig, None), (resp, None), port, "tcp", None, "SF", 2)
}

fn records(events: &[Event]) -> Vec<&AssetRecord> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Asset(a) => Some(a),
            _ => None,
        })
        .collect()
}

const PLC: (&str, Option<&str>) = ("10.0.0.3", Some("00:02:b3:ce:70:51"));
const HMI: (&str, Option<&str>) = ("10.0.0.57", Some("00:20:78:00:62:0d"));

#[test]
fn a_modbus_exchange_makes_a_controller_and_a_workstation() {
    let mut inv = Inventory::new(Site::default(), 100);
    let ev = inv.observe(&conn(10.0, HMI, PLC, 502, "tcp", Some("modbus"), "SF", 4));
    let recs = records(&ev);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.change == ["new"]));
    assert_eq!(ev[0].origin.segment, "ot");
    let plc = inv.get("ot", "mac:00:02:b3:ce:70:51").expect("plc");
    assert_eq!(plc.vendor.as_deref(), Some("Intel Corporation"));
    assert_eq!(plc.role.as_deref(), Some("ot_controller"));
    assert_eq!(plc.role_evidence, ["offers modbus (502/tcp) to 1 client"]);
    let hmi = inv.by_ip("ot", "10.0.0.57".parse().unwrap()).expect("hmi");
    assert_eq!(hmi.role.as_deref(), Some("engineering_workstation"));
    assert_eq!(hmi.record(&[]).services_used, ["modbus/502"]);
    // The same again changes nothing; a second client changes the evidence
    // but not the role, so no event.
    assert!(inv
        .observe(&conn(11.0, HMI, PLC, 502, "tcp", Some("modbus"), "SF", 4))
        .is_empty());
    let ev = inv.observe(&conn(
        12.0,
        ("10.0.0.9", None),
        PLC,
        502,
        "tcp",
        Some("modbus"),
        "SF",
        4,
    ));
    let recs = records(&ev);
    assert_eq!(recs.len(), 1, "only the new client: {recs:?}");
    assert_eq!(recs[0].key, "ip:10.0.0.9");
    let plc = inv.get("ot", "mac:00:02:b3:ce:70:51").expect("plc");
    assert_eq!(plc.role_evidence, ["offers modbus (502/tcp) to 2 clients"]);
    assert_eq!(plc.last_seen, 12.0);
}

#[test]
fn only_local_devices_that_exist_are_inventoried() {
    let mut inv = Inventory::new(Site::default(), 100);
    // A remote server, an unanswered probe, and a broadcast.
    inv.observe(&tcp(1.0, "10.0.0.5", "8.8.8.8", 443));
    inv.observe(&conn(
        2.0,
        ("10.0.0.5", None),
        ("10.0.0.77", None),
        22,
        "tcp",
        None,
        "S0",
        0,
    ));
    inv.observe(&conn(
        3.0,
        ("10.0.0.5", None),
        ("10.0.0.255", Some("ff:ff:ff:ff:ff:ff")),
        137,
        "udp",
        None,
        "S0",
        0,
    ));
    inv.observe(&conn(
        4.0,
        ("10.0.0.5", None),
        ("10.0.0.254", Some("ff:ff:ff:ff:ff:ff")),
        137,
        "udp",
        None,
        "SF",
        1,
    ));
    let keys: Vec<&str> = inv.assets().iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["ip:10.0.0.5"]);
    let a = inv.assets()[0];
    assert_eq!(a.role.as_deref(), Some("client"));
    assert_eq!(a.record(&[]).services_used, ["tcp/443", "udp/137"]);
    // With local networks configured, those decide.
    let site = Site {
        segments: vec![],
        local_nets: vec!["141.81.0.0/24".parse().unwrap()],
    };
    let mut inv = Inventory::new(site, 100);
    inv.observe(&tcp(1.0, "10.0.0.5", "141.81.0.46", 502));
    let keys: Vec<&str> = inv.assets().iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["ip:141.81.0.46"]);
}

#[test]
fn a_mac_with_many_addresses_is_a_router_and_takes_no_more() {
    let mut inv = Inventory::new(Site::default(), 1000);
    let gw = Some("00:04:17:02:31:3b");
    for i in 1..=12 {
        let ip = format!("10.1.0.{i}");
        inv.observe(&conn(
            f64::from(i),
            (ip.as_str(), gw),
            ("10.0.0.3", None),
            80,
            "tcp",
            None,
            "SF",
            2,
        ));
    }
    let r = inv.get("ot", "mac:00:04:17:02:31:3b").expect("router");
    assert!(r.router);
    assert_eq!(r.ips.len(), 9);
    assert_eq!(r.role.as_deref(), Some("router"));
    assert_eq!(
        r.role_evidence,
        ["MAC 00:04:17:02:31:3b carried 9 local addresses (more than a host has)"]
    );
    // The devices behind it are known by their addresses.
    assert!(inv.get("ot", "ip:10.1.0.10").is_some());
    assert!(inv.get("ot", "ip:10.1.0.12").is_some());
}

#[test]
fn every_list_is_bounded() {
    let mut inv = Inventory::new(Site::default(), 1000);
    // Addresses rotating slowly (a DHCP client over months) are no router.
    let mac = Some("00:02:b3:ce:70:51");
    for i in 0..40u32 {
        let ip = format!("10.2.0.{i}");
        inv.observe(&conn(
            f64::from(i) * 7200.0,
            (ip.as_str(), mac),
            ("10.0.0.3", None),
            80,
            "tcp",
            None,
            "SF",
            2,
        ));
    }
    let a = inv.get("ot", "mac:00:02:b3:ce:70:51").expect("host");
    assert!(!a.router);
    assert_eq!(a.ips.len(), MAX_IPS);
    assert_eq!(
        a.ips.last().map(|i| i.ip.to_string()).as_deref(),
        Some("10.2.0.39")
    );
    for port in 0..100u16 {
        inv.observe(&tcp(1e6, "10.0.0.8", "10.0.0.9", 1000 + port));
    }
    let server = inv
        .by_ip("ot", "10.0.0.9".parse().unwrap())
        .expect("server");
    assert_eq!(server.offered.len(), MAX_SERVICES);
    let client = inv
        .by_ip("ot", "10.0.0.8".parse().unwrap())
        .expect("client");
    assert_eq!(client.used.len(), MAX_SERVICES);
    for i in 0..20 {
        inv.observe(&tcp(2e6, &format!("10.3.0.{i}"), "10.0.0.9", 1000));
    }
    let server = inv
        .by_ip("ot", "10.0.0.9".parse().unwrap())
        .expect("server");
    assert_eq!(server.offered[0].peers.len(), crate::assets::MAX_PEERS);
    assert!(
        server
            .role_evidence
            .iter()
            .any(|e| e.contains("to 8 or more clients")),
        "{:?}",
        server.role_evidence
    );
}

#[test]
fn the_least_recently_seen_are_evicted_when_full() {
    let mut inv = Inventory::new(Site::default(), 64);
    for i in 0..64u32 {
        inv.observe(&tcp(f64::from(i), &format!("10.4.0.{i}"), "8.8.8.8", 53));
    }
    assert_eq!(inv.len(), 64);
    // The oldest is seen again, so the eight after it go (an eighth of
    // the inventory makes room at once) and the new device comes in.
    inv.observe(&tcp(100.0, "10.4.0.0", "8.8.8.8", 53));
    inv.observe(&tcp(101.0, "10.4.1.1", "8.8.8.8", 53));
    assert_eq!(inv.len(), 64 - 8 + 1);
    assert!(inv.get("ot", "ip:10.4.0.0").is_some());
    for i in 1..=8 {
        assert!(inv.get("ot", &format!("ip:10.4.0.{i}")).is_none(), "{i}");
    }
    assert!(inv.get("ot", "ip:10.4.0.9").is_some());
    assert!(inv.by_ip("ot", "10.4.0.1".parse().unwrap()).is_none());
    assert!(inv.get("ot", "ip:10.4.1.1").is_some());
}

#[test]
fn a_device_known_by_address_joins_its_mac_and_segments_stay_apart() {
    let mut inv = Inventory::new(Site::default(), 100);
    inv.observe(&tcp(1.0, "10.0.0.8", "10.0.0.3", 502));
    assert!(inv.get("ot", "ip:10.0.0.8").is_some());
    let ev = inv.observe(&conn(
        2.0,
        ("10.0.0.8", Some("00:50:04:93:70:67")),
        ("10.0.0.3", None),
        502,
        "tcp",
        None,
        "SF",
        2,
    ));
    assert_eq!(records(&ev)[0].change, ["new"]);
    assert!(
        inv.get("ot", "ip:10.0.0.8").is_none(),
        "folded into the MAC's device"
    );
    let a = inv.get("ot", "mac:00:50:04:93:70:67").expect("by mac");
    assert_eq!((a.first_seen, a.ips.len()), (1.0, 1));
    assert_eq!(a.vendor.as_deref(), Some("3COM"));
    // A second address of the same MAC is a change of addresses.
    let ev = inv.observe(&conn(
        3.0,
        ("10.0.0.9", Some("00:50:04:93:70:67")),
        ("10.0.0.3", None),
        502,
        "tcp",
        None,
        "SF",
        2,
    ));
    assert_eq!(records(&ev)[0].change, ["ip"]);
    // The same address on another segment is another device.
    let mut e = tcp(4.0, "10.0.0.8", "10.0.0.3", 502);
    e.origin.segment = "school".into();
    inv.observe(&e);
    assert!(inv.get("school", "ip:10.0.0.8").is_some());
}

#[test]
fn names_come_from_dhcp_before_dns_and_hints_are_kept() {
    let mut inv = Inventory::new(Site::default(), 100);
    inv.observe(&tcp(1.0, "10.0.0.57", "10.0.0.3", 80));
    let dns: vagt_schema::DnsRecord = serde_json::from_value(serde_json::json!({
        "ts": 2.0, "uid": "C2", "id.orig_h": "10.0.0.57", "id.orig_p": 5353,
        "id.resp_h": "10.0.0.1", "id.resp_p": 53, "proto": "udp", "trans_id": 1,
        "query": "3.0.0.10.in-addr.arpa", "qtype_name": "PTR", "answers": ["plc-1.local"],
        "AA": false, "TC": false, "RD": true, "RA": true, "Z": 0, "rejected": false
    }))
    .expect("dns");
    let ev = inv.observe(&Event::new(origin("ot"), EventBody::Dns(dns)));
    assert_eq!(records(&ev)[0].change, ["host_name"]);
    let plc = inv.by_ip("ot", "10.0.0.3".parse().unwrap()).expect("plc");
    assert_eq!(plc.host_name.as_deref(), Some("plc-1.local"));
    let facts = DhcpFacts {
        ts: 3.0,
        mac: Some("00:02:b3:ce:70:51"),
        host_name: Some("PLC-LINE-1"),
        assigned_addr: Some("10.0.0.3".parse().unwrap()),
        vendor_class: Some("MSFT 5.0"),
        param_list: &[1, 3, 6, 15],
    };
    let ch = inv.observe_dhcp("ot", &facts);
    assert_eq!(ch.len(), 1);
    assert_eq!(
        ch[0].change,
        ["new"],
        "the MAC is new; its address device joins it"
    );
    let plc = inv.get("ot", "mac:00:02:b3:ce:70:51").expect("plc");
    assert_eq!(plc.host_name.as_deref(), Some("PLC-LINE-1"));
    assert_eq!(
        plc.os_hints,
        ["dhcp vendor class: MSFT 5.0", "dhcp fingerprint: 1,3,6,15"]
    );
    assert!(inv.get("ot", "ip:10.0.0.3").is_none());
    let ch = inv.observe_http(
        "ot",
        &HttpFacts {
            ts: 4.0,
            client: "10.0.0.3".parse().unwrap(),
            user_agent: Some("Wget/1.21"),
        },
    );
    assert_eq!(ch[0].change, ["hints"]);
    assert_eq!(
        inv.get("ot", "mac:00:02:b3:ce:70:51")
            .expect("plc")
            .device_hints,
        ["user agent: Wget/1.21"]
    );
}

#[test]
fn reverse_names_parse_strictly() {
    assert_eq!(
        reverse_name("3.0.0.10.in-addr.arpa."),
        "10.0.0.3".parse().ok()
    );
    assert_eq!(
        reverse_name("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa"),
        "4321:0:1:2:3:4:567:89ab".parse().ok()
    );
    for bad in [
        "3.0.10.in-addr.arpa",
        "300.0.0.10.in-addr.arpa",
        "x.ip6.arpa",
        "example.com",
        "",
    ] {
        assert_eq!(reverse_name(bad), None, "{bad}");
    }
}
