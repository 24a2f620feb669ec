//! `smb_mapping` and `smb_files` events: SMB tree connects and file actions,
//! as Zeek's `smb_mapping.log` and `smb_files.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// One tree (share) a client connected to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmbMappingRecord {
    /// Time the tree connect was requested.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// The share's UNC path (`\\server\share`). PERSONAL (share names
    /// often carry user or host names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Type of resource as SMB1 names it (`A:`, `IPC`); unset for SMB2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// File system of the share (SMB1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_file_system: Option<String>,
    /// `DISK`, `PIPE` or `PRINT`.
    pub share_type: String,
}

/// One action on a file over SMB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmbFilesRecord {
    /// Time of the request that first named the file.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// `SMB::FILE_OPEN`, `SMB::FILE_DELETE`, `SMB::FILE_RENAME`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The share's UNC path. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// File name within the share. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// File size in bytes (end of file) as the server reported it.
    pub size: u64,
    /// For a rename, the name before it. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_name: Option<String>,
    #[serde(
        rename = "times.modified",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub times_modified: Option<f64>,
    #[serde(
        rename = "times.accessed",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub times_accessed: Option<f64>,
    #[serde(
        rename = "times.created",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub times_created: Option<f64>,
    #[serde(
        rename = "times.changed",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub times_changed: Option<f64>,
}
