//! The monitored site: its network segments and which addresses are local.
//!
//! A municipality's network is split into segments (administration,
//! care/health, schools, OT/building control, guest Wi-Fi, servers, ...).
//! Every record is assigned to one, by VLAN first and by address second,
//! because baselines and policies are per segment.

use crate::decode::Addr;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 network in CIDR notation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IpNet {
    addr: Addr,
    /// Prefix length in the 128-bit (IPv4-mapped) address space.
    bits: u8,
}

impl IpNet {
    /// The network with the host bits cleared.
    fn network(&self) -> IpNet {
        let mut addr = self.addr;
        for (i, byte) in addr.0.iter_mut().enumerate() {
            let keep = usize::from(self.bits).saturating_sub(i * 8).min(8);
            *byte &= if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
        }
        IpNet { addr, ..*self }
    }

    pub fn contains(&self, a: &Addr) -> bool {
        let full = usize::from(self.bits / 8);
        if self.addr.0[..full] != a.0[..full] {
            return false;
        }
        let rest = self.bits % 8;
        if rest == 0 {
            return true;
        }
        let mask = 0xffu8 << (8 - rest);
        self.addr.0[full] & mask == a.0[full] & mask
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<IpNet, String> {
        let (ip, len) = match s.split_once('/') {
            Some((ip, len)) => (ip, Some(len)),
            None => (s, None),
        };
        let ip: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not an IP network; write it like 10.20.0.0/16"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len: u8 = match len {
            Some(l) => l
                .trim()
                .parse()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("'{s}': prefix length must be 0..={max}"))?,
            None => max,
        };
        let bits = if ip.is_ipv4() { len + 96 } else { len };
        let net = IpNet {
            addr: Addr::from_ip(ip),
            bits,
        };
        // 10.20.1.0/16 is most likely a typo for 10.20.0.0/16 or
        // 10.20.1.0/24; guessing which would silently watch the wrong hosts.
        let base = net.network();
        if base.addr != net.addr {
            return Err(format!(
                "'{s}' has host bits set; the network is {base} (or did you mean a longer prefix?)"
            ));
        }
        Ok(net)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = if self.addr.is_v4() {
            self.bits - 96
        } else {
            self.bits
        };
        write!(f, "{}/{}", self.addr.to_ip(), len)
    }
}

/// A named segment.
#[derive(Clone, Debug)]
pub struct Segment {
    pub name: String,
    pub nets: Vec<IpNet>,
    pub vlans: Vec<u16>,
}

/// Segments and local networks of the site.
#[derive(Clone, Debug, Default)]
pub struct Site {
    pub segments: Vec<Segment>,
    /// Networks that are local without belonging to a named segment.
    pub local_nets: Vec<IpNet>,
}

/// Segment name used when no rule matches.
pub const UNASSIGNED: &str = "unassigned";

impl Site {
    /// The segment of a connection: by VLAN, else by the originator's
    /// address, else by the responder's.
    pub fn segment_of(&self, vlan: u16, orig: &Addr, resp: &Addr) -> &str {
        match self.segment_index(vlan, orig, resp) {
            Some(i) => &self.segments[i].name,
            None => UNASSIGNED,
        }
    }

    /// Which of [`Site::segments`] [`Site::segment_of`] names, or `None`
    /// for [`UNASSIGNED`]: a small key for tables kept per segment.
    pub fn segment_index(&self, vlan: u16, orig: &Addr, resp: &Addr) -> Option<usize> {
        if vlan != 0 {
            if let Some(i) = self.segments.iter().position(|s| s.vlans.contains(&vlan)) {
                return Some(i);
            }
        }
        for a in [orig, resp] {
            if let Some(i) = self
                .segments
                .iter()
                .position(|s| s.nets.iter().any(|n| n.contains(a)))
            {
                return Some(i);
            }
        }
        None
    }

    /// Whether any local networks are known at all.
    pub fn knows_local(&self) -> bool {
        !self.local_nets.is_empty() || self.segments.iter().any(|s| !s.nets.is_empty())
    }

    pub fn is_local(&self, a: &Addr) -> bool {
        self.local_nets.iter().any(|n| n.contains(a))
            || self
                .segments
                .iter()
                .any(|s| s.nets.iter().any(|n| n.contains(a)))
    }
}

/// The site settings (`[site]`): local networks outside any segment.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SiteSection {
    /// Local networks outside any named segment.
    pub local_networks: Vec<String>,
}

/// One `[[segments]]` entry of the configuration.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SegmentSection {
    pub name: String,
    /// What the segment is for: one of [`KINDS`], or "" (unsaid).
    pub kind: String,
    pub networks: Vec<String>,
    pub vlans: Vec<u16>,
}

/// The kinds of segment a municipality has.
pub use vagt_detect::kinds::SEGMENT_KINDS as KINDS;

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Addr {
        Addr::from_ip(s.parse().unwrap())
    }

    #[test]
    fn cidr_matching_works_for_both_families() {
        let n: IpNet = "10.20.0.0/16".parse().unwrap();
        assert!(n.contains(&addr("10.20.3.4")));
        assert!(!n.contains(&addr("10.21.0.1")));
        assert!(!n.contains(&addr("::ffff:10.21.0.1")));
        let odd: IpNet = "192.168.1.128/25".parse().unwrap();
        assert!(odd.contains(&addr("192.168.1.200")));
        assert!(!odd.contains(&addr("192.168.1.100")));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(&addr("fd12::1")));
        assert!(!v6.contains(&addr("fe80::1")));
        assert_eq!(n.to_string(), "10.20.0.0/16");
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("banana".parse::<IpNet>().is_err());
    }

    #[test]
    fn host_bits_are_refused_with_the_network_named() {
        let e = "10.20.1.0/16".parse::<IpNet>().unwrap_err();
        assert!(e.contains("10.20.0.0/16"), "{e}");
        assert!("192.168.1.129/25".parse::<IpNet>().is_err());
        assert!("fd00::1/8".parse::<IpNet>().is_err());
        for ok in ["0.0.0.0/0", "10.20.1.7", "10.20.1.0/24", "::/0", "fd00::/8"] {
            assert!(ok.parse::<IpNet>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn segments_resolve_by_vlan_then_address() {
        let site = Site {
            segments: vec![
                Segment {
                    name: "care".into(),
                    nets: vec!["10.20.0.0/16".parse().unwrap()],
                    vlans: vec![20],
                },
                Segment {
                    name: "school".into(),
                    nets: vec!["10.30.0.0/16".parse().unwrap()],
                    vlans: vec![],
                },
            ],
            local_nets: vec![],
        };
        let o = addr("10.30.0.5");
        let r = addr("8.8.8.8");
        assert_eq!(site.segment_of(20, &o, &r), "care");
        assert_eq!(site.segment_of(0, &o, &r), "school");
        assert_eq!(site.segment_of(0, &r, &r), UNASSIGNED);
        assert!(site.is_local(&o) && !site.is_local(&r));
    }
}
