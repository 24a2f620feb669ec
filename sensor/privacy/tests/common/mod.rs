//! Shared by the integration tests: settings, keys, event builders (from
//! JSON lines as the sensor writes them) and the leak checks.
#![allow(dead_code)]

use vagt_privacy::{Key, Pseudonymiser, Settings};
use vagt_schema::Event;

pub const CLIENT: &str = "10.20.3.48";
pub const SERVER: &str = "10.0.0.60";
pub const CLIENT_MAC: &str = "02:00:0a:14:03:30";
pub const SERVER_MAC: &str = "02:00:0a:00:00:3c";
pub const EXTERNAL: &str = "93.184.216.34";

pub fn settings() -> Settings {
    Settings {
        internal_domains: vec!["kommune.local".into(), "intern.kommune.dk".into()],
        ..Settings::default()
    }
}

pub fn key(b: u8) -> Key {
    Key::from_bytes([b; 32])
}

pub fn pseudo() -> Pseudonymiser {
    Pseudonymiser::new(&key(1), &settings()).expect("valid settings")
}

/// An event from one JSON line with the envelope filled in.
pub fn event(kind: &str, body: &str) -> Event {
    let line = format!(
        r#"{{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"care","event_type":"{kind}",{body}}}"#
    );
    match serde_json::from_str(&line) {
        Ok(e) => e,
        Err(err) => panic!("bad test event {kind}: {err}\n{line}"),
    }
}

/// A connection's common part for application records.
pub fn conn_id(orig: &str, resp: &str, port: u16) -> String {
    format!(
        r#""ts":1762243200.5,"uid":"C4GXVTnJA242","id.orig_h":"{orig}","id.orig_p":40004,"id.resp_h":"{resp}","id.resp_p":{port}"#
    )
}

/// Pseudonymises `ev` with `p` and returns the JSON that would leave.
pub fn out(p: &mut Pseudonymiser, mut ev: Event) -> String {
    p.apply(&mut ev);
    let json = serde_json::to_string(&ev).expect("serialise");
    if std::env::var_os("PRIVACY_SHOW").is_some() {
        eprintln!("{json}");
    }
    json
}

/// Whether `needle` occurs in `hay` as a whole address (not inside a
/// longer number or address: "10.0.0.6" is not in "10.0.0.60").
pub fn has_addr(hay: &str, needle: &str) -> bool {
    let part = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(|c| c.is_ascii_hexdigit() || c == '.')
    })
}

/// Asserts none of `internal` leaves and all of `external` does.
pub fn check(json: &str, internal: &[&str], external: &[&str]) {
    for v in internal {
        let looks_addr = v.parse::<std::net::IpAddr>().is_ok();
        let leaked = if looks_addr {
            has_addr(json, v)
        } else {
            json.to_ascii_lowercase().contains(&v.to_ascii_lowercase())
        };
        assert!(!leaked, "{v:?} left in clear:\n{json}");
    }
    for v in external {
        assert!(json.contains(v), "{v:?} should stay in clear:\n{json}");
    }
}
