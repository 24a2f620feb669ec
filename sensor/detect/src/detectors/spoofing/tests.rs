//! The spoofing detector against synthetic records: each finding with its
//! numbers, and the ordinary churn that must raise nothing.

use super::*;
use serde_json::json;
use vagt_schema::{DhcpRecord, Origin};

const GW_MAC: &str = "00:1b:21:00:00:01";
const EVIL: &str = "00:0c:29:aa:bb:cc";
const T0: f64 = 1_700_000_000.0;

fn ev(body: EventBody) -> Event {
    Event::new(
        Origin {
            municipality: "0751".into(),
            sensor: "s".into(),
            segment: "admin".into(),
        },
        body,
    )
}

fn arp(ts: f64, ip: &str, mac: &str, change: &str) -> ArpRecord {
    ArpRecord {
        ts,
        op: "reply".into(),
        src_mac: mac.into(),
        ip: ip.parse().expect("ip"),
        mac: mac.into(),
        previous_mac: None,
        previous_age: None,
        gratuitous: false,
        change: change.into(),
        targets: None,
        duration: None,
        mac_ips: 1,
    }
}

fn moved(ts: f64, ip: &str, from: &str, to: &str, age: f64, mac_ips: u32) -> Event {
    let mut r = arp(ts, ip, to, "moved");
    r.previous_mac = Some(from.into());
    r.previous_age = Some(age);
    r.mac_ips = mac_ips;
    ev(EventBody::Arp(r))
}

fn run(d: &mut Spoofing, events: &[Event]) -> Vec<Notice> {
    let mut out = Vec::new();
    for e in events {
        d.observe(e, &mut out);
    }
    d.sweep(f64::INFINITY, &mut out);
    out
}

/// Connections from local hosts to the internet through the gateway's MAC.
fn through_gateway(n: u32) -> Vec<Event> {
    (0..n)
        .map(|i| {
            serde_json::from_value(json!({
                "schema_version": 1, "municipality": "0751", "sensor": "s", "segment": "admin",
                "event_type": "conn", "ts": T0 - 100.0, "uid": format!("C{i}"),
                "id.orig_h": format!("10.1.0.{}", 10 + i % 5), "id.orig_p": 50000,
                "id.resp_h": format!("93.184.{}.{}", i / 200, i % 200), "id.resp_p": 443,
                "proto": "tcp", "conn_state": "SF", "missed_bytes": 0, "orig_pkts": 3,
                "orig_ip_bytes": 180, "resp_pkts": 3, "resp_ip_bytes": 180, "ip_proto": 6,
                "orig_link_bytes": 200, "resp_link_bytes": 200,
                "orig_l2_addr": format!("00:00:00:00:00:{:02x}", 10 + i % 5),
                "resp_l2_addr": GW_MAC, "community_id": format!("1:{i}"),
            }))
            .expect("conn record")
        })
        .collect()
}

#[test]
fn a_reassignment_after_silence_raises_nothing() {
    let mut d = Spoofing::new(Settings::default());
    let n = run(
        &mut d,
        &[moved(
            T0,
            "10.1.0.77",
            "00:00:00:00:00:01",
            "00:00:00:00:00:02",
            3600.0,
            1,
        )],
    );
    assert!(n.is_empty(), "{n:?}");
}

#[test]
fn one_takeover_while_the_owner_answers_scores_low() {
    let mut d = Spoofing::new(Settings::default());
    let n = run(
        &mut d,
        &[moved(T0, "10.1.0.77", "00:00:00:00:00:01", EVIL, 2.0, 1)],
    );
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!((n[0].kind, n[0].score), ("takeover", 40));
    assert!(
        n[0].message.contains("still answered for it 2 s before"),
        "{}",
        n[0].message
    );
}

#[test]
fn the_gateways_address_moving_scores_high_with_its_numbers() {
    let mut d = Spoofing::new(Settings::default());
    let mut events = through_gateway(12);
    events.push(moved(T0 + 7.0, "10.1.0.1", GW_MAC, EVIL, 1.0, 37));
    let n = run(&mut d, &events);
    let g: Vec<&Notice> = n.iter().filter(|n| n.kind == "gateway_moved").collect();
    assert_eq!(g.len(), 1, "{n:?}");
    assert!(g[0].score >= 70, "{}", g[0].score);
    assert_eq!(g[0].technique, "T1557.002");
    assert_eq!(g[0].src, "10.1.0.1".parse::<IpAddr>().expect("ip"));
    let m = &g[0].message;
    assert!(
        m.starts_with(&format!(
            "10.1.0.1 moved from {GW_MAC} to {EVIL} at 22:13:27, the 1st move in 10 min; {EVIL} now answers for 37 addresses"
        )),
        "{m}"
    );
    assert!(
        m.contains("carried traffic for 12 addresses or more"),
        "{m}"
    );
}

