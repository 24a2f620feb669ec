//! The role guess: what a device is, from what it was seen doing, with
//! the evidence in numbers ("offers modbus (502/tcp) to 3 clients").
//!
//! Rules look only at behaviour on the wire (the well-known ports of what
//! a device offers and uses, how many peers, how many addresses its MAC
//! carries); there is no list of device models. They are tried in order
//! and the first that holds names the role: a device that is both a PLC
//! and a web server is first of all a PLC.

use super::{Asset, ServiceSeen, MAX_PEERS};
use std::collections::HashSet;

/// Ports of industrial control protocols, as served by controllers.
const OT: &[(&str, u16)] = &[
    ("tcp", 502),   // Modbus/TCP
    ("tcp", 102),   // S7comm, IEC 61850 MMS (ISO-TSAP)
    ("tcp", 20000), // DNP3
    ("udp", 20000),
    ("tcp", 44818), // EtherNet/IP
    ("udp", 44818),
    ("udp", 2222),  // EtherNet/IP I/O
    ("udp", 47808), // BACnet/IP
    ("tcp", 2404),  // IEC 60870-5-104
];
const KERBEROS: &[(&str, u16)] = &[("tcp", 88), ("udp", 88)];
const LDAP: &[(&str, u16)] = &[("tcp", 389), ("udp", 389)];
const PRINTING: &[(&str, u16)] = &[("tcp", 9100), ("tcp", 631), ("tcp", 515)];
const RTSP: &[(&str, u16)] = &[("tcp", 554)];
const MQTT: &[(&str, u16)] = &[("tcp", 1883), ("tcp", 8883)];
const SIP: &[(&str, u16)] = &[("udp", 5060), ("tcp", 5060), ("tcp", 5061)];

/// Clients a device must serve to be called a server.
pub const SERVER_CLIENTS: usize = 3;

fn matching<'a>(list: &'a [ServiceSeen], ports: &[(&str, u16)]) -> Vec<&'a ServiceSeen> {
    list.iter()
        .filter(|s| ports.iter().any(|(p, n)| s.proto == *p && s.port == *n))
        .collect()
}

fn offers(s: &ServiceSeen) -> String {
    let n = s.peers.len();
    format!(
        "offers {} to {} client{}",
        s.describe(),
        s.peer_count(),
        if n == 1 { "" } else { "s" }
    )
}

fn uses(s: &ServiceSeen) -> String {
    let n = s.peers.len();
    format!(
        "uses {} on {} server{}",
        s.describe(),
        s.peer_count(),
        if n == 1 { "" } else { "s" }
    )
}

