//! TLS metadata for ssl.log and x509.log: pure functions over the bytes of
//! one direction of a connection. This module owns no connection state; the
//! application-layer framework keeps a [`RecordReader`] per direction and
//! hands each handshake message to the parsers here.
//!
//! * [`handshake`] — records to handshake messages, incrementally;
//! * [`client_hello`], [`server_hello`] — what ssl.log takes from the hellos;
//! * [`fingerprint`] — JA3, JA3S, JA4, JA4S;
//! * [`certificate`] — the server certificate's x509.log fields;
//! * [`names`] — Zeek's names for versions, ciphers, curves and alerts;
//! * [`dtls`] — the same over UDP datagrams.

pub mod certificate;
pub mod client_hello;
pub mod dtls;
mod extensions;
pub mod fingerprint;
pub mod handshake;
pub mod names;
pub mod parser;
pub mod server_hello;
pub mod session;

pub use certificate::{parse_certificate_message, CertError, CertInfo};
pub use client_hello::{parse_client_hello, ClientHello};
pub use extensions::is_grease;
pub use handshake::{ContentType, Event, Malformed, RecordReader};
pub use server_hello::{parse_server_hello, parse_server_key_exchange_curve, ServerHello};

/// Why a hello could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelloError {
    /// The message ends before a field it announces.
    Truncated,
    /// A length or value that the format does not allow.
    Invalid,
    /// A version whose layout is not the one handled here (SSLv2, TLS 1.3
    /// draft 18 and earlier).
    UnsupportedVersion(u16),
}

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
pub(crate) mod testutil;
