//! `dnp3` events: a DNP3 request paired with its response, as Zeek's
//! `dnp3.log`.

use super::{ConnId, OtClass};
use serde::{Deserialize, Serialize};

/// A DNP3 application-layer request and the response that followed it
/// (either may be missing: unsolicited responses have no request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dnp3Record {
    /// Time of the response, or of the request when none came.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// Function of the request (`READ`, `DIRECT_OPERATE`, `COLD_RESTART`,
    /// ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fc_request: Option<String>,
    /// Function of the response (`RESPONSE`, `UNSOLICITED_RESPONSE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fc_reply: Option<String>,
    /// The response's internal indications (IIN1 in the high byte).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iin: Option<u16>,
    /// Vagt: what the request does (present when there was a request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<OtClass>,
}
