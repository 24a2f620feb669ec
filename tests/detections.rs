//! Detections on the corpus, held to `tests/DETECTIONS.md`: every labelled
//! attack in `attacks/LABELS.tsv` raises its expected detection (and the
//! one the label says a threshold detector must stay quiet on raises
//! none), the benign references in `zeek/` and `ot/` raise no high
//! alert but those the document lists with a reason, and indicators taken
//! from a capture's Zeek logs alert on that capture and on no other.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use vagt_schema::{AlertRecord, Event, EventBody, Severity};
use vagt_sensor::config::Config;

fn alerts(path: &Path) -> Vec<AlertRecord> {
    alerts_with(path, None)
}

/// The alerts of one capture, with the rules of `rules` (a folder) or the
/// built-in ones.
fn alerts_with(path: &Path, rules: Option<&Path>) -> Vec<AlertRecord> {
    let mut cfg = Config::default();
    cfg.pipeline.workers = 1;
    if let Some(dir) = rules {
        cfg.analysis.rules = dir.to_string_lossy().into_owned();
    }
    let (events, _) = vagt_sensor::app::replay_collect_analysed(&cfg, &[path.to_path_buf()])
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    events
        .into_iter()
        .filter_map(|e: Event| match e.body {
            EventBody::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// The detector a label's words call for.
fn expected_detector(label: &str) -> Option<&'static str> {
    let l = label.to_ascii_lowercase();
    if l.starts_with("port-scan") {
        Some("scan")
    } else if l.contains("bruteforce") {
        Some("bruteforce")
    } else if l.starts_with("dns-tunnel") {
        Some("dns_tunnel")
    } else if l.starts_with("ot-") {
        Some("ot_change")
    } else {
        None
    }
}

#[test]
fn every_labelled_attack_raises_its_detection() {
    let dir = corpus().join("attacks");
    let labels = std::fs::read_to_string(dir.join("LABELS.tsv")).expect("attacks/LABELS.tsv");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(label)) = (cols.first(), cols.get(4)) else {
            continue;
        };
        let Some(want) = expected_detector(label) else {
            continue;
        };
        checked += 1;
        let got = alerts(&dir.join(file));
        let fired: BTreeSet<&str> = got.iter().map(|a| a.detector.as_str()).collect();
        let quiet = label.contains("should stay quiet");
        if quiet && fired.contains(want) {
            failures.push(format!(
                "{file}: {want} fired, the label says it should stay quiet"
            ));
        } else if !quiet && !fired.contains(want) {
            failures.push(format!("{file}: expected {want}, got {fired:?}"));
        }
        for a in &got {
            // Every alert explains itself in numbers and names its evidence.
            assert!(
                a.message.chars().any(|c| c.is_ascii_digit()),
                "{file}: {}",
                a.message
            );
            assert!(a.count >= 1 && a.first_seen <= a.last_seen, "{file}: {a:?}");
            assert!(!a.technique.is_empty(), "{file}: {a:?}");
        }
    }
    assert!(checked >= 15, "only {checked} labelled captures");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The captures DETECTIONS.md allows a high alert on, with the detector
/// and kind it names.
fn documented_high() -> BTreeMap<String, (String, String)> {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/DETECTIONS.md"),
    )
    .expect("tests/DETECTIONS.md");
    let mut out = BTreeMap::new();
    let mut in_table = false;
    for line in doc.lines() {
        if line.starts_with("## ") {
            in_table = line.contains("high alerts that are right");
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !in_table || cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let capture = cells[1].trim_matches('`').to_string();
        let words: Vec<String> = cells[2]
            .split('`')
            .filter(|w| !w.trim().is_empty())
            .map(|w| w.trim().to_string())
            .collect();
        if let [detector, kind] = words.as_slice() {
            out.insert(capture, (detector.clone(), kind.clone()));
        }
    }
    out
}

fn benign_captures() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for folder in ["zeek", "ot"] {
        let dir = corpus().join(folder);
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("corpus folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        for case in cases {
            if let Some(trace) = trace_in(&case) {
                let name = format!(
                    "{folder}/{}",
                    case.file_name().unwrap_or_default().to_string_lossy()
                );
                out.push((name, trace));
            }
        }
    }
    out
}

