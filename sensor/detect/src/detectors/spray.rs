//! Password spraying (MITRE T1110.003): one source failing logins for many
//! different accounts, slowly enough to stay under every per-account
//! lockout and under the brute-force burst threshold (one guess a minute
//! for hours). What gives it away is the number of distinct accounts, not
//! the rate: a phone with a stale password fails for one account all day;
//! a spray fails for a new one each time. Failed logins are read from the
//! records that name the account: Kerberos (pre-authentication failed,
//! unknown principal), NTLM, LDAP simple binds, FTP and HTTP basic auth.
//! Raised as a `bruteforce` alert of kind `spray`.

use super::table::Table;
use super::{score, thousands, Detector};
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;
use vagt_schema::{Event, EventBody};

/// `[spray]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Distinct accounts failing from one source within `window` seconds.
    pub accounts: usize,
    pub window: f64,
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            accounts: 20,
            window: 86_400.0,
            max_tracked: 100_000,
        }
    }
}

/// Kerberos errors that answer a guess: pre-authentication failed (24),
/// client unknown (6).
const KRB_GUESS_ERRORS: [u32; 2] = [24, 6];
/// Accounts remembered per source (the bar is far below).
const MAX_ACCOUNTS: usize = 512;

struct Source {
    /// (account hash, last failure), one per account.
    accounts: Vec<(u64, f64)>,
    first: f64,
    last: f64,
    failures: u64,
    services: Vec<&'static str>,
    /// Accounts when last reported.
    reported: usize,
    evidence: Evidence,
    segment: String,
}

pub struct Spray {
    settings: Settings,
    sources: Table<IpAddr, Source>,
}

fn account_hash(name: &str) -> u64 {
    let mut h = DefaultHasher::new();
    name.trim().to_ascii_lowercase().hash(&mut h);
    h.finish()
}

impl Spray {
    pub fn new(settings: Settings) -> Spray {
        Spray {
            sources: Table::new(settings.max_tracked),
            settings,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn failed(
        &mut self,
        segment: &str,
        ts: f64,
        uid: &str,
        src: IpAddr,
        service: &'static str,
        account: &str,
        out: &mut Vec<Notice>,
    ) {
        if account.trim().is_empty() {
            return;
        }
        let s = &self.settings;
        let h = account_hash(account);
        let e = self.sources.entry(&src, ts, || Source {
            accounts: Vec::new(),
            first: ts,
            last: ts,
            failures: 0,
            services: Vec::new(),
            reported: 0,
            evidence: Evidence::default(),
            segment: segment.to_string(),
        });
        e.accounts.retain(|(_, t)| ts - t <= s.window);
        if e.accounts.is_empty() {
            e.first = ts;
            e.failures = 0;
            e.reported = 0;
            e.evidence = Evidence::default();
        }
        let full = e.accounts.len() >= MAX_ACCOUNTS;
        match e.accounts.iter_mut().find(|(a, _)| *a == h) {
            Some(a) => a.1 = ts,
            None if !full => e.accounts.push((h, ts)),
            None => {}
        }
        e.failures += 1;
        e.last = e.last.max(ts);
        if !e.services.contains(&service) {
            e.services.push(service);
        }
        e.evidence.add(uid, None);
        let n = e.accounts.len();
        // Raised at the bar, then again each time the count doubles.
        if n < s.accounts || (e.reported > 0 && n < e.reported * 2) {
            return;
        }
        e.reported = n;
        out.push(Notice {
            ts,
            segment: e.segment.clone(),
            detector: "bruteforce",
            kind: "spray",
            technique: "T1110.003".into(),
            score: score(n as f64, s.accounts as f64, 85),
            src,
            dst: None,
            subject: Some(e.services.join(",")),
            message: format!(
                "{src} failed logins for {} different accounts ({} failures, {}) within {:.1} h; password spraying is {} or more accounts failing from one source within {:.0} h",
                thousands(n as u64),
                thousands(e.failures),
                e.services.join(", "),
                (e.last - e.first) / 3600.0,
                s.accounts,
                s.window / 3600.0
            ),
            count: e.failures,
            first: e.first,
            last: e.last,
            evidence: e.evidence.clone(),
        });
    }
}

impl Detector for Spray {
    fn tracked(&self) -> super::Tracked {
        self.sources.tracked()
    }

    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        let seg = &event.origin.segment;
        let (ts, uid, src, service, account) = match &event.body {
            EventBody::Kerberos(r)
                if r.error_code.is_some_and(|c| KRB_GUESS_ERRORS.contains(&c)) =>
            {
                (r.ts, &r.uid, r.id.orig_h, "kerberos", r.client.as_deref())
            }
            EventBody::Ntlm(r) if r.success == Some(false) => {
                (r.ts, &r.uid, r.id.orig_h, "ntlm", r.username.as_deref())
            }
            EventBody::Ldap(r)
                if r.opcode.as_deref().is_some_and(|o| o.starts_with("bind"))
                    && super::bruteforce::ldap_failed(r.result.as_deref()) =>
            {
                (r.ts, &r.uid, r.id.orig_h, "ldap", r.object.as_deref())
            }
            EventBody::Auth(r) if !r.success => {
                (r.ts, &r.uid, r.id.orig_h, "ftp", r.user.as_deref())
            }
            EventBody::Http(r) if r.status_code == Some(401) => {
                (r.ts, &r.uid, r.id.orig_h, "http", r.username.as_deref())
            }
            _ => return,
        };
        if let Some(account) = account {
            self.failed(seg, ts, uid, src, service, account, out);
        }
    }

    fn sweep(&mut self, now: f64, _out: &mut Vec<Notice>) {
        let w = self.settings.window;
        self.sources.retain(|_, s| now - s.last <= w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::testutil::event;

    fn krb(ts: f64, uid: &str, client: &str) -> Event {
        let r = serde_json::from_value(serde_json::json!({
            "ts": ts, "uid": uid, "id.orig_h": "10.20.1.70", "id.orig_p": 50000,
            "id.resp_h": "10.1.1.10", "id.resp_p": 88, "request_type": "AS",
            "client": client, "service": "krbtgt/KOMMUNE.LOCAL", "success": false,
            "error_code": 24, "error_msg": "KDC_ERR_PREAUTH_FAILED",
        }))
        .expect("kerberos record");
        event("pleje", EventBody::Kerberos(r))
    }

    #[test]
    fn one_account_a_minute_for_hours_is_a_spray_one_account_all_day_is_not() {
        let mut d = Spray::new(Settings::default());
        let mut out = Vec::new();
        // A phone with a stale password: 500 failures, one account.
        for i in 0..500 {
            d.observe(
                &krb(f64::from(i) * 30.0, &format!("P{i}"), "anna@KOMMUNE.LOCAL"),
                &mut out,
            );
        }
        assert!(out.is_empty());
        // A spray: a new account each minute.
        for i in 0..60 {
            let ts = 20_000.0 + f64::from(i) * 60.0;
            d.observe(
                &krb(ts, &format!("S{i}"), &format!("user{i}@KOMMUNE.LOCAL")),
                &mut out,
            );
        }
        assert_eq!(out.len(), 2, "at 20 accounts, and again at 40");
        assert_eq!(out[0].kind, "spray");
        assert!(
            out[0].message.contains("20 different accounts"),
            "{}",
            out[0].message
        );
    }
}
