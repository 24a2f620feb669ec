//! The transform itself: [`Pseudonymiser::apply`] rewrites one event in
//! place before it leaves the municipality. This module owns the per-event
//! decisions common to every record (which segment relaxations apply, the
//! token caches, the journal hook, the exhaustive list of event kinds);
//! the per-record rules live in `records.rs` and `apps.rs`.

use crate::journal::Journal;
use crate::settings::{field, Keep, Scope, Settings};
use crate::token::{canonical_mac, Kind, Tokeniser};
use crate::{Key, PrivacyError};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vagt_schema::{Event, EventBody};

/// Entries per token cache before it is emptied and refilled: bounds
/// memory (about 100 bytes an entry) while keeping the addresses and names
/// that repeat (the busy hosts, the common queries) cheap.
const CACHE_MAX: usize = 32 * 1024;

/// Identity values shorter than this are not searched for in free text:
/// a two-letter user name would replace letters of ordinary words.
const MIN_SEEN_LEN: usize = 4;

const F_IP: usize = field("ip");
const F_MAC: usize = field("mac");

/// The per-event machinery the record rules call.
pub(crate) struct Engine {
    pub tok: Tokeniser,
    pub scope: Scope,
    /// What this event's segment leaves in clear.
    pub keep: Keep,
    ip_cache: HashMap<IpAddr, Ipv6Addr>,
    str_cache: Vec<HashMap<String, String>>,
    pub journal: Option<Journal>,
    /// Identity values of this event replaced so far, with their tokens,
    /// so that free text of the same event can be cleared of them.
    pub seen: Vec<(String, String)>,
}

impl Engine {
    pub fn keeps(&self, f: usize) -> bool {
        self.keep.has(f)
    }

    /// The token of an internal address, the address itself otherwise.
    pub fn ip_value(&mut self, ip: IpAddr) -> IpAddr {
        if self.keep.has(F_IP) || !self.scope.ip_internal(ip) {
            return ip;
        }
        if let Some(t) = self.ip_cache.get(&ip) {
            return IpAddr::V6(*t);
        }
        let t = self.tok.ip(ip);
        if self.ip_cache.len() >= CACHE_MAX {
            self.ip_cache.clear();
        }
        self.ip_cache.insert(ip, t);
        IpAddr::V6(t)
    }

    pub fn ip(&mut self, ip: &mut IpAddr) {
        *ip = self.ip_value(*ip);
    }

    pub fn ip_opt(&mut self, ip: &mut Option<IpAddr>) {
        if let Some(a) = ip {
            self.ip(a);
        }
    }

    pub fn ips(&mut self, ips: &mut [IpAddr]) {
        for a in ips {
            self.ip(a);
        }
    }

    /// A typed IPv4 field (ARP) cannot hold an IPv6 token: an internal
    /// address becomes `240.0.0.0/4` (reserved, never on a wire) plus the
    /// first 28 bits of its IP token's HMAC. Collisions are possible
    /// (2^28 values); the revealer lists every match.
    pub fn ipv4(&mut self, ip: &mut Ipv4Addr) {
        if let IpAddr::V6(t) = self.ip_value(IpAddr::V4(*ip)) {
            *ip = v4_token(t);
        }
    }

    /// The token of a string, from the cache or computed (and journalled
    /// once).
    pub fn token(&mut self, kind: Kind, value: &str) -> String {
        let cache = &mut self.str_cache[kind.index()];
        if let Some(t) = cache.get(value) {
            return t.clone();
        }
        let t = self.tok.string(kind, value);
        if kind != Kind::Community {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(value.to_string(), t.clone());
            if let Some(j) = &mut self.journal {
                j.record(&t, kind, value);
            }
        }
        t
    }

    /// Replaces `s` by its token unless `f` is kept; empty stays empty.
    pub fn tok(&mut self, kind: Kind, f: usize, s: &mut String) {
        if s.is_empty() || self.keep.has(f) {
            return;
        }
        let t = self.token(kind, s);
        let old = std::mem::replace(s, t);
        if old.len() >= MIN_SEEN_LEN {
            let t = s.clone();
            self.seen.push((old, t));
        }
    }

    pub fn tok_opt(&mut self, kind: Kind, f: usize, s: &mut Option<String>) {
        if let Some(v) = s {
            self.tok(kind, f, v);
        }
    }

