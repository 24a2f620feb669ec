//! Reveal round trips: addresses by enumerating the internal networks,
//! names and users by the journal, MACs by candidates; and the journal's
//! file mode and one-line-per-token promise.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::time::Instant;
use vagt_privacy::{read_journal, Journal, Pseudonymiser, Revealer, Settings};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vagt-privacy-reveal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn small() -> Settings {
    Settings {
        internal: vec![
            "10.20.0.0/16".parse().unwrap(),
            "192.168.1.0/24".parse().unwrap(),
        ],
        ..settings()
    }
}

fn field(json: &str, f: &str) -> String {
    let i = json
        .find(&format!("\"{f}\":\""))
        .unwrap_or_else(|| panic!("{f} in {json}"))
        + f.len()
        + 4;
    json[i..].split('"').next().unwrap().to_string()
}

#[test]
fn ip_tokens_reveal_by_enumerating_a_slash_16_quickly() {
    let mut p = Pseudonymiser::new(&key(3), &small()).unwrap();
    let ev = event(
        "auth",
        &format!(
            r#"{},"service":"ftp","success":true"#,
            conn_id("10.20.255.254", EXTERNAL, 21)
        ),
    );
    let json = out(&mut p, ev);
    let token = field(&json, "id.orig_h");
    assert!(token.starts_with("fd"), "{json}");
    let r = Revealer::new(&key(3), &small()).unwrap();
    let t0 = Instant::now();
    let found = r.reveal(&token).unwrap();
    let took = t0.elapsed();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].value, "10.20.255.254");
    assert_eq!(found[0].kind, "ip");
    // The last address of the /16 (searched after the /24): the whole /16
    // was computed.
    assert!(took.as_secs_f64() < 1.0, "a /16 took {took:?}");
    // Another key finds nothing.
    let other = Revealer::new(&key(4), &small()).unwrap();
    assert!(other.reveal(&token).unwrap().is_empty());
    // An external address is not a token.
    assert!(r
        .reveal(EXTERNAL)
        .unwrap_err()
        .to_string()
        .contains("travel in clear"));
    assert!(r
        .reveal("hello")
        .unwrap_err()
        .to_string()
        .contains("not a token"));
}

#[test]
fn arp_ipv4_tokens_and_ipv6_candidates_reveal() {
    let mut p = Pseudonymiser::new(&key(3), &small()).unwrap();
    let arp = event(
        "arp",
        &format!(
            r#""ts":1.0,"op":"reply","src_mac":"{CLIENT_MAC}","ip":"192.168.1.77","mac":"{CLIENT_MAC}","change":"new","mac_ips":1"#
        ),
    );
    let json = out(&mut p, arp);
    let t = field(&json, "ip");
    let r = Revealer::new(&key(3), &small()).unwrap();
    let found = r.reveal(&t).unwrap();
    assert!(
        found.iter().any(|f| f.value == "192.168.1.77"),
        "{t}: {found:?}"
    );

    let conn6 = event(
        "auth",
        &format!(
            r#"{},"service":"ftp","success":true"#,
            conn_id("fd12:3456::48", "2001:db8::1", 21)
        ),
    );
    let json = out(&mut p, conn6);
    let t = field(&json, "id.orig_h");
    let mut r = Revealer::new(&key(3), &small()).unwrap();
    assert!(r.reveal(&t).unwrap().is_empty(), "IPv6 is not enumerated");
    r.add_candidates(["fd12:3456::1", "fd12:3456::48"]);
    let found = r.reveal(&t).unwrap();
    assert_eq!(found[0].value, "fd12:3456::48");
    assert_eq!(found[0].via, "candidate");
}

#[test]
fn too_large_networks_are_refused() {
    let s = Settings {
        internal: vec!["10.0.0.0/7".parse().unwrap()],
        ..Settings::default()
    };
    let err = Revealer::new(&key(1), &s).err().unwrap().to_string();
    assert!(err.contains("larger than /8"), "{err}");
}

#[test]
fn names_reveal_through_the_journal_and_macs_through_candidates() {
    let dir = tmp("journal");
    let path = dir.join("privacy.journal");
    let mut p = Pseudonymiser::new(&key(5), &small())
        .unwrap()
        .with_journal(Journal::open(&path).unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let ntlm = || {
        event(
            "ntlm",
            &format!(
                r#"{},"username":"jensen","hostname":"ANNE-PC","domainname":"KOMMUNE""#,
                conn_id(CLIENT, SERVER, 445)
            ),
        )
    };
    let json = out(&mut p, ntlm());
    out(&mut p, ntlm());
    let user = field(&json, "username");
    let host = field(&json, "hostname");
    drop(p);
    // One line per token, however often it was seen, also after reopening.
    let mut p = Pseudonymiser::new(&key(5), &small())
        .unwrap()
        .with_journal(Journal::open(&path).unwrap());
    out(&mut p, ntlm());
    let lines = read_journal(&path).unwrap();
    assert_eq!(
        lines.iter().filter(|l| l.token == user).count(),
        1,
        "{lines:?}"
    );

    let mut r = Revealer::new(&key(5), &small()).unwrap();
    assert_eq!(r.load_journal(&path).unwrap(), lines.len());
    let u = r.reveal(&user).unwrap();
    assert_eq!(
        (u[0].kind, u[0].value.as_str(), u[0].via),
        ("user", "jensen", "journal")
    );
    // Host names are tokenised in lower case.
    assert_eq!(r.reveal(&host).unwrap()[0].value, "anne-pc");

    // A MAC from the asset inventory, in another spelling.
    let mut p = Pseudonymiser::new(&key(5), &small()).unwrap();
    let json = out(
        &mut p,
        event(
            "asset",
            &format!(
                r#""key":"mac:{CLIENT_MAC}","first_seen":1.0,"last_seen":2.0,"change":["new"]"#
            ),
        ),
    );
    let key_field = field(&json, "key");
    let mut r = Revealer::new(&key(5), &small()).unwrap();
    r.add_candidates(["02-00-0A-14-03-30", "02:00:0a:00:00:01"]);
    let m = r.reveal(&key_field).unwrap();
    assert_eq!(m[0].value, CLIENT_MAC, "{m:?}");
    assert_eq!(m[0].kind, "mac");

    // A journal that others may read is refused.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = Journal::open(&path).unwrap_err().to_string();
    assert!(
        err.contains(&format!("chmod 600 {}", path.display())),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn journal_bound_is_kept_and_repeats_are_harmless() {
    let dir = tmp("bound");
    let path = dir.join("j");
    let mut p = Pseudonymiser::new(&key(6), &small())
        .unwrap()
        .with_journal(Journal::open_bounded(&path, 2).unwrap());
    for u in ["a1234", "b1234", "c1234", "a1234"] {
        out(
            &mut p,
            event(
                "auth",
                &format!(
                    r#"{},"service":"ftp","user":"{u}","success":true"#,
                    conn_id(CLIENT, SERVER, 21)
                ),
            ),
        );
    }
    let lines = read_journal(&path).unwrap();
    assert!(lines.len() >= 3 && lines.len() <= 4, "{lines:?}");
    let mut r = Revealer::new(&key(6), &small()).unwrap();
    r.load_journal(&path).unwrap();
    let t = vagt_privacy::Tokeniser::new(&key(6)).string(vagt_privacy::Kind::User, "c1234");
    assert_eq!(r.reveal(&t).unwrap()[0].value, "c1234");
    let _ = std::fs::remove_dir_all(&dir);
}
