//! Nothing internal leaves the municipality in clear text: every event of
//! every Zeek application trace, shipped to a real broker (tansu), is
//! searched for every internal address, MAC, host name and user name the
//! sensor's clear local output holds; and the municipality can reverse a
//! pseudonym with `vagt-sensor reveal`.

mod common;

use common::broker::Broker;
use common::shipping::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;
use vagt_schema::{EventBody, WireEvent};

/// Addresses the privacy settings count as internal: the private and
/// shared ranges, link-local, unique-local IPv6.
fn internal(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v) => {
            let o = v.octets();
            v.is_private() || v.is_link_local() || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        std::net::IpAddr::V6(v) => {
            let s = v.segments();
            (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Fields that hold a host name or a user name, by event type.
const IDENTITY_FIELDS: &[(&str, &str)] = &[
    ("asset", "host_name"),
    ("dhcp", "host_name"),
    ("dhcp", "client_fqdn"),
    ("ntlm", "hostname"),
    ("ntlm", "username"),
    ("ntlm", "server_nb_computer_name"),
    ("rdp", "client_name"),
    ("rdp", "cookie"),
    ("kerberos", "client"),
    ("ftp", "user"),
    ("auth", "user"),
];

/// Account names that are also words of the sensor's own alert texts
/// ("a new admin edge"): in free text the two cannot be told apart, so
/// they are looked for in the other fields only.
const COMMON_WORDS: &[&str] = &["admin", "administrator", "guest", "user", "root"];

fn is_mac(s: &str) -> bool {
    s.len() == 17
        && s.split(':').count() == 6
        && s.split(':')
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The internal values of an event: internal addresses, MACs, host and
/// user names, wherever they sit.
fn identities(v: &serde_json::Value, kind: &str, key: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::String(s) => {
            if let Ok(ip) = s.parse::<std::net::IpAddr>() {
                if internal(ip) && !ip.is_unspecified() {
                    out.insert(s.clone());
                }
            } else if is_mac(s) {
                if s != "ff:ff:ff:ff:ff:ff" && s != "00:00:00:00:00:00" {
                    out.insert(s.to_ascii_lowercase());
                }
            } else if IDENTITY_FIELDS.contains(&(kind, key)) && s.len() >= 4 && s != "<unknown>" {
                out.insert(s.clone());
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| identities(x, kind, key, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| identities(x, kind, k, out)),
        _ => {}
    }
}

/// Whether `needle` occurs in `hay` as a whole value: not inside a longer
/// address, name or number.
fn occurs(hay: &str, needle: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == ':' || c == '-' || c == '_';
    let lower = hay.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    lower.match_indices(&needle).any(|(i, m)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + m.len()..].chars().next();
        // A trailing dot ends a sentence, not a name.
        let after_ok = match after {
            None => true,
            Some('.') => lower[i + m.len() + 1..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric()),
            Some(c) => !word(c),
        };
        before.is_none_or(|c| !word(c)) && after_ok
    })
}

#[test]
fn nothing_internal_leaves_in_clear_text() {
    let dir = common::temp_dir("kafka-privacy");
    let broker = Broker::start(&dir.join("broker"), &TOPICS);
    let cfg = config(&dir, &broker.bootstrap(), "");
    // Every application trace of Zeek's test suite (DHCP, NTLM,
    // Kerberos, SMB, RDP, LDAP, FTP, HTTP, SMTP, DNS, ...) and the attack
    // captures, in one replay.
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::corpus().join("zeek-app"))
        .expect("zeek-app")
        .filter_map(|e| e.ok().map(|e| e.path().join("trace.pcap")))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files.extend(
        [
            "ftp_bruteforce.pcap",
            "ssh_bruteforce_nmap.pcap",
            "dnscat2.pcap",
            "nmap_80_all.pcap",
        ]
        .iter()
        .map(|f| common::corpus().join("attacks").join(f)),
    );
    let (out, _) = replay(&dir, &cfg, &files, "local.json");
    let text = std::fs::read_to_string(&out).expect("local");
    let mut secrets = BTreeSet::new();
    let mut local = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let kind = v["event_type"].as_str().unwrap_or_default().to_string();
        identities(&v, &kind, "", &mut secrets);
        local += 1;
    }
    assert!(secrets.len() > 100, "{} internal values", secrets.len());
    let all: Vec<String> = TOPICS
        .iter()
        .flat_map(|t| broker.read_all(t, Duration::from_secs(2), Duration::from_secs(60)))
        .map(|m| String::from_utf8(m).expect("UTF-8"))
        .collect();
    assert_eq!(all.len(), local, "every event shipped");
    let mut leaks = Vec::new();
    for m in &all {
        // The message without its free text, for the common words.
        let mut v: serde_json::Value = serde_json::from_str(m).expect("json");
        if let Some(o) = v.as_object_mut() {
            o.remove("message");
        }
        let structured = v.to_string();
        for s in &secrets {
            let common = COMMON_WORDS.contains(&s.to_ascii_lowercase().as_str());
            if occurs(if common { &structured } else { m }, s) {
                let i = m
                    .to_ascii_lowercase()
                    .find(&s.to_ascii_lowercase())
                    .unwrap_or(0);
                let from = m.floor_char_boundary(i.saturating_sub(120));
                let to = m.ceil_char_boundary((i + s.len() + 60).min(m.len()));
                leaks.push(format!("{s} in ...{}...", &m[from..to]));
            }
        }
    }
    eprintln!(
        "privacy: {} messages searched for {} internal values",
        all.len(),
        secrets.len()
    );
    // The municipality reverses a pseudonym from the centre with its key.
    let token = all
        .iter()
        .filter_map(|m| serde_json::from_str::<WireEvent>(m).ok())
        .find_map(|w| match w.event.body {
            EventBody::Alert(a) if a.src.to_string().starts_with("fd") => Some(a.src.to_string()),
            _ => None,
        })
        .expect("an alert about an internal host");
    let run = bin()
        .arg("-c")
        .arg(&cfg)
        .args(["reveal", &token])
        .output()
        .expect("reveal");
    let said = String::from_utf8_lossy(&run.stdout);
    let ip = said.split('\t').nth(2).unwrap_or_default();
    assert!(
        run.status.success() && secrets.contains(ip),
        "{token} revealed as: {said}"
    );
    leaks.sort();
    leaks.dedup_by(|a, b| a.split(' ').next() == b.split(' ').next());
    assert!(
        leaks.is_empty(),
        "{} values leak, e.g.\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
