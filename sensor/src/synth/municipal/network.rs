//! The municipal network of the scenario: its segments (subnet, VLAN,
//! number of hosts), its servers, and how hosts get their MAC addresses.

use super::super::frames::Host;
use crate::site::SegmentSection;
use std::net::Ipv4Addr;

/// The demo's segments, as configuration.
pub fn segments() -> Vec<SegmentSection> {
    SEGMENTS
        .iter()
        .map(|s| SegmentSection {
            name: s.name.into(),
            kind: match s.name {
                "servers" => "server",
                other => other,
            }
            .into(),
            networks: vec![format!("10.{}.0.0/16", s.net)],
            vlans: vec![s.vlan],
        })
        .collect()
}

pub(super) struct SegmentDef {
    pub(super) name: &'static str,
    pub(super) net: u8,
    pub(super) vlan: u16,
    pub(super) hosts: u8,
}

pub(super) const SEGMENTS: &[SegmentDef] = &[
    SegmentDef {
        name: "servers",
        net: 0,
        vlan: 100,
        hosts: 0,
    },
    SegmentDef {
        name: "admin",
        net: 10,
        vlan: 10,
        hosts: 60,
    },
    SegmentDef {
        name: "care",
        net: 20,
        vlan: 20,
        hosts: 40,
    },
    SegmentDef {
        name: "school",
        net: 30,
        vlan: 30,
        hosts: 150,
    },
    SegmentDef {
        name: "ot",
        net: 40,
        vlan: 40,
        hosts: 12,
    },
    SegmentDef {
        name: "guest",
        net: 50,
        vlan: 50,
        hosts: 80,
    },
];

pub(super) fn host(ip: Ipv4Addr) -> Host {
    let o = ip.octets();
    // Internet hosts sit behind the firewall's MAC.
    let mac = if o[0] == 10 {
        [0x02, 0x00, o[0], o[1], o[2], o[3]]
    } else {
        [0x02, 0xfe, 0, 0, 0, 1]
    };
    Host { mac, ip }
}

pub(super) const FILE_SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
pub(super) const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 20);
pub(super) const INTRANET: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 30);
pub(super) const JUMP_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 40);
pub(super) const TIME_SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);
pub(super) const EPJ: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 60);
pub(super) const BMS: Ipv4Addr = Ipv4Addr::new(10, 40, 0, 5);
