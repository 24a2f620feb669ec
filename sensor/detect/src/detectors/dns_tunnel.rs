//! DNS tunnels and domain generation: many queries from one client under
//! one domain whose names carry long, random labels with digits in them
//! (data encoded in the name, as dnscat2 does), queries for NULL records
//! (iodine's carrier), very many distinct names under one
//! domain (data spread over short names), and bursts of NXDOMAIN answers
//! for many different domains (a DGA looking for its server).
//!
//! The "domain" is the last two labels, or three under a country code's
//! generic second level (`co.uk`, `com.au`): without the public-suffix list
//! this over-splits a few suffixes, which only makes the detector quieter.
//! Reverse lookups and `.local` are never counted.

use super::table::Table;
use super::{score, thousands, Detector};
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::net::IpAddr;
use vagt_schema::{DnsRecord, Event, EventBody};

/// `[dns_tunnel]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Queries under one domain before its names are judged.
    pub min_queries: u64,
    /// A name's part below the domain this long or longer (dots not
    /// counted) and this random (bits of entropy per character) is
    /// "encoded".
    pub encoded_length: usize,
    pub encoded_entropy: f64,
    /// Share of the queries that must be encoded.
    pub encoded_share: f64,
    /// Distinct names under one domain from one client.
    pub distinct_names: usize,
    /// Queries for NULL records under one domain: the record type is
    /// obsolete (RFC 1035's experimental type) and no ordinary client asks
    /// for it, but it carries any bytes, which is why iodine uses it.
    pub null_queries: u64,
    /// NXDOMAIN answers for distinct domains to one client.
    pub nxdomain_domains: usize,
    /// Seconds all of these are counted over.
    pub window: f64,
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_queries: 8,
            encoded_length: 24,
            encoded_entropy: 3.2,
            encoded_share: 0.5,
            distinct_names: 300,
            null_queries: 5,
            nxdomain_domains: 50,
            window: 600.0,
            max_tracked: 100_000,
        }
    }
}

struct Names {
    first: f64,
    last: f64,
    queries: u64,
    encoded: u64,
    longest: usize,
    distinct: HashSet<u64>,
    qtypes: Vec<(String, u64)>,
    nulls: u64,
    fired_null: bool,
    fired_encoded: bool,
    fired_distinct: bool,
    evidence: Evidence,
    segment: String,
}

impl Names {
    fn new(ts: f64, segment: &str) -> Names {
        Names {
            first: ts,
            last: ts,
            queries: 0,
            encoded: 0,
            longest: 0,
            distinct: HashSet::new(),
            qtypes: Vec::new(),
            nulls: 0,
            fired_null: false,
            fired_encoded: false,
            fired_distinct: false,
            evidence: Evidence::default(),
            segment: segment.to_string(),
        }
    }
}

struct Nx {
    first: f64,
    last: f64,
    domains: HashSet<u64>,
    fired: bool,
    evidence: Evidence,
    segment: String,
}

pub struct DnsTunnel {
    settings: Settings,
    names: Table<(IpAddr, String), Names>,
    nx: Table<IpAddr, Nx>,
}

/// Bits of entropy per character of `s`.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether the part of a name below its domain carries encoded data: long,
/// random, with digits mixed in (hex, base32 and base64 all have them;
/// words and host names made of words do not) and without the dashes of
/// names built from addresses (`ec2-54-12-34-56`). Bytes outside ASCII
/// letters and digits (iodine's base128) count as encoded.
pub fn looks_encoded(below: &[u8], s: &Settings) -> bool {
    if below.len() < s.encoded_length || below.contains(&b'-') {
        return false;
    }
    if below
        .iter()
        .any(|b| !b.is_ascii_alphanumeric() && *b != b'_')
    {
        return true;
    }
    let digits = below.iter().filter(|b| b.is_ascii_digit()).count();
    digits * 100 >= below.len() * 15 && entropy(below) >= s.encoded_entropy
}

/// The domain a name is under, and the part below it (without dots).
pub fn split_domain(name: &str) -> Option<(String, Vec<u8>)> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.ends_with(".arpa") || name.ends_with(".local") {
        return None;
    }
    let labels: Vec<&str> = name.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 {
        return None;
    }
    let n = labels.len();
    let generic_sld = ["co", "com", "org", "net", "ac", "gov", "edu"];
    let keep = if n >= 3 && labels[n - 1].len() == 2 && generic_sld.contains(&labels[n - 2]) {
        3
    } else {
        2
    };
    let keep = keep.min(n);
    let domain = labels[n - keep..].join(".");
    let below: Vec<u8> = labels[..n - keep].iter().flat_map(|l| l.bytes()).collect();
    Some((domain, below))
}

