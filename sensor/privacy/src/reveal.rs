//! Reversing tokens, for the municipality's own staff (`vagt-sensor
//! reveal TOKEN`). This module owns the search: an IP token is found by
//! computing the token of every IPv4 address of the internal networks
//! (and of candidate addresses the sensor knows, which is how IPv6
//! addresses are found); a string token by the journal, or by computing
//! the token of candidate values (the asset inventory's MACs and names).
//! Without the key none of this is possible, which is the point.

use crate::journal::read_journal;
use crate::pseudonymise::v4_token;
use crate::settings::{Net, Settings};
use crate::token::{canonical_mac, is_ip_token, parse_string_token, Kind, Tokeniser};
use crate::{Key, PrivacyError};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The shortest IPv4 prefix enumerated: a /8 is 16.7 million HMACs (a few
/// seconds); anything larger is refused rather than left running.
pub const MIN_PREFIX_V4: u8 = 8;

/// One value a token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revealed {
    /// `ip`, or the string kind (`host`, `user`, `mac`, ...).
    pub kind: &'static str,
    pub value: String,
    /// Where it was found: `network` (enumeration), `candidate`,
    /// `journal`.
    pub via: &'static str,
}

/// Reverses tokens of one municipality (one key).
pub struct Revealer {
    tok: Tokeniser,
    nets: Vec<Net>,
    candidates: Vec<String>,
    journal: HashMap<String, (Kind, String)>,
}

impl Revealer {
    /// A revealer for `key` and the internal networks of `settings`.
    /// IPv4 networks larger than /8 are refused (name them in smaller
    /// parts); IPv6 networks cannot be enumerated and are left to the
    /// candidates.
    pub fn new(key: &Key, settings: &Settings) -> Result<Revealer, PrivacyError> {
        let mut nets = Vec::new();
        for n in &settings.internal {
            if n.addr.is_ipv4() {
                if n.prefix < MIN_PREFIX_V4 {
                    return Err(PrivacyError::Reveal(format!(
                        "internal network {n} is larger than /{MIN_PREFIX_V4}: too many \
                         addresses to try; list its used parts as /8 or smaller networks"
                    )));
                }
                nets.push(*n);
            }
        }
        // Smallest first: the usual LANs are found before the /8s.
        nets.sort_by_key(|n| std::cmp::Reverse(n.prefix));
        Ok(Revealer {
            tok: Tokeniser::new(key),
            nets,
            candidates: Vec::new(),
            journal: HashMap::new(),
        })
    }

    /// What `vagt-sensor reveal` calls: the key at `key_file` (which must
    /// exist) and the journal, when one is configured and exists.
    pub fn open(settings: &Settings) -> Result<Revealer, PrivacyError> {
        let path = settings.key_file.as_deref().ok_or_else(|| {
            PrivacyError::Settings(
                "key_file is not set: name the key the events were pseudonymised with".into(),
            )
        })?;
        let mut r = Revealer::new(&Key::load(path)?, settings)?;
        if let Some(j) = settings.journal.as_deref().filter(|j| j.exists()) {
            r.load_journal(j)?;
        }
        Ok(r)
    }

    /// Values to try: addresses, MACs, names, users (the asset inventory,
    /// a list from the directory).
    pub fn add_candidates<I, S>(&mut self, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.candidates.extend(values.into_iter().map(Into::into));
    }

    /// Reads a journal file; returns the entries read.
    pub fn load_journal(&mut self, path: &Path) -> Result<usize, PrivacyError> {
        let entries = read_journal(path)?;
        let n = entries.len();
        for e in entries {
            self.journal.insert(e.token, (e.kind, e.value));
        }
        Ok(n)
    }

    /// What `token` stands for. Accepts an IP token (`fd..`), an ARP
    /// IPv4 token (`240.0.0.0/4`), a string token (`~h_...`), with or
    /// without an asset key's `ip:`/`mac:` label and a `:port`.
    pub fn reveal(&self, token: &str) -> Result<Vec<Revealed>, PrivacyError> {
        let t = token.trim();
        let t = t
            .strip_prefix("ip:")
            .or_else(|| t.strip_prefix("mac:"))
            .unwrap_or(t);
        let t = t.trim_start_matches('[').split(']').next().unwrap_or(t);
        if let Ok(ip) = t.parse::<IpAddr>() {
            return self.reveal_ip(ip);
        }
        let s = t.get(..crate::token::STR_TOKEN_LEN).unwrap_or(t);
        if let Some(kind) = parse_string_token(s) {
            return Ok(self.reveal_string(kind, s));
        }
        Err(PrivacyError::Reveal(format!(
            "{token:?} is not a token: tokens look like fd12:3456:... (addresses), \
             240.x.y.z (ARP addresses) or ~h_ followed by 20 letters and digits"
        )))
    }

    fn reveal_ip(&self, ip: IpAddr) -> Result<Vec<Revealed>, PrivacyError> {
        enum Want {
            V6(Ipv6Addr),
            V4(Ipv4Addr),
        }
        let want = match ip {
            IpAddr::V6(a) if is_ip_token(a) => Want::V6(a),
            IpAddr::V4(a) if a.octets()[0] & 0xf0 == 0xf0 => Want::V4(a),
            _ => {
                return Err(PrivacyError::Reveal(format!(
                    "{ip} is not a token: IP tokens are in fd00::/8 (ARP records: 240.0.0.0/4); \
                     other addresses travel in clear"
                )))
            }
        };
        let hit = |t: Ipv6Addr| match want {
            Want::V6(w) => t == w,
            Want::V4(w) => v4_token(t) == w,
        };
        let mut out: Vec<Revealed> = Vec::new();
        let push = |out: &mut Vec<Revealed>, a: IpAddr, via| {
            let value = a.to_string();
            if !out.iter().any(|r| r.value == value) {
                out.push(Revealed {
                    kind: "ip",
                    value,
                    via,
                });
            }
        };
        for c in &self.candidates {
            if let Ok(a) = c.parse::<IpAddr>() {
                if hit(self.tok.ip(a)) {
                    push(&mut out, a, "candidate");
                }
            }
        }
        // A 120-bit token has one preimage in practice: stop at the
        // first. The 28-bit ARP form can have several: try everything.
        let exhaustive = matches!(want, Want::V4(_));
        if !out.is_empty() && !exhaustive {
            return Ok(out);
        }
        for n in &self.nets {
            let IpAddr::V4(base) = n.addr else { continue };
            let base = u32::from(base);
            let count = 1u64 << (32 - u32::from(n.prefix));
            for i in 0..count {
                let a = IpAddr::V4(Ipv4Addr::from(base.wrapping_add(i as u32)));
                if hit(self.tok.ip(a)) {
                    push(&mut out, a, "network");
                    if !exhaustive {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    fn reveal_string(&self, kind: Kind, token: &str) -> Vec<Revealed> {
        let mut out = Vec::new();
        if let Some((k, v)) = self.journal.get(token) {
            out.push(Revealed {
                kind: k.name(),
                value: v.clone(),
                via: "journal",
            });
        }
        for c in &self.candidates {
            // Names are tokenised in lower case, MACs in their canonical
            // spelling: try the candidate as given and in those forms.
            let mut forms = vec![c.clone(), c.to_ascii_lowercase()];
            if let Some(m) = canonical_mac(c) {
                forms.push(String::from_utf8_lossy(&m).into_owned());
            }
            for f in forms {
                if self.tok.string(kind, &f) == token && !out.iter().any(|r| r.value == f) {
                    out.push(Revealed {
                        kind: kind.name(),
                        value: f,
                        via: "candidate",
                    });
                }
            }
        }
        out
    }
}
