//! Tests of the new-and-rare detector on synthetic events.

use super::*;
use crate::detectors::testutil::{body, conn, event};
use serde_json::json;

const T0: f64 = 1_780_000_000.0;
const DAY: f64 = 86_400.0;

fn detector() -> NewRare {
    let mut rules = Rules::default();
    for (name, kind) in [("admin", "admin"), ("ot", "ot"), ("guest", "guest")] {
        rules.segment_kinds.insert(name.into(), kind.into());
    }
    let mut d = NewRare::new(Settings::default());
    d.rules_changed(&rules);
    d
}

fn feed(d: &mut NewRare, segment: &str, b: EventBody) -> Vec<Notice> {
    let mut out = Vec::new();
    d.observe(&event(segment, b), &mut out);
    out
}

fn asset(ts: f64, key: &str, ip: &str, change: &str, offered: &[&str]) -> EventBody {
    body(json!({
        "event_type": "asset",
        "key": key,
        "vendor": "Raspberry Pi Trading Ltd",
        "ips": [{"ip": ip, "first_seen": ts, "last_seen": ts}],
        "services_offered": offered,
        "first_seen": ts,
        "last_seen": ts,
        "change": [change],
    }))
}

fn ssl(ts: f64, uid: &str, src: &str, ja3: &str) -> EventBody {
    body(json!({
        "event_type": "ssl",
        "ts": ts, "uid": uid,
        "id.orig_h": src, "id.orig_p": 50000, "id.resp_h": "185.9.9.9", "id.resp_p": 443,
        "resumed": false, "established": true, "ssl_history": "CsxknGIi",
        "ja3": ja3,
    }))
}

/// Something in `segment` at T0, so its learning starts there.
fn start(d: &mut NewRare, segment: &str) {
    let c = conn(
        T0,
        "C0",
        "10.1.1.1",
        "10.1.1.2",
        80,
        "SF",
        10,
        (Some(true), Some(true)),
    );
    feed(d, segment, EventBody::Conn(c));
}

#[test]
fn a_new_device_alerts_only_after_the_segment_is_learned() {
    let mut d = detector();
    start(&mut d, "admin");
    let early = asset(T0 + DAY, "mac:b8:27:eb:00:00:01", "10.1.1.50", "new", &[]);
    assert!(feed(&mut d, "admin", early).is_empty());
    let late = asset(
        T0 + 8.0 * DAY,
        "mac:b8:27:eb:00:00:02",
        "10.1.1.51",
        "new",
        &[],
    );
    let late = match late {
        EventBody::Asset(mut a) => {
            a.uids = vec!["Cdhcp1".into()];
            EventBody::Asset(a)
        }
        other => other,
    };
    let out = feed(&mut d, "admin", late);
    assert_eq!(out.len(), 1, "{out:#?}");
    let n = &out[0];
    assert_eq!(
        (n.kind, n.technique.as_ref(), n.score),
        ("new_device", "T1200", 35)
    );
    assert_eq!(
        n.evidence.uids,
        vec!["Cdhcp1".to_string()],
        "the connection that showed the device"
    );
    assert_eq!(n.src.to_string(), "10.1.1.51");
    assert!(
        n.message
            .contains("learned for 8.0 days (7.0 days required)"),
        "{}",
        n.message
    );
    // A change other than "new" is not a new device.
    let changed = asset(
        T0 + 9.0 * DAY,
        "mac:b8:27:eb:00:00:02",
        "10.1.1.52",
        "ip",
        &[],
    );
    assert!(feed(&mut d, "admin", changed).is_empty());
    // Guest segments get new devices all day.
    let mut d = detector();
    start(&mut d, "guest");
    let late = asset(
        T0 + 8.0 * DAY,
        "mac:aa:00:00:00:00:01",
        "10.9.1.51",
        "new",
        &[],
    );
    assert!(feed(&mut d, "guest", late).is_empty());
}

