//! Tests of the indicator detector on hand-built records.

use super::*;
use crate::{Analysis, Rules};
use serde_json::{json, Value};
use std::path::Path;

fn event(kind: &str, uid: &str, ts: f64, orig: &str, resp: &str, port: u16, extra: Value) -> Event {
    let mut v = json!({
        "schema_version": 1, "municipality": "0000", "sensor": "s1", "segment": "office",
        "event_type": kind, "ts": ts, "uid": uid,
        "id.orig_h": orig, "id.orig_p": 50000, "id.resp_h": resp, "id.resp_p": port,
    });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    serde_json::from_value(v).unwrap()
}

fn conn(uid: &str, ts: f64, orig: &str, resp: &str, port: u16) -> Event {
    event(
        "conn",
        uid,
        ts,
        orig,
        resp,
        port,
        json!({
            "proto": "tcp", "conn_state": "SF", "missed_bytes": 0, "orig_pkts": 3,
            "orig_ip_bytes": 180, "resp_pkts": 3, "resp_ip_bytes": 180,
            "community_id": format!("1:{uid}"), "ip_proto": 6,
            "orig_link_bytes": 200, "resp_link_bytes": 200,
        }),
    )
}

fn dns(uid: &str, ts: f64, query: &str) -> Event {
    event(
        "dns",
        uid,
        ts,
        "10.1.1.5",
        "10.1.1.1",
        53,
        json!({
            "proto": "udp", "trans_id": 1, "query": query, "AA": false, "TC": false,
            "RD": true, "RA": true, "Z": 0, "rejected": false,
        }),
    )
}

fn ssl(uid: &str, ts: f64, sni: &str, ja3: &str, fps: &[&str]) -> Event {
    event(
        "ssl",
        uid,
        ts,
        "10.1.1.5",
        "198.51.100.9",
        443,
        json!({
            "server_name": sni, "resumed": false, "established": true, "ssl_history": "CsxknGIi",
            "ja3": ja3, "cert_chain_fps": fps,
        }),
    )
}

fn rules(text: &str) -> Rules {
    let mut r = Rules::default();
    r.add_file(Path::new("rules/local.toml"), text).unwrap();
    r
}

