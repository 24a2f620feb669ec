//! The rules files (`rules/*.toml`): thresholds per detector, allow-list
//! entries that keep known, wanted activity from alerting, and indicator
//! entries (`[[indicator]]`) that make known-bad activity alert; beside
//! them, indicator feeds in Zeek's Intel format (`*.intel`, `*.dat`, read
//! by [`crate::indicators::zeek`]).
//!
//! Every entry of an allow-list says why it is there (`comment` is
//! required) and may say until when (`expires`). An entry matches when all
//! the fields it gives match: detector, segment, source and destination
//! network, subject (a domain with `*.` wildcards, a service or a port).
//! Errors name the file, line and field, and say what to write instead,
//! because the people writing these files are not on call to debug them.

use crate::cidr::Cidr;
use crate::indicators::{Indicators, Kind, Raw};
use serde::Deserialize;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// The thresholds of the detectors (`[scan]`, `[bruteforce]`, ...).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub scan: crate::detectors::scan::Settings,
    pub bruteforce: crate::detectors::bruteforce::Settings,
    pub spray: crate::detectors::spray::Settings,
    pub dns_tunnel: crate::detectors::dns_tunnel::Settings,
    pub ot_change: crate::detectors::ot_change::Settings,
    pub spoofing: crate::detectors::spoofing::Settings,
    pub baseline: crate::baseline::Settings,
    pub volume: crate::detectors::volume::Settings,
    pub risk: crate::risk::Settings,
    pub beacon: crate::detectors::beacon::Settings,
    pub lateral: crate::detectors::lateral::Settings,
    pub new_rare: crate::detectors::new_rare::Settings,
    pub policy: crate::policy::Settings,
}

/// One allow-list entry, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowEntry {
    comment: String,
    detector: Option<String>,
    kind: Option<String>,
    segment: Option<String>,
    src: Option<Spanned<String>>,
    dst: Option<Spanned<String>>,
    subject: Option<String>,
    expires: Option<Spanned<String>>,
}

/// One indicator entry, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorEntry {
    value: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    comment: Spanned<String>,
    score: Option<Spanned<i64>>,
    technique: Option<Spanned<String>>,
    source: Option<String>,
    expires: Option<Spanned<String>>,
}

/// One allow-list entry, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Allow {
    pub comment: String,
    pub detector: Option<String>,
    pub kind: Option<String>,
    pub segment: Option<String>,
    pub src: Option<Cidr>,
    pub dst: Option<Cidr>,
    /// A domain (`*.example.dk` matches it and its subdomains), service
    /// or port, compared with the alert's subject.
    pub subject: Option<String>,
    /// Unix time (UTC midnight after the date) after which it no longer
    /// applies.
    pub expires: Option<f64>,
    /// Where it was written, for messages.
    pub origin: String,
}

/// What a file may hold, typed: allow entries and threshold sections, so
/// that every unknown name and wrong type is reported where it stands.
// The sections are read only to check them; their values are merged from
// the text, field by field.
#[allow(dead_code)]
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    allow: Vec<AllowEntry>,
    #[serde(default)]
    indicator: Vec<IndicatorEntry>,
    scan: Option<crate::detectors::scan::Settings>,
    bruteforce: Option<crate::detectors::bruteforce::Settings>,
    spray: Option<crate::detectors::spray::Settings>,
    dns_tunnel: Option<crate::detectors::dns_tunnel::Settings>,
    ot_change: Option<crate::detectors::ot_change::Settings>,
    spoofing: Option<crate::detectors::spoofing::Settings>,
    baseline: Option<crate::baseline::Settings>,
    volume: Option<crate::detectors::volume::Settings>,
    risk: Option<crate::risk::Settings>,
    beacon: Option<crate::detectors::beacon::Settings>,
    lateral: Option<crate::detectors::lateral::Settings>,
    new_rare: Option<crate::detectors::new_rare::Settings>,
    policy: Option<crate::policy::Settings>,
    /// `[kind.<kind>.<detector>]`, checked by [`crate::kinds`].
    kind: Option<toml::Table>,
}

