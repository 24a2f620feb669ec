//! Tests of the lateral movement detector on synthetic connections.

use super::*;
use crate::detectors::testutil::{conn, event, Rng};

const T0: f64 = 1_780_000_000.0;
const DAY: f64 = 86_400.0;
const INSIDE: (Option<bool>, Option<bool>) = (Some(true), Some(true));

fn detector() -> Lateral {
    let mut rules = Rules::default();
    for (name, kind) in [("admin", "admin"), ("servers", "server"), ("it", "it")] {
        rules.segment_kinds.insert(name.into(), kind.into());
    }
    let mut d = Lateral::new(Settings::default());
    d.rules_changed(&rules);
    d
}

fn feed(d: &mut Lateral, segment: &str, c: ConnRecord) -> Vec<Notice> {
    let mut out = Vec::new();
    d.observe(&event(segment, EventBody::Conn(c)), &mut out);
    out
}

/// `src` tries SMB on 30 hosts within a minute; a third do not answer.
fn sweep_smb(d: &mut Lateral, segment: &str, src: &str, t: f64) -> Vec<Notice> {
    let mut rng = Rng::new(21);
    let mut out = Vec::new();
    for h in 0..30 {
        let state = if h % 3 == 0 { "S0" } else { "SF" };
        let ts = t + rng.range(0.0, 60.0);
        let dst = format!("10.20.0.{}", 10 + h);
        out.extend(feed(
            d,
            segment,
            conn(ts, &format!("C{h}"), src, &dst, 445, state, 200, INSIDE),
        ));
    }
    out
}

#[test]
fn fan_out_over_smb_from_an_admin_segment_alerts() {
    let mut d = detector();
    let out = sweep_smb(&mut d, "admin", "10.10.1.5", T0);
    let fan: Vec<_> = out.iter().filter(|n| n.kind == "fan_out").collect();
    // At 10 hosts, and again at 20.
    assert_eq!(fan.len(), 2, "{fan:#?}");
    let n = fan[1];
    assert_eq!((n.detector, n.technique.as_ref()), ("lateral", "T1021.002"));
    assert_eq!(n.subject.as_deref(), Some("smb"));
    assert!(n.score >= 50, "{}", n.score);
    assert!(
        n.message.starts_with("10.10.1.5 (segment admin, kind admin) reached admin services of 20 internal hosts within"),
        "{}",
        n.message
    );
    assert!(
        n.message.contains("10 or more hosts within 900 s"),
        "{}",
        n.message
    );
    assert_eq!(fan.iter().map(|n| n.count).sum::<u64>(), 20);
    assert!(n.evidence.uids.len() >= 10);
    // No new edges while learning.
    assert!(out.iter().all(|n| n.kind != "new_edge"));
}

#[test]
fn fan_out_from_a_server_segment_does_not_alert() {
    let mut d = detector();
    assert!(sweep_smb(&mut d, "servers", "10.20.0.2", T0).is_empty());
    let mut d = detector();
    assert!(sweep_smb(&mut d, "it", "10.30.0.2", T0).is_empty());
    // A segment without a kind is treated as a client segment.
    let mut d = detector();
    assert!(!sweep_smb(&mut d, "unassigned", "10.40.0.2", T0).is_empty());
}

#[test]
fn external_or_unmarked_connections_are_not_lateral() {
    let mut d = detector();
    let mut out = Vec::new();
    for h in 0..30 {
        let dst = format!("185.0.0.{h}");
        let c = conn(
            T0,
            "C",
            "10.10.1.5",
            &dst,
            445,
            "SF",
            10,
            (Some(true), Some(false)),
        );
        out.extend(feed(&mut d, "admin", c));
        let c = conn(T0, "C", "10.10.1.5", &dst, 445, "SF", 10, (None, None));
        out.extend(feed(&mut d, "admin", c));
    }
    assert!(out.is_empty());
}

#[test]
fn a_new_admin_edge_after_learning_alerts_and_during_learning_does_not() {
    let mut d = detector();
    // Day 0: the helpdesk PC uses RDP to one server; the edge is learned.
    let c = conn(T0, "C1", "10.10.1.5", "10.20.0.7", 3389, "SF", 900, INSIDE);
    assert!(feed(&mut d, "admin", c).is_empty());
    // Day 3: a new edge, still learning.
    let c = conn(
        T0 + 3.0 * DAY,
        "C2",
        "10.10.1.5",
        "10.20.0.8",
        3389,
        "SF",
        900,
        INSIDE,
    );
    assert!(feed(&mut d, "admin", c).is_empty());
    // Day 8: known edges are quiet; a failed attempt makes no edge.
    let c = conn(
        T0 + 8.0 * DAY,
        "C3",
        "10.10.1.5",
        "10.20.0.7",
        3389,
        "SF",
        900,
        INSIDE,
    );
    assert!(feed(&mut d, "admin", c).is_empty());
    let c = conn(
        T0 + 8.0 * DAY,
        "C4",
        "10.10.1.5",
        "10.20.0.9",
        5985,
        "REJ",
        0,
        INSIDE,
    );
    assert!(feed(&mut d, "admin", c).is_empty());
    // ... and a new one with a session is reported, at the lower score.
    let c = conn(
        T0 + 8.0 * DAY,
        "C5",
        "10.10.1.5",
        "10.20.0.9",
        5985,
        "SF",
        900,
        INSIDE,
    );
    let out = feed(&mut d, "admin", c);
    assert_eq!(out.len(), 1, "{out:#?}");
    let n = &out[0];
    assert_eq!(
        (n.kind, n.technique.as_ref(), n.score),
        ("new_edge", "T1021.006", 45)
    );
    assert_eq!(n.subject.as_deref(), Some("winrm"));
    assert!(
        n.message
            .contains("learned for 8.0 days (7.0 required) and knew 2 admin edges"),
        "{}",
        n.message
    );
    assert_eq!(n.evidence.uids, vec!["C5".to_string()]);
    // From a server segment it scores lower.
    let c = conn(
        T0 + 8.0 * DAY,
        "C6",
        "10.20.0.2",
        "10.20.0.9",
        22,
        "SF",
        900,
        INSIDE,
    );
    let out = feed(&mut d, "servers", c);
    assert_eq!((out[0].score, out[0].technique.as_ref()), (30, "T1021.004"));
}

