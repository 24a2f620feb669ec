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

    /// The prefix length.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Whether the network is a single address (/32 or /128).
    pub fn is_host(&self) -> bool {
        self.bits == if self.addr.is_ipv4() { 32 } else { 128 }
    }

    /// The key of the network in a prefix map: family, length and the
    /// network's bits.
    pub fn key(&self) -> (bool, u8, u128) {
        (self.addr.is_ipv6(), self.bits, to_u128(self.addr).0)
    }

    /// The key of the network of `bits` that `a` is in (see [`Cidr::key`]);
    /// an IPv4-mapped IPv6 address is the IPv4 address.
    pub fn key_of(a: IpAddr, bits: u8) -> (bool, u8, u128) {
        let a = match a {
            IpAddr::V6(v) => v.to_ipv4_mapped().map_or(a, IpAddr::V4),
            v4 => v4,
        };
        let (n, width) = to_u128(a);
        let host_bits = u32::from(width.saturating_sub(bits));
        let net = if host_bits >= 128 {
            0
        } else {
            n >> host_bits << host_bits
        };
        (a.is_ipv6(), bits, net)
    }

    /// Like parsing, but host bits set below the prefix are cleared
    /// instead of refused, as Zeek's `to_subnet` does: feeds are loaded as
    /// they are.
    pub fn parse_masked(s: &str) -> Result<Cidr, String> {
        let (addr, bits) = split(s)?;
        let (_, _, net) = Cidr::key_of(addr, bits);
        let addr = match addr {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from(net as u32)),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(net)),
        };
        Ok(Cidr { addr, bits })
    }
}

/// An address and its prefix length (the whole address when none is
/// given), checked against the address family.
fn split(s: &str) -> Result<(IpAddr, u8), String> {
    let (ip, len) = match s.split_once('/') {
        Some((ip, len)) => (ip, Some(len)),
        None => (s, None),
    };
    let addr: IpAddr = ip
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not an address or network; write it like 10.20.0.0/16"))?;
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
    Ok((addr, bits))
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let (addr, bits) = split(s)?;
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

    #[test]
    fn prefix_map_keys_agree_with_contains() {
        let n: Cidr = "10.20.0.0/16".parse().unwrap();
        assert_eq!(n.key(), Cidr::key_of("10.20.3.4".parse().unwrap(), 16));
        assert_eq!(
            n.key(),
            Cidr::key_of("::ffff:10.20.3.4".parse().unwrap(), 16)
        );
        assert_ne!(n.key(), Cidr::key_of("10.21.0.1".parse().unwrap(), 16));
        let any: Cidr = "::/0".parse().unwrap();
        assert_eq!(any.key(), Cidr::key_of("fd00::1".parse().unwrap(), 0));
        let m = Cidr::parse_masked("10.20.1.7/16").unwrap();
        assert_eq!(m, n);
        assert!(m.contains("10.20.9.9".parse().unwrap()));
        assert!(Cidr::parse_masked("10.0.0.0/40").is_err());
    }
}