/// The rules in force.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rules {
    pub thresholds: Thresholds,
    pub allow: Vec<Allow>,
    /// Indicator lists, shared with the detector that matches them.
    pub indicators: Arc<Indicators>,
    /// The files read, for the health output.
    pub files: Vec<PathBuf>,
    /// What each named segment is for (admin, care, school, ot, guest,
    /// server, dmz), from the sensor's configuration, not the rules files:
    /// detectors judge some findings by it (OT talking to the internet),
    /// and the policy ranks care and OT higher.
    pub segment_kinds: std::collections::BTreeMap<String, String>,
    /// Thresholds that differ by segment kind (`[kind.guest.scan]`).
    pub kind_thresholds: crate::kinds::KindOverrides,
}

/// Segment kinds whose alerts rank one severity higher: care and health
/// systems hold citizens' most sensitive data, and OT runs water and heat.
pub const CRITICAL_KINDS: [&str; 2] = ["care", "ot"];

impl Rules {
    /// The kind of segment `name`, when the configuration says it.
    pub fn segment_kind(&self, name: &str) -> Option<&str> {
        self.segment_kinds.get(name).map(String::as_str)
    }

    /// Whether alerts from segment `name` rank higher: its kind is
    /// critical, or `[policy] critical_segments` names it.
    pub fn is_critical(&self, name: &str) -> bool {
        self.segment_kind(name)
            .is_some_and(|k| CRITICAL_KINDS.contains(&k))
            || self
                .thresholds
                .policy
                .critical_segments
                .iter()
                .any(|s| s == name)
    }
}

/// A rules file that cannot be used: where, and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesError {
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file.display(), l, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for RulesError {}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count())
        + 1
}

/// `YYYY-MM-DD` to the Unix time of the midnight that ends that day.
fn parse_date(s: &str) -> Option<f64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    Some((crate::baseline::clock::days_from_civil(y, m as u32, d as u32) + 1) as f64 * 86_400.0)
}

