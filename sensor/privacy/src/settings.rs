//! What the operator decides: which networks and domains are internal,
//! and which fields may travel in clear anyway (for all segments, or per
//! segment). This module owns the `[privacy]` configuration shape, its
//! validation, and the internal/external decisions for addresses and
//! names that every other module asks.

use crate::PrivacyError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// An address range, written `10.0.0.0/8` (a bare address is one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Net, String> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!(
                "prefix /{prefix} is longer than an address ({max} bits)"
            ));
        }
        // Host bits are cleared, so 10.1.2.3/8 means 10.0.0.0/8.
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask32(prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask128(prefix))),
        };
        Ok(Net { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => u32::from(a) & mask32(self.prefix) == u32::from(n),
            (IpAddr::V6(n), IpAddr::V6(a)) => u128::from(a) & mask128(self.prefix) == u128::from(n),
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl From<Net> for String {
    fn from(n: Net) -> String {
        n.to_string()
    }
}

impl TryFrom<String> for Net {
    type Error = String;
    fn try_from(s: String) -> Result<Net, String> {
        s.parse()
    }
}

impl std::str::FromStr for Net {
    type Err = String;
    fn from_str(s: &str) -> Result<Net, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().map_err(|_| {
            format!("{s:?} is not a network: write an address and prefix, e.g. \"10.0.0.0/8\"")
        })?;
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .map_err(|_| format!("{s:?}: the prefix after / must be a number"))?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Net::new(addr, prefix).map_err(|e| format!("{s:?}: {e}"))
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Relaxations for one segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSettings {
    /// Fields left in clear in this segment, on top of the global `keep`.
    #[serde(default)]
    pub keep: Vec<String>,
    /// Leave every identity of this segment in clear (an OT segment with
    /// no person behind its devices). Secrets are dropped all the same.
    #[serde(default)]
    pub clear: bool,
}

/// The `[privacy]` section of the sensor's configuration. `Serialize`
/// too, so that `vagt-sensor config` can print it with its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Internal networks: their addresses are tokenised. Defaults to the
    /// private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    /// fd00::/8, fe80::/10 and 169.254/16 are always internal.
    #[serde(default = "default_internal")]
    pub internal: Vec<Net>,
    /// DNS domains whose names are internal (e.g. `kommune.local`,
    /// `intern.kommune.dk`): names under them are tokenised.
    #[serde(default)]
    pub internal_domains: Vec<String>,
    /// Fields left in clear everywhere (names: [`FIELDS`]).
    #[serde(default)]
    pub keep: Vec<String>,
    /// Per-segment relaxations, by segment name.
    #[serde(default)]
    pub segments: BTreeMap<String, SegmentSettings>,
    /// Where the key lives (the sensor passes it to `Key::load_or_create`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// The journal of string tokens, for `reveal`; none when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<PathBuf>,
    /// Pseudonymise the local output too (files for the municipality's
    /// own staff stay in clear text by default: the pseudonyms protect
    /// what leaves the municipality).
    #[serde(default)]
    pub local: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            internal: default_internal(),
            internal_domains: Vec::new(),
            keep: Vec::new(),
            segments: BTreeMap::new(),
            key_file: None,
            journal: None,
            local: false,
        }
    }
}

fn default_internal() -> Vec<Net> {
    [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
    ]
    .iter()
    .filter_map(|s| s.parse().ok())
    .collect()
}

/// Field names `keep` accepts. `ip` and `mac` stand for every address and
/// MAC field (and literals in text); the others are `event_type.field`.
pub const FIELDS: &[&str] = &[
    "ip",
    "mac",
    "conn.community_id",
    "alert.subject",
    "asset.host_name",
    "dns.query",
    "dns.answers",
    "http.host",
    "http.uri",
    "http.referrer",
    "http.origin",
    "http.username",
    "ftp.user",
    "ftp.arg",
    "auth.user",
    "smtp.helo",
    "smtp.mailfrom",
    "smtp.rcptto",
    "smtp.from",
    "smtp.to",
    "smtp.cc",
    "smtp.reply_to",
    "smtp.subject",
    "smtp.received",
    "smb_mapping.path",
    "smb_files.path",
    "smb_files.name",
    "ntlm.username",
    "ntlm.hostname",
    "ntlm.domainname",
    "ntlm.server_names",
    "kerberos.client",
    "kerberos.service",
    "ldap.object",
    "ldap.argument",
    "ldap_search.base_object",
    "ldap_search.filter",
    "rdp.cookie",
    "rdp.client_name",
    "rdp.client_dig_product_id",
    "dhcp.host_name",
    "dhcp.client_fqdn",
    "dhcp.domain",
    "ssl.server_name",
    "ssl.subject",
    "ssl.client_subject",
    "x509.subject",
    "x509.san",
    "quic.server_name",
    "syslog.message",
];

