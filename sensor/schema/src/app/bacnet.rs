//! `bacnet` events: one per BACnet/IP message, after the `bacnet.log` of
//! CISA's ICSNPP BACnet plugin for Zeek.

use super::{ConnId, OtClass};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One BACnet/IP message: its virtual link function and, when it carries
/// an application PDU, the PDU type and service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacnetRecord {
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// The message came from the connection's originator.
    pub is_orig: bool,
    /// Sender and receiver of this message (the connection's endpoints in
    /// the direction it travelled).
    pub source_h: IpAddr,
    pub source_p: u16,
    pub destination_h: IpAddr,
    pub destination_p: u16,
    /// BVLC function (`Original_Unicast_NPDU`, `Forwarded_NPDU`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bvlc_function: Option<String>,
    /// APDU type (`CONFIRMED_REQUEST`, `COMPLEX_ACK`, `ERROR_PDU`, ...);
    /// absent for network-layer and link-only messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdu_type: Option<String>,
    /// Service (`read_property`, `write_property`, `who_is`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdu_service: Option<String>,
    /// Invoke ID pairing a confirmed request with its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_id: Option<u8>,
    /// BVLC result, error code, reject or abort reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_code: Option<String>,
    /// Vagt: what a request does (requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<OtClass>,
}