#[test]
fn state_is_bounded() {
    let s = Settings {
        max_tracked: 50,
        max_edges: 100,
        ..Settings::default()
    };
    let mut d = Lateral::new(s);
    for i in 0..5000u32 {
        let src = format!("10.{}.{}.1", i >> 8, i & 255);
        let dst = format!("10.200.{}.{}", i >> 8, i & 255);
        let c = conn(T0 + f64::from(i), "C", &src, &dst, 445, "SF", 10, INSIDE);
        feed(&mut d, "admin", c);
    }
    assert!(d.sources.len() <= 50 && d.edges.len() <= 100);
    assert!(d.edges.evicted > 0 && d.sources.evicted > 0);
}

#[test]
fn the_analysis_stage_runs_it_with_the_segment_kinds_of_its_rules() {
    let mut rules = Rules::default();
    rules
        .segment_kinds
        .insert("servers".into(), "server".into());
    let mut a = crate::Analysis::new(rules, "t");
    let mut out = Vec::new();
    for (segment, src) in [("servers", "10.20.0.2"), ("pleje", "10.60.0.9")] {
        for h in 0..30 {
            let dst = format!("10.20.1.{h}");
            let c = conn(T0 + f64::from(h), "C", src, &dst, 445, "SF", 100, INSIDE);
            a.observe(&event(segment, EventBody::Conn(c)), &mut out);
        }
    }
    a.finish(&mut out);
    let lateral: Vec<_> = out
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Alert(x) if x.detector == "lateral" => Some((e.origin.segment.as_str(), x)),
            _ => None,
        })
        .collect();
    assert!(!lateral.is_empty());
    assert!(lateral
        .iter()
        .all(|(seg, x)| *seg == "pleje" && x.kind == "fan_out"));
}

#[test]
fn learned_edges_survive_a_restart() {
    let mut d = detector();
    let c = conn(T0, "C1", "10.10.1.5", "10.20.0.7", 3389, "SF", 900, INSIDE);
    feed(&mut d, "admin", c);
    let (name, saved) = d.save().expect("saves");
    let mut e = detector();
    assert!(e.restore(name, &saved));
    assert!(!e.restore(name, &serde_json::json!({"x": 1})));
    // Day 8 after the first event before the restart: the known edge is
    // quiet, a new one is reported.
    let c = conn(
        T0 + 8.0 * DAY,
        "C2",
        "10.10.1.5",
        "10.20.0.7",
        3389,
        "SF",
        900,
        INSIDE,
    );
    assert!(feed(&mut e, "admin", c).is_empty());
    let c = conn(
        T0 + 8.0 * DAY,
        "C3",
        "10.10.1.5",
        "10.20.0.8",
        3389,
        "SF",
        900,
        INSIDE,
    );
    assert_eq!(feed(&mut e, "admin", c).len(), 1);
}

#[test]
fn new_edges_of_admin_sources_and_to_servers_are_not_news() {
    let mut d = detector();
    let rdp =
        |t: f64, uid: &str, src: &str, dst: &str| conn(t, uid, src, dst, 3389, "SF", 900, INSIDE);
    let smb =
        |t: f64, uid: &str, src: &str, dst: &str| conn(t, uid, src, dst, 445, "SF", 900, INSIDE);
    // Learning: the helpdesk PC reaches three clients over RDP, and
    // twelve clients use the file server over SMB.
    for h in 0..3 {
        feed(
            &mut d,
            "admin",
            rdp(
                T0 + f64::from(h),
                &format!("R{h}"),
                "10.10.1.50",
                &format!("10.10.2.{h}"),
            ),
        );
    }
    for h in 0..12 {
        feed(
            &mut d,
            "admin",
            smb(
                T0 + f64::from(h),
                &format!("S{h}"),
                &format!("10.10.3.{h}"),
                "10.20.0.2",
            ),
        );
    }
    let t = T0 + 8.0 * DAY;
    // After learning: the helpdesk's new client and a new file-server
    // client are ordinary ...
    assert!(feed(&mut d, "admin", rdp(t, "R9", "10.10.1.50", "10.10.2.99")).is_empty());
    assert!(feed(&mut d, "admin", smb(t, "S99", "10.10.3.99", "10.20.0.2")).is_empty());
    // ... a client that never used RDP reaching another client is not.
    let out = feed(&mut d, "admin", rdp(t, "X1", "10.10.3.5", "10.10.3.6"));
    assert_eq!(out.len(), 1, "{out:#?}");
    assert!(
        out[0].message.contains("0 from 10.10.3.5 over rdp"),
        "{}",
        out[0].message
    );
}
