//! What each kind of event tells the inventory.
//!
//! * `conn`: which local devices exist (the originator always; the
//!   responder only when it answered, so a scan of empty addresses makes
//!   no devices), their MACs (attributed to local addresses only: a
//!   remote address arrives with its router's MAC), the services a
//!   device offered (responder side of an established connection) and
//!   used (originator side).
//! * `dns`: names of known local devices, from address answers and
//!   reverse (PTR) answers; a DHCP host name outranks them.
//! * `dhcp`: the MAC's host name and assigned address, and OS hints from
//!   the vendor class and parameter request list ([`DhcpFacts`]).
//! * `http`: device hints from the client's user agent ([`HttpFacts`]).

use super::vendor::{self, Mac};
use super::{
    role, Asset, Inventory, Key, ServiceSeen, MAX_HINTS, MAX_IPS, MAX_PEERS, MAX_SERVICES,
    ROUTER_IPS, ROUTER_WINDOW,
};
use crate::decode::Addr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vagt_schema::{AssetIp, ConnRecord, DnsRecord, Event, EventBody, Proto};

/// The devices an event touched and what changed on each ("new", "ip",
/// "host_name", "service", "hints", "role"); touched devices with no
/// change are dropped at the end.
pub(super) type Changes = Vec<(Key, Vec<&'static str>)>;

/// Host names and hints are cut to this many bytes.
const MAX_TEXT: usize = 255;

/// What a DHCP record tells (the dhcp.log fields of the same names).
#[derive(Debug, Default)]
pub struct DhcpFacts<'a> {
    pub ts: f64,
    pub mac: Option<&'a str>,
    pub host_name: Option<&'a str>,
    pub assigned_addr: Option<IpAddr>,
    pub vendor_class: Option<&'a str>,
    /// The parameter request list (option 55), in the client's order: the
    /// DHCP fingerprint of its operating system.
    pub param_list: &'a [u8],
}

/// What an HTTP request tells about its client.
#[derive(Debug)]
pub struct HttpFacts<'a> {
    pub ts: f64,
    pub client: IpAddr,
    pub user_agent: Option<&'a str>,
}

pub(super) fn observe(inv: &mut Inventory, event: &Event) -> Changes {
    let seg = event.origin.segment.as_str();
    let mut ch = Changes::new();
    match &event.body {
        EventBody::Conn(c) => conn(inv, seg, c, &mut ch),
        EventBody::Dns(d) => dns(inv, seg, d, &mut ch),
        EventBody::Dhcp(d) => dhcp(
            inv,
            seg,
            &DhcpFacts {
                ts: d.ts,
                mac: d.mac.as_deref(),
                host_name: d.host_name.as_deref(),
                assigned_addr: d.assigned_addr,
                vendor_class: d.vendor_class.as_deref(),
                param_list: &d.param_list,
            },
            &mut ch,
        ),
        EventBody::Http(h) => http(
            inv,
            seg,
            &HttpFacts {
                ts: h.ts,
                client: h.id.orig_h,
                user_agent: h.user_agent.as_deref(),
            },
            &mut ch,
        ),
        _ => {}
    }
    settle_roles(inv, &mut ch);
    ch.retain(|(_, c)| !c.is_empty());
    ch
}

/// Guesses the role of every touched device again; a new guess is a
/// change.
fn settle_roles(inv: &mut Inventory, ch: &mut Changes) {
    for (key, change) in ch.iter_mut() {
        let Some(a) = inv.assets.get_mut(key) else {
            continue;
        };
        let (r, evidence) = role::guess(a);
        let r = r.map(str::to_string);
        if r != a.role {
            a.role = r;
            if !change.contains(&"new") {
                change.push("role");
            }
        }
        a.role_evidence = evidence;
    }
}

