//! Free text (alert messages and subjects, server replies, diagnostic
//! messages, proxy headers, asset evidence): this module owns finding the
//! identities inside text and replacing them.
//!
//! Found by their shape: IPv4 and IPv6 literals (also `addr:port`,
//! `ip:addr`), MAC literals (also `mac:<MAC>`), `user@domain` (mail
//! addresses, principals), and dotted names that are internal by the name
//! rules (`anne-pc.kommune.local`). Found by value:
//! every identity the same event carried elsewhere and that was already
//! replaced (a user name in an FTP reply, a MAC in a spoofing alert's
//! subject). A single-label name or user name that appears *only* in the
//! text cannot be told from an ordinary word, which is why text that is
//! mostly names (syslog lines) is tokenised whole instead.

use crate::pseudonymise::Engine;
use crate::settings::field;
use crate::token::{canonical_mac, Kind};
use std::net::IpAddr;

const F_IP: usize = field("ip");
const F_MAC: usize = field("mac");

fn run_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-' | b'_' | b'@')
}

fn addr_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b'.' || b == b':'
}

/// One replacement inside a run: byte range relative to the run.
fn classify(e: &mut Engine, s: &str, depth: u8) -> Option<(usize, usize, String)> {
    let t = s.trim_end_matches(['.', ':', '-', '_']);
    if t.is_empty() {
        return None;
    }
    // `user@domain`: a mail address or a Kerberos principal names a
    // person wherever it appears (an LDAP server's "user: anne@..."
    // diagnostic, an SMTP reply).
    if let Some(at) = t.find('@') {
        let (user, domain) = (&t[..at], &t[at + 1..]);
        if !user.is_empty() && domain.bytes().any(|b| b.is_ascii_alphabetic()) {
            let lower = t.to_ascii_lowercase();
            return Some((0, t.len(), e.token(Kind::Mail, &lower)));
        }
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        if e.keeps(F_IP) || !e.scope.ip_internal(ip) {
            return None;
        }
        return Some((0, t.len(), e.ip_value(ip).to_string()));
    }
    if let Some(m) = canonical_mac(t) {
        if e.keeps(F_MAC) {
            return None;
        }
        let m = std::str::from_utf8(&m).unwrap_or_default().to_string();
        return Some((0, t.len(), e.token(Kind::Mac, &m)));
    }
    if depth == 0 {
        // `10.0.0.5:443`: the address before the port.
        if let Some(i) = t.rfind(':') {
            if let Some(r) = classify(e, &t[..i], 1) {
                return Some(r);
            }
        }
        // `mac:aa:bb:...`, `ip:10.0.0.5`: the value after the label.
        if let Some(i) = t.find(':') {
            if let Some((a, b, r)) = classify(e, &t[i + 1..], 1) {
                return Some((i + 1 + a, i + 1 + b, r));
            }
        }
    }
    // A dotted name with a letter in it (so "3.2" and "1.0.2" stay), that
    // the name rules call internal.
    if t.contains('.')
        && !t.contains(':')
        && t.bytes().any(|b| b.is_ascii_alphabetic())
        && e.scope.name_internal(t)
    {
        let lower = t.to_ascii_lowercase();
        return Some((0, t.len(), e.token(Kind::Host, &lower)));
    }
    None
}

pub(crate) fn scrub(e: &mut Engine, s: &mut String) {
    if s.is_empty() {
        return;
    }
    let mut out: Option<String> = None;
    let mut copied = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !run_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && run_byte(bytes[i]) {
            i += 1;
        }
        // A run worth a look has a dot or a colon (addresses, MACs,
        // dotted names); plain words are skipped without parsing.
        let run = &s[start..i];
        if !run.contains(['.', ':', '@']) {
            continue;
        }
        let mut reps: Vec<(usize, usize, String)> = Vec::new();
        if let Some(r) = classify(e, run, 0) {
            reps.push(r);
        } else {
            // An address glued to other characters (`10.0.0.5s`,
            // `10.0.0.5-10.0.0.9`): each address-shaped piece on its own.
            let rb = run.as_bytes();
            let mut j = 0;
            while j < rb.len() {
                if !addr_byte(rb[j]) {
                    j += 1;
                    continue;
                }
                let k0 = j;
                while j < rb.len() && addr_byte(rb[j]) {
                    j += 1;
                }
                if k0 == 0 && j == rb.len() {
                    break; // the whole run, already tried
                }
                if let Some((a, b, r)) = classify(e, &run[k0..j], 0) {
                    reps.push((k0 + a, k0 + b, r));
                }
            }
        }
        for (a, b, rep) in reps {
            let o = out.get_or_insert_with(|| String::with_capacity(s.len() + 32));
            o.push_str(&s[copied..start + a]);
            o.push_str(&rep);
            copied = start + b;
        }
    }
    if let Some(mut o) = out {
        o.push_str(&s[copied..]);
        *s = o;
    }
    // Identities of this event, by value (longest first, so a user name
    // inside a principal is not replaced before the principal).
    if e.seen.iter().any(|(v, _)| s.contains(v.as_str())) {
        let mut seen: Vec<(String, String)> = e.seen.clone();
        seen.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        for (v, t) in &seen {
            if s.contains(v.as_str()) {
                *s = s.replace(v.as_str(), t);
            }
        }
    }
}
