//! What an industrial (OT) request does to the device it addresses, as one
//! closed set shared by every OT record (`modbus`, `dnp3`, `bacnet`,
//! `s7comm`, `enip`): the OT-write detectors decide on exactly this field.

use serde::{Deserialize, Serialize};

/// The effect of an OT request. Each protocol's parser maps its function
/// or service codes to one of these in a single table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtClass {
    /// Reads values or state; changes nothing.
    Read,
    /// Changes process values (registers, coils, points, tags, properties).
    Write,
    /// Changes what the device runs or holds: program, logic or file
    /// upload and download, firmware.
    Program,
    /// Changes how the device runs: start, stop, restart, mode change,
    /// operating a control output.
    Control,
    /// Anything else: diagnostics, discovery, session handling.
    Other,
}

impl OtClass {
    pub fn as_str(self) -> &'static str {
        match self {
            OtClass::Read => "read",
            OtClass::Write => "write",
            OtClass::Program => "program",
            OtClass::Control => "control",
            OtClass::Other => "other",
        }
    }

    /// Whether the request changes something on the device (what an
    /// OT-write detector alerts on).
    pub fn changes_device(self) -> bool {
        matches!(self, OtClass::Write | OtClass::Program | OtClass::Control)
    }
}

impl std::fmt::Display for OtClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// OT messages counted instead of written one by one (`[app.ot] records =
/// "changes"`, the default): one record per connection, direction, unit
/// and function for the messages of that kind since the last such record
/// (at most `summary_interval`, and at the connection's end). A SCADA
/// master polls its controllers several times a second, so a record per
/// poll would bury what matters. Reads, discovery and their responses are
/// all counted here; of the messages that change the device (`write`,
/// `program`, `control`) and of failures, the first of each kind in an
/// interval is written in full and only the repeats are counted. Every
/// message is thus in exactly one record: its own, or a summary's `count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtSummaryRecord {
    /// Time of the first message counted.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: super::ConnId,
    /// `modbus`, `dnp3`, `bacnet`, `s7comm` or `enip`.
    pub protocol: String,
    /// The messages came from the connection's originator (requests).
    pub is_orig: bool,
    /// Modbus unit, DNP3 destination address; absent for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<u32>,
    /// The function or service, spelt as the protocol's own record
    /// spells it (`READ_HOLDING_REGISTERS`, `Read Tag`, `readProperty`).
    pub function: String,
    /// What the requests do; absent for responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<OtClass>,
    /// Messages counted (not written in full).
    pub count: u64,
    /// Time of the last message counted.
    pub last_ts: f64,
}
