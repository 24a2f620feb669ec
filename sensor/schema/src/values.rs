//! The closed sets of the schema: `proto`, `conn_state` and `end_reason`.
//!
//! Each is a Rust enum that travels as exactly the string the schema
//! always wrote (`"tcp"`, `"RSTOS0"`, `"timeout"`), so typing them changed
//! no byte on the wire. `as_str()` hands out a `&'static str`, which is what
//! the fast JSON writer and the Zeek TSV writer copy: no allocation per
//! record.
//!
//! There is deliberately no `Other(String)` catch-all. The sensor only ever
//! writes the listed values, and a consumer (the analyzer, reading from
//! Kafka) matches on them exhaustively; a catch-all would let a typo or a
//! value from a newer sensor through as data nobody handles. An unknown
//! string is an error that names the field, the value and the accepted
//! values. A new value is therefore a change consumers must notice: it
//! comes with a `schema_version` bump, and consumers are upgraded first
//! (SCHEMA.md, "Closed sets").

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A string that is not a value of one of the closed sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// The schema field (`proto`, `conn_state`, `end_reason`).
    pub field: &'static str,
    /// What was read.
    pub value: String,
    /// What the field accepts.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}: expected one of {} (a newer sensor's schema? \
             upgrade the reader first)",
            self.field,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

/// Declares one closed set: the enum, its wire strings in one table, and
/// the traits every such set has. One table per set keeps `as_str`,
/// `FromStr`, serde and the list of accepted values from drifting apart.
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $name:ident, $field:literal {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            /// Every wire string, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($wire,)+];
            /// The schema field this set belongs to.
            pub const FIELD: &'static str = $field;

            /// The wire string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad` rather than `write_str`, so width and alignment
                // work as they do for the strings these replaced.
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        field: $field,
                        value: s.to_string(),
                        expected: Self::NAMES,
                    }),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "one of the {} strings ({})", $field, $name::NAMES.join(", "))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(|e: UnknownValue| E::custom(e))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

closed_set! {
    /// The transport of a connection, as Zeek's `proto` column names it.
    Proto, "proto" {
        Tcp = "tcp",
        Udp = "udp",
        /// ICMP and ICMPv6 alike (`ip_proto` tells them apart).
        Icmp = "icmp",
        /// Any other IP protocol (SCTP, GRE, ESP, ...).
        UnknownTransport = "unknown_transport",
    }
}

closed_set! {
    /// Zeek's connection state (the `conn_state` column of conn.log).
    ConnState, "conn_state" {
        /// Connection attempt seen, no reply.
        S0 = "S0",
        /// Established, not terminated.
        S1 = "S1",
        /// Normal establishment and termination.
        Sf = "SF",
        /// Connection attempt rejected.
        Rej = "REJ",
        /// Established; close attempt by the originator only.
        S2 = "S2",
        /// Established; close attempt by the responder only.
        S3 = "S3",
        /// Established; the originator aborted (reset).
        Rsto = "RSTO",
        /// Established; the responder aborted (reset).
        Rstr = "RSTR",
        /// The originator sent a SYN, then a reset; no SYN-ACK.
        Rstos0 = "RSTOS0",
        /// The responder sent a SYN-ACK, then a reset; no SYN seen.
        Rstrh = "RSTRH",
        /// The originator sent a SYN, then a FIN; no SYN-ACK.
        Sh = "SH",
        /// The responder sent a SYN-ACK, then a FIN; no SYN seen.
        Shr = "SHR",
        /// No SYN seen: midstream traffic, or anything else.
        Oth = "OTH",
    }
}

impl ConnState {
    /// The handshake completed (Zeek's established states, however the
    /// connection then ended): the responder answered, a session existed.
    pub fn established(self) -> bool {
        matches!(
            self,
            ConnState::Sf
                | ConnState::S1
                | ConnState::S2
                | ConnState::S3
                | ConnState::Rsto
                | ConnState::Rstr
        )
    }
}

closed_set! {
    /// Why the sensor wrote a connection record.
    EndReason, "end_reason" {
        /// A TCP close or reset completed and its linger time passed.
        Closed = "closed",
        /// No packets for the inactivity timeout.
        Timeout = "timeout",
        /// A new connection took the same ports.
        Reused = "reused",
        /// The connection table was full.
        Evicted = "evicted",
        /// End of input, or the sensor stopped.
        Shutdown = "shutdown",
        /// A snapshot of a connection still open (active timeout).
        Interim = "interim",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T], names: &[&str])
    where
        T: Copy + fmt::Debug + fmt::Display + FromStr + PartialEq + Serialize,
        T: for<'de> Deserialize<'de>,
        <T as FromStr>::Err: fmt::Debug,
    {
        assert_eq!(all.len(), names.len());
        for (&v, &name) in all.iter().zip(names) {
            assert_eq!(v.to_string(), name);
            assert_eq!(name.parse::<T>().expect("parses"), v);
            let json = serde_json::to_string(&v).expect("serialise");
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<T>(&json).expect("deserialise"), v);
        }
    }

    #[test]
    fn every_value_round_trips_through_its_wire_string() {
        round_trips(Proto::ALL, &["tcp", "udp", "icmp", "unknown_transport"]);
        round_trips(
            ConnState::ALL,
            &[
                "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH",
                "SHR", "OTH",
            ],
        );
        round_trips(
            EndReason::ALL,
            &[
                "closed", "timeout", "reused", "evicted", "shutdown", "interim",
            ],
        );
    }

    #[test]
    fn unknown_strings_are_errors_that_name_field_value_and_choices() {
        let e = "sctp".parse::<Proto>().unwrap_err();
        assert_eq!(e.field, "proto");
        assert_eq!(e.value, "sctp");
        let msg = e.to_string();
        assert!(msg.contains("unknown proto \"sctp\""), "{msg}");
        assert!(msg.contains("tcp, udp, icmp, unknown_transport"), "{msg}");

        // Case matters: Zeek's states are upper case on the wire.
        assert!("sf".parse::<ConnState>().is_err());
        let err = serde_json::from_str::<ConnState>("\"XX\"").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown conn_state \"XX\""), "{msg}");
        assert!(msg.contains("S0, S1, SF"), "{msg}");

        let err = serde_json::from_str::<EndReason>("\"open\"").unwrap_err();
        assert!(
            err.to_string().contains("unknown end_reason \"open\""),
            "{err}"
        );
        // Not a string at all.
        let err = serde_json::from_str::<EndReason>("3").unwrap_err();
        assert!(
            err.to_string().contains("one of the end_reason strings"),
            "{err}"
        );
    }

    #[test]
    fn wire_strings_need_no_json_escape() {
        // The fast writer copies them between quotes without the escape
        // scan (json.rs, `key_name`).
        for name in Proto::NAMES
            .iter()
            .chain(ConnState::NAMES)
            .chain(EndReason::NAMES)
        {
            assert!(
                name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "{name}"
            );
        }
    }

    #[test]
    fn display_honours_width_like_the_strings_did() {
        assert_eq!(format!("{:<6}|", ConnState::Sf), "SF    |");
        assert_eq!(format!("{:>5}", Proto::Udp), "  udp");
    }
}