fn run(rules: Rules, events: &[Event]) -> Vec<vagt_schema::AlertRecord> {
    let mut a = Analysis::new(rules, "s1");
    let mut out = Vec::new();
    for e in events {
        a.observe(e, &mut out);
    }
    a.finish(&mut out);
    out.into_iter()
        .filter_map(|e| match e.body {
            EventBody::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

const LISTS: &str = r#"
[[indicator]]
value = "198.51.100.0/24"
type = "ip"
comment = "hosting range used by the actor"
source = "CFCS"

[[indicator]]
value = "*.bad.example"
type = "domain"
comment = "phishing domain"
score = 90

[[indicator]]
value = "e7d705a3286e19ea42f587b344ee6865"
type = "ja3"
comment = "Cobalt Strike"
technique = "T1071.001"

[[indicator]]
value = "203.0.113.66"
type = "ip"
comment = "scanner"
"#;

#[test]
fn each_kind_of_hit_raises_one_explained_alert_per_host() {
    let fp = "95cb443934beda97627688546191ab1d3989a835592cebdd2434f9ad41324ce1";
    let lists = format!(
        "{LISTS}\n[[indicator]]\nvalue = \"{}\"\ntype = \"file_hash\"\ncomment = \"bad cert\"\n",
        fp.to_uppercase()
    );
    let events = vec![
        dns("D1", 100.0, "Www.Login.BAD.example."),
        dns("D1", 101.0, "www.login.bad.example"),
        dns("D2", 102.0, "cdn.bad.example"),
        dns("D3", 103.0, "bad.example.com"),
        ssl(
            "S1",
            110.0,
            "portal.bad.example",
            "e7d705a3286e19ea42f587b344ee6865",
            &[fp],
        ),
        conn("S1", 110.0, "10.1.1.5", "198.51.100.9", 443),
        // Inbound from a listed address: the alert is about our host.
        conn("C9", 120.0, "203.0.113.66", "10.1.1.7", 22),
    ];
    let alerts = run(rules(&lists), &events);
    let first: Vec<_> = alerts.iter().filter(|a| !a.update).collect();
    let kinds: Vec<(&str, &str)> = first
        .iter()
        .map(|a| (a.kind.as_str(), a.subject.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("domain", "*.bad.example"),
            ("ip", "198.51.100.0/24"),
            ("ja3", "e7d705a3286e19ea42f587b344ee6865"),
            ("file_hash", fp),
            ("ip", "203.0.113.66"),
        ],
        "{alerts:#?}"
    );
    let dom = first[0];
    assert_eq!(dom.detector, "indicator");
    assert_eq!((dom.score, dom.technique.as_str()), (90, "T1071"));
    assert_eq!(dom.src.to_string(), "10.1.1.5");
    assert_eq!(dom.dst, None);
    assert!(
        dom.message
            .contains("looked up Www.Login.BAD.example. in DNS")
            && dom.message.contains("rules/local.toml line 9")
            && dom.message.contains("phishing domain"),
        "{}",
        dom.message
    );
    // D1 twice is one connection; D2, the DNS and the TLS name of S1 fold
    // in; bad.example.com does not match.
    let update = alerts
        .iter()
        .find(|a| a.update && a.kind == "domain")
        .expect("folded");
    assert_eq!(update.count, 3, "{update:?}");
    assert_eq!(update.uids, vec!["D1", "D2", "S1"]);
    let net = first[1];
    assert_eq!((net.score, net.dst), (70, None));
    assert!(
        net.message
            .starts_with("10.1.1.5 connected to 198.51.100.9 port 443;")
            && net.message.contains("source CFCS"),
        "{}",
        net.message
    );
    assert_eq!(first[2].technique, "T1071.001");
    let inbound = first[4];
    assert_eq!(inbound.src.to_string(), "10.1.1.7");
    assert_eq!(
        inbound.dst.map(|d| d.to_string()).as_deref(),
        Some("203.0.113.66")
    );
    assert!(
        inbound
            .message
            .starts_with("10.1.1.7 was contacted on port 22 by 203.0.113.66"),
        "{}",
        inbound.message
    );
}

#[test]
fn expired_indicators_stay_quiet_and_reloads_take_the_new_lists() {
    let lists = "[[indicator]]\nvalue = \"bad.example\"\ntype = \"domain\"\ncomment = \"x\"\nexpires = \"1970-01-02\"\n";
    assert!(run(rules(lists), &[dns("D1", 200_000.0, "bad.example")]).is_empty());
    assert_eq!(
        run(rules(lists), &[dns("D1", 100.0, "bad.example")]).len(),
        1
    );

    let mut a = Analysis::new(Rules::default(), "s1");
    let mut out = Vec::new();
    a.observe(&dns("D1", 100.0, "bad.example"), &mut out);
    assert!(out.is_empty());
    a.set_rules(rules(
        "[[indicator]]\nvalue = \"bad.example\"\ntype = \"domain\"\ncomment = \"x\"\n",
    ));
    a.observe(&dns("D2", 101.0, "bad.example"), &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn names_are_found_in_http_certificates_and_logins() {
    let lists = r#"
[[indicator]]
value = "*.bad.example"
type = "domain"
comment = "c2"
[[indicator]]
value = "http://www.bad.example:8080/gate.php"
type = "url"
comment = "loader gate"
[[indicator]]
value = "python-requests"
type = "user_agent"
comment = "scripted client"
[[indicator]]
value = "svc_backup"
type = "user_name"
comment = "stolen account"
"#;
    let http = event(
        "http",
        "H1",
        10.0,
        "10.1.1.5",
        "192.0.2.10",
        8080,
        json!({
            "trans_depth": 1, "host": "www.BAD.example:8080", "uri": "/gate.php",
            "user_agent": "Python-Requests/2.31", "request_body_len": 0, "response_body_len": 0, "tags": [],
        }),
    );
    let x509 = event(
        "x509",
        "X1",
        20.0,
        "10.1.1.6",
        "192.0.2.11",
        443,
        json!({
            "fingerprint": "00", "certificate.version": 3, "certificate.serial": "01",
            "certificate.subject": "CN=mail.other.example,O=Other", "certificate.issuer": "CN=ca",
            "certificate.not_valid_before": 0.0, "certificate.not_valid_after": 1.0,
            "certificate.key_alg": "rsaEncryption", "certificate.sig_alg": "sha256WithRSAEncryption",
            "san.dns": ["*.bad.example"], "host_cert": true, "client_cert": false,
        }),
    );
    let krb = event(
        "kerberos",
        "K1",
        30.0,
        "10.1.1.8",
        "10.1.1.2",
        88,
        json!({
            "client": "svc_backup/CORP.EXAMPLE", "success": true,
        }),
    );
    let alerts = run(rules(lists), &[http, x509, krb]);
    let got: Vec<(&str, &str)> = alerts
        .iter()
        .map(|a| (a.kind.as_str(), a.uids[0].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("domain", "H1"),
            ("user_agent", "H1"),
            ("url", "H1"),
            ("domain", "X1"),
            ("user_name", "K1")
        ],
        "{alerts:#?}"
    );
    assert!(alerts[3]
        .message
        .contains("was shown a certificate for *.bad.example"));
    assert!(alerts[4]
        .message
        .contains("logged in as svc_backup over Kerberos"));
}

#[test]
fn without_indicators_nothing_is_looked_up() {
    let mut d = IndicatorMatch::new(Arc::new(Indicators::default()), 3600.0);
    let mut out = Vec::new();
    d.observe(&dns("D1", 1.0, "bad.example"), &mut out);
    assert!(out.is_empty());
    assert!(d.raised.is_empty());
}

#[test]
fn a_downloaded_file_matches_by_any_of_its_hashes() {
    let sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let md5 = "900150983cd24fb0d6963f7d28e17f72";
    let lists = format!(
        "[[indicator]]\nvalue = \"{}\"\ntype = \"file_hash\"\ncomment = \"loader\"\n\
         [[indicator]]\nvalue = \"{md5}\"\ntype = \"file_hash\"\ncomment = \"dropper\"\n\
         [[indicator]]\nvalue = \"{md5}\"\ntype = \"cert_hash\"\ncomment = \"a certificate\"\n",
        sha256.to_uppercase()
    );
    let http = |uid: &str, ts: f64, host: &str, hashes: Value| {
        let mut fields = json!({
            "trans_depth": 1, "host": "files.example", "uri": "/a.exe",
            "request_body_len": 0, "response_body_len": 3, "tags": [],
        });
        if let (Some(o), Value::Object(h)) = (fields.as_object_mut(), hashes) {
            o.extend(h);
        }
        event("http", uid, ts, host, "192.0.2.10", 80, fields)
    };
    let events = vec![
        http(
            "H1",
            10.0,
            "10.1.1.5",
            json!({ "resp_md5": md5, "resp_sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
                    "resp_sha256": sha256 }),
        ),
        // An upload from another host, by its MD5.
        http("H2", 20.0, "10.1.1.6", json!({ "orig_md5": md5 })),
        // No body read whole: nothing to match.
        http("H3", 30.0, "10.1.1.7", json!({})),
        // A file fetched over FTP, by the hash its data connection gave.
        event(
            "ftp",
            "F1",
            40.0,
            "10.1.1.8",
            "192.0.2.21",
            21,
            json!({ "user": "anonymous", "command": "RETR", "sha256": sha256 }),
        ),
    ];
    let alerts = run(rules(&lists), &events);
    let found: Vec<(&str, &str, &str)> = alerts
        .iter()
        .map(|a| {
            (
                a.kind.as_str(),
                a.subject.as_deref().unwrap_or(""),
                a.uids[0].as_str(),
            )
        })
        .collect();
    // MD5 first; the certificate hash of the same value does not match a
    // file.
    assert_eq!(
        found,
        vec![
            ("file_hash", md5, "H1"),
            ("file_hash", sha256, "H1"),
            ("file_hash", md5, "H2"),
            ("file_hash", sha256, "F1"),
        ],
        "{alerts:#?}"
    );
    assert!(
        alerts[1].message.contains(&format!(
            "downloaded over HTTP a file with SHA-256 {sha256}"
        )),
        "{}",
        alerts[1].message
    );
    assert!(
        alerts[2]
            .message
            .contains("uploaded over HTTP a file with MD5"),
        "{}",
        alerts[2].message
    );
}
