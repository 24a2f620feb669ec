//! Tests of the beacon detector on synthetic traffic from fixed seeds.

use super::*;
use crate::detectors::testutil::{conn, event, Rng};

const T0: f64 = 1_780_000_000.0;
const LOCAL_OUT: (Option<bool>, Option<bool>) = (Some(true), Some(false));

/// Feeds `(ts, src, dst, port, bytes)` connections and sweeps as the
/// analysis stage does (every 60 s of packet time, then at the end).
fn run(d: &mut Beacon, conns: &[(f64, String, &str, u16, u64)]) -> Vec<Notice> {
    let mut out = Vec::new();
    let mut last_sweep = f64::NEG_INFINITY;
    for (i, (ts, src, dst, port, bytes)) in conns.iter().enumerate() {
        let c = conn(
            *ts,
            &format!("C{i}"),
            src,
            dst,
            *port,
            "SF",
            *bytes,
            LOCAL_OUT,
        );
        d.observe(&event("admin", EventBody::Conn(c)), &mut out);
        if ts - last_sweep >= 60.0 {
            last_sweep = *ts;
            d.sweep(*ts, &mut out);
        }
    }
    d.sweep(f64::INFINITY, &mut out);
    out
}

/// Start times of a beacon every `interval` s with ±`jitter` (a
/// fraction) of it.
fn beacon(rng: &mut Rng, n: usize, interval: f64, jitter: f64) -> Vec<f64> {
    let mut t = T0;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(t);
        t += interval * (1.0 + rng.range(-jitter, jitter));
    }
    out
}

#[test]
fn a_jittered_beacon_is_found_with_its_numbers() {
    let mut rng = Rng::new(7);
    let times = beacon(&mut rng, 40, 300.0, 0.1);
    let conns: Vec<_> = times
        .iter()
        .map(|&t| {
            let b = (412.0 * (1.0 + rng.range(-0.05, 0.05))) as u64;
            (t, "10.1.2.3".to_string(), "185.1.2.3", 443, b)
        })
        .collect();
    let mut d = Beacon::new(Settings::default());
    let out = run(&mut d, &conns);
    // Reported once judged (judgements come every 15 minutes of packet
    // time: at 13 connections), and again once it has doubled (26): the
    // alert grows with the beacon.
    assert_eq!(out.len(), 2, "{out:#?}");
    assert_eq!(out[0].count, 13);
    assert_eq!(out.iter().map(|n| n.count).sum::<u64>(), 26);
    let n = &out[1];
    assert_eq!((n.detector, n.kind), ("beacon", "beacon"));
    assert_eq!(n.src.to_string(), "10.1.2.3");
    assert_eq!(n.dst.map(|d| d.to_string()).as_deref(), Some("185.1.2.3"));
    assert_eq!(n.subject.as_deref(), Some("443"));
    assert!(n.score >= 45 && n.score <= 75, "{}", n.score);
    let m = &n.message;
    assert!(
        m.starts_with("26 connections from 10.1.2.3 to 185.1.2.3:443 over 2.1 h, every 29"),
        "{m}"
    );
    assert!(
        m.contains("s (median; MAD 1") && m.contains("bytes out each (MAD "),
        "{m}"
    );
    assert!(n.message.contains("threshold 0.80"), "{}", n.message);
    assert!(!n.evidence.uids.is_empty());
    assert_eq!(n.evidence.uids.len(), n.evidence.community_ids.len());
}

#[test]
fn random_interval_browsing_to_the_same_host_is_not_a_beacon() {
    let mut rng = Rng::new(11);
    let mut t = T0;
    let mut conns = Vec::new();
    // A person: visits in bursts (a few pages within seconds), then
    // minutes to an hour of something else; page sizes vary widely.
    while conns.len() < 200 {
        for _ in 0..(1 + (rng.unit() * 5.0) as usize) {
            t += rng.exp(4.0);
            let b = rng.range(300.0, 4000.0) as u64;
            conns.push((t, "10.1.2.3".to_string(), "185.1.2.3", 443, b));
        }
        t += rng.exp(900.0);
    }
    let mut d = Beacon::new(Settings::default());
    assert!(run(&mut d, &conns).is_empty());
    // Even with requests of one size each time (an API), timing decides.
    let mut rng = Rng::new(12);
    let mut t = T0;
    let conns: Vec<_> = (0..100)
        .map(|_| {
            t += rng.exp(300.0);
            (t, "10.1.2.3".to_string(), "185.1.2.3", 443, 512)
        })
        .collect();
    let mut d = Beacon::new(Settings::default());
    assert!(run(&mut d, &conns).is_empty());
}

