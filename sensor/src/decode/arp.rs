//! ARP for IPv4 over Ethernet (RFC 826), read in place: a checked view of
//! the 28 bytes, in smoltcp's style. [`ArpPacket::new_checked`] refuses
//! anything that is not Ethernet/IPv4 ARP or is cut short, and every
//! accessor reads through `get`, so even a view made with
//! [`ArpPacket::new_unchecked`] over a short buffer reads zeros and never
//! panics. Nothing here allocates or keeps state: what a binding means is
//! the writer's business (`crate::arp`).

use std::net::Ipv4Addr;

/// Hardware type Ethernet.
const HTYPE_ETHERNET: u16 = 1;
/// Protocol type IPv4.
const PTYPE_IPV4: u16 = 0x0800;
/// Bytes of an Ethernet/IPv4 ARP packet (without Ethernet padding).
pub const ARP_LEN: usize = 28;

/// Why a buffer is not an Ethernet/IPv4 ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArpError {
    /// Fewer than 28 bytes.
    Truncated,
    /// Another hardware or protocol type, or address lengths other than 6
    /// and 4 (token ring, IPv6 never uses ARP, ...).
    NotEthernetIpv4,
}

/// The operation field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpOp {
    Request,
    Reply,
    /// RARP, InARP and the rest: not address bindings of IPv4 hosts.
    Other(u16),
}

impl ArpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ArpOp::Request => "request",
            ArpOp::Reply => "reply",
            ArpOp::Other(_) => "other",
        }
    }
}

/// A view of an ARP packet's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArpPacket<'a> {
    buf: &'a [u8],
}

impl<'a> ArpPacket<'a> {
    /// A view without any check; accessors of a short buffer read zeros.
    pub fn new_unchecked(buf: &'a [u8]) -> ArpPacket<'a> {
        ArpPacket { buf }
    }

    /// A view of an Ethernet/IPv4 ARP packet, or why `buf` is not one.
    pub fn new_checked(buf: &'a [u8]) -> Result<ArpPacket<'a>, ArpError> {
        let p = ArpPacket::new_unchecked(buf);
        p.check()?;
        Ok(p)
    }

    /// Whether the buffer holds a whole Ethernet/IPv4 ARP packet.
    pub fn check(&self) -> Result<(), ArpError> {
        if self.buf.len() < ARP_LEN {
            // The fixed part says what the addresses are; judge the type
            // first when it is there, so that a short RARP frame is not
            // called a truncated ARP one.
            if self.buf.len() >= 8 && !self.is_ethernet_ipv4() {
                return Err(ArpError::NotEthernetIpv4);
            }
            return Err(ArpError::Truncated);
        }
        if !self.is_ethernet_ipv4() {
            return Err(ArpError::NotEthernetIpv4);
        }
        Ok(())
    }

    fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == HTYPE_ETHERNET
            && self.protocol_type() == PTYPE_IPV4
            && self.hardware_len() == 6
            && self.protocol_len() == 4
    }

    fn u16_at(&self, at: usize) -> u16 {
        match self.buf.get(at..at + 2) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    fn bytes<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(s) = self.buf.get(at..at + N) {
            out.copy_from_slice(s);
        }
        out
    }

    pub fn hardware_type(&self) -> u16 {
        self.u16_at(0)
    }

    pub fn protocol_type(&self) -> u16 {
        self.u16_at(2)
    }

    pub fn hardware_len(&self) -> u8 {
        self.buf.get(4).copied().unwrap_or(0)
    }

    pub fn protocol_len(&self) -> u8 {
        self.buf.get(5).copied().unwrap_or(0)
    }

    pub fn operation(&self) -> ArpOp {
        match self.u16_at(6) {
            1 => ArpOp::Request,
            2 => ArpOp::Reply,
            n => ArpOp::Other(n),
        }
    }

    pub fn sender_hardware_addr(&self) -> [u8; 6] {
        self.bytes(8)
    }

    pub fn sender_protocol_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.bytes::<4>(14))
    }

    pub fn target_hardware_addr(&self) -> [u8; 6] {
        self.bytes(18)
    }

    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.bytes::<4>(24))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request from 10.1.0.7 (00:1b:21:00:00:07) for 10.1.0.1.
    fn request() -> Vec<u8> {
        let mut b = vec![0, 1, 0x08, 0x00, 6, 4, 0, 1];
        b.extend_from_slice(&[0x00, 0x1b, 0x21, 0, 0, 7, 10, 1, 0, 7]);
        b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 1, 0, 1]);
        b
    }

    #[test]
    fn fields_are_read_where_rfc_826_puts_them() {
        let b = request();
        let p = ArpPacket::new_checked(&b).expect("valid");
        assert_eq!(p.operation(), ArpOp::Request);
        assert_eq!(p.sender_hardware_addr(), [0x00, 0x1b, 0x21, 0, 0, 7]);
        assert_eq!(p.sender_protocol_addr(), Ipv4Addr::new(10, 1, 0, 7));
        assert_eq!(p.target_hardware_addr(), [0; 6]);
        assert_eq!(p.target_protocol_addr(), Ipv4Addr::new(10, 1, 0, 1));
        let mut reply = b.clone();
        reply[7] = 2;
        assert_eq!(
            ArpPacket::new_checked(&reply).map(|p| p.operation()),
            Ok(ArpOp::Reply)
        );
        // Ethernet pads the 28 bytes to 46: padding is not an error.
        let mut padded = b.clone();
        padded.resize(46, 0);
        assert!(ArpPacket::new_checked(&padded).is_ok());
    }

    #[test]
    fn truncated_and_foreign_packets_are_errors_never_panics() {
        let b = request();
        for n in 0..ARP_LEN {
            let cut = &b[..n];
            assert_eq!(
                ArpPacket::new_checked(cut),
                Err(ArpError::Truncated),
                "{n} bytes"
            );
            // Unchecked views of any length read without panicking.
            let p = ArpPacket::new_unchecked(cut);
            let _ = (
                p.operation(),
                p.sender_hardware_addr(),
                p.sender_protocol_addr(),
                p.target_hardware_addr(),
                p.target_protocol_addr(),
                p.hardware_len(),
                p.protocol_len(),
            );
        }
        let unchecked = ArpPacket::new_unchecked(&b[..20]);
        assert_eq!(unchecked.target_protocol_addr(), Ipv4Addr::UNSPECIFIED);
        for (at, v) in [(1, 6u8), (2, 0x86), (4, 8), (5, 16)] {
            let mut odd = b.clone();
            odd[at] = v;
            assert_eq!(
                ArpPacket::new_checked(&odd),
                Err(ArpError::NotEthernetIpv4),
                "byte {at} = {v}"
            );
        }
        // RARP's operations are read, not trusted.
        let mut rarp = b.clone();
        rarp[7] = 3;
        assert_eq!(
            ArpPacket::new_checked(&rarp).map(|p| p.operation()),
            Ok(ArpOp::Other(3))
        );
    }

    #[test]
    fn any_bytes_at_all_never_panic() {
        // A fixed-seed walk over random buffers of every short length.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let buf: Vec<u8> = (0..len).map(|i| (x >> (i % 8 * 8)) as u8).collect();
            let p = ArpPacket::new_unchecked(&buf);
            let _ = (p.check(), p.operation(), p.sender_protocol_addr());
            let _ = ArpPacket::new_checked(&buf);
        }
    }
}
