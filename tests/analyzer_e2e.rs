//! End to end: three sensors of three municipalities replay traffic with
//! one shared outside attacker (a port scan from the same address) and
//! each its own local attack (brute force or scans between internal hosts,
//! which are pseudonymised with each municipality's own key and so never
//! join). They ship to a real broker (tansu); the analyzer ingests,
//! correlates, and shows exactly one campaign naming the three
//! municipalities through the API and the CLI, and a municipality's token
//! sees it without the other municipalities' names.
//!
//! The analyzer binary is found beside the sensor's (`cargo test
//! --workspace` builds both).

mod common;

use common::broker::Broker;
use common::packets::{capture, ether, ip, tcp, TCP};
use common::shipping::{config, replay, Guard};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ATTACKER: &str = "185.220.101.7";
const TOPICS: [&str; 4] = [
    "vagt.alerts",
    "vagt.health",
    "vagt.assets",
    "vagt.dead-letter",
];

/// The analyzer binary, beside the sensor's.
pub fn analyzer_bin() -> PathBuf {
    let sensor = PathBuf::from(env!("CARGO_BIN_EXE_vagt-sensor"));
    let p = sensor.with_file_name("vagt-analyzer");
    assert!(
        p.exists(),
        "{} is missing: build it first (cargo build -p vagt-analyzer, or tests/run)",
        p.display()
    );
    p
}

