//! QUIC metadata for quic.log and the TLS ClientHello inside QUIC: pure
//! functions over UDP payloads. [`initial`] reads long headers and removes
//! the Initial packet protection (RFC 9001 §5, RFC 9369 for version 2);
//! [`crypto`] walks the decrypted frames and puts the CRYPTO stream back
//! together so that [`crate::applayer::tls::parse_client_hello`] can read
//! it.

pub mod crypto;
pub mod initial;
pub mod parser;

pub use crypto::{CryptoAssembler, FrameError};
pub use initial::{
    decrypt_initial, parse_long_header, version_name, InitialError, LongHeader, PacketType,
};
