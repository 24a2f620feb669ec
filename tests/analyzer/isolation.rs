//! Tenant isolation and hostile requests, on an analyzer with a store
//! seeded as ingest writes it (no broker needed): municipality 0101 (our
//! token's), 0999 (a neighbour whose sensor and segment have names that
//! must never show) and 0888, with one outside address in alerts of all
//! three (a campaign), critical alerts (incidents) and assets in each.

use super::*;

const OWN: &str = "0101";
/// What must never reach the 0101 token.
const SECRETS: [&str; 5] = [
    "nabo-sensor",
    "nabo-segment",
    "\"0999\"",
    "0999/",
    "\"0888\"",
];

struct Seeded {
    _dir: Dir,
    a: Analyzer,
    url: String,
    central: String,
    local: String,
    readonly: String,
}

fn seeded(name: &str) -> Seeded {
    let dir = temp_dir(name);
    let url = format!("sqlite://{}", dir.0.join("a.db").display());
    let now = vagt_analyzer::store::now();
    let mut events = Vec::new();
    for (m, sensor, segment) in [
        (OWN, "s1", "admin"),
        ("0999", "nabo-sensor", "nabo-segment"),
        ("0888", "x3", "school"),
    ] {
        let o = Origin {
            municipality: m.into(),
            sensor: sensor.into(),
            segment: segment.into(),
        };
        for i in 0..5u64 {
            events.push((
                o.clone(),
                i + 1,
                alert(
                    1e9 + i as f64,
                    "scan",
                    "185.99.99.99",
                    Some("fd00::1"),
                    Severity::Medium,
                ),
                now,
            ));
        }
        events.push((
            o.clone(),
            10,
            alert(
                1e9 + 50.0,
                "ot_change",
                "fd00::2",
                Some("fd00::3"),
                Severity::Critical,
            ),
            now,
        ));
        let asset: EventBody = serde_json::from_value(serde_json::json!({
            "event_type": "asset", "key": format!("mac:{m}"), "first_seen": 1e9,
            "last_seen": 1e9, "change": ["new"], "role": "printer"
        }))
        .expect("asset");
        events.push((o.clone(), 11, asset, now));
    }
    seed(&url, events);
    let port = free_port();
    let cfg = dir.0.join("a.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\nurl = \"{url}\"\n[kafka]\nenabled = false\n[api]\nlisten = \
             \"127.0.0.1:{port}\"\nmax_body_bytes = 16384\n[correlation]\ninterval_seconds = 0.5\n"
        ),
    )
    .expect("cfg");
    let central = token(&cfg, "central", "");
    let local = token(&cfg, "municipality", OWN);
    let readonly = token(&cfg, "readonly", OWN);
    let a = Analyzer::start(&cfg, port, dir.0.join("a.log"));
    wait_for(
        "the campaign and incidents",
        Duration::from_secs(30),
        || {
            let c = get_json(port, "/api/v1/campaigns", &central);
            let i = get_json(port, "/api/v1/incidents", &central);
            c["items"].as_array().is_some_and(|a| a.len() == 1)
                && i["items"].as_array().is_some_and(|a| a.len() >= 4)
        },
    );
    Seeded {
        _dir: dir,
        a,
        url,
        central,
        local,
        readonly,
    }
}

fn clean(what: &str, body: &str) {
    for s in SECRETS {
        assert!(!body.contains(s), "{what} leaked {s}: {body}");
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let items = v["items"]
            .as_array()
            .cloned()
            .or_else(|| v.as_array().cloned());
        for i in items.into_iter().flatten() {
            if let Some(m) = i.get("municipality").and_then(|m| m.as_str()) {
                assert_eq!(m, OWN, "{what}: another municipality's item: {i}");
            }
        }
    }
}