#[test]
fn benign_references_raise_no_high_alert_but_the_documented_ones() {
    let documented = documented_high();
    assert!(!documented.is_empty(), "DETECTIONS.md lists no capture");
    let mut unexplained = Vec::new();
    let mut seen = BTreeSet::new();
    let captures = benign_captures();
    assert!(
        captures.len() > 100,
        "only {} benign captures",
        captures.len()
    );
    for (name, trace) in captures {
        for a in alerts(&trace) {
            if a.severity < Severity::High {
                continue;
            }
            match documented.get(&name) {
                Some((d, k)) if *d == a.detector && *k == a.kind => {
                    seen.insert(name.clone());
                }
                _ => unexplained.push(format!(
                    "{name}: {} {} {}: {}",
                    a.severity.as_str(),
                    a.detector,
                    a.kind,
                    a.message
                )),
            }
        }
    }
    let stale: Vec<&String> = documented.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(
        unexplained.is_empty(),
        "high alerts DETECTIONS.md does not explain: {unexplained:#?}"
    );
    assert!(
        stale.is_empty(),
        "listed in DETECTIONS.md but no longer raised: {stale:#?}"
    );
}

/// The values of `field` in a Zeek log's rows, unset ones left out.
fn column(log: &ZeekLog, field: &str) -> Vec<String> {
    log.rows
        .iter()
        .filter_map(|r| log.get(r, field))
        .filter(|v| *v != "-" && !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `name` is `zone` or a name under it.
fn under(name: &str, zone: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == zone || name.ends_with(&format!(".{zone}"))
}

fn in_24(a: IpAddr, net: IpAddr) -> bool {
    match (a, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => a.octets()[..3] == n.octets()[..3],
        _ => false,
    }
}

#[test]
fn indicators_from_a_capture_alert_on_it_and_not_on_others() {
    let app = corpus().join("zeek-app");
    // A TLS capture: a server name and the server's address from its
    // ssl.log, listed in a Zeek intel feed.
    let tls = app.join("scripts.base.protocols.ssl.tls13-version");
    let ssl = read_zeek_log(&tls.join("ssl.log"));
    let row = ssl
        .rows
        .iter()
        .find(|r| ssl.get(r, "server_name").is_some_and(|s| s.contains('.')))
        .expect("ssl.log has a server name");
    let sni = ssl.get(row, "server_name").unwrap().to_ascii_lowercase();
    let server: IpAddr = ssl.get(row, "resp_h").unwrap().parse().unwrap();
    let client: IpAddr = ssl.get(row, "orig_h").unwrap().parse().unwrap();
    let IpAddr::V4(v4) = server else {
        panic!("the capture's server is IPv4");
    };
    let o = v4.octets();
    let net = format!("{}.{}.{}.0/24", o[0], o[1], o[2]);
    // A DNS capture: the zone of its first query, listed as a wildcard.
    let dns_dir = app.join("scripts.base.protocols.dns.rrsig");
    let dns = read_zeek_log(&dns_dir.join("dns.log"));
    let query = column(&dns, "query").into_iter().next().expect("a query");
    let zone = query
        .trim_end_matches('.')
        .split_once('.')
        .map(|(_, z)| z.to_ascii_lowercase())
        .expect("the query has a zone");
    let zone_uids: BTreeSet<&str> = dns
        .rows
        .iter()
        .filter(|r| dns.get(r, "query").is_some_and(|q| under(q, &zone)))
        .filter_map(|r| dns.get(r, "uid"))
        .collect();
    let zone_client: IpAddr = dns.get(&dns.rows[0], "orig_h").unwrap().parse().unwrap();

    let dir = temp_dir("indicators");
    std::fs::write(
        dir.join("feed.intel"),
        format!(
            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n\
             {sni}\tIntel::DOMAIN\tcorpus\tserver name in ssl.log\n\
             {server}\tIntel::ADDR\tcorpus\tserver address in ssl.log\n\
             report.pdf\tIntel::FILE_NAME\tcorpus\ta type not matched here\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("local.toml"),
        format!(
            "[[indicator]]\nvalue = \"*.{zone}\"\ntype = \"domain\"\ncomment = \"zone of dns.log's first query\"\nscore = 90\n\n\
             [[indicator]]\nvalue = \"{net}\"\ntype = \"ip\"\ncomment = \"the server's /24\"\n"
        ),
    )
    .unwrap();
    let summary = vagt_sensor::analysis::check(dir.path()).expect("rules check");
    assert!(
        summary.contains("4 indicator(s) (ip 2, domain 2)")
            && summary
                .contains("1 feed line(s) of types not matched here skipped (Intel::FILE_NAME 1)"),
        "{summary}"
    );

    let ind = |alerts: Vec<AlertRecord>| -> Vec<AlertRecord> {
        alerts
            .into_iter()
            .filter(|a| a.detector == "indicator")
            .collect()
    };
    let got = ind(alerts_with(&trace_in(&tls).unwrap(), Some(dir.path())));
    let find = |kind: &str, subject: &str| {
        got.iter()
            .find(|a| !a.update && a.kind == kind && a.subject.as_deref() == Some(subject))
            .unwrap_or_else(|| panic!("no {kind} alert for {subject}: {got:#?}"))
    };
    let by_name = find("domain", &sni);
    assert!(
        by_name.message.contains("feed.intel line 2")
            && by_name.message.contains("server name in ssl.log")
            && by_name.message.contains("source corpus"),
        "{}",
        by_name.message
    );
    let by_addr = find("ip", &server.to_string());
    assert_eq!(by_addr.dst, Some(server));
    assert!(
        by_addr.message.contains("feed.intel line 3"),
        "{}",
        by_addr.message
    );
    let by_net = find("ip", &net);
    assert_eq!(by_net.dst, None);
    assert!(
        by_net.message.contains("local.toml line 8"),
        "{}",
        by_net.message
    );
    for a in &got {
        assert_eq!(a.src, client, "{a:?}");
        assert_eq!((a.score, a.technique.as_str()), (70, "T1071"), "{a:?}");
        assert_ne!(a.subject.as_deref(), Some(format!("*.{zone}").as_str()));
    }

    let got = ind(alerts_with(&trace_in(&dns_dir).unwrap(), Some(dir.path())));
    let wild = format!("*.{zone}");
    assert!(
        got.iter()
            .all(|a| a.subject.as_deref() == Some(wild.as_str())),
        "{got:#?}"
    );
    let first = got.iter().find(|a| !a.update).expect("a domain alert");
    assert_eq!((first.kind.as_str(), first.src), ("domain", zone_client));
    assert_eq!((first.score, first.severity), (90, Severity::Critical));
    assert!(first.message.contains("in DNS"), "{}", first.message);
    // One alert, counting every connection that asked for a name in the
    // zone, as many as Zeek's dns.log has.
    let last = got.iter().rev().find(|a| a.id == first.id).unwrap();
    assert_eq!(last.count as usize, zone_uids.len(), "{got:#?}");

    // Captures whose logs show none of the listed values raise none; the
    // first asks for names in the zone's parent, beside the listed zone.
    for other in [
        "scripts.base.protocols.dns.nsec",
        "scripts.base.protocols.ssl.tls-1.2",
    ] {
        let case = app.join(other);
        for log in ["dns.log", "ssl.log", "conn.log"] {
            let p = case.join(log);
            if !p.exists() {
                continue;
            }
            let l = read_zeek_log(&p);
            for q in column(&l, "query").iter().chain(&column(&l, "server_name")) {
                assert!(
                    !under(q, &zone) && q.to_ascii_lowercase() != sni,
                    "{other}: {q}"
                );
            }
            for a in column(&l, "orig_h").iter().chain(&column(&l, "resp_h")) {
                let a: IpAddr = a.parse().unwrap();
                assert!(a != server && !in_24(a, server), "{other}: {a}");
            }
        }
        let got = ind(alerts_with(&trace_in(&case).unwrap(), Some(dir.path())));
        assert!(got.is_empty(), "{other}: {got:#?}");
    }
}

/// A download whose hash is on a list: the HTTP record carries the body's
/// hashes (taken from the frames as they were built, independently of the
/// sensor's decoders), and the `file_hash` indicator alerts on it, through
/// the whole pipeline. Without `[app] file_hashes` nothing is hashed.
#[test]
fn a_listed_download_raises_a_file_hash_alert() {
    use common::packets::{conversation, host, Segment};
    use sha2::{Digest, Sha256};
    use vagt_sensor::synth::frames::flags;
    const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n";
    let dir = temp_dir("file-hash");
    let client = host(1, "10.1.1.5");
    let server = host(2, "192.0.2.10");
    let get: &'static [u8] = b"GET /setup.exe HTTP/1.1\r\nHost: files.example\r\n\r\n";
    let seg = |from_client, fl, len, prefix| Segment {
        from_client,
        flags: fl,
        len,
        prefix,
    };
    let steps = [
        seg(true, flags::SYN, 0, b""),
        seg(false, flags::SYN | flags::ACK, 0, b""),
        seg(true, flags::ACK, 0, b""),
        Segment::carrying(true, flags::ACK | flags::PSH, get),
        seg(false, flags::ACK, 1000 + HEAD.len(), HEAD),
        seg(false, flags::ACK, 1000, b""),
        seg(false, flags::ACK | flags::PSH, 1000, b""),
        seg(true, flags::FIN | flags::ACK, 0, b""),
        seg(false, flags::FIN | flags::ACK, 0, b""),
        seg(true, flags::ACK, 0, b""),
    ];
    let mut body = Vec::new();
    let pcap = conversation(
        &client,
        &server,
        (40000, 80),
        &steps,
        (1_700_000_000_000_000_000, 1_000_000),
        |s, frame| {
            if !s.from_client && s.len > 0 {
                // After the Ethernet, IPv4 and TCP headers.
                let payload = &frame[54..];
                body.extend_from_slice(payload.strip_prefix(HEAD).unwrap_or(payload));
            }
        },
    );
    assert_eq!(body.len(), 3000);
    let sha256: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let capture = dir.join("download.pcap");
    std::fs::write(&capture, pcap).expect("write capture");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).expect("rules folder");
    std::fs::write(
        rules.join("files.toml"),
        format!(
            "[[indicator]]\nvalue = \"{sha256}\"\ntype = \"file_hash\"\ncomment = \"loader from the CERT bulletin\"\n"
        ),
    )
    .expect("rules");
    for hashes in [true, false] {
        let mut cfg = Config::default();
        cfg.pipeline.workers = 1;
        cfg.analysis.rules = rules.to_string_lossy().into_owned();
        if hashes {
            cfg.app.file_hashes = vec![vagt_sensor::applayer::http::hashes::Algorithm::Sha256];
        }
        let (events, _) =
            vagt_sensor::app::replay_collect_analysed(&cfg, std::slice::from_ref(&capture))
                .unwrap_or_else(|e| panic!("replay: {e}"));
        let http: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Http(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(http.len(), 1);
        assert_eq!(http[0].response_body_len, 3000);
        let alerts: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Alert(a) if a.kind == "file_hash" => Some(a),
                _ => None,
            })
            .collect();
        if hashes {
            assert_eq!(http[0].resp_sha256.as_deref(), Some(sha256.as_str()));
            assert_eq!(http[0].resp_md5, None, "only the hashes asked for");
            assert_eq!(alerts.len(), 1, "{alerts:#?}");
            assert!(
                alerts[0]
                    .message
                    .contains("downloaded over HTTP a file with SHA-256")
                    && alerts[0].message.contains("loader from the CERT bulletin"),
                "{}",
                alerts[0].message
            );
        } else {
            assert_eq!(http[0].resp_sha256, None);
            assert!(alerts.is_empty(), "{alerts:#?}");
        }
    }
}