    pub fn tok_all(&mut self, kind: Kind, f: usize, v: &mut [String]) {
        for s in v {
            self.tok(kind, f, s);
        }
    }

    /// A MAC field: every MAC is local, so every MAC is tokenised (the
    /// token of its lower-case, colon-separated spelling).
    pub fn mac(&mut self, s: &mut String) {
        if s.is_empty() || self.keep.has(F_MAC) {
            return;
        }
        let t = match canonical_mac(s) {
            Some(c) => {
                let c = std::str::from_utf8(&c).unwrap_or_default().to_string();
                self.token(Kind::Mac, &c)
            }
            None => self.token(Kind::Mac, s),
        };
        let old = std::mem::replace(s, t);
        let t = s.clone();
        self.seen.push((old, t));
    }

    pub fn mac_opt(&mut self, s: &mut Option<String>) {
        if let Some(v) = s {
            self.mac(v);
        }
    }

    /// A host name: tokenised when `force` (the host is known to be
    /// internal) or when the name itself is internal. A `:port` suffix
    /// stays in clear.
    pub fn name(&mut self, f: usize, force: bool, s: &mut String) {
        if s.is_empty() || self.keep.has(f) {
            return;
        }
        let (host, port) = split_port(s);
        if !(force || self.scope.name_internal(host)) {
            return;
        }
        let host = host.to_string();
        let port = port.to_string();
        let lower = host.to_ascii_lowercase();
        let tok = self.token(Kind::Host, lower.trim_end_matches('.'));
        *s = format!("{tok}{port}");
        if host.len() >= MIN_SEEN_LEN {
            self.seen.push((host, tok));
        }
    }

    pub fn name_opt(&mut self, f: usize, force: bool, s: &mut Option<String>) {
        if let Some(v) = s {
            self.name(f, force, v);
        }
    }

    /// Clears free text of internal addresses, MACs, internal names and
    /// this event's identities (see `scrub.rs`).
    pub fn text(&mut self, s: &mut String) {
        crate::scrub::scrub(self, s);
    }

    pub fn text_opt(&mut self, s: &mut Option<String>) {
        if let Some(v) = s {
            self.text(v);
        }
    }
}

/// `host:port` split; IPv6 literals and names without a port are whole.
pub(crate) fn split_port(s: &str) -> (&str, &str) {
    if let Some(i) = s.rfind(':') {
        let (h, p) = s.split_at(i);
        if !h.contains(':')
            && !h.is_empty()
            && p.len() > 1
            && p[1..].bytes().all(|b| b.is_ascii_digit())
        {
            return (h, p);
        }
    }
    (s, "")
}

/// The IPv4 form of an IP token (see [`Engine::ipv4`]).
pub(crate) fn v4_token(t: Ipv6Addr) -> Ipv4Addr {
    let o = t.octets();
    let bits = u32::from_be_bytes([o[1], o[2], o[3], o[4]]) >> 4;
    Ipv4Addr::from(0xf000_0000 | bits)
}

/// Rewrites events in place so that nothing internal leaves in clear.
pub struct Pseudonymiser {
    engine: Engine,
    global: Keep,
    segments: BTreeMap<String, Keep>,
}

impl Pseudonymiser {
    /// A pseudonymiser for `key` and `settings`; fails when the settings
    /// do not validate. Add a journal with [`Pseudonymiser::with_journal`].
    pub fn new(key: &Key, settings: &Settings) -> Result<Pseudonymiser, PrivacyError> {
        let (global, segments) = settings.keeps()?;
        Ok(Pseudonymiser {
            engine: Engine {
                tok: Tokeniser::new(key),
                scope: Scope::new(settings),
                keep: global,
                ip_cache: HashMap::new(),
                str_cache: Kind::ALL.iter().map(|_| HashMap::new()).collect(),
                journal: None,
                seen: Vec::new(),
            },
            global,
            segments,
        })
    }

