//! `ftp` events: FTP control-channel commands with their replies, as
//! Zeek's `ftp.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One FTP command and the reply it got. By default only the commands Zeek
/// logs are written (file transfers and data-channel setup: APPE, DELE,
/// RETR, STOR, STOU, ACCT, PORT, PASV, EPRT, EPSV); a session with none of
/// them gets one record at its end. Text fields carry the bytes on the wire,
/// anything outside printable ASCII written as `\xNN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FtpRecord {
    /// Time the command was sent.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// The session's user name ("<unknown>" before USER). PERSONAL.
    pub user: String,
    /// The session's password: written for anonymous logins (user
    /// anonymous, ftp, ftpuser, guest: the "password" is a mail address),
    /// "<hidden>" otherwise. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The argument; for file commands the full URL
    /// ("ftp://host/dir/file"). PERSONAL (file and directory names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arg: Option<String>,
    /// What the file on the data channel is by its first bytes (content
    /// sniffing, as for HTTP bodies), set when the data connection showed
    /// them before this command was written, as Zeek's `mime_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// MD5, SHA-1 and SHA-256 of that file (`[app] file_hashes`; Zeek
    /// has them in files.log), when its data connection carried it whole
    /// and closed before this command was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// File size announced by the server (RETR's 150 reply, SIZE's 213).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_msg: Option<String>,
    /// The data connection the command set up: passive (PASV/EPSV) or
    /// active (PORT/EPRT).
    #[serde(
        rename = "data_channel.passive",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data_channel_passive: Option<bool>,
    /// The host that will open the data connection.
    #[serde(
        rename = "data_channel.orig_h",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data_channel_orig_h: Option<IpAddr>,
    /// The host that will accept it.
    #[serde(
        rename = "data_channel.resp_h",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data_channel_resp_h: Option<IpAddr>,
    #[serde(
        rename = "data_channel.resp_p",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data_channel_resp_p: Option<u16>,
}