fn hash(s: &[u8]) -> u64 {
    // FNV-1a: a set of these only has to tell names apart.
    s.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl DnsTunnel {
    pub fn new(settings: Settings) -> DnsTunnel {
        DnsTunnel {
            names: Table::new(settings.max_tracked),
            nx: Table::new(settings.max_tracked),
            settings,
        }
    }

    fn record(&mut self, segment: &str, r: &DnsRecord, out: &mut Vec<Notice>) {
        let Some(query) = r.query.as_deref() else {
            return;
        };
        let Some((domain, below)) = split_domain(query) else {
            return;
        };
        if reputation_answer(r) {
            return;
        }
        let s = &self.settings;
        let client = r.id.orig_h;
        if r.rcode_name.as_deref() == Some("NXDOMAIN") {
            let nx = self.nx.entry(&client, r.ts, || Nx {
                first: r.ts,
                last: r.ts,
                domains: HashSet::new(),
                fired: false,
                evidence: Evidence::default(),
                segment: segment.to_string(),
            });
            if r.ts - nx.first > s.window {
                nx.first = r.ts;
                nx.domains.clear();
                nx.fired = false;
                nx.evidence = Evidence::default();
            }
            nx.last = nx.last.max(r.ts);
            nx.domains.insert(hash(domain.as_bytes()));
            nx.evidence.add(&r.uid, None);
            if !nx.fired && nx.domains.len() >= s.nxdomain_domains {
                nx.fired = true;
                out.push(Notice {
                    ts: r.ts,
                    segment: nx.segment.clone(),
                    detector: "dns_tunnel",
                    kind: "nxdomain_burst",
                    technique: "T1568.002".into(),
                    score: score(nx.domains.len() as f64, s.nxdomain_domains as f64, 80),
                    src: client,
                    dst: None,
                    subject: None,
                    message: format!(
                        "{client} got NXDOMAIN for {} different domains within {:.0} s; a domain-generation burst is {} or more within {:.0} s",
                        thousands(nx.domains.len() as u64),
                        nx.last - nx.first,
                        s.nxdomain_domains,
                        s.window
                    ),
                    count: nx.domains.len() as u64,
                    first: nx.first,
                    last: nx.last,
                    evidence: nx.evidence.clone(),
                });
            }
        }
        let n = self.names.entry(&(client, domain.clone()), r.ts, || {
            Names::new(r.ts, segment)
        });
        if r.ts - n.first > s.window {
            *n = Names::new(r.ts, segment);
        }
        n.last = n.last.max(r.ts);
        n.queries += 1;
        n.longest = n.longest.max(below.len());
        if looks_encoded(&below, s) {
            n.encoded += 1;
        }
        if n.distinct.len() < s.distinct_names {
            n.distinct.insert(hash(&below));
        }
        let qtype = r.qtype_name.clone().unwrap_or_else(|| "-".into());
        if let Some(at) = n.qtypes.iter().position(|(t, _)| *t == qtype) {
            n.qtypes[at].1 += 1;
        } else if n.qtypes.len() < 8 {
            n.qtypes.push((qtype, 1));
        }
        if r.qtype == Some(10) {
            n.nulls += 1;
        }
        n.evidence.add(&r.uid, None);
        let types = || {
            n.qtypes
                .iter()
                .map(|(t, c)| format!("{c} {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !n.fired_encoded
            && n.queries >= s.min_queries
            && n.encoded as f64 >= s.encoded_share * n.queries as f64
        {
            n.fired_encoded = true;
            out.push(Notice {
                ts: r.ts,
                segment: n.segment.clone(),
                detector: "dns_tunnel",
                kind: "encoded_names",
                technique: "T1071.004".into(),
                score: score(n.encoded as f64, s.min_queries as f64, 85),
                src: client,
                dst: Some(r.id.resp_h),
                subject: Some(domain.clone()),
                message: format!(
                    "{client} sent {} queries under {domain} within {:.0} s, {} of them with an encoded-looking name (up to {} characters below the domain; {}); a tunnel is {} or more queries, {:.0}% or more with names of {}+ characters and {:.1}+ bits of entropy per character",
                    thousands(n.queries),
                    n.last - n.first,
                    thousands(n.encoded),
                    n.longest,
                    types(),
                    s.min_queries,
                    s.encoded_share * 100.0,
                    s.encoded_length,
                    s.encoded_entropy
                ),
                count: n.queries,
                first: n.first,
                last: n.last,
                evidence: n.evidence.clone(),
            });
        }
        if !n.fired_null && n.nulls >= s.null_queries {
            n.fired_null = true;
            out.push(Notice {
                ts: r.ts,
                segment: n.segment.clone(),
                detector: "dns_tunnel",
                kind: "null_records",
                technique: "T1071.004".into(),
                score: score(n.nulls as f64, s.null_queries as f64, 85).max(70),
                src: client,
                dst: Some(r.id.resp_h),
                subject: Some(domain.clone()),
                message: format!(
                    "{client} asked for {} NULL records under {domain} within {:.0} s ({} queries: {}); NULL is an obsolete record type that carries any bytes, and {} or more such queries is how iodine tunnels",
                    thousands(n.nulls),
                    n.last - n.first,
                    thousands(n.queries),
                    types(),
                    s.null_queries
                ),
                count: n.nulls,
                first: n.first,
                last: n.last,
                evidence: n.evidence.clone(),
            });
        }
        if !n.fired_distinct && n.distinct.len() >= s.distinct_names {
            n.fired_distinct = true;
            out.push(Notice {
                ts: r.ts,
                segment: n.segment.clone(),
                detector: "dns_tunnel",
                kind: "many_names",
                technique: "T1048.003".into(),
                score: 60,
                src: client,
                dst: Some(r.id.resp_h),
                subject: Some(domain.clone()),
                message: format!(
                    "{client} looked up {} different names under {domain} within {:.0} s ({}); {} or more within {:.0} s is how data leaves through DNS",
                    thousands(n.distinct.len() as u64),
                    n.last - n.first,
                    types(),
                    s.distinct_names,
                    s.window
                ),
                count: n.queries,
                first: n.first,
                last: n.last,
                evidence: n.evidence.clone(),
            });
        }
    }
}

/// An answer in 127.0.0.0/8 only: the convention of DNS blocklists and
/// reputation services (RFC 5782), which put a hash or an address in the
/// name and a verdict in the answer. Mail servers and antivirus ask them
/// all day with encoded names; a tunnel needs answers that carry data.
fn reputation_answer(r: &DnsRecord) -> bool {
    !r.answers.is_empty()
        && r.answers.iter().all(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.octets()[0] == 127)
        })
}

impl Detector for DnsTunnel {
    fn tracked(&self) -> super::Tracked {
        self.names.tracked() + self.nx.tracked()
    }

    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        if let EventBody::Dns(r) = &event.body {
            self.record(&event.origin.segment, r, out);
        }
    }

    fn sweep(&mut self, now: f64, _out: &mut Vec<Notice>) {
        let w = self.settings.window;
        self.names.retain(|_, n| now - n.last <= w);
        self.nx.retain(|_, n| now - n.last <= w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_what_lies_below_them() {
        let (d, b) = split_domain("a1b2.tunnel.example.com.").unwrap();
        assert_eq!(
            (d.as_str(), b.as_slice()),
            ("example.com", &b"a1b2tunnel"[..])
        );
        assert_eq!(split_domain("www.bbc.co.uk").unwrap().0, "bbc.co.uk");
        assert!(split_domain("4.3.2.1.in-addr.arpa").is_none());
        assert!(split_domain("printer.local").is_none());
        assert!(split_domain("localhost").is_none());
    }

    #[test]
    fn blocklist_answers_are_reputation_lookups() {
        let mut r: DnsRecord = serde_json::from_value(serde_json::json!({
            "ts": 1.0, "uid": "C1", "id.orig_h": "10.0.0.5", "id.orig_p": 5353,
            "id.resp_h": "10.0.0.1", "id.resp_p": 53, "proto": "udp", "trans_id": 1,
            "query": "6b2f0a9c4e7d18f3a5c0b9e2d4f6a8c1.sxl.example.net",
            "AA": false, "TC": false, "RD": true, "RA": true, "Z": 0, "rejected": false,
            "answers": ["127.0.0.2"],
        }))
        .expect("record");
        assert!(reputation_answer(&r));
        r.answers = vec!["127.0.0.2".into(), "198.51.100.7".into()];
        assert!(!reputation_answer(&r));
        r.answers.clear();
        assert!(!reputation_answer(&r));
    }

    #[test]
    fn encoded_labels_are_random_and_words_are_not() {
        let s = Settings::default();
        assert!(looks_encoded(b"6b2f0a9c4e7d18f3a5c0b9e2d4f6a8c1", &s));
        assert!(looks_encoded(b"paaaaaaaaaaaaaaaaaaaaa5ji4\xd9\x85", &s));
        assert!(!looks_encoded(b"wwwwwwwwwwwwwwwwwwwwwwwwwww1w2w3", &s));
        assert!(!looks_encoded(b"mailserverofthemunicipality", &s));
        assert!(!looks_encoded(b"ec2-54-12-34-56eu-west-1compute", &s));
        assert!(!looks_encoded(b"6b2f0a9c4e", &s), "too short");
    }
}