    /// What the sensor calls at start: validates `settings`, loads the key
    /// at `key_file` (creating it on first start) and opens the `journal`
    /// when one is configured.
    pub fn open(settings: &Settings) -> Result<Pseudonymiser, PrivacyError> {
        settings.validate()?;
        let path = settings.key_file.as_deref().ok_or_else(|| {
            PrivacyError::Settings(
                "key_file is not set: name the file that holds (or will hold) the \
                 municipality's key, e.g. key_file = \"/var/lib/vagt/privacy.key\""
                    .into(),
            )
        })?;
        let key = Key::load_or_create(path)?;
        let p = Pseudonymiser::new(&key, settings)?;
        Ok(match &settings.journal {
            Some(j) => p.with_journal(Journal::open(j)?),
            None => p,
        })
    }

    /// Writes each new string token to `journal`, for `reveal`.
    pub fn with_journal(mut self, journal: Journal) -> Pseudonymiser {
        self.engine.journal = Some(journal);
        self
    }

    /// The journal, to read its error count for health output.
    pub fn journal(&self) -> Option<&Journal> {
        self.engine.journal.as_ref()
    }

    /// Rewrites `event` in place: internal addresses, MACs, names, users,
    /// paths and personal text become tokens, secrets are removed, and
    /// external addresses and indicators stay.
    pub fn apply(&mut self, event: &mut Event) {
        let e = &mut self.engine;
        e.keep = self
            .segments
            .get(event.origin.segment.as_str())
            .copied()
            .unwrap_or(self.global);
        e.seen.clear();
        use crate::apps as a;
        use crate::records as r;
        // Exhaustive on purpose: a new event kind does not compile until
        // it is classified here and in docs/privacy.md.
        match &mut event.body {
            EventBody::Conn(c) => r::conn(e, c),
            // Counters: no identities. The error texts name the sensor's
            // own files, but a rules error can quote an allow-list line
            // (an address), so they are scrubbed.
            EventBody::Stats(s) => {
                if let Some(a) = &mut s.analysis {
                    e.text_opt(&mut a.rules_error);
                    e.text_opt(&mut a.state_error);
                }
            }
            EventBody::Dns(d) => r::dns(e, d),
            EventBody::Modbus(m) => e.conn_id(&mut m.id),
            EventBody::Dnp3(m) => e.conn_id(&mut m.id),
            EventBody::Bacnet(m) => {
                e.conn_id(&mut m.id);
                e.ip(&mut m.source_h);
                e.ip(&mut m.destination_h);
            }
            EventBody::S7comm(m) => e.conn_id(&mut m.id),
            EventBody::Enip(m) => e.conn_id(&mut m.id),
            EventBody::OtSummary(m) => e.conn_id(&mut m.id),
            EventBody::Ssh(s) => e.conn_id(&mut s.id),
            EventBody::Kerberos(k) => a::kerberos(e, k),
            EventBody::Ldap(l) => a::ldap(e, l),
            EventBody::LdapSearch(l) => a::ldap_search(e, l),
            EventBody::Rdp(x) => a::rdp(e, x),
            EventBody::Http(h) => a::http(e, h),
            EventBody::Ftp(f) => a::ftp(e, f),
            EventBody::Smtp(s) => a::smtp(e, s),
            EventBody::SmbMapping(s) => a::smb_mapping(e, s),
            EventBody::SmbFiles(s) => a::smb_files(e, s),
            EventBody::DceRpc(d) => e.conn_id(&mut d.id),
            EventBody::Ntlm(n) => a::ntlm(e, n),
            EventBody::Dhcp(d) => r::dhcp(e, d),
            EventBody::Ntp(n) => a::ntp(e, n),
            EventBody::Syslog(s) => a::syslog(e, s),
            EventBody::Snmp(s) => a::snmp(e, s),
            EventBody::Asset(x) => r::asset(e, x),
            EventBody::Alert(x) => r::alert(e, x),
            EventBody::Auth(x) => a::auth(e, x),
            EventBody::Ssl(s) => a::ssl(e, s),
            EventBody::X509(x) => a::x509(e, x),
            EventBody::Quic(q) => a::quic(e, q),
            EventBody::Arp(x) => r::arp(e, x),
            // Per-segment counts and service names: no identities.
            EventBody::SegmentMetrics(_) => {}
        }
    }
}

impl Engine {
    /// The connection's two addresses; ports stay.
    pub fn conn_id(&mut self, id: &mut vagt_schema::ConnId) {
        self.ip(&mut id.orig_h);
        self.ip(&mut id.resp_h);
    }
}
