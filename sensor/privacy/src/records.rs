//! Rules for the records the sensor makes itself rather than reads from a
//! protocol: connections, DNS, DHCP, ARP, assets and alerts. Each function
//! lists every field of its record that can carry an identity; fields not
//! named here travel in clear (docs/privacy.md says why, field by field).

use crate::pseudonymise::Engine;
use crate::settings::field;
use crate::token::Kind;
use std::net::IpAddr;
use vagt_schema::{AlertRecord, ArpRecord, AssetRecord, ConnRecord, DhcpRecord, DnsRecord};

const F_COMMUNITY: usize = field("conn.community_id");
const F_DNS_QUERY: usize = field("dns.query");
const F_DNS_ANSWERS: usize = field("dns.answers");
const F_DHCP_HOST: usize = field("dhcp.host_name");
const F_DHCP_FQDN: usize = field("dhcp.client_fqdn");
const F_DHCP_DOMAIN: usize = field("dhcp.domain");
const F_ASSET_HOST: usize = field("asset.host_name");
const F_ALERT_SUBJECT: usize = field("alert.subject");
const F_IP: usize = field("ip");
const F_MAC: usize = field("mac");

pub(crate) fn conn(e: &mut Engine, c: &mut ConnRecord) {
    e.ip(&mut c.orig_h);
    e.ip(&mut c.resp_h);
    e.mac_opt(&mut c.orig_l2_addr);
    e.mac_opt(&mut c.resp_l2_addr);
    // The Community ID hashes the addresses and ports without a key: in
    // clear, enumerating the internal addresses would give them back. A
    // keyed token still joins a conn with the alerts that name it, so
    // every one is tokenised, as in alerts.
    community(e, &mut c.community_id);
}

pub(crate) fn community(e: &mut Engine, c: &mut String) {
    if !c.is_empty() && !e.keeps(F_IP) && !e.keeps(F_COMMUNITY) {
        *c = e.token(Kind::Community, c);
    }
}

pub(crate) fn dns(e: &mut Engine, d: &mut DnsRecord) {
    e.conn_id(&mut d.id);
    let internal_query = d.query.as_deref().is_some_and(|q| e.scope.name_internal(q));
    if !e.keeps(F_DNS_QUERY) {
        if let Some(q) = &mut d.query {
            // Queries are already lower case; tokenise as asked so the
            // same name from another source (DHCP, assets) joins.
            if internal_query {
                e.name(F_DNS_QUERY, true, q);
            }
        }
    }
    if e.keeps(F_DNS_ANSWERS) {
        return;
    }
    for a in &mut d.answers {
        if let Ok(ip) = a.parse::<IpAddr>() {
            // An external name answered with an internal address (split
            // horizon) tokenises the address, as everywhere.
            let t = e.ip_value(ip);
            if t != ip {
                *a = t.to_string();
            }
        } else if internal_query {
            // Everything said about an internal name is internal (PTR
            // names of internal addresses, SRV targets, TXT of AD).
            if is_name(a) {
                e.name(F_DNS_ANSWERS, true, a);
            } else {
                e.tok(Kind::Text, F_DNS_ANSWERS, a);
            }
        } else if is_name(a) {
            // A CNAME out of an external name into an internal one.
            e.name(F_DNS_ANSWERS, false, a);
        } else {
            e.text(a);
        }
    }
}

/// Whether a DNS answer is a bare name (not `TXT ...`, not `<unknown>`).
fn is_name(a: &str) -> bool {
    !a.is_empty()
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

pub(crate) fn dhcp(e: &mut Engine, d: &mut DhcpRecord) {
    e.ip_opt(&mut d.client_addr);
    e.ip_opt(&mut d.server_addr);
    e.ip_opt(&mut d.requested_addr);
    e.ip_opt(&mut d.assigned_addr);
    e.mac_opt(&mut d.mac);
    e.mac_opt(&mut d.client_chaddr);
    // A DHCP client is always on the local network: its names are
    // tokenised whatever their form.
    e.name_opt(F_DHCP_HOST, true, &mut d.host_name);
    e.name_opt(F_DHCP_FQDN, true, &mut d.client_fqdn);
    e.name_opt(F_DHCP_DOMAIN, false, &mut d.domain);
    e.text_opt(&mut d.client_message);
    e.text_opt(&mut d.server_message);
}

pub(crate) fn arp(e: &mut Engine, a: &mut ArpRecord) {
    e.mac(&mut a.src_mac);
    e.ipv4(&mut a.ip);
    e.mac(&mut a.mac);
    e.mac_opt(&mut a.previous_mac);
}

pub(crate) fn asset(e: &mut Engine, a: &mut AssetRecord) {
    e.mac_opt(&mut a.mac);
    for i in &mut a.ips {
        e.ip(&mut i.ip);
    }
    // An asset is a local device: its name is tokenised whatever its form.
    e.name_opt(F_ASSET_HOST, true, &mut a.host_name);
    // "mac:<MAC>" or "ip:<address>": the same tokens as the fields.
    if let Some(m) = a.key.strip_prefix("mac:") {
        if !e.keeps(F_MAC) {
            let mut m = m.to_string();
            e.mac(&mut m);
            a.key = format!("mac:{m}");
        }
    } else if let Some(ip) = a
        .key
        .strip_prefix("ip:")
        .and_then(|s| s.parse::<IpAddr>().ok())
    {
        a.key = format!("ip:{}", e.ip_value(ip));
    } else {
        e.text(&mut a.key);
    }
    for t in &mut a.role_evidence {
        e.text(t);
    }
}

pub(crate) fn alert(e: &mut Engine, a: &mut AlertRecord) {
    e.ip(&mut a.src);
    e.ip_opt(&mut a.dst);
    // Indicator alerts on a user name or mail address carry the matched
    // identity as their subject (and in the message: "logged in as ...").
    match (a.detector.as_str(), a.kind.as_str()) {
        ("indicator", "user_name") => e.tok_opt(Kind::User, F_ALERT_SUBJECT, &mut a.subject),
        ("indicator", "email") => e.tok_opt(Kind::Mail, F_ALERT_SUBJECT, &mut a.subject),
        _ => e.text_opt(&mut a.subject),
    }
    e.text(&mut a.message);
    for c in &mut a.community_ids {
        community(e, c);
    }
}