fn mark(ch: &mut Changes, key: &Key, what: Option<&'static str>) {
    let i = match ch.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            ch.push((key.clone(), Vec::new()));
            ch.len() - 1
        }
    };
    if let Some(w) = what {
        let c = &mut ch[i].1;
        // A new device is reported whole; what else changed is implied.
        if !c.contains(&w) && !c.contains(&"new") {
            if w == "new" {
                c.clear();
            }
            c.push(w);
        }
    }
}

/// Whether an address belongs to the site: its configured networks where
/// there are any, else the private, link-local and unique-local ranges.
pub(super) fn is_local(inv: &Inventory, ip: IpAddr) -> bool {
    if inv.site.knows_local() {
        return inv.site.is_local(&Addr::from_ip(ip));
    }
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            s & 0xfe00 == 0xfc00 || s & 0xffc0 == 0xfe80
        }
    }
}

fn conn(inv: &mut Inventory, seg: &str, c: &ConnRecord, ch: &mut Changes) {
    let ts = c.ts + c.duration.unwrap_or(0.0);
    let mac = |s: &Option<String>| s.as_deref().and_then(vendor::parse_mac);
    let (orig_mac, resp_mac) = (mac(&c.orig_l2_addr), mac(&c.resp_l2_addr));
    // A frame to a group MAC (broadcast, multicast) is not to one device.
    let orig = (is_local(inv, c.orig_h) && !orig_mac.is_some_and(|m| vendor::is_group(&m)))
        .then(|| touch(inv, seg, c.orig_h, orig_mac, c.ts, ts, ch));
    let answered = c.resp_pkts > 0;
    let resp =
        (answered && is_local(inv, c.resp_h) && !resp_mac.is_some_and(|m| vendor::is_group(&m)))
            .then(|| touch(inv, seg, c.resp_h, resp_mac, c.ts, ts, ch));
    if !c.conn_state.established() || !matches!(c.proto, Proto::Tcp | Proto::Udp) {
        return;
    }
    let name = c
        .service
        .as_deref()
        .and_then(|s| s.split(',').next())
        .filter(|s| !s.is_empty());
    let proto = c.proto.as_str();
    if let Some(key) = &resp {
        if let Some(a) = inv.assets.get_mut(key) {
            if add_service(&mut a.offered, proto, c.resp_p, name, c.orig_h, ts) {
                mark(ch, key, Some("service"));
            }
        }
    }
    if let Some(key) = &orig {
        if let Some(a) = inv.assets.get_mut(key) {
            a.initiated = a.initiated.saturating_add(1);
            if add_service(&mut a.used, proto, c.resp_p, name, c.resp_h, ts) {
                mark(ch, key, Some("service"));
            }
        }
    }
}

/// The device at `ip` (with `mac` when the frame had one), made if new.
fn touch(
    inv: &mut Inventory,
    seg: &str,
    ip: IpAddr,
    mac: Option<Mac>,
    first: f64,
    ts: f64,
    ch: &mut Changes,
) -> Key {
    // The all-zero MAC of loopback and some captures names no device.
    let mac = mac.filter(|m| *m != [0; 6]);
    if let Some(m) = mac {
        let key = (seg.to_string(), format!("mac:{}", vendor::mac_string(&m)));
        // A router's MAC carries the traffic of the devices behind it:
        // those are known by their addresses instead.
        let behind_router = inv
            .assets
            .get(&key)
            .is_some_and(|a| a.router && !a.ips.iter().any(|i| i.ip == ip));
        if !behind_router {
            if !inv.assets.contains_key(&key) {
                let mut a = Asset::new(seg, key.1.clone(), first);
                a.mac = Some(vendor::mac_string(&m));
                a.vendor = vendor::vendor(&m);
                inv.insert(a);
                mark(ch, &key, Some("new"));
            }
            // Known by its address until now: the same device.
            let ip_key = (seg.to_string(), format!("ip:{ip}"));
            let adopted = inv.assets.remove(&ip_key);
            if let Some(a) = inv.assets.get_mut(&key) {
                a.seen(first);
                a.seen(ts);
                if let Some(old) = adopted {
                    merge(a, old);
                }
                if add_ip(a, ip, first, ts) {
                    mark(ch, &key, Some("ip"));
                }
                if a.ips.iter().any(|i| i.ip == ip) {
                    inv.by_ip.insert((seg.to_string(), ip), key.1.clone());
                }
            }
            mark(ch, &key, None);
            return key;
        }
    }
    // The device that holds the address now; an owner evicted or folded
    // away leaves no device, and the address is known by itself again.
    let owner = inv
        .by_ip
        .get(&(seg.to_string(), ip))
        .filter(|k| inv.assets.contains_key(&(seg.to_string(), (*k).clone())))
        .cloned();
    let key = (seg.to_string(), owner.unwrap_or_else(|| format!("ip:{ip}")));
    if !inv.assets.contains_key(&key) {
        inv.insert(Asset::new(seg, key.1.clone(), first));
        inv.by_ip.insert((seg.to_string(), ip), key.1.clone());
        mark(ch, &key, Some("new"));
    }
    if let Some(a) = inv.assets.get_mut(&key) {
        a.seen(first);
        a.seen(ts);
        add_ip(a, ip, first, ts);
    }
    mark(ch, &key, None);
    key
}

