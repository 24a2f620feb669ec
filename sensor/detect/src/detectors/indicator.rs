//! Indicators: every record is held against the indicator lists of the
//! rules ([`crate::indicators`]): both addresses of its connection, and
//! the names, fingerprints, user agents, user names, mail addresses and
//! certificate hashes it carries. A hit raises a notice once per indicator
//! and connection (a connection's conn, dns, ssl and x509 records are one
//! observation); the policy folds one host's repeats within its window
//! into one alert.
//!
//! The alert is about the host on this side: for an address, the other
//! end of the connection; for anything else, the client, which asked for
//! the name, sent the fingerprint or was shown the certificate.

use super::table::Table;
use super::Detector;
use crate::indicators::{Indicators, Kind, DEFAULT_SCORE};
use crate::{Evidence, Notice};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;
use vagt_schema::{ConnId, Event, EventBody};

/// (indicator, connection) pairs remembered at most.
const MAX_TRACKED: usize = 100_000;

pub struct IndicatorMatch {
    lists: Arc<Indicators>,
    /// Seconds after which a pair raises again (the policy's window, so
    /// that a later hit opens a new alert rather than nothing).
    window: f64,
    /// (indicator, connection) pairs already raised, and when.
    raised: Table<(u32, u64), f64>,
    /// A lower-case copy of the value being looked up, reused.
    buf: String,
}

/// One indicator a record matched, and what the record showed.
struct Hit {
    index: u32,
    /// What the host did, in words, for the message.
    phrase: String,
    /// The host the alert is about, and the listed address for an ip hit.
    src: IpAddr,
    addr: Option<IpAddr>,
}

/// The connection a record belongs to.
struct Conn<'a> {
    ts: f64,
    uid: &'a str,
    community_id: Option<&'a str>,
    id: ConnId,
}

fn conn_of(body: &EventBody) -> Option<Conn<'_>> {
    macro_rules! app {
        ($r:expr) => {
            Conn {
                ts: $r.ts,
                uid: &$r.uid,
                community_id: None,
                id: $r.id,
            }
        };
    }
    Some(match body {
        EventBody::Conn(r) => Conn {
            ts: r.ts,
            uid: &r.uid,
            community_id: Some(&r.community_id),
            id: ConnId {
                orig_h: r.orig_h,
                orig_p: r.orig_p,
                resp_h: r.resp_h,
                resp_p: r.resp_p,
            },
        },
        EventBody::Dns(r) => app!(r),
        EventBody::Modbus(r) => app!(r),
        EventBody::Dnp3(r) => app!(r),
        EventBody::Bacnet(r) => app!(r),
        EventBody::S7comm(r) => app!(r),
        EventBody::Enip(r) => app!(r),
        EventBody::OtSummary(r) => app!(r),
        EventBody::Ssh(r) => app!(r),
        EventBody::Kerberos(r) => app!(r),
        EventBody::Ldap(r) => app!(r),
        EventBody::LdapSearch(r) => app!(r),
        EventBody::Rdp(r) => app!(r),
        EventBody::Http(r) => app!(r),
        EventBody::Ftp(r) => app!(r),
        EventBody::Smtp(r) => app!(r),
        EventBody::SmbMapping(r) => app!(r),
        EventBody::SmbFiles(r) => app!(r),
        EventBody::DceRpc(r) => app!(r),
        EventBody::Ntlm(r) => app!(r),
        EventBody::Ntp(r) => app!(r),
        EventBody::Syslog(r) => app!(r),
        EventBody::Snmp(r) => app!(r),
        EventBody::Auth(r) => app!(r),
        EventBody::Ssl(r) => app!(r),
        EventBody::X509(r) => app!(r),
        EventBody::Quic(r) => app!(r),
        EventBody::Stats(_)
        | EventBody::Dhcp(_)
        | EventBody::Asset(_)
        | EventBody::Alert(_)
        | EventBody::Arp(_)
        | EventBody::SegmentMetrics(_) => return None,
    })
}

/// Looks values of one record up, collecting hits.
struct Lookup<'a> {
    lists: &'a Indicators,
    buf: &'a mut String,
    hits: Vec<Hit>,
    client: IpAddr,
}