#[test]
fn a_municipality_token_reads_nothing_of_another_through_any_endpoint() {
    let s = seeded("tenant");
    let port = s.a.port;
    // What the centre sees, to aim at: the neighbour's ids and cursors.
    let incidents = get_json(port, "/api/v1/incidents", &s.central);
    let theirs: Vec<String> = incidents["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["municipality"] != OWN)
        .filter_map(|i| i["id"].as_str().map(String::from))
        .collect();
    assert!(theirs.len() >= 3, "{incidents}");
    let campaign = get_json(port, "/api/v1/campaigns", &s.central)["items"][0]["id"]
        .as_str()
        .map(String::from)
        .expect("campaign id");
    let mut cursors = Vec::new();
    for path in [
        "/api/v1/alerts",
        "/api/v1/incidents",
        "/api/v1/assets",
        "/api/v1/campaigns",
    ] {
        let mut at = format!("{path}?limit=1");
        for _ in 0..20 {
            let page = get_json(port, &at, &s.central);
            let Some(c) = page["next_cursor"].as_str() else {
                break;
            };
            cursors.push(c.to_string());
            at = format!("{path}?limit=1&cursor={c}");
        }
    }
    assert!(cursors.len() > 20, "central pages give cursors");
    let timeline_before = get_json(
        port,
        &format!("/api/v1/incidents/{}", theirs[0]),
        &s.central,
    )["timeline"]
        .as_array()
        .map(Vec::len);

    let doc = get_json(port, "/api/v1/openapi.json", &s.local);
    let paths = doc["paths"].as_object().cloned().expect("paths");
    let mut walked = 0;
    for (template, ops) in &paths {
        for method in ["get", "patch"] {
            if ops.get(method).is_none() {
                continue;
            }
            walked += 1;
            let ids: Vec<String> = theirs.iter().cloned().chain([campaign.clone()]).collect();
            let mut urls = Vec::new();
            for id in &ids {
                urls.push(
                    template
                        .replace("{id}", id)
                        .replace("{municipality}", "0999")
                        .replace("{sensor}", "nabo-sensor")
                        .replace("{seq}", "1")
                        .replace("{stage}", "early_warning"),
                );
            }
            urls.dedup();
            let mut all = Vec::new();
            for u in &urls {
                all.push(u.clone());
                all.push(format!("{u}?municipality=0999"));
                for c in &cursors {
                    all.push(format!("{u}?cursor={c}"));
                }
            }
            for url in all {
                let body: &[u8] = if method == "patch" {
                    br#"{"note":"x","state":"resolved"}"#
                } else {
                    b""
                };
                let (status, text) = http(port, &method.to_uppercase(), &url, &s.local, body);
                assert!(
                    [200, 400, 403, 404, 409].contains(&status),
                    "{method} {url}: {status} {text}"
                );
                clean(&format!("{method} {url}"), &text);
            }
        }
    }
    assert_eq!(
        walked,
        paths
            .values()
            .map(|o| o.as_object().map_or(0, |m| m.len()))
            .sum::<usize>()
    );
    // The campaign is visible to 0101, without the others' names.
    let mine = get_json(port, &format!("/api/v1/campaigns/{campaign}"), &s.local);
    assert_eq!(mine["municipalities"], serde_json::json!([OWN]));
    assert_eq!(mine["other_municipalities"], 2);
    // Nothing changed on their incidents.
    let after = get_json(
        port,
        &format!("/api/v1/incidents/{}", theirs[0]),
        &s.central,
    )["timeline"]
        .as_array()
        .map(Vec::len);
    assert_eq!(timeline_before, after);
    // Their own data they do see.
    let own = get_json(port, "/api/v1/alerts", &s.local);
    assert_eq!(own["items"].as_array().map(Vec::len), Some(6));
    let (st, export) = http(port, "GET", "/api/v1/alerts/export", &s.local, b"");
    assert_eq!(st, 200);
    assert_eq!(export.lines().count(), 6);
    clean("export", &export);
    eprintln!(
        "tenant isolation: {walked} operations, {} cursors, {} foreign ids tried",
        cursors.len(),
        theirs.len() + 1
    );
}

#[test]
fn hostile_requests_get_clear_errors_and_every_request_is_audited() {
    let s = seeded("hostile");
    let port = s.a.port;
    let sent = std::cell::Cell::new(0usize);
    let req = |method: &str, path: &str, token: &str, body: &[u8]| {
        sent.set(sent.get() + 1);
        http(port, method, path, token, body)
    };
    let json_error = |what: &str, (status, body): (u16, String), want: u16| {
        assert_eq!(status, want, "{what}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("{what}: not a JSON error: {body}"));
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {body}"
        );
    };
    json_error("no token", req("GET", "/api/v1/alerts", "", b""), 401);
    json_error(
        "bad token",
        req("GET", "/api/v1/alerts", "vagt_00", b""),
        401,
    );
    json_error(
        "limit abc",
        req("GET", "/api/v1/alerts?limit=abc", &s.central, b""),
        400,
    );
    json_error(
        "limit 0",
        req("GET", "/api/v1/alerts?limit=0", &s.central, b""),
        400,
    );
    json_error(
        "limit huge",
        req("GET", "/api/v1/alerts?limit=99999999999", &s.central, b""),
        400,
    );
    json_error(
        "NaN",
        req("GET", "/api/v1/alerts?from=NaN", &s.central, b""),
        400,
    );
    json_error(
        "unknown",
        req("GET", "/api/v1/alerts?colour=red", &s.central, b""),
        400,
    );
    json_error(
        "cursor",
        req("GET", "/api/v1/alerts?cursor=%27%3B--", &s.central, b""),
        400,
    );
    json_error(
        "severity",
        req("GET", "/api/v1/alerts?severity=extreme", &s.central, b""),
        400,
    );
    json_error(
        "stage",
        req("GET", "/api/v1/incidents/x/nis2/bogus", &s.central, b""),
        404,
    );
    json_error(
        "no endpoint",
        req("GET", "/api/v1/../../etc/passwd", &s.central, b""),
        404,
    );
    for inj in [
        "x%27%20OR%20%271%27%3D%271",
        "%27%3B%20DROP%20TABLE%20alerts%3B%20--",
        "%00%ff",
    ] {
        let (st, body) = req(
            "GET",
            &format!("/api/v1/alerts?detector={inj}&indicator={inj}"),
            &s.central,
            b"",
        );
        assert!(st == 200 || st == 400, "{inj}: {st} {body}");
        if st == 200 {
            let v: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(
                v["items"].as_array().map(Vec::len),
                Some(0),
                "{inj} matched: {body}"
            );
        }
    }
    let all = get_json(port, "/api/v1/alerts", &s.central);
    sent.set(sent.get() + 1);
    assert_eq!(
        all["items"].as_array().map(Vec::len),
        Some(18),
        "the alerts are all still there"
    );
    // Bodies: too large, wrong types, unknown fields, a read-only token.
    let incidents = get_json(port, "/api/v1/incidents", &s.central);
    sent.set(sent.get() + 1);
    let id = incidents["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let path = format!("/api/v1/incidents/{id}");
    let big = vec![b'a'; 1 << 20];
    let (st, _) = req("PATCH", &path, &s.central, &big);
    assert_eq!(st, 413, "an oversized body is refused");
    for bad in [
        &br#"{"state": 5}"#[..],
        br#"{"state":"hacked"}"#,
        br#"{"owner":"x"}"#,
        b"[1,2",
        b"\xff\xfe",
    ] {
        let (st, body) = req("PATCH", &path, &s.central, bad);
        assert!(
            (400..500).contains(&st),
            "{}: {st} {body}",
            String::from_utf8_lossy(bad)
        );
    }
    let (st, _) = req("PATCH", &path, &s.readonly, br#"{"note":"x"}"#);
    assert!(st == 403 || st == 404, "read-only may not write: {st}");
    let (st, body) = req(
        "PATCH",
        &path,
        &s.central,
        br#"{"state":"false_positive","note":"backup job"}"#,
    );
    assert_eq!(st, 200, "{body}");
    let (st, allow) = req("GET", &format!("{path}/allowlist"), &s.central, b"");
    assert_eq!(st, 200, "{allow}");
    assert!(
        allow.contains("[[allow]]") && allow.contains("expires"),
        "{allow}"
    );
    assert!(toml_parses(&allow), "the proposal is valid TOML: {allow}");
    // Every request above is in the audit log, refused ones too.
    let audited = rt().block_on(async {
        let st = Store::open(&s.url, 1).await.expect("store");
        let n: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM audit WHERE path NOT LIKE '%openapi%'")
                .fetch_one(&st.pool)
                .await
                .expect("audit");
        let unauth: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit WHERE status = 401")
            .fetch_one(&st.pool)
            .await
            .expect("audit");
        (n.0, unauth.0)
    });
    // seeded() made its own requests while waiting; ours are on top.
    assert!(
        audited.0 >= sent.get() as i64,
        "{audited:?} audited, {} sent",
        sent.get()
    );
    assert_eq!(audited.1, 2, "both refused tokens audited");
    schemathesis(port, &s.central);
}

fn toml_parses(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok()
}

/// Property-based API fuzzing from the OpenAPI document (schemathesis,
/// installed by tests/run as `VAGT_SCHEMATHESIS`): no request it makes
/// may crash the service or get a server error.
fn schemathesis(port: u16, token: &str) {
    let st = std::env::var("VAGT_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let dir = temp_dir("st");
    let (s, doc) = http(port, "GET", "/api/v1/openapi.json", token, b"");
    assert_eq!(s, 200);
    let schema = dir.0.join("openapi.json");
    std::fs::write(&schema, doc).expect("schema");
    let out = Command::new(&st)
        .arg("run")
        .arg(&schema)
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "30",
            "--seed",
            "7",
        ])
        .args(["--no-color"])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {st} ({e}): tests/run installs schemathesis"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found failures:\n{text}");
    eprintln!(
        "schemathesis: {}",
        text.lines().rev().take(6).collect::<Vec<_>>().join(" | ")
    );
}
