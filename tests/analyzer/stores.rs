//! The stores themselves: two analyzer instances sharing one PostgreSQL
//! store, and retention deleting for real.

use super::*;

/// A fresh database on the PostgreSQL server of `VAGT_PG_URL`.
fn postgres_db(name: &str) -> String {
    let base = std::env::var("VAGT_PG_URL").unwrap_or_else(|_| {
        panic!("VAGT_PG_URL is not set: tests/run starts a throw-away PostgreSQL and sets it")
    });
    let db = format!("vagt_{name}_{}", std::process::id());
    rt().block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&base)
            .await
            .expect("connect to PostgreSQL");
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
            .execute(&mut c)
            .await;
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut c)
            .await
            .expect("create database");
    });
    let (prefix, _) = base.rsplit_once('/').expect("a database in VAGT_PG_URL");
    format!("{prefix}/{db}")
}

#[test]
fn two_instances_on_one_postgres_store_every_event_once_and_one_campaign() {
    let dir = temp_dir("pg");
    let broker = Broker::start(&dir.0.join("broker"), &TOPICS);
    let url = postgres_db("scale");
    let (p1, p2) = (free_port(), free_port());
    let c1 = config(&dir.0, &broker.bootstrap(), &url, p1, "scale");
    let c2 = config(&dir.0, &broker.bootstrap(), &url, p2, "scale");
    let central = token(&c1, "central", "");
    let a1 = Analyzer::start(&c1, p1, dir.0.join("a1.log"));
    let a2 = Analyzer::start(&c2, p2, dir.0.join("a2.log"));
    // Twelve municipalities, background alerts with internal sources; the
    // same outside address in alerts from three of them.
    let mut sensors: Vec<Sensor> = (0..12)
        .map(|i| Sensor::new(&format!("0{}", 101 + i), &format!("s{i}"), "admin"))
        .collect();
    let mut msgs = Vec::new();
    for i in 0..12_000usize {
        let s = &mut sensors[i % 12];
        let src = format!("fd00::{:x}", i % 50 + 1);
        msgs.push(s.message(alert(
            1e9 + i as f64,
            "bruteforce",
            &src,
            Some("10.0.0.1"),
            Severity::Medium,
        )));
    }
    for s in sensors.iter_mut().take(3) {
        msgs.push(s.message(alert(
            1e9 + 5000.0,
            "scan",
            "203.0.113.99",
            None,
            Severity::High,
        )));
        msgs.push(s.message(alert(
            1e9 + 5001.0,
            "scan",
            "198.51.100.7",
            None,
            Severity::High,
        )));
    }
    send(&producer(&broker.bootstrap()), &msgs);
    let n = msgs.len() as i64;
    wait_for("every event stored", Duration::from_secs(180), || {
        counts(&url).0 >= n
    });
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(counts(&url), (n, n), "each event once");
    let both = [p1, p2].map(|p| get_json(p, "/api/v1/status", &central));
    let stored: Vec<i64> = both
        .iter()
        .map(|s| s["ingest"]["stored"].as_i64().unwrap_or(0))
        .collect();
    eprintln!("two instances stored {stored:?} of {n}");
    assert_eq!(stored.iter().sum::<i64>(), n);
    // 203.0.113.0/24 and 198.51.100.0/24 are documentation ranges, which
    // are never indicators; only what is routable makes a campaign. So:
    // none here; and now one from a real outside address.
    let none = get_json(p1, "/api/v1/campaigns", &central);
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "{none}");
    let mut more = Vec::new();
    for s in sensors.iter_mut().take(3) {
        more.push(s.message(alert(
            1e9 + 6000.0,
            "scan",
            "185.220.101.9",
            None,
            Severity::High,
        )));
    }
    send(&producer(&broker.bootstrap()), &more);
    wait_for("a campaign", Duration::from_secs(60), || {
        get_json(p1, "/api/v1/campaigns", &central)["items"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    });
    std::thread::sleep(Duration::from_secs(4));
    for p in [p1, p2] {
        let c = get_json(p, "/api/v1/campaigns", &central);
        let items = c["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "one campaign: {c}");
        assert_eq!(
            items[0]["municipalities"],
            serde_json::json!(["0101", "0102", "0103"])
        );
        let inc = get_json(p, "/api/v1/incidents", &central);
        let n = inc["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["source_id"] == items[0]["id"])
            .count();
        assert_eq!(n, 1, "one incident for the campaign: {inc}");
    }
    drop((a1, a2));
}

#[test]
fn retention_deletes_for_real_and_logs_it() {
    let dir = temp_dir("retention");
    let url = format!("sqlite://{}", dir.0.join("a.db").display());
    let now = vagt_analyzer::store::now();
    let o = Origin {
        municipality: "0101".into(),
        sensor: "s".into(),
        segment: "care".into(),
    };
    seed(
        &url,
        vec![
            (
                o.clone(),
                1,
                alert(1e9, "scan", "185.1.1.1", None, Severity::Low),
                now - 400.0 * 86400.0,
            ),
            (
                o.clone(),
                2,
                alert(1e9, "scan", "185.1.1.2", None, Severity::Low),
                now - 10.0 * 86400.0,
            ),
        ],
    );
    let cfg = dir.0.join("r.toml");
    std::fs::write(
        &cfg,
        format!("[store]\nurl = \"{url}\"\n[kafka]\nenabled = false\n"),
    )
    .expect("cfg");
    let out = Command::new(bin())
        .arg("retention")
        .arg("--config")
        .arg(&cfg)
        .output()
        .expect("retention");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("alerts") && l.contains(" 1 rows")),
        "{text}"
    );
    rt().block_on(async {
        let s = Store::open(&url, 1).await.expect("store");
        let left: Vec<(i64,)> = sqlx::query_as("SELECT seq FROM alerts")
            .fetch_all(&s.pool)
            .await
            .expect("q");
        assert_eq!(
            left,
            vec![(2,)],
            "the old alert is gone, the recent one kept"
        );
        let ind: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM indicators WHERE value = '185.1.1.1'")
                .fetch_one(&s.pool)
                .await
                .expect("q");
        assert_eq!(ind.0, 0, "its indicators went with it");
        let logged: (i64,) = sqlx::query_as(
            "SELECT COALESCE(SUM(row_count), 0) FROM deletions WHERE data_kind = 'alerts'",
        )
        .fetch_one(&s.pool)
        .await
        .expect("q");
        assert_eq!(logged.0, 1, "the deletion is logged");
    });
}