impl Rules {
    /// Reads one file's text into `self`: its allow entries are added and
    /// its threshold sections override what came before.
    pub fn add_file(&mut self, path: &Path, text: &str) -> Result<(), RulesError> {
        let err = |line: Option<usize>, message: String| RulesError {
            file: path.to_path_buf(),
            line,
            message,
        };
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            // Quote the line, so the message names the field even where
            // the parser's own words do not.
            let quoted = line
                .and_then(|l| text.lines().nth(l - 1))
                .map(|l| format!(" (`{}`)", l.trim()))
                .unwrap_or_default();
            err(line, format!("{}{quoted}", e.message().trim()))
        })?;
        // The sections override the fields they give, and only those: the
        // typed read above checked them; the text says which were given.
        let mut given: toml::Table = toml::from_str(text).map_err(|e| err(None, e.to_string()))?;
        let mut merged = self.thresholds.to_table().map_err(|e| err(None, e))?;
        let kinds = given.remove("kind");
        for (section, fields) in given {
            if let (Some(toml::Value::Table(have)), toml::Value::Table(new)) =
                (merged.get_mut(&section), fields)
            {
                have.extend(new);
            }
        }
        self.thresholds = merged
            .try_into()
            .map_err(|e: toml::de::Error| err(None, e.message().trim().to_string()))?;
        if let Some(toml::Value::Table(kinds)) = &kinds {
            self.kind_thresholds
                .add(path, text, kinds, &self.thresholds)?;
        }
        for (n, a) in file.allow.into_iter().enumerate() {
            let at = |s: &Spanned<String>| Some(line_of(text, s.span().start));
            let cidr =
                |field: &str, v: &Option<Spanned<String>>| -> Result<Option<Cidr>, RulesError> {
                    match v {
                        None => Ok(None),
                        Some(s) => s.get_ref().parse::<Cidr>().map(Some).map_err(|e| {
                            err(at(s), format!("allow entry {}: `{field}`: {e}", n + 1))
                        }),
                    }
                };
            if a.comment.trim().is_empty() {
                return Err(err(
                    None,
                    format!(
                        "allow entry {}: `comment` is empty; say why this is allowed and who asked",
                        n + 1
                    ),
                ));
            }
            let expires = match &a.expires {
                None => None,
                Some(s) => Some(parse_date(s.get_ref()).ok_or_else(|| {
                    err(
                        at(s),
                        format!(
                            "allow entry {}: `expires` = \"{}\" is not a date; write it like \"2027-01-31\"",
                            n + 1,
                            s.get_ref()
                        ),
                    )
                })?),
            };
            self.allow.push(Allow {
                origin: format!("{} entry {}", path.display(), n + 1),
                comment: a.comment,
                detector: a.detector,
                kind: a.kind,
                segment: a.segment,
                src: cidr("src", &a.src)?,
                dst: cidr("dst", &a.dst)?,
                subject: a.subject.map(|s| s.to_ascii_lowercase()),
                expires,
            });
        }
        for (n, e) in file.indicator.into_iter().enumerate() {
            self.add_indicator(path, text, n + 1, e)?;
        }
        self.files.push(path.to_path_buf());
        Ok(())
    }

    /// Checks one `[[indicator]]` entry (the `n`th of its file).
    fn add_indicator(
        &mut self,
        path: &Path,
        text: &str,
        n: usize,
        e: IndicatorEntry,
    ) -> Result<(), RulesError> {
        let at = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
        let err = |line: Option<usize>, message: String| RulesError {
            file: path.to_path_buf(),
            line,
            message: format!("indicator entry {n}: {message}"),
        };
        let kind = Kind::from_name(e.kind.get_ref()).ok_or_else(|| {
            err(
                at(e.kind.span()),
                format!(
                    "`type` = \"{}\" is not a type; write one of {}",
                    e.kind.get_ref(),
                    crate::indicators::kind_names()
                ),
            )
        })?;
        if e.comment.get_ref().trim().is_empty() {
            return Err(err(
                at(e.comment.span()),
                "`comment` is empty; say what the indicator is and where it came from".into(),
            ));
        }
        let score = match &e.score {
            None => None,
            Some(s) => Some(
                u8::try_from(*s.get_ref())
                    .ok()
                    .filter(|v| *v <= 100)
                    .ok_or_else(|| {
                        err(
                            at(s.span()),
                            format!(
                                "`score` = {} is out of range; write 0 to 100 (70 and up alerts as high)",
                                s.get_ref()
                            ),
                        )
                    })?,
            ),
        };
        let expires = match &e.expires {
            None => None,
            Some(s) => Some(parse_date(s.get_ref()).ok_or_else(|| {
                err(
                    at(s.span()),
                    format!(
                        "`expires` = \"{}\" is not a date; write it like \"2027-01-31\"",
                        s.get_ref()
                    ),
                )
            })?),
        };
        let line = line_of(text, e.value.span().start);
        Arc::make_mut(&mut self.indicators)
            .add(
                path,
                Raw {
                    kind,
                    value: e.value.get_ref(),
                    score,
                    technique: e.technique.as_ref().map(|t| t.get_ref().as_str()),
                    comment: e.comment.get_ref(),
                    source: e.source.as_deref(),
                    url: None,
                    expires,
                    line,
                    lenient: false,
                },
            )
            .map_err(|x| {
                // A bad technique is on its own line.
                let line = if x.message.starts_with("technique") {
                    e.technique.as_ref().and_then(|t| at(t.span()))
                } else {
                    x.line
                };
                err(line, x.message)
            })
    }

    /// Reads one feed in Zeek's Intel format into `self`.
    pub fn add_intel_file(&mut self, path: &Path, text: &str) -> Result<(), RulesError> {
        crate::indicators::zeek::add_file(Arc::make_mut(&mut self.indicators), path, text)?;
        self.files.push(path.to_path_buf());
        Ok(())
    }

    /// Reads every `*.toml`, and every indicator feed (`*.intel`, `*.dat`),
    /// in `dir`, in name order.
    pub fn load_dir(dir: &Path) -> Result<Rules, RulesError> {
        let mut rules = Rules::default();
        let read = std::fs::read_dir(dir).map_err(|e| RulesError {
            file: dir.to_path_buf(),
            line: None,
            message: format!("cannot read the rules folder: {e}"),
        })?;
        let mut paths: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x == "toml" || x == "intel" || x == "dat")
            })
            .collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).map_err(|e| RulesError {
                file: p.clone(),
                line: None,
                message: format!("cannot read: {e}"),
            })?;
            if p.extension().is_some_and(|x| x == "toml") {
                let text = String::from_utf8(bytes).map_err(|e| RulesError {
                    file: p.clone(),
                    line: None,
                    message: format!("cannot read: {e}; save it as UTF-8"),
                })?;
                rules.add_file(&p, &text)?;
            } else {
                // Feeds come from elsewhere: a stray Latin-1 byte in a
                // description must not stop the rest from loading.
                rules.add_intel_file(&p, &String::from_utf8_lossy(&bytes))?;
            }
        }
        Ok(rules)
    }

    /// The first allow entry that covers a finding, if any.
    pub fn allowed(&self, n: &crate::Notice) -> Option<&Allow> {
        self.allow.iter().find(|a| a.covers(n))
    }
}

