//! `ssl` and `x509` events: one per TLS (or QUIC) handshake, as Zeek's
//! `ssl.log`, and one per certificate a connection carried, as Zeek's
//! `x509.log`, plus Vagt's JA3/JA4 fingerprints.

use super::ConnId;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A TLS handshake as Zeek's ssl.log writes it, written when the
/// handshake is established or, failing that, when the connection ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SslRecord {
    /// Time the handshake was first seen (its first hello).
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// Version the server chose, Zeek's name ("TLSv12", "TLSv13").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Cipher suite the server chose, IANA name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// Key exchange group the server chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// SNI the client asked for. PERSONAL (host names can name people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    pub resumed: bool,
    /// The last plaintext alert, by Zeek's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_alert: Option<String>,
    /// ALPN protocol the server chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_protocol: Option<String>,
    /// Both sides switched to encrypted records and one was seen.
    pub established: bool,
    /// Zeek's letters for the handshake messages and records, client
    /// letters upper case, in the order seen.
    pub ssl_history: String,
    /// SHA-256 of each server certificate, server's own first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_chain_fps: Option<Vec<String>>,
    /// SHA-256 of each client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_chain_fps: Option<Vec<String>>,
    /// Subject of the server's certificate. PERSONAL (can name a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Subject of the client's certificate. PERSONAL (names the user or
    /// device that authenticated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_issuer: Option<String>,
    /// Whether the SNI matches a name of the server certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni_matches_cert: Option<bool>,
    /// Vagt: JA3 of the ClientHello (MD5, hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja3: Option<String>,
    /// Vagt: JA3S of the ServerHello.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja3s: Option<String>,
    /// Vagt: JA4 of the ClientHello.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    /// Vagt: JA4S of the ServerHello.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4s: Option<String>,
}

/// One certificate as Zeek's x509.log writes it, plus the connection that
/// carried it (Zeek's x509.log has no connection columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct X509Record {
    /// Time the certificate was seen.
    pub ts: f64,
    /// The connection that carried the certificate.
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// SHA-256 of the DER certificate, hex.
    pub fingerprint: String,
    #[serde(rename = "certificate.version")]
    pub version: u32,
    /// Serial number, upper-case hex.
    #[serde(rename = "certificate.serial")]
    pub serial: String,
    /// RFC 2253 subject. PERSONAL for client certificates (names people).
    #[serde(rename = "certificate.subject")]
    pub subject: String,
    #[serde(rename = "certificate.issuer")]
    pub issuer: String,
    /// Seconds since the epoch.
    #[serde(rename = "certificate.not_valid_before")]
    pub not_valid_before: f64,
    #[serde(rename = "certificate.not_valid_after")]
    pub not_valid_after: f64,
    #[serde(rename = "certificate.key_alg")]
    pub key_alg: String,
    #[serde(rename = "certificate.sig_alg")]
    pub sig_alg: String,
    #[serde(
        rename = "certificate.key_type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_type: Option<String>,
    #[serde(
        rename = "certificate.key_length",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_length: Option<u32>,
    #[serde(
        rename = "certificate.exponent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub exponent: Option<String>,
    #[serde(
        rename = "certificate.curve",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub curve: Option<String>,
    /// PERSONAL for client certificates.
    #[serde(rename = "san.dns", default, skip_serializing_if = "Vec::is_empty")]
    pub san_dns: Vec<String>,
    /// PERSONAL for client certificates.
    #[serde(rename = "san.uri", default, skip_serializing_if = "Vec::is_empty")]
    pub san_uri: Vec<String>,
    /// Mail addresses. PERSONAL.
    #[serde(rename = "san.email", default, skip_serializing_if = "Vec::is_empty")]
    pub san_email: Vec<String>,
    #[serde(rename = "san.ip", default, skip_serializing_if = "Vec::is_empty")]
    pub san_ip: Vec<IpAddr>,
    #[serde(
        rename = "basic_constraints.ca",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub basic_constraints_ca: Option<bool>,
    #[serde(
        rename = "basic_constraints.path_len",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub basic_constraints_path_len: Option<u32>,
    /// The server's own certificate (first of the server's chain).
    pub host_cert: bool,
    /// Sent by the client.
    pub client_cert: bool,
}