#[test]
fn a_service_new_to_the_segment_alerts_after_learning() {
    let mut d = detector();
    start(&mut d, "admin");
    let a = asset(
        T0 + DAY,
        "mac:00:00:00:00:00:01",
        "10.1.1.10",
        "new",
        &["smb/445", "http/80"],
    );
    assert!(feed(&mut d, "admin", a).is_empty());
    // Another host offering smb later is nothing new for the segment, nor
    // an ephemeral port; a listener on 4444 is.
    let a = asset(
        T0 + 8.0 * DAY,
        "mac:00:00:00:00:00:02",
        "10.1.1.11",
        "service",
        &["smb/445", "http/8080", "tcp/51000", "tcp/4444"],
    );
    let out = feed(&mut d, "admin", a);
    assert_eq!(out.len(), 1, "{out:#?}");
    let n = &out[0];
    assert_eq!((n.kind, n.technique.as_ref()), ("new_service", "T1571"));
    assert_eq!(n.subject.as_deref(), Some("tcp/4444"));
    assert!(
        n.message
            .starts_with("10.1.1.11 (mac:00:00:00:00:00:02) offers tcp/4444"),
        "{}",
        n.message
    );
}

#[test]
fn ot_talking_to_the_internet() {
    let mut d = detector();
    let out_ = (Some(true), Some(false));
    // While learning: the first connection to the vendor is reported, at
    // the score of a peer not seen before; the next ones lower.
    let c = conn(T0, "C1", "10.5.0.20", "185.7.7.7", 443, "SF", 500, out_);
    let out = feed(&mut d, "ot", EventBody::Conn(c));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].kind, out[0].score, out[0].technique.as_ref()),
        ("ot_internet", 60, "T0885")
    );
    let c = conn(
        T0 + DAY,
        "C2",
        "10.5.0.20",
        "185.7.7.7",
        443,
        "SF",
        500,
        out_,
    );
    let out = feed(&mut d, "ot", EventBody::Conn(c));
    assert_eq!((out[0].kind, out[0].score), ("ot_internet", 40));
    // A failed attempt while learning raises nothing.
    let c = conn(T0 + DAY, "C3", "10.5.0.20", "185.8.8.8", 443, "S0", 0, out_);
    assert!(feed(&mut d, "ot", EventBody::Conn(c)).is_empty());
    // After learning: the known vendor is low, a new peer is high even
    // when the attempt failed, and inbound is T0883.
    let c = conn(
        T0 + 8.0 * DAY,
        "C4",
        "10.5.0.20",
        "185.7.7.7",
        443,
        "SF",
        500,
        out_,
    );
    assert_eq!(feed(&mut d, "ot", EventBody::Conn(c))[0].score, 40);
    let c = conn(
        T0 + 8.0 * DAY,
        "C5",
        "10.5.0.21",
        "45.1.1.1",
        4444,
        "S0",
        0,
        out_,
    );
    let out = feed(&mut d, "ot", EventBody::Conn(c));
    assert_eq!(out.len(), 1);
    let n = &out[0];
    assert_eq!((n.kind, n.score), ("ot_new_peer", 75));
    assert!(n.message.contains("not established"), "{}", n.message);
    let c = conn(
        T0 + 8.0 * DAY,
        "C6",
        "45.2.2.2",
        "10.5.0.22",
        502,
        "SF",
        12,
        (Some(false), Some(true)),
    );
    let out = feed(&mut d, "ot", EventBody::Conn(c));
    assert_eq!(
        (out[0].kind, out[0].technique.as_ref()),
        ("ot_new_peer", "T0883")
    );
    assert_eq!(out[0].src.to_string(), "10.5.0.22");
    // Other segments may talk to the internet.
    let c = conn(
        T0 + 8.0 * DAY,
        "C7",
        "10.1.0.20",
        "45.3.3.3",
        443,
        "SF",
        500,
        out_,
    );
    assert!(feed(&mut d, "admin", EventBody::Conn(c)).is_empty());
}

