//! Sets of "likely server" ports.
//!
//! When a connection's first packet is not a SYN, nobody knows who opened
//! it. Zeek then guesses from the ports: a packet *from* a well-known server
//! port was probably sent by the server. The default set is the union of
//! the ports Zeek's base protocol scripts register, so the guesses agree.

/// A set of TCP ports and a set of UDP ports, as bitmaps.
#[derive(Clone)]
pub struct PortSet {
    tcp: Box<[u64; 1024]>,
    udp: Box<[u64; 1024]>,
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PortSet {{ tcp: {} ports, udp: {} ports }}",
            count(&self.tcp),
            count(&self.udp)
        )
    }
}

fn count(bits: &[u64; 1024]) -> u32 {
    bits.iter().map(|w| w.count_ones()).sum()
}

/// TCP ports of Zeek's base protocol analyzers.
pub const ZEEK_TCP: &[u16] = &[
    21, 22, 25, 53, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631,
    636, 989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269,
    5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
];

/// UDP ports of Zeek's base protocol analyzers and tunnel decoders.
pub const ZEEK_UDP: &[u16] = &[
    53, 67, 88, 123, 137, 161, 162, 389, 443, 514, 1812, 2123, 2152, 3544, 4789, 5060, 5072, 5353,
    5355, 6081, 20000,
];

impl PortSet {
    pub fn empty() -> PortSet {
        PortSet {
            tcp: Box::new([0; 1024]),
            udp: Box::new([0; 1024]),
        }
    }

    pub fn from_lists(tcp: &[u16], udp: &[u16]) -> PortSet {
        let mut s = PortSet::empty();
        for &p in tcp {
            s.tcp[usize::from(p / 64)] |= 1 << (p % 64);
        }
        for &p in udp {
            s.udp[usize::from(p / 64)] |= 1 << (p % 64);
        }
        s
    }

    pub fn zeek_defaults() -> PortSet {
        PortSet::from_lists(ZEEK_TCP, ZEEK_UDP)
    }

    #[inline]
    pub fn tcp(&self, port: u16) -> bool {
        self.tcp[usize::from(port / 64)] & (1 << (port % 64)) != 0
    }

    #[inline]
    pub fn udp(&self, port: u16) -> bool {
        self.udp[usize::from(port / 64)] & (1 << (port % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_is_per_transport() {
        let s = PortSet::zeek_defaults();
        assert!(s.tcp(80) && !s.udp(80));
        assert!(s.udp(53) && s.tcp(53));
        assert!(s.udp(5072) && !s.tcp(5072));
        assert!(!s.tcp(65535) && !s.tcp(0));
        assert!(!PortSet::empty().tcp(80));
    }
}
