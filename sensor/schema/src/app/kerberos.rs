//! `kerberos` events: one per Kerberos connection, as Zeek's
//! `kerberos.log` (the first AS or TGS exchange it carries).

use super::ConnId;
use serde::{Deserialize, Serialize};

/// A Kerberos ticket request and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KerberosRecord {
    /// Time of the first Kerberos message.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// "AS" (authentication service) or "TGS" (ticket-granting service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<String>,
    /// The client principal, "name/REALM". PERSONAL (a user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The service principal asked for, e.g. "krbtgt/EXAMPLE.ORG" or
    /// "cifs/host.example.org". PERSONAL (may name a host or user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Whether the KDC issued a ticket (false on a KRB-ERROR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    /// The KRB-ERROR code (not in Zeek's log; Zeek keeps it internally).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// The error's text, or Zeek's name for its code (e.g.
    /// "KDC_ERR_PREAUTH_REQUIRED").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    /// Requested start of the ticket's validity, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<f64>,
    /// Requested end of the ticket's validity, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub till: Option<f64>,
    /// Encryption type of the issued ticket, e.g. "aes256-cts-hmac-sha1-96".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// A forwardable ticket was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwardable: Option<bool>,
    /// A renewable ticket was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewable: Option<bool>,
}