/// Adds or refreshes an address; true when it is new to the device. A
/// MAC that comes to carry more than [`ROUTER_IPS`] addresses active
/// within [`ROUTER_WINDOW`] is marked a router and takes no more.
fn add_ip(a: &mut Asset, ip: IpAddr, first: f64, ts: f64) -> bool {
    if let Some(i) = a.ips.iter_mut().find(|i| i.ip == ip) {
        i.first_seen = i.first_seen.min(first);
        i.last_seen = i.last_seen.max(ts);
        return false;
    }
    if a.router {
        return false;
    }
    if a.ips.len() >= MAX_IPS {
        if let Some(oldest) =
            (0..a.ips.len()).min_by(|x, y| a.ips[*x].last_seen.total_cmp(&a.ips[*y].last_seen))
        {
            a.ips.remove(oldest);
        }
    }
    a.ips.push(AssetIp {
        ip,
        first_seen: first,
        last_seen: ts,
    });
    let active = a
        .ips
        .iter()
        .filter(|i| i.last_seen >= ts - ROUTER_WINDOW)
        .count();
    if a.mac.is_some() && active > ROUTER_IPS {
        a.router = true;
    }
    true
}

/// Counts a service on a device's list; true when the list changed (a
/// new service, or a protocol recognised on a known port).
fn add_service(
    list: &mut Vec<ServiceSeen>,
    proto: &str,
    port: u16,
    name: Option<&str>,
    peer: IpAddr,
    ts: f64,
) -> bool {
    let peer = peer_hash(peer);
    let name = name.map(|n| cut(n, 32));
    if let Some(s) = list.iter_mut().find(|s| s.proto == proto && s.port == port) {
        if s.peers.len() < MAX_PEERS && !s.peers.contains(&peer) {
            s.peers.push(peer);
        }
        s.last_seen = s.last_seen.max(ts);
        if s.name.is_none() && name.is_some() {
            s.name = name;
            return true;
        }
        return false;
    }
    if list.len() >= MAX_SERVICES {
        return false;
    }
    list.push(ServiceSeen {
        proto: proto.to_string(),
        port,
        name,
        peers: vec![peer],
        last_seen: ts,
    });
    true
}

