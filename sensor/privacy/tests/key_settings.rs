//! The key file (created 0600, refused when others may read it, wrong
//! length named), the settings (TOML shape, validation errors), and the
//! token properties the centre relies on: deterministic per key,
//! unrelated across keys, relaxations per field and segment.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use vagt_privacy::{Key, Pseudonymiser, Settings};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vagt-privacy-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn key_is_created_0600_with_its_directory_and_loaded_again() {
    let dir = tmp("create");
    let path = dir.join("sub/privacy.key");
    let k1 = Key::load_or_create(&path).expect("created");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read(&path).unwrap().len(), 32);
    let k2 = Key::load_or_create(&path).expect("loaded");
    // Same key: same tokens.
    let ev = || {
        event(
            "auth",
            &format!(
                r#"{},"service":"ftp","user":"jensen","success":true"#,
                conn_id(CLIENT, SERVER, 21)
            ),
        )
    };
    let a = out(&mut Pseudonymiser::new(&k1, &settings()).unwrap(), ev());
    let b = out(&mut Pseudonymiser::new(&k2, &settings()).unwrap(), ev());
    assert_eq!(a, b);
    assert!(
        !format!("{k1:?}").contains(|c: char| c.is_ascii_digit()),
        "Debug shows no bytes"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn key_readable_by_others_is_refused_with_the_chmod_to_run() {
    let dir = tmp("perm");
    let path = dir.join("privacy.key");
    Key::load_or_create(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Key::load_or_create(&path).unwrap_err().to_string();
    assert!(
        err.contains(&format!("chmod 600 {}", path.display())),
        "{err}"
    );
    assert!(err.contains("0644"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn key_of_wrong_length_or_not_a_file_names_the_path() {
    let dir = tmp("len");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("short.key");
    std::fs::write(&path, b"too short").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = Key::load_or_create(&path).unwrap_err().to_string();
    assert!(
        err.contains(&path.display().to_string()) && err.contains("9 bytes"),
        "{err}"
    );
    let err = Key::load_or_create(&dir).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settings_parse_from_toml_and_refuse_unknown_names() {
    let s: Settings = toml::from_str(
        r#"
        internal = ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"]
        internal_domains = ["kommune.local"]
        keep = ["dns.query", "http.host"]
        key_file = "/var/lib/vagt/privacy.key"
        journal = "/var/lib/vagt/privacy.journal"
        [segments.ot]
        clear = true
        [segments.guest]
        keep = ["http.uri"]
        "#,
    )
    .expect("parses");
    s.validate().expect("valid");
    assert_eq!(s.internal.len(), 3);
    // It prints back as it reads (for `vagt-sensor config`).
    let text = toml::to_string(&s).expect("serialises");
    assert!(text.contains("\"10.0.0.0/8\""), "{text}");
    assert_eq!(toml::from_str::<Settings>(&text).expect("reads back"), s);
    let d = toml::to_string(&Settings::default()).expect("serialises");
    assert_eq!(
        toml::from_str::<Settings>(&d).expect("reads back"),
        Settings::default()
    );

    let bad: Result<Settings, _> = toml::from_str("internl = []");
    assert!(bad.unwrap_err().to_string().contains("internl"));
    let bad: Result<Settings, _> = toml::from_str(r#"internal = ["10.0.0.0/40"]"#);
    assert!(bad.unwrap_err().to_string().contains("prefix"));

    let s = Settings {
        keep: vec!["dns.qery".into(), "snmp.community".into()],
        ..Settings::default()
    };
    let err = s.validate().unwrap_err().to_string();
    assert!(err.contains("unknown field \"dns.qery\""), "{err}");
    assert!(err.contains("is a secret"), "{err}");
    assert!(err.contains("valid field names are: ip, mac,"), "{err}");
    assert!(err.contains("dns.query"), "{err}");
    assert!(
        Pseudonymiser::new(&key(1), &s).is_err(),
        "new() validates too"
    );
}

#[test]
fn tokens_are_deterministic_per_key_and_unrelated_across_keys() {
    let ev = || {
        event(
            "conn",
            &format!(
                r#"{},"proto":"tcp","conn_state":"SF","missed_bytes":0,"orig_pkts":1,"orig_ip_bytes":1,"resp_pkts":1,"resp_ip_bytes":1,"ip_proto":6,"orig_l2_addr":"{CLIENT_MAC}","community_id":"1:x","orig_link_bytes":1,"resp_link_bytes":1"#,
                conn_id(CLIENT, SERVER, 445)
            ),
        )
    };
    let mut p1 = Pseudonymiser::new(&key(1), &settings()).unwrap();
    let mut p2 = Pseudonymiser::new(&key(2), &settings()).unwrap();
    let a = out(&mut p1, ev());
    assert_eq!(a, out(&mut p1, ev()), "same key, same tokens (cached)");
    assert_eq!(
        a,
        out(&mut Pseudonymiser::new(&key(1), &settings()).unwrap(), ev())
    );
    let b = out(&mut p2, ev());
    let field = |j: &str, f: &str| -> String {
        let i = j.find(&format!("\"{f}\":\"")).unwrap() + f.len() + 4;
        j[i..].split('"').next().unwrap().to_string()
    };
    for f in ["id.orig_h", "id.resp_h", "orig_l2_addr", "community_id"] {
        assert_ne!(field(&a, f), field(&b, f), "{f}");
    }
}

#[test]
fn keep_and_segment_relaxations() {
    let s = Settings {
        keep: vec!["dns.query".into()],
        segments: [
            (
                "ot".to_string(),
                vagt_privacy::SegmentSettings {
                    keep: vec![],
                    clear: true,
                },
            ),
            (
                "guest".to_string(),
                vagt_privacy::SegmentSettings {
                    keep: vec!["ip".into()],
                    clear: false,
                },
            ),
        ]
        .into_iter()
        .collect(),
        ..settings()
    };
    let mut p = Pseudonymiser::new(&key(1), &s).unwrap();
    let dns = |seg: &str| {
        let mut e = event(
            "dns",
            &format!(
                r#"{},"proto":"udp","trans_id":7,"AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"rejected":false,"query":"anne-pc.kommune.local""#,
                conn_id(CLIENT, SERVER, 53)
            ),
        );
        e.origin.segment = seg.into();
        e
    };
    // Kept everywhere: the query; the addresses only where "ip" is kept.
    let care = out(&mut p, dns("care"));
    check(&care, &[CLIENT], &["anne-pc.kommune.local"]);
    let guest = out(&mut p, dns("guest"));
    check(&guest, &[], &[CLIENT, "anne-pc.kommune.local"]);
    // A clear segment keeps identities but still drops secrets.
    let mut snmp = event(
        "snmp",
        &format!(
            r#"{},"duration":1.0,"version":"2c","community":"s3cr3t","get_requests":1,"get_bulk_requests":0,"get_responses":1,"set_requests":0"#,
            conn_id(CLIENT, SERVER, 161)
        ),
    );
    snmp.origin.segment = "ot".into();
    check(&out(&mut p, snmp), &["s3cr3t"], &[CLIENT, SERVER]);
}

#[test]
fn open_from_settings_creates_the_key_and_journal_and_reveal_opens_them() {
    let dir = tmp("open");
    let s = Settings {
        key_file: Some(dir.join("privacy.key")),
        journal: Some(dir.join("privacy.journal")),
        internal: vec!["10.20.3.0/24".parse().unwrap()],
        ..settings()
    };
    // Reveal before any key exists: refused, naming the file.
    let err = vagt_privacy::Revealer::open(&s).err().unwrap().to_string();
    assert!(err.contains("does not exist"), "{err}");
    let mut p = Pseudonymiser::open(&s).expect("opens");
    let json = out(
        &mut p,
        event(
            "auth",
            &format!(
                r#"{},"service":"ftp","user":"jensen","success":true"#,
                conn_id(CLIENT, SERVER, 21)
            ),
        ),
    );
    drop(p);
    let r = vagt_privacy::Revealer::open(&s).expect("opens");
    let user = &json[json.find("~u_").unwrap()..][..23];
    assert_eq!(r.reveal(user).unwrap()[0].value, "jensen");
    let ip = &json[json.find("\"id.orig_h\":\"").unwrap() + 13..];
    let ip = ip.split('"').next().unwrap();
    assert_eq!(r.reveal(ip).unwrap()[0].value, CLIENT);
    let none = Settings {
        key_file: None,
        ..settings()
    };
    assert!(Pseudonymiser::open(&none)
        .err()
        .unwrap()
        .to_string()
        .contains("key_file is not set"));
    let _ = std::fs::remove_dir_all(&dir);
}
