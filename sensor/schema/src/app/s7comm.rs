//! `s7comm` events: one per S7comm (or S7comm-plus) message on ISO-TSAP
//! (TCP 102), after the `s7comm.log` (and `s7comm_plus.log`) of CISA's
//! ICSNPP S7comm plugin for Zeek.

use super::{ConnId, OtClass};
use serde::{Deserialize, Serialize};

/// One S7comm PDU (classic, protocol id 0x32) or S7comm-plus PDU (0x72).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S7commRecord {
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// The message came from the connection's originator.
    pub is_orig: bool,
    /// Remote Operating Service Control: 1 Job-Request, 2 ACK, 3 ACK-Data,
    /// 7 User-Data (classic S7comm only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rosctr_code: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rosctr_name: Option<String>,
    /// Reference linking a request to its response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdu_reference: Option<u16>,
    /// Function code in hex (`0x04`; User-Data: the type and function
    /// group byte, `0x44`; S7comm-plus: `0x054c`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_code: Option<String>,
    /// `Read Variable`, `PLC Stop`, `Request: CPU Functions`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// User-Data sub-function in hex, or a PLC Control's PI service name
    /// (`P_PROGRAM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subfunction_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subfunction_name: Option<String>,
    /// Error class name of an ACK or ACK-Data (`No error`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    /// Error code in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// S7comm-plus protocol version (S7comm-plus only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// S7comm-plus opcode name: `Request`, `Response`, `Notification`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opcode_name: Option<String>,
    /// Vagt: what a request does (Job-Requests, User-Data requests and
    /// S7comm-plus requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<OtClass>,
}
