//! The external indicators an alert carries, by kind: an outside address
//! and its /24 (/48 for IPv6), and the domain, server name, JA3/JA4 or
//! user agent the alert is about. Internal addresses never are indicators:
//! they are pseudonyms (fd00::/8) or private ranges that every municipality
//! shares, so they would join unrelated hosts.

use std::net::IpAddr;
use vagt_schema::AlertRecord;

/// Whether an address can name the same host in two municipalities.
pub fn is_external(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            !(v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_multicast()
                || v.is_broadcast()
                || v.is_unspecified()
                || v.is_documentation()
                // 100.64.0.0/10, carrier-grade NAT: shared too.
                || (v.octets()[0] == 100 && (v.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v) => {
            let first = v.segments()[0];
            !(v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The network an outside address is in, as campaigns group them.
pub fn network(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// The indicator kinds, as campaign rules and searches name them.
pub const KINDS: [&str; 7] = ["ip", "net", "domain", "sni", "ja3", "ja4", "user_agent"];

/// The alert's indicators: (kind, value).
pub fn of_alert(a: &AlertRecord) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for ip in std::iter::once(a.src).chain(a.dst) {
        if is_external(&ip) {
            out.push(("ip", ip.to_string()));
            out.push(("net", network(&ip)));
        }
    }
    if let Some(subject) = a.subject.as_deref() {
        let subject = subject.trim();
        // The indicator detector names the kind of what matched.
        let kind = match (a.detector.as_str(), a.kind.as_str()) {
            ("indicator", "sni") => Some("sni"),
            ("indicator", "ja3" | "ja3s") => Some("ja3"),
            ("indicator", "ja4") => Some("ja4"),
            ("indicator", "user_agent") => Some("user_agent"),
            ("indicator", "domain") => Some("domain"),
            _ if looks_like_domain(subject) => Some("domain"),
            _ => None,
        };
        if let Some(kind) = kind {
            let value = subject.to_ascii_lowercase();
            if !out.iter().any(|(k, v)| *k == kind && *v == value) {
                out.push((kind, value));
            }
        }
    }
    out
}

/// A DNS name: dotted labels of letters, digits and hyphens, with a
/// letter somewhere (so no address), and no pseudonym token.
fn looks_like_domain(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    s.len() <= 253
        && s.contains('.')
        && !s.starts_with('~')
        && s.chars().any(|c| c.is_ascii_alphabetic())
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        && s.parse::<IpAddr>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vagt_schema::Severity;

    fn alert(src: &str, dst: Option<&str>, subject: Option<&str>) -> AlertRecord {
        AlertRecord {
            ts: 1.0,
            id: "a".into(),
            detector: "scan".into(),
            kind: "port_scan".into(),
            severity: Severity::High,
            score: 80,
            technique: "T1046".into(),
            src: src.parse().unwrap(),
            dst: dst.map(|d| d.parse().unwrap()),
            subject: subject.map(String::from),
            message: String::new(),
            count: 1,
            first_seen: 1.0,
            last_seen: 1.0,
            uids: vec![],
            community_ids: vec![],
            update: false,
            host_risk: None,
        }
    }

    #[test]
    fn outside_addresses_and_names_are_indicators_internal_ones_not() {
        let got = of_alert(&alert("185.1.2.3", Some("fd12::1"), Some("ssh/22")));
        assert_eq!(
            got,
            vec![("ip", "185.1.2.3".into()), ("net", "185.1.2.0/24".into())]
        );
        let got = of_alert(&alert(
            "10.0.0.1",
            Some("192.168.1.1"),
            Some("Evil.Example.COM"),
        ));
        assert_eq!(got, vec![("domain", "evil.example.com".into())]);
        assert!(of_alert(&alert("100.64.1.1", None, Some("~h_abcd.lan"))).is_empty());
    }
}