#[test]
fn a_rare_ja3_is_reported_low_and_a_shared_one_is_not() {
    let mut d = detector();
    start(&mut d, "admin");
    let mut out = Vec::new();
    d.observe(
        &event("admin", ssl(T0 + DAY, "S1", "10.1.1.5", "aaaa")),
        &mut out,
    );
    let t = T0 + 8.0 * DAY;
    // Known during learning: nothing.
    d.observe(&event("admin", ssl(t, "S2", "10.1.1.6", "aaaa")), &mut out);
    // New, one host: rare once an hour has passed with no second host.
    d.observe(&event("admin", ssl(t, "S3", "10.1.1.7", "bbbb")), &mut out);
    // New, but a second host uses it within the hour: a rollout.
    d.observe(&event("admin", ssl(t, "S4", "10.1.1.8", "cccc")), &mut out);
    d.observe(
        &event("admin", ssl(t + 600.0, "S5", "10.1.1.9", "cccc")),
        &mut out,
    );
    d.sweep(t + 1800.0, &mut out);
    assert!(out.is_empty(), "{out:#?}");
    d.sweep(t + 3600.0, &mut out);
    assert_eq!(out.len(), 1, "{out:#?}");
    let n = &out[0];
    assert_eq!(
        (n.kind, n.score, n.src.to_string()),
        ("rare_fingerprint", 20, "10.1.1.7".into())
    );
    assert_eq!(n.subject.as_deref(), Some("ja3:bbbb"));
    assert_eq!(n.evidence.uids, vec!["S3".to_string()]);
}

