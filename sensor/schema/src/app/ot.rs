//! What an industrial (OT) request does to the device it addresses, as one
//! closed set shared by every OT record (`modbus`, `dnp3`, `bacnet`,
//! `s7comm`, `enip`): the OT-write detectors decide on exactly this field.

use serde::{Deserialize, Serialize};

/// The effect of an OT request. Each protocol's parser maps its function
/// or service codes to one of these in a single table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