impl Lookup<'_> {
    /// `value` in lower case, in the reused buffer.
    fn lower(&mut self, value: &str) {
        self.buf.clear();
        self.buf
            .extend(value.trim().chars().map(|c| c.to_ascii_lowercase()));
    }

    fn push(&mut self, index: u32, phrase: String) {
        self.hits.push(Hit {
            index,
            phrase,
            src: self.client,
            addr: None,
        });
    }

    /// Indicators of `kind` whose value is exactly `value`, any case.
    fn exact(&mut self, kind: Kind, value: Option<&str>, phrase: impl Fn(&str) -> String) {
        let Some(value) = value else { return };
        if !self.lists.has(kind) {
            return;
        }
        self.lower(value);
        let mut found = Vec::new();
        self.lists
            .find(kind, self.buf.as_str(), &mut |i| found.push(i));
        for i in found {
            self.push(i, phrase(value));
        }
    }

    /// A host name: domain indicators (with wildcards), and sni ones when
    /// it is a server name.
    fn name(&mut self, name: Option<&str>, sni: bool, phrase: impl Fn(&str) -> String) {
        let Some(name) = name else { return };
        if !(self.lists.has(Kind::Domain) || sni && self.lists.has(Kind::Sni)) {
            return;
        }
        self.lower(name);
        let trimmed = self.buf.trim_end_matches('.');
        // A certificate's wildcard name stands for the names under it.
        let trimmed = trimmed.strip_prefix("*.").unwrap_or(trimmed);
        let mut found = Vec::new();
        self.lists.find_domain(trimmed, |i| found.push(i));
        if sni {
            self.lists.find(Kind::Sni, trimmed, &mut |i| found.push(i));
        }
        for i in found {
            self.push(i, phrase(name));
        }
    }

    fn agent(&mut self, agent: Option<&str>, phrase: impl Fn(&str) -> String) {
        let Some(agent) = agent else { return };
        if !self.lists.has(Kind::UserAgent) {
            return;
        }
        self.lower(agent);
        let mut found = Vec::new();
        self.lists.find_agent(self.buf.as_str(), |i| found.push(i));
        for i in found {
            self.push(i, phrase(agent));
        }
    }

    fn hash(&mut self, hash: &str, phrase: impl Fn(&str) -> String) {
        self.exact(Kind::FileHash, Some(hash), &phrase);
        self.exact(Kind::CertHash, Some(hash), &phrase);
    }

    /// The hashes of a file that crossed the connection; `what` says how
    /// ("downloaded over HTTP").
    fn file(&mut self, hashes: [(&str, Option<&str>); 3], what: &str) {
        for (name, hash) in hashes {
            self.exact(Kind::FileHash, hash, |h| {
                format!("{what} a file with {name} {h}")
            });
        }
    }

    fn login(&mut self, user: Option<&str>, service: &str) {
        let Some(user) = user.filter(|u| !u.is_empty()) else {
            return;
        };
        // Kerberos writes user/REALM or user@REALM; the name is the user.
        let short = user.split(['/', '@']).next().unwrap_or(user);
        let phrase = |u: &str| format!("logged in as {u} over {service}");
        self.exact(Kind::UserName, Some(user), phrase);
        if short != user {
            self.exact(Kind::UserName, Some(short), phrase);
        }
    }

    fn mail(&mut self, addr: &str) {
        // "Name <a@b.example>" and "<a@b.example>" alike.
        let a = match (addr.find('<'), addr.rfind('>')) {
            (Some(s), Some(e)) if s < e => addr.get(s + 1..e).unwrap_or(addr),
            _ => addr,
        };
        self.exact(Kind::Email, Some(a), |a| format!("sent mail naming {a}"));
    }
}

/// The common name of an RFC 2253 subject, if it has one.
fn common_name(subject: &str) -> Option<&str> {
    subject
        .split(',')
        .find_map(|part| part.trim().strip_prefix("CN="))
}

/// An HTTP Host header without its port; `None` for an address literal.
fn host_name(host: &str) -> Option<&str> {
    if host.starts_with('[') {
        return None;
    }
    let name = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    (name.parse::<IpAddr>().is_err()).then_some(name)
}

fn uid_key(uid: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    uid.hash(&mut h);
    h.finish()
}

impl IndicatorMatch {
    pub fn new(lists: Arc<Indicators>, window: f64) -> IndicatorMatch {
        IndicatorMatch {
            lists,
            window,
            raised: Table::new(MAX_TRACKED),
            buf: String::new(),
        }
    }