/// A peer's address as a small number: only distinct peers are counted,
/// and the addresses themselves need not be kept.
fn peer_hash(ip: IpAddr) -> u32 {
    let bytes = Addr::from_ip(ip).0;
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Folds a device known by its address into the one known by its MAC.
fn merge(into: &mut Asset, from: Asset) {
    for i in from.ips {
        add_ip(into, i.ip, i.first_seen, i.last_seen);
    }
    for (list, other) in [
        (&mut into.offered, from.offered),
        (&mut into.used, from.used),
    ] {
        for s in other {
            let full = list.len() >= MAX_SERVICES;
            match list
                .iter_mut()
                .find(|x| x.proto == s.proto && x.port == s.port)
            {
                Some(x) => {
                    for p in s.peers {
                        if x.peers.len() < MAX_PEERS && !x.peers.contains(&p) {
                            x.peers.push(p);
                        }
                    }
                    x.name = x.name.take().or(s.name);
                }
                None if !full => list.push(s),
                None => {}
            }
        }
    }
    for h in from.os_hints {
        add_hint(&mut into.os_hints, &h);
    }
    for h in from.device_hints {
        add_hint(&mut into.device_hints, &h);
    }
    if into.host_name.is_none() {
        into.host_name = from.host_name;
        into.host_name_source = from.host_name_source;
    }
    into.initiated = into.initiated.saturating_add(from.initiated);
    into.seen(from.first_seen);
    into.seen(from.last_seen);
}

fn add_hint(list: &mut Vec<String>, hint: &str) -> bool {
    let hint = cut(hint, MAX_TEXT);
    if list.len() >= MAX_HINTS || list.contains(&hint) {
        return false;
    }
    list.push(hint);
    true
}

/// Sets a host name unless a better source gave one already.
fn set_name(a: &mut Asset, name: &str, source: &'static str) -> bool {
    let name = cut(name.trim_end_matches('.'), MAX_TEXT);
    if name.is_empty() || a.host_name.as_deref() == Some(name.as_str()) {
        return false;
    }
    if source != "dhcp" && a.host_name_source.as_deref() == Some("dhcp") {
        return false;
    }
    a.host_name = Some(name);
    a.host_name_source = Some(source.to_string());
    true
}

fn dns(inv: &mut Inventory, seg: &str, d: &DnsRecord, ch: &mut Changes) {
    let (Some(query), Some(qtype)) = (d.query.as_deref(), d.qtype_name.as_deref()) else {
        return;
    };
    let mut named: Vec<(IpAddr, &str)> = Vec::new();
    match qtype {
        "A" | "AAAA" => {
            for a in &d.answers {
                if let Ok(ip) = a.parse::<IpAddr>() {
                    named.push((ip, query));
                }
            }
        }
        "PTR" => {
            if let (Some(ip), Some(name)) = (reverse_name(query), d.answers.first()) {
                named.push((ip, name.as_str()));
            }
        }
        _ => {}
    }
    for (ip, name) in named {
        // Only devices already seen here: an answer alone proves no device.
        let Some(k) = inv.by_ip.get(&(seg.to_string(), ip)).cloned() else {
            continue;
        };
        let key = (seg.to_string(), k);
        if let Some(a) = inv.assets.get_mut(&key) {
            if set_name(a, name, "dns") {
                mark(ch, &key, Some("host_name"));
            }
        }
    }
}

/// The address a reverse-lookup name stands for ("4.3.2.1.in-addr.arpa",
/// or 32 nibbles of ".ip6.arpa").
pub(super) fn reverse_name(q: &str) -> Option<IpAddr> {
    let q = q.trim_end_matches('.').to_ascii_lowercase();
    if let Some(v4) = q.strip_suffix(".in-addr.arpa") {
        let mut o: Vec<u8> = v4
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        if o.len() != 4 {
            return None;
        }
        o.reverse();
        return Some(IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3])));
    }
    let v6 = q.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = v6
        .split('.')
        .map(|p| u8::from_str_radix(p, 16).ok().filter(|_| p.len() == 1))
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, pair) in nibbles.rchunks(2).enumerate() {
        if let [lo, hi] = pair {
            bytes[i] = hi << 4 | lo;
        }
    }
    Some(IpAddr::V6(Ipv6Addr::from(bytes)))
}