#[test]
fn a_destination_that_twenty_hosts_beacon_to_is_common_not_c2() {
    let mut rng = Rng::new(13);
    let mut conns = Vec::new();
    for h in 0..20 {
        let src = format!("10.1.2.{}", 10 + h);
        let offset = rng.range(0.0, 300.0);
        for t in beacon(&mut rng, 40, 300.0, 0.1) {
            conns.push((t + offset, src.clone(), "93.184.216.34", 443, 600));
        }
    }
    conns.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut d = Beacon::new(Settings::default());
    assert!(run(&mut d, &conns).is_empty());
    // The same beacon from one host alone is reported.
    let one: Vec<_> = conns
        .iter()
        .filter(|c| c.1 == "10.1.2.10")
        .cloned()
        .collect();
    let mut d = Beacon::new(Settings::default());
    assert!(!run(&mut d, &one).is_empty());
}

#[test]
fn a_fast_beacon_is_judged_once_it_has_gone_on_long_enough() {
    // Every 5 s ±10% for an hour: the ring of 128 spans 10 minutes, the
    // activity an hour.
    let mut rng = Rng::new(16);
    let conns: Vec<_> = beacon(&mut rng, 720, 5.0, 0.1)
        .into_iter()
        .map(|t| (t, "10.1.2.3".to_string(), "185.1.2.3", 8443, 96))
        .collect();
    let mut d = Beacon::new(Settings::default());
    let out = run(&mut d, &conns);
    assert!(!out.is_empty());
    assert!(
        out[0].message.contains("(the latest of "),
        "{}",
        out[0].message
    );
    // Ten minutes of it is not judged yet.
    let mut d = Beacon::new(Settings::default());
    assert!(run(&mut d, &conns[..120]).is_empty());
}

#[test]
fn too_few_connections_or_ignored_services_are_not_judged() {
    let mut rng = Rng::new(14);
    let few: Vec<_> = beacon(&mut rng, 9, 600.0, 0.0)
        .into_iter()
        .map(|t| (t, "10.1.2.3".to_string(), "185.1.2.3", 443, 100))
        .collect();
    let mut d = Beacon::new(Settings::default());
    assert!(run(&mut d, &few).is_empty());
    let ntp: Vec<_> = beacon(&mut rng, 100, 64.0, 0.0)
        .into_iter()
        .map(|t| (t, "10.1.2.3".to_string(), "185.1.2.3", 123, 48))
        .collect();
    let mut d = Beacon::new(Settings::default());
    assert!(run(&mut d, &ntp).is_empty());
}

#[test]
fn scores_of_regular_and_random_series() {
    let times: Vec<f64> = (0..50).map(|i| f64::from(i) * 60.0).collect();
    let bytes = vec![100.0; 50];
    let j = judge(&times, &bytes).unwrap();
    assert!(j.score > 0.99, "{j:?}");
    assert_eq!((j.interval, j.interval_mad), (60.0, 0.0));
    let mut rng = Rng::new(15);
    let mut t = 0.0;
    let times: Vec<f64> = (0..200)
        .map(|_| {
            t += rng.exp(60.0);
            t
        })
        .collect();
    let bytes: Vec<f64> = (0..200).map(|_| rng.range(100.0, 10_000.0)).collect();
    let j = judge(&times, &bytes).unwrap();
    assert!(j.score < 0.7 && j.timing < 0.8, "{j:?}");
}

#[test]
fn state_is_bounded() {
    let s = Settings {
        max_tracked: 100,
        max_samples: 16,
        ..Settings::default()
    };
    let mut d = Beacon::new(s);
    let mut out = Vec::new();
    for i in 0..10_000u32 {
        let dst = format!("185.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        let c = conn(
            T0 + f64::from(i),
            "C",
            "10.1.2.3",
            &dst,
            443,
            "SF",
            10,
            LOCAL_OUT,
        );
        d.observe(&event("admin", EventBody::Conn(c)), &mut out);
    }
    for i in 0..100u32 {
        let c = conn(
            T0 + f64::from(i),
            "C",
            "10.1.2.3",
            "185.1.1.1",
            443,
            "SF",
            10,
            LOCAL_OUT,
        );
        d.observe(&event("admin", EventBody::Conn(c)), &mut out);
    }
    assert!(d.pairs.len() <= 100 && d.sources.len() <= 100);
    assert!(d.pairs.evicted > 0);
    assert_eq!(
        d.pairs
            .get(&(
                crate::detectors::testutil::ip("10.1.2.3"),
                crate::detectors::testutil::ip("185.1.1.1"),
                443
            ))
            .map(|p| p.samples.len()),
        Some(16)
    );
}
