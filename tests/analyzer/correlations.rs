//! Correlation against a real store (SQLite), run as the service runs it:
//! a wave, a kill chain and a silent sensor are each raised once however
//! often correlation runs, and what only looks like them is not raised (a
//! detector steady at its usual level, stages out of order or missing).

use super::*;
use vagt_analyzer::correlate::{self, Marks, Rules};

/// An alert whose detector and ATT&CK technique say which stage it is.
fn staged(ts: f64, detector: &str, technique: &str, src: &str) -> EventBody {
    let EventBody::Alert(mut a) = alert(ts, detector, src, None, Severity::Medium) else {
        unreachable!("alert() makes alerts")
    };
    a.technique = technique.into();
    a.kind = detector.into();
    a.id = format!("{detector}-{src}-{ts}");
    EventBody::Alert(a)
}

/// Events for `seed`, numbered per (municipality, sensor).
#[derive(Default)]
struct Batch {
    seqs: std::collections::HashMap<(String, String), u64>,
    events: Vec<(Origin, u64, EventBody, f64)>,
}

impl Batch {
    fn add(&mut self, m: &str, s: &str, body: EventBody, received: f64) {
        let seq = self.seqs.entry((m.into(), s.into())).or_default();
        *seq += 1;
        let o = Origin {
            municipality: m.into(),
            sensor: s.into(),
            segment: "admin".into(),
        };
        self.events.push((o, *seq, body, received));
    }
}

/// (rule, key kind, key value, municipalities, severity) of every finding.
fn findings(url: &str) -> Vec<(String, String, String, String, String)> {
    rt().block_on(async {
        let s = Store::open(url, 1).await.expect("store");
        let rows = sqlx::query(
            "SELECT rule, key_kind, key_value, municipalities, severity FROM correlations \
             WHERE cleared IS NULL ORDER BY rule, key_kind, key_value",
        )
        .fetch_all(&s.pool)
        .await
        .expect("correlations");
        use sqlx::Row;
        rows.iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get::<String, _>(3),
                    r.get(4),
                )
            })
            .collect()
    })
}

#[test]
fn waves_kill_chains_and_silent_sensors_are_raised_once_from_the_store() {
    let dir = temp_dir("correlate");
    let url = format!("sqlite://{}", dir.0.join("a.db").display());
    let now = vagt_analyzer::store::now();
    // The newest alert falls in the hour before this one.
    let hour = ((now / 3600.0).floor() - 1.0) * 3600.0;
    let mut b = Batch::default();

    // dns_tunnel: one municipality an hour for two days, then eight in
    // one hour: a wave. scan: four municipalities every hour for a week,
    // and four again: its normal, no wave.
    for h in 1..=48 {
        let t = hour - f64::from(h) * 3600.0 + 60.0;
        let m = format!("{:04}", 100 + h % 5);
        b.add(&m, "s1", staged(t, "dns_tunnel", "T1071", "fd00::1"), now);
    }
    for i in 0..8 {
        let m = format!("{:04}", 200 + i);
        b.add(
            &m,
            "s1",
            staged(
                hour + 100.0 + f64::from(i),
                "dns_tunnel",
                "T1071",
                "fd00::2",
            ),
            now,
        );
    }
    for h in 0..=168 {
        for i in 0..4 {
            let t = hour - f64::from(h) * 3600.0 + 200.0 + f64::from(i);
            let m = format!("{:04}", 300 + i);
            b.add(&m, "s1", staged(t, "scan", "T1046", "fd00::3"), now);
        }
    }

    // One host in 0751 goes recon -> access -> lateral -> C2 in half an
    // hour: a kill chain. Another has recon and lateral only; a third has
    // all four stages in the wrong order; a fourth's stages are spread
    // over two hosts.
    let t0 = hour + 600.0;
    let chain = [
        ("scan", "T1046"),
        ("bruteforce", "T1110"),
        ("lateral", "T1021"),
        ("beacon", "T1071"),
    ];
    for (i, (d, tech)) in chain.iter().enumerate() {
        let t = t0 + 600.0 * i as f64;
        b.add("0751", "s2", staged(t, d, tech, "fd00::aa"), now);
        b.add(
            "0751",
            "s2",
            staged(t, d, tech, if i < 2 { "fd00::dd" } else { "fd00::de" }),
            now,
        );
        if i % 2 == 0 {
            b.add("0751", "s2", staged(t, d, tech, "fd00::bb"), now);
        }
        b.add(
            "0751",
            "s2",
            staged(t0 + 2400.0 - 600.0 * i as f64, d, tech, "fd00::cc"),
            now,
        );
    }

    // A sensor last heard from an hour ago: silent. The others are not.
    b.add(
        "0147",
        "old",
        staged(hour - 7200.0, "scan", "T1046", "fd00::ee"),
        now - 3600.0,
    );
    seed(&url, b.events);

    let rules = Rules::load(Path::new("")).expect("built-in rules");
    let mut marks = Marks::default();
    let first = rt().block_on(async {
        let s = Store::open(&url, 2).await.expect("store");
        let r = correlate::run(&s, &rules, &mut marks).await.expect("round");
        // Later rounds, and a second instance with its own marks, find
        // the same and raise nothing new.
        let again = correlate::run(&s, &rules, &mut marks).await.expect("round");
        let other = correlate::run(&s, &rules, &mut Marks::default())
            .await
            .expect("round");
        assert_eq!(
            (again.created, other.created),
            (0, 0),
            "{again:?} {other:?}"
        );
        s.pool.close().await;
        r
    });
    let found = findings(&url);
    let of = |rule: &str| found.iter().filter(|f| f.0 == rule).collect::<Vec<_>>();

    let waves = of("wave");
    assert_eq!(waves.len(), 1, "{found:#?}");
    assert_eq!(waves[0].1, "dns_tunnel");
    assert_eq!(waves[0].2, ((hour / 3600.0) as i64).to_string());
    let munis: Vec<String> = serde_json::from_str(&waves[0].3).expect("municipalities");
    assert_eq!(munis.len(), 8, "{munis:?}");

    let chains = of("kill_chain");
    assert_eq!(chains.len(), 1, "{found:#?}");
    assert_eq!(
        (chains[0].1.as_str(), chains[0].2.as_str()),
        ("host", "fd00::aa")
    );
    assert_eq!(chains[0].4, "critical");

    let health = of("sensor_health");
    assert_eq!(health.len(), 1, "{found:#?}");
    assert_eq!(
        (health[0].1.as_str(), health[0].2.as_str()),
        ("silent", "0147/old")
    );

    assert!(
        first.incidents >= 1,
        "the kill chain is an incident: {first:?}"
    );
}
