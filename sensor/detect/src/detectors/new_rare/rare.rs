//! `rare_fingerprint`: TLS client fingerprints and HTTP user agents that
//! no host of the network used before, held for `rare_wait` seconds in
//! case a second host takes them up (a rollout), then judged.

use super::{days, NewRare};
use crate::detectors::thousands;
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// New fingerprints waiting to be judged, at most.
pub(super) const MAX_PENDING: usize = 10_000;
/// Characters of a user agent kept as its key.
const MAX_AGENT: usize = 256;

/// What a fingerprint is, by index (a number, so that tables can be saved).
const FP_KINDS: [&str; 3] = ["ja3", "ja4", "user agent"];

/// (index in [`FP_KINDS`], value).
pub(super) type FpKey = (u8, String);

#[derive(Serialize, Deserialize)]
pub(super) struct Fingerprint {
    /// Distinct hosts that used it, two at most (rare is one).
    hosts: Vec<IpAddr>,
}

/// A first sight after learning, judged once `rare_wait` has passed.
pub(super) struct Pending {
    key: FpKey,
    segment: String,
    ts: f64,
    uid: String,
    src: IpAddr,
    dst: IpAddr,
    port: u16,
    learned: f64,
}

impl NewRare {
    /// A fingerprint `value` of `what` used by `src`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fingerprint(
        &mut self,
        seg: &str,
        ts: f64,
        uid: &str,
        what: &'static str,
        value: &str,
        src: IpAddr,
        dst: IpAddr,
        port: u16,
    ) {
        let learned = self.learned(seg, ts);
        let value: String = value.chars().take(MAX_AGENT).collect();
        let code = FP_KINDS.iter().position(|k| *k == what).unwrap_or(0) as u8;
        let key = (code, value);
        let new = self.fingerprints.get(&key).is_none();
        let f = self
            .fingerprints
            .entry(&key, ts, || Fingerprint { hosts: Vec::new() });
        if f.hosts.len() < 2 && !f.hosts.contains(&src) {
            f.hosts.push(src);
        }
        if new && learned >= self.settings.learning {
            if self.pending.len() >= MAX_PENDING {
                self.pending.pop_front();
            }
            self.pending.push_back(Pending {
                key,
                segment: seg.to_string(),
                ts,
                uid: uid.to_string(),
                src,
                dst,
                port,
                learned,
            });
        }
    }

    /// Judges the fingerprints whose wait is over at `now`.
    pub(super) fn judge(&mut self, now: f64, out: &mut Vec<Notice>) {
        let wait = self.settings.rare_wait;
        while self.pending.front().is_some_and(|p| now - p.ts >= wait) {
            let Some(p) = self.pending.pop_front() else {
                break;
            };
            let hosts = self.fingerprints.get(&p.key).map_or(0, |f| f.hosts.len());
            if hosts != 1 || self.external.get(&p.src).is_some() {
                continue;
            }
            let (code, value) = &p.key;
            let seg = &p.segment;
            let what = FP_KINDS
                .get(usize::from(*code))
                .copied()
                .unwrap_or("fingerprint");
            let mut evidence = Evidence::default();
            evidence.add(&p.uid, None);
            let known = self.fingerprints.len();
            out.push(self.notice(
                p.ts,
                seg,
                "rare_fingerprint",
                "T1071",
                self.settings.rare_score,
                p.src,
                Some(p.dst),
                format!("{what}:{value}"),
                format!(
                    "{} in segment {seg} used {what} \"{value}\" (to {} port {}), which no host of any segment had used (segment {seg} learned for {}), and no other host used it within {wait:.0} s (the detector knows {} fingerprints); rare is not bad: for context only",
                    p.src,
                    p.dst,
                    p.port,
                    days(p.learned),
                    thousands(known as u64),
                ),
                evidence,
            ));
        }
    }
}