    /// The hits of one record.
    fn look_up(&mut self, body: &EventBody, c: &Conn<'_>) -> Vec<Hit> {
        let lists = &*self.lists;
        let mut l = Lookup {
            lists,
            buf: &mut self.buf,
            hits: Vec::new(),
            client: c.id.orig_h,
        };
        if lists.has(Kind::Ip) {
            let id = &c.id;
            lists.find_addr(id.resp_h, |i| {
                l.hits.push(Hit {
                    index: i,
                    phrase: format!("connected to {} port {}", id.resp_h, id.resp_p),
                    src: id.orig_h,
                    addr: Some(id.resp_h),
                })
            });
            lists.find_addr(id.orig_h, |i| {
                l.hits.push(Hit {
                    index: i,
                    phrase: format!("was contacted on port {} by {}", id.resp_p, id.orig_h),
                    src: id.resp_h,
                    addr: Some(id.orig_h),
                })
            });
        }
        match body {
            EventBody::Dns(r) => {
                l.name(r.query.as_deref(), false, |q| {
                    format!("looked up {q} in DNS")
                });
            }
            EventBody::Http(r) => {
                let host = r.host.as_deref().and_then(host_name);
                l.name(host, false, |h| format!("asked for HTTP host {h}"));
                l.agent(r.user_agent.as_deref(), |a| {
                    format!("sent HTTP user agent \"{a}\"")
                });
                l.exact(Kind::Software, r.user_agent.as_deref(), |a| {
                    format!("sent HTTP user agent \"{a}\"")
                });
                l.login(r.username.as_deref(), "HTTP");
                let sent = [
                    ("MD5", r.orig_md5.as_deref()),
                    ("SHA-1", r.orig_sha1.as_deref()),
                    ("SHA-256", r.orig_sha256.as_deref()),
                ];
                l.file(sent, "uploaded over HTTP");
                let received = [
                    ("MD5", r.resp_md5.as_deref()),
                    ("SHA-1", r.resp_sha1.as_deref()),
                    ("SHA-256", r.resp_sha256.as_deref()),
                ];
                l.file(received, "downloaded over HTTP");
                if lists.has(Kind::Url) {
                    // Zeek's HTTP::build_url: host (or address), the port
                    // unless 80, and the URI.
                    let host = r.host.clone().unwrap_or_else(|| match c.id.resp_h {
                        IpAddr::V6(a) => format!("[{a}]"),
                        a => a.to_string(),
                    });
                    let uri = r.uri.as_deref().unwrap_or("/<missed_request>");
                    let url = if c.id.resp_p == 80 || host.contains(':') {
                        format!("{host}{uri}")
                    } else {
                        format!("{host}:{}{uri}", c.id.resp_p)
                    };
                    l.exact(Kind::Url, Some(&url), |u| format!("requested URL {u}"));
                }
            }
            EventBody::Ssl(r) => {
                l.name(r.server_name.as_deref(), true, |n| {
                    format!("asked for TLS server name {n}")
                });
                l.exact(Kind::Ja3, r.ja3.as_deref(), |v| {
                    format!("sent TLS client fingerprint JA3 {v}")
                });
                l.exact(Kind::Ja4, r.ja4.as_deref(), |v| {
                    format!("sent TLS client fingerprint JA4 {v}")
                });
                l.exact(Kind::Ja3s, r.ja3s.as_deref(), |v| {
                    format!("was answered with TLS server fingerprint JA3S {v}")
                });
                l.exact(Kind::Ja4s, r.ja4s.as_deref(), |v| {
                    format!("was answered with TLS server fingerprint JA4S {v}")
                });
                for fp in r.cert_chain_fps.iter().flatten() {
                    l.hash(fp, |h| format!("was shown a certificate with SHA-256 {h}"));
                }
                for fp in r.client_cert_chain_fps.iter().flatten() {
                    l.hash(fp, |h| {
                        format!("sent a client certificate with SHA-256 {h}")
                    });
                }
            }
            EventBody::Quic(r) => {
                l.name(r.server_name.as_deref(), true, |n| {
                    format!("asked for QUIC server name {n}")
                });
            }
            EventBody::X509(r) => {
                l.hash(&r.fingerprint, |h| {
                    format!("was shown a certificate with SHA-256 {h}")
                });
                for n in &r.san_dns {
                    l.name(Some(n.as_str()), false, |n| {
                        format!("was shown a certificate for {n}")
                    });
                }
                if r.host_cert {
                    l.name(common_name(&r.subject), false, |n| {
                        format!("was shown a certificate for {n}")
                    });
                }
            }
            EventBody::Ssh(r) => {
                l.exact(Kind::Hassh, r.hassh.as_deref(), |v| {
                    format!("sent SSH client fingerprint HASSH {v}")
                });
                l.exact(Kind::HasshServer, r.hassh_server.as_deref(), |v| {
                    format!("was answered with SSH server fingerprint HASSH-server {v}")
                });
                l.exact(Kind::Software, r.client.as_deref(), |v| {
                    format!("sent SSH version \"{v}\"")
                });
                l.exact(Kind::Software, r.server.as_deref(), |v| {
                    format!("was answered by SSH version \"{v}\"")
                });
            }
            EventBody::Smtp(r) => {
                l.exact(Kind::Software, r.user_agent.as_deref(), |v| {
                    format!("sent mail with user agent \"{v}\"")
                });
                if lists.has(Kind::Email) {
                    let one = [&r.mailfrom, &r.from, &r.reply_to];
                    for a in one.into_iter().flatten() {
                        l.mail(a);
                    }
                    for a in r.rcptto.iter().chain(&r.to).chain(&r.cc) {
                        l.mail(a);
                    }
                }
            }
            EventBody::Ftp(r) => {
                l.login(Some(&r.user), "FTP");
                let file = [
                    ("MD5", r.md5.as_deref()),
                    ("SHA-1", r.sha1.as_deref()),
                    ("SHA-256", r.sha256.as_deref()),
                ];
                l.file(file, "transferred over FTP");
            }
            EventBody::Ntlm(r) => l.login(r.username.as_deref(), "NTLM"),
            EventBody::Kerberos(r) => l.login(r.client.as_deref(), "Kerberos"),
            EventBody::Rdp(r) => l.login(r.cookie.as_deref(), "RDP (cookie)"),
            EventBody::Auth(r) => l.login(r.user.as_deref(), &r.service),
            _ => {}
        }
        l.hits
    }
}