#[test]
fn ja4_is_preferred_as_shuffled_extensions_give_every_hello_a_new_ja3() {
    let mut d = detector();
    start(&mut d, "admin");
    let hello = |ts: f64, uid: &str, src: &str, ja3: &str| {
        body(json!({
            "event_type": "ssl",
            "ts": ts, "uid": uid,
            "id.orig_h": src, "id.orig_p": 50000, "id.resp_h": "185.9.9.9", "id.resp_p": 443,
            "resumed": false, "established": true, "ssl_history": "CsxknGIi",
            "ja3": ja3, "ja4": "t13d1516h2_8daaf6152771_02713d6af862",
        }))
    };
    let mut out = Vec::new();
    d.observe(
        &event("admin", hello(T0 + DAY, "S1", "10.1.1.5", "1111")),
        &mut out,
    );
    for i in 0..20 {
        let t = T0 + 8.0 * DAY + f64::from(i);
        d.observe(
            &event("admin", hello(t, "S", "10.1.1.6", &format!("{i:04}"))),
            &mut out,
        );
    }
    d.sweep(f64::INFINITY, &mut out);
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn state_is_bounded() {
    let s = Settings {
        max_tracked: 100,
        ..Settings::default()
    };
    let mut d = NewRare::new(s);
    let mut out = Vec::new();
    for i in 0..5000u32 {
        let ja3 = format!("{i:032x}");
        d.observe(
            &event(
                "admin",
                ssl(T0 + 8.0 * DAY + f64::from(i), "S", "10.1.1.7", &ja3),
            ),
            &mut out,
        );
    }
    assert!(d.fingerprints.len() <= 100 && d.pending.len() <= super::rare::MAX_PENDING);
}

#[test]
fn what_was_learned_survives_a_restart() {
    let mut d = detector();
    start(&mut d, "admin");
    let a = asset(
        T0 + DAY,
        "mac:00:00:00:00:00:01",
        "10.1.1.10",
        "new",
        &["smb/445"],
    );
    feed(&mut d, "admin", a);
    let (name, saved) = d.save().expect("saves");
    let mut e = detector();
    assert!(e.restore(name, &saved));
    assert!(
        e.restore("other", &json!(1)),
        "another's part is not its business"
    );
    assert!(!e.restore(name, &json!("garbage")));
    // A state of the older layout (four parts, fingerprints keyed by
    // segment, no fleets) keeps what the segments learned.
    let mut old = saved.as_array().expect("a tuple").clone();
    old.truncate(3);
    old.push(json!({"cap": 10, "entries": [[["admin", 0, "aaaa"], {"hosts": []}]]}));
    let mut f = detector();
    assert!(f.restore(name, &serde_json::Value::Array(old)));
    // Learning went on from T0, and smb is known: only the new device.
    for d in [&mut e, &mut f] {
        let a = asset(
            T0 + 8.0 * DAY,
            "mac:00:00:00:00:00:02",
            "10.1.1.11",
            "new",
            &["smb/445"],
        );
        let out = feed(d, "admin", a);
        assert_eq!(
            out.iter().map(|n| n.kind).collect::<Vec<_>>(),
            vec!["new_device"]
        );
    }
}

/// `asset` with another vendor.
fn asset_of(ts: f64, key: &str, ip: &str, vendor: &str) -> EventBody {
    match asset(ts, key, ip, "new", &[]) {
        EventBody::Asset(mut a) => {
            a.vendor = Some(vendor.into());
            EventBody::Asset(a)
        }
        other => other,
    }
}

#[test]
fn a_new_device_like_the_segments_fleet_raises_nothing() {
    let mut d = NewRare::new(Settings {
        fleet_min: 3,
        ..Settings::default()
    });
    start(&mut d, "admin");
    // Three Dell desktops learned, then a fourth after learning: one more
    // of the fleet. A Raspberry Pi is news, and so is the first device of
    // a vendor the segment has only once.
    for k in 0..3 {
        let a = asset_of(T0 + DAY, &format!("mac:d0:{k}"), "10.1.1.9", "Dell Inc.");
        assert!(feed(&mut d, "admin", a).is_empty());
    }
    let hp = asset_of(T0 + DAY, "mac:hp:1", "10.1.1.8", "HP Inc.");
    assert!(feed(&mut d, "admin", hp).is_empty());
    let late = T0 + 8.0 * DAY;
    let dell = asset_of(late, "mac:d0:9", "10.1.1.60", "Dell Inc.");
    assert!(feed(&mut d, "admin", dell).is_empty(), "like the fleet");
    let pi = asset_of(late, "mac:b8:1", "10.1.1.61", "Raspberry Pi Trading Ltd");
    assert_eq!(feed(&mut d, "admin", pi).len(), 1);
    let hp = asset_of(late, "mac:hp:2", "10.1.1.62", "HP Inc.");
    assert_eq!(feed(&mut d, "admin", hp).len(), 1, "one HP is no fleet");
    // The same fleet in another segment counts there, not here.
    start(&mut d, "ot");
    let dell = asset_of(late, "mac:d0:10", "10.1.2.60", "Dell Inc.");
    assert_eq!(feed(&mut d, "ot", dell).len(), 1);
}

#[test]
fn a_fingerprint_common_in_another_segment_is_not_rare() {
    let mut d = detector();
    start(&mut d, "admin");
    start(&mut d, "ot");
    // Desktops of the admin segment use it while learning; after learning
    // the one Windows host of the OT segment uses it for the first time
    // there.
    for (k, src) in ["10.1.1.20", "10.1.1.21"].iter().enumerate() {
        feed(
            &mut d,
            "admin",
            ssl(T0 + DAY, &format!("Ca{k}"), src, "schannel"),
        );
    }
    let late = T0 + 8.0 * DAY;
    feed(&mut d, "ot", ssl(late, "Cot", "10.6.1.10", "schannel"));
    // One nobody used is rare, in whichever segment it shows.
    feed(&mut d, "ot", ssl(late, "Cimp", "10.6.1.11", "implant"));
    let mut out = Vec::new();
    d.sweep(late + 2.0 * 3600.0, &mut out);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].src.to_string(), "10.6.1.11");
    assert!(
        out[0].message.contains("in segment ot"),
        "{}",
        out[0].message
    );
}
