//! `enip` events: EtherNet/IP encapsulation messages and the CIP messages
//! they carry, after the `enip.log` and `cip.log` of CISA's ICSNPP ENIP
//! plugin for Zeek (one record per CIP message, each with the
//! encapsulation header it came in; one record for a message without CIP).

use super::{ConnId, OtClass};
use serde::{Deserialize, Serialize};

/// An EtherNet/IP message, or one CIP request or response inside one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnipRecord {
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// The message came from the connection's originator.
    pub is_orig: bool,
    /// Encapsulation command in hex (`0x6f`) and its name (`Send RR
    /// Data`, `Register Session`, `List Identity`, ...).
    pub enip_command_code: String,
    pub enip_command: String,
    /// Bytes of encapsulated data after the 24-byte header.
    pub length: u16,
    /// Session handle in hex.
    pub session_handle: String,
    pub enip_status: String,
    /// Sender context in hex.
    pub sender_context: String,
    /// Options in hex.
    pub options: String,
    /// Sequence count of a connected CIP message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cip_sequence_count: Option<u16>,
    /// `request` or `response` (CIP messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// CIP service in hex (`0x4c`) and its name (`Read Data`, `Set
    /// Attribute List`, `Stop`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cip_service_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cip_service: Option<String>,
    /// General status of a CIP response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cip_status: Option<String>,
    /// Request path: class (hex and name), instance and attribute (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_id: Option<String>,
    /// Vagt: what a request does (CIP requests, and encapsulation
    /// requests without CIP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<OtClass>,
}
