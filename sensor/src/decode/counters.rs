//! Per-worker decode counters: what was decoded, and why decoding stopped.
//!
//! Every packet that cannot be decoded completely is counted under exactly
//! one [`DecodeError`] reason, in the spirit of Zeek's weird.log and
//! Suricata's decoder events, and processing continues with the next packet.
//! The counters are plain arrays indexed by enum, so counting is one add.

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        #[repr(u8)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const COUNT: usize = [$($label),+].len();

            /// The stable name used in statistics and reports.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }
    };
}

named_enum! {
    /// Why a packet could not be decoded (completely).
    DecodeError {
        UnsupportedLinkType => "unsupported_link_type",
        TruncatedLinkHeader => "truncated_link_header",
        TruncatedVlan => "truncated_vlan",
        TruncatedMpls => "truncated_mpls",
        MplsUnknownPayload => "mpls_unknown_payload",
        TruncatedPppoe => "truncated_pppoe",
        TruncatedIp => "truncated_ip",
        UnknownIpVersion => "unknown_ip_version",
        Ipv4BadHeaderLength => "ipv4_bad_header_length",
        IpHeaderLargerThanPacket => "ip_header_larger_than_total_length",
        BadIpChecksum => "bad_ip_checksum",
        Ipv6BadExtensionHeader => "ipv6_bad_extension_header",
        Ipv6NoNextHeader => "ipv6_no_next_header",
        IncompleteFragment => "incompletely_captured_fragment",
        TruncatedTcp => "truncated_tcp_header",
        BadTcpHeaderLength => "bad_tcp_header_length",
        BadTcpChecksum => "bad_tcp_checksum",
        TruncatedUdp => "truncated_udp_header",
        BadUdpChecksum => "bad_udp_checksum",
        TruncatedIcmp => "truncated_icmp_header",
        BadIcmpChecksum => "bad_icmp_checksum",
        TruncatedSctp => "truncated_sctp_header",
        BadGre => "bad_gre_header",
        GreUnknownProtocol => "gre_unknown_protocol",
        BadErspan => "bad_erspan_header",
        BadVxlan => "bad_vxlan_header",
        BadGeneve => "bad_geneve_header",
        BadAyiya => "bad_ayiya_header",
        BadTeredo => "bad_teredo_header",
        BadGtp => "bad_gtp_header",
        TunnelDepthExceeded => "tunnel_depth_exceeded",
        Truncated80211 => "truncated_ieee80211",
        TruncatedRadiotap => "truncated_radiotap",
        TruncatedArp => "truncated_arp",
        FragmentTableFull => "fragment_table_full",
    }
}

named_enum! {
    /// Protocol layers counted as they are decoded.
    Decoded {
        Ethernet => "ethernet",
        LinuxSll => "linux_sll",
        Loopback => "loopback",
        RawIp => "raw_ip",
        Ppp => "ppp",
        Ieee80211 => "ieee80211",
        Vlan => "vlan",
        QinQ => "qinq",
        Mpls => "mpls",
        Pppoe => "pppoe",
        VnTag => "vntag",
        FabricPath => "fabricpath",
        Pbb => "pbb",
        Arp => "arp",
        NonIp => "non_ip",
        Ipv4 => "ipv4",
        Ipv6 => "ipv6",
        Fragment => "ip_fragment",
        Reassembled => "ip_reassembled",
        Tcp => "tcp",
        Udp => "udp",
        Icmp => "icmp",
        Icmpv6 => "icmpv6",
        Sctp => "sctp",
        OtherIpProto => "other_ip_protocol",
        Gre => "gre",
        Erspan => "erspan",
        Vxlan => "vxlan",
        Geneve => "geneve",
        Ayiya => "ayiya",
        Teredo => "teredo",
        Gtp => "gtp",
        IpInIp => "ip_in_ip",
    }
}

/// Counters one worker keeps; merged into the sensor statistics at the end.
#[derive(Clone, Debug)]
pub struct DecodeCounters {
    pub decoded: [u64; Decoded::COUNT],
    pub errors: [u64; DecodeError::COUNT],
}

impl Default for DecodeCounters {
    fn default() -> Self {
        DecodeCounters {
            decoded: [0; Decoded::COUNT],
            errors: [0; DecodeError::COUNT],
        }
    }
}

impl DecodeCounters {
    #[inline]
    pub fn count(&mut self, what: Decoded) {
        self.decoded[what as usize] += 1;
    }

    #[inline]
    pub fn error(&mut self, why: DecodeError) {
        self.errors[why as usize] += 1;
    }

    pub fn merge(&mut self, other: &DecodeCounters) {
        for (a, b) in self.decoded.iter_mut().zip(other.decoded.iter()) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(other.errors.iter()) {
            *a += b;
        }
    }

    pub fn total_errors(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Non-zero error counters by name.
    pub fn errors_by_name(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DecodeError::ALL
            .iter()
            .map(|e| (e.name(), self.errors[*e as usize]))
            .filter(|(_, n)| *n > 0)
    }

    /// Non-zero decoded-layer counters by name.
    pub fn decoded_by_name(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Decoded::ALL
            .iter()
            .map(|d| (d.name(), self.decoded[*d as usize]))
            .filter(|(_, n)| *n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_indices_dense() {
        let mut names: Vec<_> = DecodeError::ALL.iter().map(|e| e.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DecodeError::COUNT);
        for (i, e) in DecodeError::ALL.iter().enumerate() {
            assert_eq!(*e as usize, i);
        }
        for (i, d) in Decoded::ALL.iter().enumerate() {
            assert_eq!(*d as usize, i);
        }
    }
}
