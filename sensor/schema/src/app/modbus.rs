//! `modbus` events: one per Modbus/TCP message, as Zeek's `modbus.log`.

use super::{ConnId, OtClass};
use serde::{Deserialize, Serialize};

/// One Modbus/TCP request or response (an exception response included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModbusRecord {
    /// Time of the message.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// MBAP transaction identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<u16>,
    /// MBAP unit identifier (the addressed slave behind a gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<u8>,
    /// Function name as Zeek writes it (`READ_HOLDING_REGISTERS`,
    /// `WRITE_SINGLE_COIL_EXCEPTION`, `unknown-29`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub func: Option<String>,
    /// `REQ` (from the originator) or `RESP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdu_type: Option<String>,
    /// Exception code name of an exception response
    /// (`ILLEGAL_DATA_ADDRESS`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
    /// Vagt: what a request does (requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<OtClass>,
}