#[test]
fn flip_flops_and_duplicates_are_told_apart() {
    let mut d = Spoofing::new(Settings::default());
    let a = "00:00:00:00:00:0a";
    let events = [
        moved(T0, "10.1.0.50", a, EVIL, 400.0, 1),
        moved(T0 + 20.0, "10.1.0.50", EVIL, a, 20.0, 1),
        moved(T0 + 40.0, "10.1.0.50", a, EVIL, 20.0, 1),
        moved(T0 + 60.0, "10.1.0.50", EVIL, a, 20.0, 1),
    ];
    let n = run(&mut d, &events);
    let kinds: Vec<&str> = n.iter().map(|n| n.kind).collect();
    // First move after the owner's silence: nothing. Back within 60 s: a
    // duplicate. Third and fourth: flip-flops, high.
    assert_eq!(
        kinds,
        vec!["duplicate_address", "flip_flop", "flip_flop"],
        "{n:?}"
    );
    assert!(
        n[0].message.contains(&format!(
            "it left {a} for {EVIL} 20 s before: two MACs claim it"
        )),
        "{}",
        n[0].message
    );
    assert!(n[1].score >= 70 && n[2].score >= n[1].score);
    assert!(
        n[2].message.contains("the 4th move in 10 min"),
        "{}",
        n[2].message
    );
    assert_eq!((n[2].first, n[2].last), (T0, T0 + 60.0));
}

#[test]
fn one_mac_taking_over_several_addresses_is_poisoning() {
    let mut d = Spoofing::new(Settings::default());
    let events = [
        moved(T0, "10.1.0.1", "00:00:00:00:00:01", EVIL, 900.0, 1),
        moved(T0 + 1.0, "10.1.0.20", "00:00:00:00:00:20", EVIL, 900.0, 2),
        moved(T0 + 2.0, "10.1.0.21", "00:00:00:00:00:21", EVIL, 900.0, 3),
    ];
    let n = run(&mut d, &events);
    let p: Vec<&Notice> = n.iter().filter(|n| n.kind == "arp_poisoning").collect();
    assert_eq!(p.len(), 2, "{n:?}");
    assert!(p[0].score >= 70);
    assert_eq!((p[0].count, p[1].count), (2, 1));
    assert!(
        p[1].message.starts_with(&format!("{EVIL} took over 3 addresses bound to other MACs within 2 s (10.1.0.1, 10.1.0.20, 10.1.0.21;")),
        "{}",
        p[1].message
    );
    assert!(p[1].message.contains("now answers for 3 addresses"));
    // Both folded under the first address and the MAC.
    assert!(p.iter().all(|n| n.src.to_string() == "10.1.0.1"));
}

fn dhcp(ts: f64, server: &str) -> Event {
    ev(EventBody::Dhcp(DhcpRecord {
        ts,
        uids: vec![format!("C{ts}")],
        client_addr: None,
        server_addr: Some(server.parse().expect("ip")),
        client_port: Some(68),
        server_port: Some(67),
        mac: Some("00:00:00:00:00:33".into()),
        host_name: None,
        client_fqdn: None,
        domain: None,
        requested_addr: None,
        assigned_addr: Some("10.1.0.33".parse().expect("ip")),
        lease_time: Some(3600.0),
        client_message: None,
        server_message: None,
        msg_types: vec!["DISCOVER".into(), "OFFER".into()],
        duration: 0.5,
        client_chaddr: None,
        vendor_class: None,
        param_list: vec![],
    }))
}

