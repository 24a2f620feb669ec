//! `ssh` events: one per SSH connection, as Zeek's `ssh.log`, plus the
//! HASSH fingerprints of both key-exchange offers.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// What the clear-text start of an SSH connection showed: versions, the
/// negotiated algorithms, the server's host key, and the authentication
/// outcome Zeek infers from the sizes of the first encrypted packets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SshRecord {
    /// Time the first version string was seen.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// SSH major version both sides agree on (1 or 2; 0 when they cannot
    /// agree); absent until both version strings were seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// Whether authentication succeeded, inferred from packet sizes;
    /// absent when it could not be told (compression on, or too little seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_success: Option<bool>,
    /// Authentication attempts inferred from packet sizes.
    pub auth_attempts: u64,
    /// "OUTBOUND" (local client, remote server) or "INBOUND"; absent when
    /// both or neither address is local.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// The client's version string, e.g. "SSH-2.0-OpenSSH_9.7".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The server's version string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kex_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key_alg: Option<String>,
    /// "SHA256:" and the base64 SHA-256 of the server's host key blob, cut
    /// to 32 characters as Zeek writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key_fingerprint: Option<String>,
    /// HASSH of the client: MD5 (hex) of its KEXINIT's
    /// "kex;encryption;mac;compression" lists (client to server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hassh: Option<String>,
    /// HASSH-server: the same over the server's KEXINIT (server to client
    /// lists).
    #[serde(
        rename = "hasshServer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub hassh_server: Option<String>,
}
