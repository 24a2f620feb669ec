//! Tests of the baselines and the volume detector on traffic built in
//! code from a fixed seed: a care segment with office hours and quiet
//! nights, learnt for eight days, then a night exfiltration.

use super::*;
use crate::detectors::testutil::Rng;
use crate::{Analysis, Rules};
use serde_json::json;

fn conn(uid: &str, ts: f64, dur: f64, orig: &str, resp: &str, out_bytes: u64) -> Event {
    serde_json::from_value(json!({
        "schema_version": 1, "municipality": "0101", "sensor": "s1", "segment": "pleje",
        "event_type": "conn", "ts": ts, "uid": uid,
        "id.orig_h": orig, "id.orig_p": 50000, "id.resp_h": resp, "id.resp_p": 443,
        "proto": "tcp", "conn_state": "SF", "duration": dur, "missed_bytes": 0,
        "local_orig": true, "local_resp": false,
        "orig_pkts": out_bytes / 1000 + 1, "orig_ip_bytes": out_bytes,
        "resp_pkts": 10, "resp_ip_bytes": 20_000,
        "community_id": format!("1:{uid}"), "ip_proto": 6,
        "orig_link_bytes": out_bytes, "resp_link_bytes": 20_000,
    }))
    .expect("conn event")
}

/// Monday 2026-01-05 00:00 local (23:00 UTC the day before).
const MONDAY: f64 = 1_767_567_600.0;

/// `days` of a care segment: 20 hosts, each a few uploads an hour in
/// office hours and one an hour at night, sizes around 2 MB.
fn office(days: u32, rng: &mut Rng) -> Vec<Event> {
    let mut out = Vec::new();
    let mut n = 0;
    for d in 0..days {
        for h in 0..24 {
            let busy = (7..17).contains(&h) && d % 7 < 5;
            for host in 0..20 {
                let per_hour = if busy { 4 } else { 1 };
                for _ in 0..per_hour {
                    let t = MONDAY
                        + f64::from(d) * 86_400.0
                        + f64::from(h) * 3600.0
                        + rng.unit() * 3500.0;
                    let bytes = 1_000_000 + (rng.unit() * 2_000_000.0) as u64;
                    n += 1;
                    out.push(conn(
                        &format!("C{n}"),
                        t,
                        20.0,
                        &format!("10.5.0.{}", host + 10),
                        "185.10.0.1",
                        bytes,
                    ));
                }
            }
        }
    }
    out.sort_by(|a, b| {
        crate::event_time(&a.body)
            .unwrap_or(0.0)
            .total_cmp(&crate::event_time(&b.body).unwrap_or(0.0))
    });
    out
}

fn run(a: &mut Analysis, events: &[Event]) -> Vec<Event> {
    let mut out = Vec::new();
    for e in events {
        a.observe(e, &mut out);
    }
    out
}

fn alerts(out: &[Event]) -> Vec<&vagt_schema::AlertRecord> {
    out.iter()
        .filter_map(|e| match &e.body {
            EventBody::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

#[test]
fn a_learnt_week_is_quiet_and_a_night_exfiltration_is_explained_in_numbers() {
    let mut rng = Rng::new(7);
    let mut a = Analysis::new(Rules::default(), "t");
    let week = office(8, &mut rng);
    let out = run(&mut a, &week);
    assert!(alerts(&out).is_empty(), "{:?}", alerts(&out));
    // Minutes were written for the segment, with bytes where they flowed.
    let minutes: Vec<_> = out
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::SegmentMetrics(m) => Some(m),
            _ => None,
        })
        .collect();
    assert!(minutes.len() > 8 * 1400, "{}", minutes.len());
    let sent: u64 = minutes.iter().map(|m| m.bytes_out).sum();
    let want: u64 = week
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Conn(c) => Some(c.orig_ip_bytes),
            _ => None,
        })
        .sum();
    // All but the last minutes (within the lag) are written.
    assert!(
        sent as f64 > want as f64 * 0.99 && sent <= want,
        "{sent} of {want}"
    );
    // The learnt normal for Tuesday 03:00 is small, for 10:00 larger.
    let m = metrics::metric("bytes_out").expect("metric");
    let night = a
        .baselines()
        .expected("pleje", m, MONDAY + 86_400.0 + 3.0 * 3600.0)
        .expect("night");
    let day = a
        .baselines()
        .expected("pleje", m, MONDAY + 86_400.0 + 10.0 * 3600.0)
        .expect("day");
    assert!(night.mean > 20e6 && night.mean < 80e6, "{night:?}");
    assert!(day.mean > 3.0 * night.mean, "{day:?} {night:?}");

    // Tuesday of the second week, 03:10 to 03:40: 4.1 GB in 30 uploads of
    // one minute each from one host to one address.
    let start = MONDAY + 8.0 * 86_400.0 + 3.0 * 3600.0 + 600.0;
    let mut exfil = Vec::new();
    for i in 0..30 {
        let t = start + f64::from(i) * 60.0;
        exfil.push(conn(
            &format!("X{i}"),
            t,
            55.0,
            "10.5.0.13",
            "185.66.1.2",
            136_000_000,
        ));
    }
    let out = run(&mut a, &exfil);
    let found = alerts(&out);
    let host = found
        .iter()
        .find(|a| a.detector == "volume" && a.kind == "host_out")
        .expect("host exfiltration alert");
    assert_eq!(host.src.to_string(), "10.5.0.13");
    assert_eq!(
        host.dst.map(|d| d.to_string()).as_deref(),
        Some("185.66.1.2")
    );
    assert!(host.message.contains("185.66.1.2"), "{}", host.message);
    assert!(host.message.contains("busiest hour"), "{}", host.message);
    // One Tuesday learnt: the normal is that of weekdays at 03:00.
    assert!(host.message.contains("weekdays 03:00"), "{}", host.message);
    assert!(!host.uids.is_empty());
    // The hour closes once packet time passes it: the segment alert too.
    let later = vec![conn(
        "L1",
        start + 2.0 * 3600.0,
        1.0,
        "10.5.0.10",
        "185.10.0.1",
        1000,
    )];
    let out = run(&mut a, &later);
    let seg = alerts(&out)
        .into_iter()
        .find(|a| a.kind == "segment_out")
        .expect("segment alert");
    assert!(
        seg.message.contains("normal for weekdays 03:00"),
        "{}",
        seg.message
    );
    // The host alert closed with its window: its update has the total.
    let update = alerts(&out)
        .into_iter()
        .find(|a| a.kind == "host_out" && a.update)
        .expect("update");
    assert!(
        update.count > 1 && update.message.contains("4.1 GB"),
        "{update:?}"
    );
}