#[test]
fn a_dhcp_server_unseen_while_learning_is_rogue() {
    let mut d = Spoofing::new(Settings::default());
    let n = run(
        &mut d,
        &[
            dhcp(T0, "10.1.0.2"),
            dhcp(T0 + 3600.0, "10.1.0.2"),
            dhcp(T0 + 2.0 * 86_400.0, "10.1.0.2"),
            dhcp(T0 + 2.0 * 86_400.0 + 5.0, "10.1.0.66"),
        ],
    );
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!((n[0].kind, n[0].score), ("rogue_dhcp", 75));
    assert_eq!(n[0].technique, "T1557.003");
    assert_eq!(n[0].evidence.uids.len(), 1);
    let m = &n[0].message;
    assert!(
        m.starts_with(
            "10.1.0.66 answered DHCP (DISCOVER/OFFER) to 00:00:00:00:00:33, offering 10.1.0.33"
        ),
        "{m}"
    );
    assert!(m.contains("the usual are 10.1.0.2"), "{m}");
}

#[test]
fn a_second_dhcp_server_while_learning_is_lower_and_allow_listed_ones_are_quiet() {
    let mut d = Spoofing::new(Settings::default());
    let n = run(&mut d, &[dhcp(T0, "10.1.0.2"), dhcp(T0 + 60.0, "10.1.0.3")]);
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!((n[0].kind, n[0].score), ("second_dhcp_server", 45));
    let mut d = Spoofing::new(Settings {
        dhcp_servers: vec!["10.1.0.66".parse().expect("ip")],
        ..Settings::default()
    });
    let n = run(
        &mut d,
        &[dhcp(T0, "10.1.0.2"), dhcp(T0 + 2.0 * 86_400.0, "10.1.0.66")],
    );
    assert!(n.is_empty(), "{n:?}");
}

#[test]
fn sweep_records_become_scan_notices_counting_new_targets() {
    let mut d = Spoofing::new(Settings::default());
    let sweep = |ts: f64, targets: u32| {
        let mut r = arp(ts, "10.1.0.66", EVIL, "sweep");
        r.op = "request".into();
        r.targets = Some(targets);
        r.duration = Some(1.5);
        ev(EventBody::Arp(r))
    };
    let n = run(&mut d, &[sweep(T0, 64), sweep(T0 + 1.0, 128)]);
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!((n[0].kind, n[0].technique.as_ref()), ("arp_sweep", "T1018"));
    assert_eq!((n[0].count, n[1].count), (64, 64));
    assert!(n[1].score > n[0].score);
    assert!(n[1]
        .message
        .contains("asked ARP for 128 distinct addresses within 1.5 s"));
}

#[test]
fn tables_stay_bounded_under_a_flood_of_moves() {
    let mut d = Spoofing::new(Settings {
        max_tracked: 500,
        ..Settings::default()
    });
    let mut out = Vec::new();
    for i in 0..20_000u32 {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
        let to = format!("02:00:00:00:{:02x}:{:02x}", (i >> 8) as u8, i as u8);
        d.observe(
            &moved(T0 + f64::from(i), &ip, GW_MAC, &to, 999.0, 1),
            &mut out,
        );
    }
    assert!(d.moves.len() <= 500 && d.claims.len() <= 500);
    assert!(d.moves.evicted > 0);
}

#[test]
fn macs_and_clock_times_are_read_and_written_strictly() {
    assert_eq!(parse_mac(GW_MAC), Some([0, 0x1b, 0x21, 0, 0, 1]));
    for bad in [
        "",
        "00:1b:21:00:00",
        "00:1b:21:00:00:01:02",
        "zz:1b:21:00:00:01",
    ] {
        assert_eq!(parse_mac(bad), None, "{bad}");
    }
    assert_eq!(clock(T0), "22:13:20");
    assert_eq!(
        [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal).join(" "),
        "1st 2nd 3rd 4th 11th 12th 13th 21st 22nd 101st"
    );
}

#[test]
fn the_usual_dhcp_servers_survive_a_restart() {
    let mut d = Spoofing::new(Settings::default());
    run(
        &mut d,
        &[dhcp(T0, "10.1.0.2"), dhcp(T0 + 3600.0, "10.1.0.2")],
    );
    let (name, saved) = d.save().expect("something to save");
    let mut e = Spoofing::new(Settings::default());
    assert!(e.restore(name, &saved));
    assert!(!e.restore(name, &serde_json::json!({"not": "a table"})));
    let mut e = Spoofing::new(Settings::default());
    assert!(e.restore(name, &saved));
    // Day 2 after the restart: the usual server is quiet, a new one rogue.
    let n = run(
        &mut e,
        &[
            dhcp(T0 + 2.0 * 86_400.0, "10.1.0.2"),
            dhcp(T0 + 2.0 * 86_400.0 + 5.0, "10.1.0.66"),
        ],
    );
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0].kind, "rogue_dhcp");
}