/// Takes in what a DHCP exchange tells: the client's MAC, the address it
/// was given, the name it gave itself and its fingerprint.
pub(super) fn dhcp(inv: &mut Inventory, seg: &str, f: &DhcpFacts, ch: &mut Changes) {
    let Some(mac) = f.mac.and_then(vendor::parse_mac) else {
        return;
    };
    if vendor::is_group(&mac) || mac == [0; 6] {
        return;
    }
    let key = match f.assigned_addr.filter(|ip| is_local(inv, *ip)) {
        Some(ip) => touch(inv, seg, ip, Some(mac), f.ts, f.ts, ch),
        None => {
            let key = (seg.to_string(), format!("mac:{}", vendor::mac_string(&mac)));
            if !inv.assets.contains_key(&key) {
                let mut a = Asset::new(seg, key.1.clone(), f.ts);
                a.mac = Some(vendor::mac_string(&mac));
                a.vendor = vendor::vendor(&mac);
                inv.insert(a);
                mark(ch, &key, Some("new"));
            }
            mark(ch, &key, None);
            key
        }
    };
    let Some(a) = inv.assets.get_mut(&key) else {
        return;
    };
    a.seen(f.ts);
    if f.host_name.is_some_and(|n| set_name(a, n, "dhcp")) {
        mark(ch, &key, Some("host_name"));
    }
    let mut hinted = false;
    if let Some(vc) = f.vendor_class.filter(|v| !v.is_empty()) {
        hinted |= add_hint(&mut a.os_hints, &format!("dhcp vendor class: {vc}"));
    }
    if !f.param_list.is_empty() {
        let list: Vec<String> = f.param_list.iter().map(u8::to_string).collect();
        hinted |= add_hint(
            &mut a.os_hints,
            &format!("dhcp fingerprint: {}", list.join(",")),
        );
    }
    if hinted {
        mark(ch, &key, Some("hints"));
    }
}

/// Takes in the user agent an HTTP client sent.
pub(super) fn http(inv: &mut Inventory, seg: &str, f: &HttpFacts, ch: &mut Changes) {
    let Some(ua) = f.user_agent.filter(|u| !u.is_empty()) else {
        return;
    };
    let Some(k) = inv.by_ip.get(&(seg.to_string(), f.client)).cloned() else {
        return;
    };
    let key = (seg.to_string(), k);
    if let Some(a) = inv.assets.get_mut(&key) {
        a.seen(f.ts);
        if add_hint(&mut a.device_hints, &format!("user agent: {ua}")) {
            mark(ch, &key, Some("hints"));
        }
    }
}

impl Inventory {
    /// Takes in a DHCP exchange (until dhcp events are in the schema).
    pub fn observe_dhcp(&mut self, segment: &str, facts: &DhcpFacts) -> Vec<AssetChange> {
        let mut ch = Changes::new();
        dhcp(self, segment, facts, &mut ch);
        self.finish_changes(ch)
    }

    /// Takes in an HTTP request (until http events are in the schema).
    pub fn observe_http(&mut self, segment: &str, facts: &HttpFacts) -> Vec<AssetChange> {
        let mut ch = Changes::new();
        http(self, segment, facts, &mut ch);
        self.finish_changes(ch)
    }

    fn finish_changes(&mut self, mut ch: Changes) -> Vec<AssetChange> {
        settle_roles(self, &mut ch);
        ch.retain(|(_, c)| !c.is_empty());
        if !ch.is_empty() {
            self.dirty = true;
        }
        ch.into_iter()
            .map(|((segment, key), change)| AssetChange {
                segment,
                key,
                change,
            })
            .collect()
    }
}

/// A device that is new or changed, and how.
#[derive(Debug, PartialEq)]
pub struct AssetChange {
    pub segment: String,
    pub key: String,
    pub change: Vec<&'static str>,
}

#[cfg(test)]
#[path = "observe_tests.rs"]
mod tests;
