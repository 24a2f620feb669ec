//! Indicator lists: addresses, networks, names and fingerprints known to be
//! bad, from `[[indicator]]` entries in the rules files and from feeds in
//! Zeek's Intel framework format (`*.intel`, `*.dat`; see [`zeek`]), and
//! the lookups the `indicator` detector makes against them.
//!
//! Every lookup is a hash lookup: exact values in one map per type,
//! networks in one map per prefix length (as many lookups as there are
//! distinct lengths in the lists), `*.` wildcards once per suffix of a name
//! at a dot. Entries with the same key are chained through the list, so a
//! feed costs one map entry per distinct value. User-agent substrings are
//! the exception: they are tried one by one, which is meant for tens of
//! them, not for feeds.

pub mod zeek;

use crate::cidr::Cidr;
use crate::rules::RulesError;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Indicators held at most, over all files: a feed larger than this is
/// refused rather than let grow the sensor without bound.
pub const MAX_INDICATORS: usize = 2_000_000;

/// Score of an indicator whose entry gives none.
pub const DEFAULT_SCORE: u8 = 70;

/// ATT&CK technique of an indicator whose entry names none: application
/// layer protocol, the command-and-control channel a listed address, name
/// or fingerprint is most often part of.
pub const DEFAULT_TECHNIQUE: &str = "T1071";

/// What an indicator is, and so what it is held against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An address or network: either side of any connection.
    Ip,
    /// A domain, `*.` for it and every name under it: DNS queries, HTTP
    /// hosts, TLS and QUIC server names, certificate names.
    Domain,
    /// A TLS or QUIC server name, exactly.
    Sni,
    /// An HTTP URL without its scheme (`host[:port]/path`), as Zeek's
    /// `Intel::URL`.
    Url,
    /// A substring of an HTTP user agent, any case.
    UserAgent,
    /// A software version string exactly, as Zeek's `Intel::SOFTWARE`:
    /// HTTP and SMTP user agents, SSH client and server versions.
    Software,
    /// A login name: FTP, HTTP, NTLM, Kerberos, RDP cookie, `auth`.
    UserName,
    /// A mail address in SMTP envelopes and headers.
    Email,
    Ja3,
    Ja3s,
    Ja4,
    Ja4s,
    /// HASSH of an SSH client.
    Hassh,
    /// HASSH of an SSH server.
    HasshServer,
    /// A file hash: only certificates are hashed here (SHA-256), so only
    /// a SHA-256 can match.
    FileHash,
    /// A certificate hash (Zeek's is SHA-1; Vagt's fingerprints are
    /// SHA-256, so only a SHA-256 can match).
    CertHash,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Ip,
        Kind::Domain,
        Kind::Sni,
        Kind::Url,
        Kind::UserAgent,
        Kind::Software,
        Kind::UserName,
        Kind::Email,
        Kind::Ja3,
        Kind::Ja3s,
        Kind::Ja4,
        Kind::Ja4s,
        Kind::Hassh,
        Kind::HasshServer,
        Kind::FileHash,
        Kind::CertHash,
    ];

    /// The name written in `type` and in the alert's `kind`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ip => "ip",
            Kind::Domain => "domain",
            Kind::Sni => "sni",
            Kind::Url => "url",
            Kind::UserAgent => "user_agent",
            Kind::Software => "software",
            Kind::UserName => "user_name",
            Kind::Email => "email",
            Kind::Ja3 => "ja3",
            Kind::Ja3s => "ja3s",
            Kind::Ja4 => "ja4",
            Kind::Ja4s => "ja4s",
            Kind::Hassh => "hassh",
            Kind::HasshServer => "hassh_server",
            Kind::FileHash => "file_hash",
            Kind::CertHash => "cert_hash",
        }
    }

    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    fn index(self) -> usize {
        self as usize
    }

    fn names() -> String {
        Kind::ALL
            .iter()
            .map(|k| format!("\"{}\"", k.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// "No next entry" in a chain of entries with the same key.
const END: u32 = u32::MAX;

/// One indicator, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    pub kind: Kind,
    /// The value, normalised (lower case; a network in CIDR notation).
    pub value: Box<str>,
    /// The entry's own score; the default applies without one.
    pub score: Option<u8>,
    pub technique: Cow<'static, str>,
    /// Why it is listed: the entry's `comment`, a feed's `meta.desc`.
    pub comment: Arc<str>,
    /// Who listed it: the entry's `source`, a feed's `meta.source`.
    pub source: Option<Arc<str>>,
    /// A feed's `meta.url`.
    pub url: Option<Box<str>>,
    /// Unix time after which it no longer matches.
    pub expires: Option<f64>,
    /// Index of the file it came from (see [`Indicators::file`]), and line.
    pub file: u32,
    pub line: u32,
    /// The next entry with the same key, or [`END`].
    next: u32,
}

/// What an indicator is written as, before it is checked: the same for
/// both formats.
pub struct Raw<'a> {
    pub kind: Kind,
    pub value: &'a str,
    pub score: Option<u8>,
    pub technique: Option<&'a str>,
    pub comment: &'a str,
    pub source: Option<&'a str>,
    pub url: Option<&'a str>,
    pub expires: Option<f64>,
    pub line: usize,
    /// A Zeek feed: networks with host bits set are taken as the network
    /// they are in, as Zeek does.
    pub lenient: bool,
}

/// All the indicators in force, with their lookup maps.
#[derive(Clone, Default)]
pub struct Indicators {
    list: Vec<Indicator>,
    files: Vec<PathBuf>,
    /// Networks by (IPv6, prefix length, network bits).
    nets: HashMap<(bool, u8, u128), u32>,
    /// The prefix lengths present, longest first.
    lengths: Vec<(bool, u8)>,
    /// Exact values, one map per kind.
    exact: Vec<HashMap<Box<str>, u32>>,
    /// `*.` domains by the name after the `*.`.
    wild: HashMap<Box<str>, u32>,
    agents: Vec<u32>,
    /// Indicators per kind.
    counts: [usize; 16],
    /// Lines of feeds skipped for a type not matched here, per type.
    pub skipped: BTreeMap<String, u64>,
    /// Shared strings: feeds repeat their source and description on
    /// every line.
    strings: HashMap<Box<str>, Arc<str>>,
}

impl PartialEq for Indicators {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list && self.files == other.files && self.skipped == other.skipped
    }
}

