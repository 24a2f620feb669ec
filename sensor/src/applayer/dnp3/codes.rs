//! DNP3 application function codes: the names Zeek writes
//! (`base/protocols/dnp3/consts.zeek`) and the one table that classes each
//! request for the OT-write detectors.

use vagt_schema::OtClass;

/// Zeek's `DNP3::function_codes`.
pub fn name(fc: u8) -> String {
    match fc {
        0x00 => "CONFIRM",
        0x01 => "READ",
        0x02 => "WRITE",
        0x03 => "SELECT",
        0x04 => "OPERATE",
        0x05 => "DIRECT_OPERATE",
        0x06 => "DIRECT_OPERATE_NR",
        0x07 => "IMMED_FREEZE",
        0x08 => "IMMED_FREEZE_NR",
        0x09 => "FREEZE_CLEAR",
        0x0a => "FREEZE_CLEAR_NR",
        0x0b => "FREEZE_AT_TIME",
        0x0c => "FREEZE_AT_TIME_NR",
        0x0d => "COLD_RESTART",
        0x0e => "WARM_RESTART",
        0x0f => "INITIALIZE_DATA",
        0x10 => "INITIALIZE_APPL",
        0x11 => "START_APPL",
        0x12 => "STOP_APPL",
        0x13 => "SAVE_CONFIG",
        0x14 => "ENABLE_UNSOLICITED",
        0x15 => "DISABLE_UNSOLICITED",
        0x16 => "ASSIGN_CLASS",
        0x17 => "DELAY_MEASURE",
        0x18 => "RECORD_CURRENT_TIME",
        0x19 => "OPEN_FILE",
        0x1a => "CLOSE_FILE",
        0x1b => "DELETE_FILE",
        0x1c => "GET_FILE_INFO",
        0x1d => "AUTHENTICATE_FILE",
        0x1e => "ABORT_FILE",
        0x1f => "ACTIVATE_CONFIG",
        0x20 => "AUTHENTICATE_REQ",
        0x21 => "AUTHENTICATE_REQ_NR",
        0x81 => "RESPONSE",
        0x82 => "UNSOLICITED_RESPONSE",
        0x83 => "AUTHENTICATE_RESPONSE",
        _ => return format!("unknown-{fc}"),
    }
    .to_string()
}

/// What a request does, by function code (IEEE 1815-2012, table 4-1).
/// `objects` is the request after its application header, for the codes
/// whose first object decides: WRITE of file-transfer objects (group 70)
/// and OPEN_FILE's mode (group 70 variation 3).
pub fn class(fc: u8, objects: &[u8]) -> OtClass {
    match fc {
        // READ, GET_FILE_INFO.
        0x01 | 0x1c => OtClass::Read,
        // WRITE: values, time, IIN bits; file data (group 70) is program.
        0x02 if objects.first() == Some(&70) => OtClass::Program,
        0x02 => OtClass::Write,
        // FREEZE_CLEAR(_NR) zero the counters; ASSIGN_CLASS changes how
        // points are reported.
        0x09 | 0x0a | 0x16 => OtClass::Write,
        // SELECT, OPERATE, DIRECT_OPERATE(_NR) work control outputs;
        // COLD/WARM_RESTART, INITIALIZE_DATA, INITIALIZE/START/STOP_APPL
        // restart or stop the outstation or its applications;
        // ENABLE/DISABLE_UNSOLICITED switch its reporting.
        0x03..=0x06 | 0x0d..=0x12 | 0x14 | 0x15 => OtClass::Control,
        // OPEN_FILE: by its mode (1 read; 2 write, 3 append).
        0x19 => match open_file_mode(objects) {
            Some(1) => OtClass::Read,
            _ => OtClass::Program,
        },
        // SAVE_CONFIG, DELETE_FILE, ACTIVATE_CONFIG change what the
        // outstation holds.
        0x13 | 0x1b | 0x1f => OtClass::Program,
        // CONFIRM, freezes, DELAY_MEASURE, RECORD_CURRENT_TIME,
        // CLOSE/ABORT/AUTHENTICATE_FILE, authentication, and responses
        // sent by the master.
        _ => OtClass::Other,
    }
}

/// The operational mode of a file command object (group 70 variation 3,
/// qualifier 0x5B: a one-byte count and a two-byte object size before the
/// object), at offset 20 of the object.
fn open_file_mode(objects: &[u8]) -> Option<u16> {
    let h = objects.get(..3)?;
    if h != [70, 3, 0x5b] {
        return None;
    }
    let m = objects.get(6 + 20..6 + 22)?;
    Some(u16::from_le_bytes([m[0], m[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_classes() {
        assert_eq!(name(0x82), "UNSOLICITED_RESPONSE");
        assert_eq!(name(0x55), "unknown-85");
        assert_eq!(class(0x01, &[60, 2, 6]), OtClass::Read);
        assert_eq!(class(0x02, &[80, 1, 0]), OtClass::Write);
        assert_eq!(class(0x02, &[70, 5, 0x5b]), OtClass::Program);
        assert_eq!(class(0x05, &[12, 1, 0x28]), OtClass::Control);
        assert_eq!(class(0x0d, &[]), OtClass::Control);
        assert_eq!(class(0x00, &[]), OtClass::Other);
    }
}