/// A SYN scan of `ports` ports on `victim` from the attacker, answered
/// with resets, starting `start_ms` into the capture's day.
fn scan(dir: &Path, name: &str, victim: &str, start_ms: u64, ports: u16) -> PathBuf {
    let mut frames = Vec::new();
    for (i, port) in (1..=ports).enumerate() {
        let t = start_ms + i as u64 * 20;
        let syn = tcp(40000 + (i as u16 % 7), port, 1000, 0, 0x02, &[]);
        frames.push((t, ether(&[], 0x0800, &ip(TCP, ATTACKER, victim, &syn))));
        let rst = tcp(port, 40000 + (i as u16 % 7), 0, 1001, 0x14, &[]);
        frames.push((t + 1, ether(&[], 0x0800, &ip(TCP, victim, ATTACKER, &rst))));
    }
    capture(dir, name, &frames)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// GET with a token: (status, body).
pub fn get(port: u16, path: &str, token: &str) -> (u16, String) {
    common::http::http(port, "GET", path, token, b"")
}

/// An analyzer started with `config`, killed when dropped.
pub struct Analyzer {
    pub port: u16,
    pub guard: Guard,
}

pub fn analyzer_config(dir: &Path, brokers: &str, store: &str, port: u16, extra: &str) -> PathBuf {
    let p = dir.join("analyzer.toml");
    std::fs::write(
        &p,
        format!(
            "[store]\nurl = \"{store}\"\n\n[kafka]\nbrokers = \"{brokers}\"\ngroup = \"e2e\"\n\
             batch = 200\n\n[api]\nlisten = \"127.0.0.1:{port}\"\n\n\
             [correlation]\ninterval_seconds = 1.0\n{extra}"
        ),
    )
    .expect("analyzer config");
    p
}

pub fn token(cfg: &Path, role: &str, municipality: &str) -> String {
    let out = Command::new(analyzer_bin())
        .args(["token", "create", "--name", "test", "--role", role])
        .args(["--municipality", municipality, "--config"])
        .arg(cfg)
        .output()
        .expect("vagt-analyzer token create");
    assert!(
        out.status.success(),
        "token create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn start_analyzer(cfg: &Path, port: u16, log: &Path) -> Analyzer {
    let child = Command::new(analyzer_bin())
        .args(["serve", "--config"])
        .arg(cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"))
        .spawn()
        .expect("start the analyzer");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the analyzer did not open its port: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Analyzer {
        port,
        guard: Guard(child),
    }
}

fn campaigns(port: u16, token: &str) -> serde_json::Value {
    let (status, body) = get(port, "/api/v1/campaigns", token);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("campaigns JSON")
}

#[test]
fn three_municipalities_one_attacker_one_campaign() {
    let dir = common::temp_dir("e2e");
    let broker = Broker::start(&dir.join("broker"), &TOPICS);
    let port = free_port();
    let store = format!("sqlite://{}", dir.join("analyzer.db").display());
    let acfg = analyzer_config(&dir, &broker.bootstrap(), &store, port, "");
    let central = token(&acfg, "central", "");
    let local = token(&acfg, "municipality", "0101");
    let analyzer = start_analyzer(&acfg, port, &dir.join("analyzer.log"));

    let corpus = common::corpus().join("attacks");
    let sites = [
        ("0101", "10.1.0.5", "ssh_sshguess.pcap"),
        ("0147", "10.2.0.5", "ftp_bruteforce.pcap"),
        ("0751", "10.3.0.5", "ppa1e_portscan.pcap"),
    ];
    for (i, (muni, victim, own)) in sites.iter().enumerate() {
        let d = dir.join(muni);
        std::fs::create_dir_all(&d).expect("dir");
        // The default topics: what a municipality ships to the centre.
        let cfg = config(
            &d,
            &broker.bootstrap(),
            "topics = [\"alerts\", \"health\", \"assets\"]",
        );
        let text = std::fs::read_to_string(&cfg).expect("cfg");
        std::fs::write(
            &cfg,
            text.replace(
                "municipality = \"751\"",
                &format!("municipality = \"{muni}\""),
            ),
        )
        .expect("cfg");
        // The shared attacker scans each municipality an hour apart.
        let s = scan(&d, "scan.pcap", victim, i as u64 * 3_600_000, 300);
        let t = Instant::now();
        replay(&d, &cfg, &[corpus.join(own)], "own.json");
        replay(&d, &cfg, &[s], "scan.json");
        eprintln!(
            "{muni}: replayed and shipped in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }

    // The analyzer ingests and correlates within seconds.
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(120);
    let found = loop {
        let c = campaigns(port, &central);
        let items = c["items"].as_array().cloned().unwrap_or_default();
        if items
            .iter()
            .any(|i| i["municipalities"].as_array().map_or(0, Vec::len) == 3)
        {
            // One more round, so a second campaign would show too.
            std::thread::sleep(Duration::from_secs(3));
            break campaigns(port, &central)["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        assert!(
            Instant::now() < deadline,
            "no campaign after 120 s: {c}\n{}",
            std::fs::read_to_string(dir.join("analyzer.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    eprintln!(
        "campaign seen {:.1} s after the last replay",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(found.len(), 1, "exactly one campaign: {found:#?}");
    let c = &found[0];
    assert_eq!(c["key_kind"], "ip");
    assert_eq!(c["key_value"], ATTACKER);
    assert_eq!(
        c["municipalities"],
        serde_json::json!(["0101", "0147", "0751"])
    );
    assert!(c["detectors"]
        .as_array()
        .is_some_and(|d| d.contains(&"scan".into())));

    // The same through the CLI, as a table and as JSON.
    let query = |args: &[&str]| {
        Command::new(analyzer_bin())
            .args(["query", "--url", &format!("http://127.0.0.1:{port}")])
            .args(args)
            .env("VAGT_TOKEN", &central)
            .output()
            .expect("vagt-analyzer query")
    };
    let cli = |args: &[&str]| {
        let out = query(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let table = cli(&["campaigns"]);
    assert!(
        table.contains(ATTACKER) && table.contains("0101,0147,0751"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&cli(&["--json", "campaigns"])).expect("json");
    assert_eq!(json["items"].as_array().map(Vec::len), Some(1));

    // A municipality's token sees the campaign, not who else saw it.
    let mine = campaigns(port, &local)["items"].clone();
    assert_eq!(mine[0]["municipalities"], serde_json::json!(["0101"]));
    assert_eq!(mine[0]["other_municipalities"], 2);
    let text = mine.to_string();
    assert!(!text.contains("0147") && !text.contains("0751"), "{text}");

    // The campaign raised one incident, with a NIS2 draft.
    let (s, body) = get(port, "/api/v1/incidents", &central);
    assert_eq!(s, 200);
    let inc: serde_json::Value = serde_json::from_str(&body).expect("incidents");
    let campaign_incidents: Vec<_> = inc["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["source_id"] == c["id"])
        .collect();
    assert_eq!(campaign_incidents.len(), 1, "{body}");
    let id = campaign_incidents[0]["id"].as_str().unwrap_or_default();
    let (s, md) = get(
        port,
        &format!("/api/v1/incidents/{id}/nis2/early_warning?format=markdown"),
        &central,
    );
    assert_eq!(s, 200, "{md}");
    assert!(
        md.contains(ATTACKER) && md.contains("Early warning"),
        "{md}"
    );

    // An analyst works the incident from the terminal: each change lands
    // on its timeline, a bad state is refused with the states that exist,
    // and a false positive suggests allow-list entries that the sensor's
    // own rules check accepts.
    let upd: serde_json::Value = serde_json::from_str(&cli(&[
        "update",
        id,
        "--state",
        "investigating",
        "--assignee",
        "analyst-7",
        "--significant",
        "true",
        "--note",
        "blocked at the firewall",
    ]))
    .expect("update answers JSON");
    assert_eq!(upd["incident"]["state"], "investigating", "{upd}");
    assert_eq!(upd["incident"]["assignee"], "analyst-7", "{upd}");
    assert_eq!(upd["incident"]["significant"], true, "{upd}");
    let timeline = upd["timeline"].to_string();
    for want in ["investigating", "analyst-7", "blocked at the firewall"] {
        assert!(
            timeline.contains(want),
            "{want} not on the timeline: {timeline}"
        );
    }
    let bad = query(&["update", id, "--state", "closed"]);
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && said.contains("false_positive"),
        "{said}"
    );
    cli(&["update", id, "--state", "false_positive"]);
    let allow = cli(&["allowlist", id]);
    assert!(
        allow.contains("[[allow]]") && allow.contains(ATTACKER),
        "{allow}"
    );
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).expect("mkdir");
    std::fs::write(rules.join("allow.toml"), &allow).expect("write");
    let check = Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
        .args(["rules", "check"])
        .arg(&rules)
        .output()
        .expect("vagt-sensor rules check");
    assert!(
        check.status.success(),
        "the proposal is not valid sensor rules: {}\n{allow}",
        String::from_utf8_lossy(&check.stderr)
    );
    drop(analyzer);
}
