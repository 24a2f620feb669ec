//! Brute force: bursts of failed logins from one client to one server and
//! service, judged from what the application records say: SSH's inferred
//! authentication outcome (a session without a known success counts as at
//! least one failure), FTP's `auth` records, Kerberos pre-authentication
//! failures and unknown principals, LDAP binds refused for bad
//! credentials, NTLM failures, and HTTP 401 answers to requests that
//! carried credentials.

use super::table::Table;
use super::{score, thousands, Detector};
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use vagt_schema::{ConnId, Event, EventBody};

/// `[bruteforce]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Failed logins from one client to one server and service.
    pub failures: u64,
    /// Seconds they must fall within.
    pub window: f64,
    /// Client-server-service triples tracked at most.
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            failures: 20,
            window: 600.0,
            max_tracked: 100_000,
        }
    }
}

struct Failures {
    first: f64,
    last: f64,
    failed: u64,
    succeeded: u64,
    sessions: u64,
    evidence: Evidence,
    segment: String,
}

impl Failures {
    fn new(ts: f64, segment: &str) -> Failures {
        Failures {
            first: ts,
            last: ts,
            failed: 0,
            succeeded: 0,
            sessions: 0,
            evidence: Evidence::default(),
            segment: segment.to_string(),
        }
    }
}

pub struct Bruteforce {
    settings: Settings,
    seen: Table<(IpAddr, IpAddr, &'static str), Failures>,
}

/// Kerberos errors that mean a guess was wrong: pre-authentication failed
/// (a bad password) and client unknown (a user name guessed).
const KRB_GUESS_ERRORS: [u32; 2] = [24, 6];

impl Bruteforce {
    pub fn new(settings: Settings) -> Bruteforce {
        Bruteforce {
            seen: Table::new(settings.max_tracked),
            settings,
        }
    }

    /// Counts `failed` failures and `ok` successes of one session.
    #[allow(clippy::too_many_arguments)]
    fn count(
        &mut self,
        segment: &str,
        ts: f64,
        uid: &str,
        id: &ConnId,
        service: &'static str,
        failed: u64,
        ok: u64,
        out: &mut Vec<Notice>,
    ) {
        if failed == 0 && ok == 0 {
            return;
        }
        let s = &self.settings;
        let f = self.seen.entry(&(id.orig_h, id.resp_h, service), ts, || {
            Failures::new(ts, segment)
        });
        if ts - f.first > s.window {
            *f = Failures::new(ts, segment);
        }
        let before = f.failed;
        f.last = f.last.max(ts);
        f.failed += failed;
        f.succeeded += ok;
        f.sessions += 1;
        if failed > 0 {
            f.evidence.add(uid, None);
        }
        if before < s.failures && f.failed >= s.failures {
            let outcome = if f.succeeded > 0 {
                format!(", then {} succeeded", thousands(f.succeeded))
            } else {
                String::new()
            };
            out.push(Notice {
                ts,
                segment: f.segment.clone(),
                detector: "bruteforce",
                kind: service,
                technique: "T1110".into(),
                // A guess that finally worked is worse than one that did not.
                score: score(f.failed as f64, s.failures as f64, 85)
                    .saturating_add(if f.succeeded > 0 { 15 } else { 0 }),
                src: id.orig_h,
                dst: Some(id.resp_h),
                subject: Some(format!("{service}/{}", id.resp_p)),
                message: format!(
                    "{} failed {} {service} logins on {} port {} in {} sessions within {:.0} s{outcome}; brute force is {} or more failures within {:.0} s",
                    id.orig_h,
                    thousands(f.failed),
                    id.resp_h,
                    id.resp_p,
                    thousands(f.sessions),
                    f.last - f.first,
                    s.failures,
                    s.window,
                ),
                count: f.failed,
                first: f.first,
                last: f.last,
                evidence: f.evidence.clone(),
            });
        }
    }
}

impl Detector for Bruteforce {
    fn tracked(&self) -> super::Tracked {
        self.seen.tracked()
    }

    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        let seg = &event.origin.segment;
        match &event.body {
            EventBody::Ssh(r) => {
                let (failed, ok) = match r.auth_success {
                    Some(true) => (r.auth_attempts.saturating_sub(1), 1),
                    // No success seen: each session is at least one
                    // guess, as a scripted guesser opens one per try.
                    _ => (r.auth_attempts.max(1), 0),
                };
                self.count(seg, r.ts, &r.uid, &r.id, "ssh", failed, ok, out);
            }
            EventBody::Auth(r) => {
                let service = match r.service.as_str() {
                    "ftp" => "ftp",
                    _ => "other",
                };
                let (failed, ok) = if r.success { (0, 1) } else { (1, 0) };
                self.count(seg, r.ts, &r.uid, &r.id, service, failed, ok, out);
            }
            EventBody::Kerberos(r) => {
                let failed = r.error_code.is_some_and(|c| KRB_GUESS_ERRORS.contains(&c));
                let ok = r.success == Some(true);
                self.count(
                    seg,
                    r.ts,
                    &r.uid,
                    &r.id,
                    "kerberos",
                    u64::from(failed),
                    u64::from(ok),
                    out,
                );
            }
            EventBody::Ldap(r) => {
                if !r.opcode.as_deref().is_some_and(|o| o.starts_with("bind")) {
                    return;
                }
                let failed = r.result.as_deref() == Some("invalidCredentials");
                let ok = r.result.as_deref() == Some("success");
                self.count(
                    seg,
                    r.ts,
                    &r.uid,
                    &r.id,
                    "ldap",
                    u64::from(failed),
                    u64::from(ok),
                    out,
                );
            }
            EventBody::Ntlm(r) => {
                let Some(success) = r.success else {
                    return;
                };
                self.count(
                    seg,
                    r.ts,
                    &r.uid,
                    &r.id,
                    "ntlm",
                    u64::from(!success),
                    u64::from(success),
                    out,
                );
            }
            EventBody::Http(r) => {
                if r.username.is_none() {
                    return;
                }
                let failed = r.status_code == Some(401);
                let ok = r.status_code.is_some_and(|c| (200..400).contains(&c));
                self.count(
                    seg,
                    r.ts,
                    &r.uid,
                    &r.id,
                    "http",
                    u64::from(failed),
                    u64::from(ok),
                    out,
                );
            }
            _ => {}
        }
    }

    fn sweep(&mut self, now: f64, _out: &mut Vec<Notice>) {
        let w = self.settings.window;
        self.seen.retain(|_, f| now - f.last <= w);
    }
}
