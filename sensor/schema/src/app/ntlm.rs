//! `ntlm` events: NTLM authentications, as Zeek's `ntlm.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// One NTLM authentication on a connection (SMB session setup, DCE/RPC
/// bind, LDAP SASL bind, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtlmRecord {
    /// Time of the first NTLM message.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// User name the client gave. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Workstation name the client gave. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Domain name the client gave. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// Server's NetBIOS computer name from its challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_nb_computer_name: Option<String>,
    /// Server's DNS computer name from its challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_dns_computer_name: Option<String>,
    /// Server's DNS tree (forest) name from its challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_tree_name: Option<String>,
    /// Whether the authentication succeeded, when the GSSAPI/SPNEGO result
    /// was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
}