#[test]
fn a_new_host_is_judged_as_learning_and_says_so() {
    let mut a = Analysis::new(Rules::default(), "t");
    let mut ev = Vec::new();
    for i in 0..60 {
        ev.push(conn(
            &format!("N{i}"),
            MONDAY + f64::from(i) * 60.0,
            50.0,
            "10.5.0.99",
            "185.66.1.2",
            150_000_000,
        ));
    }
    let out = run(&mut a, &ev);
    let found = alerts(&out);
    let host = found
        .iter()
        .find(|a| a.kind == "host_out")
        .expect("alert past the learning floor");
    assert!(host.message.contains("still learning"), "{}", host.message);
}

#[test]
fn state_survives_a_save_and_load() {
    let mut rng = Rng::new(11);
    let mut a = Analysis::new(Rules::default(), "t");
    run(&mut a, &office(2, &mut rng));
    let dir = std::env::temp_dir().join(format!("vagt-state-test-{}", std::process::id()));
    crate::state::save(&dir, &a.saved()).expect("save");
    let loaded = match crate::state::load(&dir, &Settings::default()).expect("load") {
        crate::state::Loaded::Restored(s) => s,
        _ => panic!("not restored"),
    };
    let m = metrics::metric("conns").expect("metric");
    let t = MONDAY + 10.0 * 3600.0;
    let before = a.baselines().expected("pleje", m, t);
    let mut b = Analysis::new(Rules::default(), "t");
    assert!(b.restore(*loaded).is_empty());
    assert_eq!(b.baselines().expected("pleje", m, t), before);
    assert!(before.is_some());
    // A torn or foreign file is set aside, not trusted.
    std::fs::write(crate::state::path(&dir), b"{\"version\":1,").expect("write");
    assert!(matches!(
        crate::state::load(&dir, &Settings::default()),
        Ok(crate::state::Loaded::SetAside(..))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_upload_to_a_service_the_whole_segment_uses_meets_a_higher_bar() {
    let mut rng = Rng::new(5);
    let mut a = Analysis::new(Rules::default(), "t");
    run(&mut a, &office(8, &mut rng));
    let start = MONDAY + 8.0 * 86_400.0 + 14.0 * 3600.0;
    let upload = |host: &str, dst: &str, tag: &str| -> Vec<Event> {
        (0..20)
            .map(|i| {
                conn(
                    &format!("{tag}{i}"),
                    start + f64::from(i) * 60.0,
                    55.0,
                    host,
                    dst,
                    100_000_000,
                )
            })
            .collect()
    };
    // 2 GB within the hour to the address all 20 hosts use: no alert.
    let out = run(&mut a, &upload("10.5.0.11", "185.10.0.1", "U"));
    assert!(
        !alerts(&out).iter().any(|x| x.kind == "host_out"),
        "{:?}",
        alerts(&out)
    );
    // The same to an address nobody used: an alert.
    let out = run(&mut a, &upload("10.5.0.12", "185.66.1.2", "V"));
    let found = alerts(&out);
    let x = found.iter().find(|x| x.kind == "host_out").expect("alert");
    assert_eq!(x.src.to_string(), "10.5.0.12");
}