/// The role and its evidence; `None` while nothing tells.
pub fn guess(a: &Asset) -> (Option<&'static str>, Vec<String>) {
    if a.router {
        let mac = a.mac.as_deref().unwrap_or("?");
        return (
            Some("router"),
            vec![format!(
                "MAC {mac} carried {} local addresses (more than a host has)",
                a.ips.len()
            )],
        );
    }
    let offered = |ports| matching(&a.offered, ports);
    let ot = offered(OT);
    if !ot.is_empty() {
        return (Some("ot_controller"), ot.into_iter().map(offers).collect());
    }
    let (krb, ldap) = (offered(KERBEROS), offered(LDAP));
    if !krb.is_empty() && !ldap.is_empty() {
        let ev = krb.into_iter().chain(ldap).map(offers).collect();
        return (Some("domain_controller"), ev);
    }
    for (role, ports) in [
        ("printer", PRINTING),
        ("camera", RTSP),
        ("iot_gateway", MQTT),
    ] {
        let m = offered(ports);
        if !m.is_empty() {
            return (Some(role), m.into_iter().map(offers).collect());
        }
    }
    let sip_served = offered(SIP);
    let sip_used = matching(&a.used, SIP);
    let sip_server = sip_served.iter().any(|s| s.peers.len() >= SERVER_CLIENTS);
    if !sip_server && (!sip_used.is_empty() || !sip_served.is_empty()) {
        let ev = sip_used
            .into_iter()
            .map(uses)
            .chain(sip_served.into_iter().map(offers))
            .collect();
        return (Some("phone"), ev);
    }
    let ot_used = matching(&a.used, OT);
    if !ot_used.is_empty() {
        return (
            Some("engineering_workstation"),
            ot_used.into_iter().map(uses).collect(),
        );
    }
    let clients: HashSet<u32> = a
        .offered
        .iter()
        .flat_map(|s| s.peers.iter().copied())
        .collect();
    if clients.len() >= SERVER_CLIENTS {
        let mut busiest: Vec<&ServiceSeen> = a.offered.iter().collect();
        busiest.sort_by_key(|s| std::cmp::Reverse(s.peers.len()));
        let mut ev = vec![format!(
            "serves {} distinct clients",
            if clients.len() >= MAX_PEERS {
                format!("{} or more", clients.len())
            } else {
                clients.len().to_string()
            }
        )];
        ev.extend(busiest.into_iter().take(3).map(offers));
        return (Some("server"), ev);
    }
    if a.offered.is_empty() && a.initiated > 0 {
        return (
            Some("client"),
            vec![format!(
                "only initiates: {} answered connection{} to {} service{}, offers none",
                a.initiated,
                if a.initiated == 1 { "" } else { "s" },
                a.used.len(),
                if a.used.len() == 1 { "" } else { "s" }
            )],
        );
    }
    (None, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(proto: &str, port: u16, name: Option<&str>, peers: u32) -> ServiceSeen {
        ServiceSeen {
            proto: proto.into(),
            port,
            name: name.map(str::to_string),
            peers: (0..peers).collect(),
            last_seen: 0.0,
        }
    }

    fn asset(offered: Vec<ServiceSeen>, used: Vec<ServiceSeen>) -> Asset {
        let mut a = Asset::new("ot", "ip:10.0.0.3".into(), 0.0);
        a.offered = offered;
        a.used = used;
        a.initiated = a.used.len() as u64;
        a
    }

    #[test]
    fn each_rule_names_its_role_with_numbers() {
        let cases: Vec<(Asset, &str, &str)> = vec![
            (
                asset(
                    vec![
                        svc("tcp", 502, Some("modbus"), 3),
                        svc("tcp", 80, Some("http"), 5),
                    ],
                    vec![],
                ),
                "ot_controller",
                "offers modbus (502/tcp) to 3 clients",
            ),
            (
                asset(vec![svc("udp", 47808, None, 1)], vec![]),
                "ot_controller",
                "offers 47808/udp to 1 client",
            ),
            (
                asset(
                    vec![
                        svc("udp", 88, Some("krb"), 4),
                        svc("tcp", 389, Some("ldap"), 2),
                    ],
                    vec![],
                ),
                "domain_controller",
                "offers ldap (389/tcp) to 2 clients",
            ),
            (
                asset(vec![svc("tcp", 9100, None, 2)], vec![]),
                "printer",
                "offers 9100/tcp to 2 clients",
            ),
            (
                asset(vec![svc("tcp", 554, None, 1)], vec![]),
                "camera",
                "offers 554/tcp to 1 client",
            ),
            (
                asset(vec![svc("tcp", 1883, Some("mqtt"), 9)], vec![]),
                "iot_gateway",
                "offers mqtt (1883/tcp) to 8 or more clients",
            ),
            (
                asset(vec![], vec![svc("udp", 5060, Some("sip"), 1)]),
                "phone",
                "uses sip (5060/udp) on 1 server",
            ),
            (
                asset(vec![], vec![svc("tcp", 502, Some("modbus"), 2)]),
                "engineering_workstation",
                "uses modbus (502/tcp) on 2 servers",
            ),
            (
                asset(vec![svc("tcp", 22, Some("ssh"), 3)], vec![]),
                "server",
                "offers ssh (22/tcp) to 3 clients",
            ),
            (
                asset(vec![], vec![svc("tcp", 443, Some("ssl"), 4)]),
                "client",
                "only initiates: 1 answered connection to 1 service, offers none",
            ),
        ];
        for (a, role, evidence) in cases {
            let (r, ev) = guess(&a);
            assert_eq!(r, Some(role), "{ev:?}");
            assert!(ev.iter().any(|e| e == evidence), "{role}: {ev:?}");
        }
    }

    #[test]
    fn a_sip_server_is_no_phone_and_too_little_says_nothing() {
        let (r, _) = guess(&asset(vec![svc("udp", 5060, Some("sip"), 4)], vec![]));
        assert_eq!(r, Some("server"));
        let (r, ev) = guess(&asset(vec![svc("tcp", 8080, None, 2)], vec![]));
        assert_eq!((r, ev.len()), (None, 0), "two clients make no server");
        let mut router = asset(vec![], vec![]);
        router.router = true;
        router.mac = Some("00:11:22:33:44:55".into());
        assert_eq!(guess(&router).0, Some("router"));
    }
}