impl fmt::Debug for Indicators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Indicators({})", self.summary())
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a host name can be what it says: no spaces, slashes or
/// colons, and not empty.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == ':' || c == '@' || c == '*')
}

impl Indicators {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn has(&self, kind: Kind) -> bool {
        self.counts[kind.index()] > 0
    }

    pub fn get(&self, i: u32) -> Option<&Indicator> {
        self.list.get(i as usize)
    }

    /// The file an indicator came from.
    pub fn file(&self, i: &Indicator) -> &Path {
        self.files
            .get(i.file as usize)
            .map_or(Path::new("?"), PathBuf::as_path)
    }

    /// `rules/feed.intel line 12`: where an indicator was written.
    pub fn origin(&self, i: &Indicator) -> String {
        format!("{} line {}", self.file(i).display(), i.line)
    }

    /// Indicators per kind, for the health output and `rules check`.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        Kind::ALL
            .iter()
            .filter(|k| self.counts[k.index()] > 0)
            .map(|k| (k.name(), self.counts[k.index()]))
            .collect()
    }

    /// Hash indicators that can never match: certificates are seen by
    /// their SHA-256 only, so a `cert_hash` MD5 or SHA-1 is loaded but
    /// idle (a `file_hash` of any of the three can match a file's).
    pub fn idle_hashes(&self) -> usize {
        self.list
            .iter()
            .filter(|i| i.kind == Kind::CertHash && i.value.len() != 64)
            .count()
    }

    /// One line: counts per kind, skipped lines and idle hashes.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} indicator(s)",
            crate::detectors::thousands(self.len() as u64)
        );
        let counts = self.counts();
        if !counts.is_empty() {
            let parts: Vec<String> = counts
                .iter()
                .map(|(k, n)| format!("{k} {}", crate::detectors::thousands(*n as u64)))
                .collect();
            s.push_str(&format!(" ({})", parts.join(", ")));
        }
        if !self.skipped.is_empty() {
            let n: u64 = self.skipped.values().sum();
            let parts: Vec<String> = self
                .skipped
                .iter()
                .map(|(t, n)| format!("{t} {}", crate::detectors::thousands(*n)))
                .collect();
            s.push_str(&format!(
                "; {} feed line(s) of types not matched here skipped ({})",
                crate::detectors::thousands(n),
                parts.join(", ")
            ));
        }
        let idle = self.idle_hashes();
        if idle > 0 {
            s.push_str(&format!(
                "; {} certificate hash(es) are MD5 or SHA-1 and cannot match (certificates are seen by their SHA-256)",
                crate::detectors::thousands(idle as u64)
            ));
        }
        s
    }

    /// The index of `path` among the files, added when new.
    pub fn file_index(&mut self, path: &Path) -> u32 {
        if let Some(i) = self.files.iter().position(|p| p == path) {
            return i as u32;
        }
        self.files.push(path.to_path_buf());
        (self.files.len() - 1) as u32
    }

    fn shared(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(Box::from(s), a.clone());
        a
    }

    /// Checks and adds one indicator written in `path`; the error says
    /// what is wrong with the value, for the caller to place.
    pub fn add(&mut self, path: &Path, raw: Raw<'_>) -> Result<(), RulesError> {
        let err = |message: String| RulesError {
            file: path.to_path_buf(),
            line: Some(raw.line),
            message,
        };
        if self.list.len() >= MAX_INDICATORS {
            return Err(err(format!(
                "more than {} indicators in all; split the feed or keep the part that matters here",
                crate::detectors::thousands(MAX_INDICATORS as u64)
            )));
        }
        let v = raw.value.trim();
        if v.is_empty() {
            return Err(err("the indicator's value is empty".into()));
        }
        let kind = raw.kind;
        let lower = v.to_ascii_lowercase();
        let hex_len = |want: &[usize], what: &str| -> Result<String, RulesError> {
            // Certificate fingerprints are often written AB:CD:...
            let h: String = lower.chars().filter(|&c| c != ':').collect();
            if is_hex(&h) && want.contains(&h.len()) {
                Ok(h)
            } else {
                Err(err(format!(
                    "`{v}` is not {what}: write it as {} hexadecimal digits",
                    want.iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let index = self.list.len() as u32;
        // The key it is found by, and the map.
        enum Slot {
            Net((bool, u8, u128)),
            Exact(String),
            Wild(String),
            Agent,
        }
        let (value, slot): (String, Slot) = match kind {
            Kind::Ip => {
                let c = if raw.lenient {
                    Cidr::parse_masked(v)
                } else {
                    v.parse::<Cidr>()
                }
                .map_err(|e| err(format!("{e}; an ip indicator is an address or a network")))?;
                let shown = if c.is_host() {
                    v.split('/').next().unwrap_or(v).trim().to_string()
                } else {
                    c.to_string()
                };
                (shown, Slot::Net(c.key()))
            }
            Kind::Domain => {
                let name = lower.trim_end_matches('.');
                match name.strip_prefix("*.") {
                    Some(base) if plain_name(base) => (name.to_string(), Slot::Wild(base.into())),
                    _ if plain_name(name) => (name.to_string(), Slot::Exact(name.into())),
                    _ => {
                        return Err(err(format!(
                            "`{v}` is not a domain: write a name like \"bad.example\", or \"*.bad.example\" for it and every name under it"
                        )))
                    }
                }
            }
            Kind::Sni => {
                let name = lower.trim_end_matches('.');
                if !plain_name(name) {
                    return Err(err(format!(
                        "`{v}` is not a server name; an sni indicator matches exactly (use type \"domain\" for `*.` wildcards)"
                    )));
                }
                (name.to_string(), Slot::Exact(name.into()))
            }
            Kind::Url => {
                let u = lower
                    .strip_prefix("http://")
                    .or_else(|| lower.strip_prefix("https://"))
                    .unwrap_or(&lower);
                if u.chars().any(char::is_whitespace) {
                    return Err(err(format!("`{v}` is not a URL")));
                }
                (u.to_string(), Slot::Exact(u.into()))
            }
            Kind::UserAgent => {
                if lower.len() < 4 {
                    return Err(err(format!(
                        "`{v}` is too short for a user-agent substring: it would match ordinary browsers; give 4 or more characters"
                    )));
                }
                (lower.clone(), Slot::Agent)
            }
            Kind::Software | Kind::UserName | Kind::Ja4 | Kind::Ja4s => {
                (lower.clone(), Slot::Exact(lower.clone()))
            }
            Kind::Email => {
                if !lower.contains('@') || lower.chars().any(char::is_whitespace) {
                    return Err(err(format!(
                        "`{v}` is not a mail address: write it like \"someone@bad.example\""
                    )));
                }
                (lower.clone(), Slot::Exact(lower.clone()))
            }
            Kind::Ja3 | Kind::Ja3s | Kind::Hassh | Kind::HasshServer => {
                let h = hex_len(&[32], &format!("a {} (an MD5)", kind.name()))?;
                (h.clone(), Slot::Exact(h))
            }
            Kind::FileHash | Kind::CertHash => {
                let h = hex_len(&[32, 40, 64], "an MD5, SHA-1 or SHA-256")?;
                (h.clone(), Slot::Exact(h))
            }
        };
        let technique: Cow<'static, str> = match raw.technique {
            None => Cow::Borrowed(DEFAULT_TECHNIQUE),
            Some(t) => {
                let t = t.trim();
                if !valid_technique(t) {
                    return Err(err(format!(
                        "technique `{t}` is not an ATT&CK technique id: write it like \"T1071\" or \"T1071.004\""
                    )));
                }
                Cow::Owned(t.to_string())
            }
        };
        if raw.score.is_some_and(|s| s > 100) {
            return Err(err("the score must be 0 to 100".into()));
        }
        let file = self.file_index(path);
        let comment = self.shared(raw.comment.trim());
        let source = raw.source.map(|s| self.shared(s.trim()));
        let head = |map: &mut HashMap<Box<str>, u32>, key: String| {
            map.insert(key.into_boxed_str(), index).unwrap_or(END)
        };
        if self.exact.is_empty() {
            self.exact = vec![HashMap::new(); Kind::ALL.len()];
        }
        let next = match slot {
            Slot::Net(key) => {
                let (v6, bits, _) = key;
                if !self.lengths.contains(&(v6, bits)) {
                    self.lengths.push((v6, bits));
                    self.lengths.sort_by_key(|l| std::cmp::Reverse(l.1));
                }
                self.nets.insert(key, index).unwrap_or(END)
            }
            Slot::Exact(key) => head(&mut self.exact[kind.index()], key),
            Slot::Wild(key) => head(&mut self.wild, key),
            Slot::Agent => {
                self.agents.push(index);
                END
            }
        };
        self.list.push(Indicator {
            kind,
            value: value.into_boxed_str(),
            score: raw.score,
            technique,
            comment,
            source,
            url: raw.url.map(|u| Box::from(u.trim())),
            expires: raw.expires,
            file,
            line: raw.line as u32,
            next,
        });
        self.counts[kind.index()] += 1;
        Ok(())
    }

    /// Calls `f` with every entry of the chain starting at `head`.
    fn chain(&self, mut at: u32, f: &mut impl FnMut(u32)) {
        while at != END {
            f(at);
            at = self.list.get(at as usize).map_or(END, |i| i.next);
        }
    }

    /// The indicators (networks and addresses) `a` is in.
    pub fn find_addr(&self, a: IpAddr, mut f: impl FnMut(u32)) {
        let v6 = match a {
            IpAddr::V6(v) => v.to_ipv4_mapped().is_none(),
            IpAddr::V4(_) => false,
        };
        for &(family, bits) in &self.lengths {
            if family != v6 {
                continue;
            }
            if let Some(&head) = self.nets.get(&Cidr::key_of(a, bits)) {
                self.chain(head, &mut f);
            }
        }
    }

    /// The domain indicators `name` (lower case, without a trailing dot)
    /// matches: itself, and `*.` entries for it or a name it is under.
    pub fn find_domain(&self, name: &str, mut f: impl FnMut(u32)) {
        self.find(Kind::Domain, name, &mut f);
        if self.wild.is_empty() {
            return;
        }
        let mut rest = name;
        loop {
            if let Some(&head) = self.wild.get(rest) {
                self.chain(head, &mut f);
            }
            match rest.split_once('.') {
                Some((_, tail)) if !tail.is_empty() => rest = tail,
                _ => break,
            }
        }
    }

    /// The indicators of `kind` whose value is `value` (lower case).
    pub fn find(&self, kind: Kind, value: &str, f: &mut impl FnMut(u32)) {
        if let Some(&head) = self.exact.get(kind.index()).and_then(|m| m.get(value)) {
            self.chain(head, f);
        }
    }

    /// The user-agent indicators `agent` (lower case) contains.
    pub fn find_agent(&self, agent: &str, mut f: impl FnMut(u32)) {
        for &i in &self.agents {
            if self
                .list
                .get(i as usize)
                .is_some_and(|x| agent.contains(&*x.value))
            {
                f(i);
            }
        }
    }
}

/// `T1071`, `T1071.004`, and ICS's `T0843`.
fn valid_technique(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b {
        [b'T', rest @ ..] if rest.len() == 4 => digits(rest),
        [b'T', rest @ ..] if rest.len() == 8 => {
            digits(&rest[..4]) && rest[4] == b'.' && digits(&rest[5..])
        }
        _ => false,
    }
}

/// The `type` names, for messages.
pub fn kind_names() -> String {
    Kind::names()
}

#[cfg(test)]
mod tests;