impl Allow {
    fn covers(&self, n: &crate::Notice) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let net = |want: &Option<Cidr>, have: Option<IpAddr>| match want {
            None => true,
            Some(c) => have.is_some_and(|a| c.contains(a)),
        };
        self.expires.is_none_or(|e| n.ts < e)
            && eq(&self.detector, n.detector)
            && eq(&self.kind, n.kind)
            && eq(&self.segment, &n.segment)
            && net(&self.src, Some(n.src))
            && net(&self.dst, n.dst)
            && self
                .subject
                .as_deref()
                .is_none_or(|w| n.subject.as_deref().is_some_and(|s| subject_matches(w, s)))
    }
}

/// `*.example.dk` matches `example.dk` and every name under it; anything
/// else matches itself, without regard to case.
fn subject_matches(want: &str, have: &str) -> bool {
    let have = have.trim_end_matches('.').to_ascii_lowercase();
    match want.strip_prefix("*.") {
        Some(base) => have == base || have.ends_with(&format!(".{base}")),
        None => have == want,
    }
}

impl Thresholds {
    /// The thresholds as a TOML table, to merge sections over.
    pub fn to_table(&self) -> Result<toml::Table, String> {
        toml::Table::try_from(ThresholdsOut::from(self)).map_err(|e| e.to_string())
    }
}

/// The thresholds as a table, to merge a file's sections over.
#[derive(serde::Serialize)]
struct ThresholdsOut<'a> {
    scan: &'a crate::detectors::scan::Settings,
    bruteforce: &'a crate::detectors::bruteforce::Settings,
    spray: &'a crate::detectors::spray::Settings,
    dns_tunnel: &'a crate::detectors::dns_tunnel::Settings,
    ot_change: &'a crate::detectors::ot_change::Settings,
    spoofing: &'a crate::detectors::spoofing::Settings,
    baseline: &'a crate::baseline::Settings,
    volume: &'a crate::detectors::volume::Settings,
    risk: &'a crate::risk::Settings,
    beacon: &'a crate::detectors::beacon::Settings,
    lateral: &'a crate::detectors::lateral::Settings,
    new_rare: &'a crate::detectors::new_rare::Settings,
    policy: &'a crate::policy::Settings,
}