/// Fields that are removed and can never be kept.
pub const SECRETS: &[&str] = &["snmp.community", "http.password", "ftp.password"];

/// A set of [`FIELDS`], one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Keep(u64);

impl Keep {
    pub const ALL: Keep = Keep(u64::MAX);

    pub fn has(self, field: usize) -> bool {
        self.0 & (1 << field) != 0
    }

    fn from_names(names: &[String]) -> Result<Keep, Vec<String>> {
        let mut k = 0u64;
        let mut bad = Vec::new();
        for n in names {
            match FIELDS.iter().position(|f| f == n) {
                Some(i) => k |= 1 << i,
                None => bad.push(n.clone()),
            }
        }
        if bad.is_empty() {
            Ok(Keep(k))
        } else {
            Err(bad)
        }
    }

    fn union(self, o: Keep) -> Keep {
        Keep(self.0 | o.0)
    }
}

/// Index of a field name in [`FIELDS`], at compile time.
pub(crate) const fn field(name: &str) -> usize {
    let mut i = 0;
    while i < FIELDS.len() {
        if const_eq(FIELDS[i], name) {
            return i;
        }
        i += 1;
    }
    panic!("not a field name in FIELDS")
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(FIELDS.len() <= 64, "Keep is a u64 bit set");

impl Settings {
    /// Checks every field name and domain; the error lists what is wrong
    /// and what is accepted.
    pub fn validate(&self) -> Result<(), PrivacyError> {
        self.keeps().map(|_| ())
    }

    /// The global keep set and one per segment (global included).
    pub(crate) fn keeps(&self) -> Result<(Keep, BTreeMap<String, Keep>), PrivacyError> {
        let mut problems = Vec::new();
        let mut check = |where_: &str, names: &[String]| -> Keep {
            match Keep::from_names(names) {
                Ok(k) => k,
                Err(bad) => {
                    for b in bad {
                        if SECRETS.contains(&b.as_str()) {
                            problems.push(format!(
                                "{where_}: {b:?} is a secret and is always removed; it cannot be kept"
                            ));
                        } else {
                            problems.push(format!("{where_}: unknown field {b:?}"));
                        }
                    }
                    Keep::default()
                }
            }
        };
        let global = check("privacy.keep", &self.keep);
        let mut per = BTreeMap::new();
        for (seg, s) in &self.segments {
            let k = if s.clear {
                Keep::ALL
            } else {
                check(&format!("privacy.segments.{seg}.keep"), &s.keep).union(global)
            };
            per.insert(seg.clone(), k);
        }
        for d in &self.internal_domains {
            let t = d.trim_matches('.');
            if t.is_empty() || t.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') {
                problems.push(format!(
                    "privacy.internal_domains: {d:?} is not a domain name (write e.g. \"kommune.local\")"
                ));
            }
        }
        if problems.is_empty() {
            Ok((global, per))
        } else {
            Err(PrivacyError::Settings(format!(
                "{}; valid field names are: {}",
                problems.join("; "),
                FIELDS.join(", ")
            )))
        }
    }
}

/// The internal/external decisions, prepared from [`Settings`].
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    nets: Vec<Net>,
    /// Lower case, without leading or trailing dots.
    domains: Vec<String>,
}

/// Top-level names that only ever name things inside a network.
const PRIVATE_SUFFIXES: &[&str] = &[
    "local",
    "lan",
    "internal",
    "home.arpa",
    "corp",
    "localdomain",
    "intranet",
    "private",
    "home",
];

