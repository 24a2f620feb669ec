//! `auth` events: a login attempt and its outcome, for protocols whose own
//! record (as Zeek logs it) does not carry the outcome of each attempt.
//! FTP writes one per USER/PASS answered (Zeek's ftp.log leaves PASS out);
//! SSH, Kerberos, LDAP, NTLM and HTTP carry theirs in their own records.
//! The brute-force detector reads both.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// One login attempt answered by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthRecord {
    /// Time of the server's answer.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// The protocol: `ftp`.
    pub service: String,
    /// The user name tried. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub success: bool,
    /// The server's reply code (FTP: 230 logged in, 530 not logged in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_code: Option<u16>,
}
