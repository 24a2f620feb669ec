//! IPv4 and IPv6 networks in CIDR notation, for allow-lists and indicator
//! lists.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A network: an address and a prefix length; a bare address is a /32 or
/// /128.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    bits: u8,
}

fn to_u128(a: IpAddr) -> (u128, u8) {
    match a {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    }
}

impl Cidr {
    pub fn contains(&self, a: IpAddr) -> bool {
        // An IPv4-mapped IPv6 address is the IPv4 address.
        let a = match a {
            IpAddr::V6(v) => v.to_ipv4_mapped().map_or(a, IpAddr::V4),
            v4 => v4,
        };
        let ((net, width), (have, have_width)) = (to_u128(self.addr), to_u128(a));
        if width != have_width {
            return false;
        }
        let host_bits = u32::from(width - self.bits);
        host_bits >= 128 || net >> host_bits == have >> host_bits
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let (ip, len) = match s.split_once('/') {
            Some((ip, len)) => (ip, Some(len)),
            None => (s, None),
        };
        let addr: IpAddr = ip.trim().parse().map_err(|_| {
            format!("'{s}' is not an address or network; write it like 10.20.0.0/16")
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match len {
            None => max,
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&b| b <= max)
                .ok_or_else(|| format!("'{s}': the prefix length must be 0 to {max}"))?,
        };
        let c = Cidr { addr, bits };
        let (net, width) = to_u128(addr);
        let host_bits = u32::from(width - bits);
        if host_bits < 128 && net & ((1u128 << host_bits) - 1) != 0 {
            return Err(format!(
                "'{s}' has host bits set; did you mean the network it is in?"
            ));
        }
        Ok(c)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_their_addresses_only() {
        let n: Cidr = "10.20.0.0/16".parse().unwrap();
        assert!(n.contains("10.20.3.4".parse().unwrap()));
        assert!(n.contains("::ffff:10.20.3.4".parse().unwrap()));
        assert!(!n.contains("10.21.0.1".parse().unwrap()));
        let any: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains("8.8.8.8".parse().unwrap()));
        assert!(!any.contains("fd00::1".parse().unwrap()));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        let host: Cidr = "192.0.2.7".parse().unwrap();
        assert!(host.contains("192.0.2.7".parse().unwrap()));
        assert!(!host.contains("192.0.2.8".parse().unwrap()));
        assert!("10.20.1.0/16".parse::<Cidr>().is_err());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("banana".parse::<Cidr>().is_err());
    }
}