impl Scope {
    pub fn new(settings: &Settings) -> Scope {
        Scope {
            nets: settings.internal.clone(),
            domains: settings
                .internal_domains
                .iter()
                .map(|d| d.trim_matches('.').to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
        }
    }

    /// Whether an address is internal (and so tokenised).
    pub fn ip_internal(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(a),
            },
            v4 => v4,
        };
        match ip {
            IpAddr::V4(a) => {
                // Link-local addresses are on the wire only locally;
                // 240/4 (but the broadcast address) is where ARP tokens
                // live, so a clear address there must never pass either.
                if a.is_link_local() || (a.octets()[0] >= 240 && !a.is_broadcast()) {
                    return true;
                }
            }
            IpAddr::V6(a) => {
                let s = a.segments()[0];
                // fd00::/8 is where tokens live, so a clear address there
                // must never pass; fe80::/10 embeds MACs.
                if s & 0xff00 == 0xfd00 || s & 0xffc0 == 0xfe80 {
                    return true;
                }
            }
        }
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// Whether a DNS-style name is internal: one label (NetBIOS, short
    /// names), under a private top-level name or a configured internal
    /// domain, a reverse lookup of an internal address, or an internal
    /// address literal.
    pub fn name_internal(&self, name: &str) -> bool {
        let n = name.trim_end_matches('.');
        if n.is_empty() {
            return false;
        }
        if let Ok(ip) = n.parse::<IpAddr>() {
            return self.ip_internal(ip);
        }
        if !n.contains('.') {
            return true;
        }
        if let Some(ip) = reverse_name(n) {
            return self.ip_internal(ip);
        }
        // Bytes, not str slices: a name with non-ASCII letters must not
        // be cut inside a character.
        let nb = n.as_bytes();
        let under = |suffix: &str| {
            let sb = suffix.as_bytes();
            nb.len() >= sb.len()
                && nb[nb.len() - sb.len()..].eq_ignore_ascii_case(sb)
                && (nb.len() == sb.len() || nb[nb.len() - sb.len() - 1] == b'.')
        };
        PRIVATE_SUFFIXES.iter().any(|s| under(s)) || self.domains.iter().any(|d| under(d))
    }
}

/// The address a reverse-lookup name (`4.3.2.1.in-addr.arpa`, nibbles
/// `.ip6.arpa`) asks about, when it is a whole one.
pub(crate) fn reverse_name(n: &str) -> Option<IpAddr> {
    let lower = n.to_ascii_lowercase();
    if let Some(rest) = lower.strip_suffix(".in-addr.arpa") {
        let parts: Vec<&str> = rest.split('.').collect();
        if parts.len() != 4 {
            return None;
        }
        let mut o = [0u8; 4];
        for (i, p) in parts.iter().rev().enumerate() {
            o[i] = p.parse().ok()?;
        }
        return Some(IpAddr::V4(Ipv4Addr::from(o)));
    }
    if let Some(rest) = lower.strip_suffix(".ip6.arpa") {
        let nibbles: Vec<&str> = rest.split('.').collect();
        if nibbles.len() != 32 {
            return None;
        }
        let mut v: u128 = 0;
        for p in nibbles.iter().rev() {
            if p.len() != 1 {
                return None;
            }
            v = (v << 4) | u128::from(u8::from_str_radix(p, 16).ok()?);
        }
        return Some(IpAddr::V6(Ipv6Addr::from(v)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_judged_internal_as_documented() {
        let s = Settings {
            internal_domains: vec!["kommune.local".into(), ".Intern.Kommune.dk".into()],
            ..Settings::default()
        };
        let sc = Scope::new(&s);
        for n in [
            "anne-pc",
            "WPAD",
            "printer.lan",
            "fs1.intern.kommune.dk",
            "intern.kommune.dk.",
            "x.home.arpa",
            "ææææ.local",
            "5.3.0.10.in-addr.arpa",
            "10.0.0.5",
        ] {
            assert!(sc.name_internal(n), "{n}");
        }
        for n in [
            "www.kommune.dk",
            "example.com",
            "5.3.0.8.in-addr.arpa",
            "notintern.kommune.dk",
            "8.8.8.8",
            "æææ",
            "bææ.dk",
        ] {
            assert!(!sc.name_internal(n) || !n.contains('.'), "{n}");
        }
    }

    #[test]
    fn always_internal_ranges() {
        let sc = Scope::new(&Settings {
            internal: vec![],
            ..Settings::default()
        });
        assert!(sc.ip_internal("fd12::1".parse().unwrap()));
        assert!(sc.ip_internal("fe80::1".parse().unwrap()));
        assert!(sc.ip_internal("169.254.1.1".parse().unwrap()));
        assert!(sc.ip_internal("248.1.2.3".parse().unwrap()));
        assert!(!sc.ip_internal("255.255.255.255".parse().unwrap()));
        assert!(!sc.ip_internal("10.0.0.1".parse().unwrap()));
        let sc = Scope::new(&Settings::default());
        assert!(sc.ip_internal("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!sc.ip_internal("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn nets_parse_and_mask() {
        let n: Net = "10.1.2.3/8".parse().unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/8");
        assert!("10.0.0.0/33".parse::<Net>().is_err());
        assert!("ten/8".parse::<Net>().is_err());
        let n: Net = "0.0.0.0/0".parse().unwrap();
        assert!(n.contains("1.2.3.4".parse().unwrap()));
    }
}