impl Detector for IndicatorMatch {
    fn tracked(&self) -> super::Tracked {
        self.raised.tracked()
    }

    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        if self.lists.is_empty() {
            return;
        }
        let Some(c) = conn_of(&event.body) else {
            return;
        };
        let hits = self.look_up(&event.body, &c);
        if hits.is_empty() {
            return;
        }
        let conn = uid_key(c.uid);
        for h in hits {
            let Some(ind) = self.lists.get(h.index) else {
                continue;
            };
            if ind.expires.is_some_and(|e| c.ts >= e) {
                continue;
            }
            let window = self.window;
            let last = self
                .raised
                .entry(&(h.index, conn), c.ts, || f64::NEG_INFINITY);
            if c.ts - *last < window {
                continue;
            }
            *last = c.ts;
            let mut evidence = Evidence::default();
            evidence.add(c.uid, c.community_id);
            let mut why = String::new();
            if !ind.comment.is_empty() {
                why.push_str(&format!(": {}", ind.comment));
            }
            let mut from = Vec::new();
            if let Some(s) = &ind.source {
                from.push(format!("source {s}"));
            }
            if let Some(u) = &ind.url {
                from.push(u.to_string());
            }
            if !from.is_empty() {
                why.push_str(&format!(" ({})", from.join(", ")));
            }
            let server = if h.addr.is_some() {
                String::new()
            } else {
                format!(" (server {} port {})", c.id.resp_h, c.id.resp_p)
            };
            out.push(Notice {
                ts: c.ts,
                segment: event.origin.segment.clone(),
                detector: "indicator",
                kind: ind.kind.name(),
                technique: ind.technique.clone(),
                score: ind.score.unwrap_or(DEFAULT_SCORE),
                src: h.src,
                // A listed single address is the other side; for a network
                // the address is in the message, so that one host's hits
                // in a listed network fold into one alert.
                dst: h.addr.filter(|_| !ind.value.contains('/')),
                subject: Some(ind.value.to_string()),
                message: format!(
                    "{} {}{server}; it is listed as {} indicator {} in {}{why}",
                    h.src,
                    h.phrase,
                    ind.kind.name(),
                    ind.value,
                    self.lists.origin(ind),
                ),
                count: 1,
                first: c.ts,
                last: c.ts,
                evidence,
            });
        }
    }

    fn sweep(&mut self, now: f64, _out: &mut Vec<Notice>) {
        let window = self.window;
        self.raised.retain(|_, last| now - *last < window);
    }

    fn rules_changed(&mut self, rules: &crate::Rules) {
        // Indices refer to the old lists.
        self.lists = rules.indicators.clone();
        self.raised = Table::new(MAX_TRACKED);
    }
}

#[cfg(test)]
mod tests;
