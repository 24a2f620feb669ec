//! `ldap` and `ldap_search` events: LDAP operations as Zeek's `ldap.log`
//! (every operation but searches) and `ldap_search.log`, one record per
//! message id of a connection.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// One LDAP operation (request and response) other than a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdapRecord {
    /// Time of the operation's first message.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    pub message_id: i64,
    /// LDAP version of a bind request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// "bind simple", "bind SASL", "unbind", "add", "modify", "delete",
    /// "compare", "abandon", "extended", "intermediate", ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opcode: Option<String>,
    /// The result, e.g. "success", "invalid credentials".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The server's diagnostic text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic_message: Option<String>,
    /// The object acted on: the bind name, the entry's DN, the extended
    /// operation's OID. PERSONAL (bind names and DNs name users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The SASL mechanism of a bind ("REDACTED" for a simple bind's
    /// password, which is never written), or a modify request's changes.
    /// PERSONAL (changes may carry names and addresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
}

/// One LDAP search: the request and the count and result of its answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdapSearchRecord {
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    pub message_id: i64,
    /// "base", "single" or "tree".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// "never", "searching", "finding" or "always".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deref_aliases: Option<String>,
    /// Where the search starts (a DN). PERSONAL (may name a user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_object: Option<String>,
    /// Entries returned.
    pub result_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic_message: Option<String>,
    /// The search filter in RFC 4515 text form, as Zeek writes it.
    /// PERSONAL (filters often name the user looked up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Attributes asked for; absent, as in Zeek's default
    /// (`LDAP::default_log_search_attributes = F`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
}