impl<'a> From<&'a Thresholds> for ThresholdsOut<'a> {
    fn from(t: &'a Thresholds) -> Self {
        ThresholdsOut {
            scan: &t.scan,
            bruteforce: &t.bruteforce,
            spray: &t.spray,
            dns_tunnel: &t.dns_tunnel,
            ot_change: &t.ot_change,
            spoofing: &t.spoofing,
            baseline: &t.baseline,
            volume: &t.volume,
            risk: &t.risk,
            beacon: &t.beacon,
            lateral: &t.lateral,
            new_rare: &t.new_rare,
            policy: &t.policy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Evidence, Notice};

    fn notice(ts: f64) -> Notice {
        Notice {
            ts,
            segment: "servers".into(),
            detector: "scan",
            kind: "port_scan",
            technique: "T1046".into(),
            score: 60,
            src: "10.20.5.10".parse().unwrap(),
            dst: Some("10.20.1.1".parse().unwrap()),
            subject: Some("updates.example.dk".into()),
            message: "x".into(),
            count: 1,
            first: ts,
            last: ts,
            evidence: Evidence::default(),
        }
    }

    fn rules(text: &str) -> Result<Rules, RulesError> {
        let mut r = Rules::default();
        r.add_file(Path::new("local.toml"), text)?;
        Ok(r)
    }

    #[test]
    fn allow_entries_match_on_every_field_they_give() {
        let r = rules(
            r#"
[[allow]]
comment = "IT's scanner"
detector = "scan"
src = "10.20.5.0/24"
subject = "*.example.dk"
expires = "2027-01-31"
"#,
        )
        .unwrap();
        // 2027-01-31 ends at 1,801,440,000 (2027-02-01 00:00 UTC).
        assert_eq!(r.allow[0].expires, Some(1_801_440_000.0));
        assert!(r.allowed(&notice(1_800_000_000.0)).is_some());
        assert!(r.allowed(&notice(1_801_440_000.0)).is_none(), "expired");
        let mut other = notice(1_800_000_000.0);
        other.src = "10.20.6.1".parse().unwrap();
        assert!(r.allowed(&other).is_none(), "another source");
        let mut other = notice(1_800_000_000.0);
        other.subject = Some("example.com".into());
        assert!(r.allowed(&other).is_none(), "another domain");
    }

    #[test]
    fn errors_name_the_line_and_say_what_to_write() {
        let e = rules("[[allow]]\ncomment = \"x\"\nsrc = \"10.20.1.0/16\"\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().starts_with("local.toml:3:"), "{e}");
        assert!(
            e.message.contains("10.20.0.0/16") || e.message.contains("host bits"),
            "{e}"
        );
        let e = rules("[[allow]]\ncomment = \"x\"\nexpires = \"next week\"\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("2027-01-31"), "{e}");
        let e = rules("[[allow]]\ncomment = \"x\"\nsource = \"10.0.0.1\"\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("source"), "{e}");
        let e = rules("[scan]\nports = 15\nhostz = 3\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        let e = rules("[scan]\nports = \"many\"\n").unwrap_err();
        assert!(
            e.message.contains("ports") || e.message.contains("integer"),
            "{e}"
        );
        let e = rules("[[allow]]\ncomment = \"\"\n").unwrap_err();
        assert!(e.message.contains("why"), "{e}");
        let e = rules("[scan\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn a_later_file_overrides_only_the_fields_it_gives() {
        let mut r = Rules::default();
        r.add_file(Path::new("a.toml"), "[scan]\nports = 30\n")
            .unwrap();
        r.add_file(Path::new("b.toml"), "[scan]\nhosts = 50\n")
            .unwrap();
        assert_eq!((r.thresholds.scan.ports, r.thresholds.scan.hosts), (30, 50));
        assert_eq!(r.thresholds.bruteforce, Default::default());
    }
}
