//! Modbus function and exception code names as Zeek writes them
//! (`base/protocols/modbus/consts.zeek`), and the one table that classes
//! each request for the OT-write detectors.

use vagt_schema::OtClass;

/// Zeek's `function_codes` table.
fn known(fc: u8) -> Option<&'static str> {
    Some(match fc {
        0x01 => "READ_COILS",
        0x02 => "READ_DISCRETE_INPUTS",
        0x03 => "READ_HOLDING_REGISTERS",
        0x04 => "READ_INPUT_REGISTERS",
        0x05 => "WRITE_SINGLE_COIL",
        0x06 => "WRITE_SINGLE_REGISTER",
        0x07 => "READ_EXCEPTION_STATUS",
        0x08 => "DIAGNOSTICS",
        0x0B => "GET_COMM_EVENT_COUNTER",
        0x0C => "GET_COMM_EVENT_LOG",
        0x0F => "WRITE_MULTIPLE_COILS",
        0x10 => "WRITE_MULTIPLE_REGISTERS",
        0x11 => "REPORT_SLAVE_ID",
        0x14 => "READ_FILE_RECORD",
        0x15 => "WRITE_FILE_RECORD",
        0x16 => "MASK_WRITE_REGISTER",
        0x17 => "READ_WRITE_MULTIPLE_REGISTERS",
        0x18 => "READ_FIFO_QUEUE",
        0x2B => "ENCAP_INTERFACE_TRANSPORT",
        0x5B => "OBJECT_MESSAGING",
        0x09 => "PROGRAM_484",
        0x0A => "POLL_484",
        0x0D => "PROGRAM_584_984",
        0x0E => "POLL_584_984",
        0x12 => "PROGRAM_884_U84",
        0x13 => "RESET_COMM_LINK_884_U84",
        0x28 => "PROGRAM_CONCEPT",
        0x29 => "MULTIPLE_FUNCTION_CODES",
        0x5A => "PROGRAM_UNITY",
        0x7D => "FIRMWARE_REPLACEMENT",
        0x7E => "PROGRAM_584_984_2",
        0x7F => "REPORT_LOCAL_ADDRESS",
        _ => return None,
    })
}

/// Zeek's `build_func`: the name of a function code; an exception
/// response's code (high bit set) is its function's name plus
/// `_EXCEPTION`, and a code with no name is `unknown-<decimal>`.
pub fn func_name(fc: u8) -> String {
    let masked = fc & 0x7f;
    match (known(fc), known(masked)) {
        (Some(n), _) => n.to_string(),
        (None, Some(n)) if fc & 0x80 != 0 => format!("{n}_EXCEPTION"),
        _ => format!("unknown-{fc}"),
    }
}

/// Zeek's `exception_codes` table.
pub fn exception_name(code: u8) -> String {
    match code {
        0x01 => "ILLEGAL_FUNCTION",
        0x02 => "ILLEGAL_DATA_ADDRESS",
        0x03 => "ILLEGAL_DATA_VALUE",
        0x04 => "SLAVE_DEVICE_FAILURE",
        0x05 => "ACKNOWLEDGE",
        0x06 => "SLAVE_DEVICE_BUSY",
        0x08 => "MEMORY_PARITY_ERROR",
        0x0A => "GATEWAY_PATH_UNAVAILABLE",
        0x0B => "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND",
        _ => return format!("unknown-{code}"),
    }
    .to_string()
}

/// What a request does, by function code (Modbus Application Protocol
/// Specification V1.1b3, section 6, and the Modicon programming codes Zeek
/// names). `pdu` is the request PDU after the function code, for the codes
/// whose sub-function decides: Diagnostics (0x08) and Schneider's UMAS
/// (0x5A).
pub fn class(fc: u8, pdu: &[u8]) -> OtClass {
    match fc {
        // Read Coils, Read Discrete Inputs, Read Holding Registers, Read
        // Input Registers, Read Exception Status, Read File Record, Read
        // FIFO Queue.
        0x01..=0x04 | 0x07 | 0x14 | 0x18 => OtClass::Read,
        // Write Single Coil, Write Single Register, Write Multiple Coils,
        // Write Multiple Registers, Write File Record, Mask Write Register,
        // Read/Write Multiple Registers (it writes before it reads).
        0x05 | 0x06 | 0x0F | 0x10 | 0x15..=0x17 => OtClass::Write,
        // Diagnostics: sub-function 0x0001 Restart Communications Option
        // and 0x0004 Force Listen Only Mode change how the device runs;
        // the others return counters or clear them.
        0x08 => match pdu.get(..2) {
            Some([0, 1]) | Some([0, 4]) => OtClass::Control,
            _ => OtClass::Other,
        },
        // Modicon programming: Program 484, 584/984, 884/U84, Concept,
        // 584/984-2, and Firmware Replacement.
        0x09 | 0x0D | 0x12 | 0x28 | 0x7D | 0x7E => OtClass::Program,
        // Reset Comm Link 884/U84.
        0x13 => OtClass::Control,
        0x5A => umas_class(pdu),
        // Get Comm Event Counter/Log, Report Server ID, Encapsulated
        // Interface Transport (device identification), polls, and codes
        // the standard does not define.
        _ => OtClass::Other,
    }
}

/// Schneider Electric UMAS (function 0x5A): the byte after the session
/// byte is the UMAS function.
fn umas_class(pdu: &[u8]) -> OtClass {
    match pdu.get(1) {
        // READ_ID, READ_PROJECT_INFO, READ_PLC_INFO, READ_CARD_INFO,
        // READ_MEMORY_BLOCK, READ_VARIABLES, READ_COILS_REGISTERS,
        // READ_ETH_MASTER_DATA, READ_IO_OBJECT, GET_STATUS_MODULE.
        Some(0x02..=0x04 | 0x06 | 0x20 | 0x22 | 0x24 | 0x39 | 0x70 | 0x73) => OtClass::Read,
        // WRITE_VARIABLES, WRITE_COILS_REGISTERS, WRITE_IO_OBJECT.
        Some(0x23 | 0x25 | 0x71) => OtClass::Write,
        // INITIALIZE_UPLOAD, UPLOAD_BLOCK, END_STRATEGY_UPLOAD,
        // INITIALIZE_DOWNLOAD, DOWNLOAD_BLOCK, END_STRATEGY_DOWNLOAD.
        Some(0x30..=0x35) => OtClass::Program,
        // START_PLC, STOP_PLC.
        Some(0x40 | 0x41) => OtClass::Control,
        // INIT_COMM, reservations, keep-alive, monitoring, checks.
        _ => OtClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_zeek() {
        assert_eq!(func_name(3), "READ_HOLDING_REGISTERS");
        assert_eq!(func_name(0x83), "READ_HOLDING_REGISTERS_EXCEPTION");
        assert_eq!(func_name(0x9c), "unknown-156");
        assert_eq!(func_name(29), "unknown-29");
        assert_eq!(exception_name(2), "ILLEGAL_DATA_ADDRESS");
        assert_eq!(exception_name(0x20), "unknown-32");
    }

    #[test]
    fn classes() {
        assert_eq!(class(3, &[0, 0, 0, 1]), OtClass::Read);
        assert_eq!(class(0x10, &[]), OtClass::Write);
        assert_eq!(class(0x08, &[0, 1, 0, 0]), OtClass::Control);
        assert_eq!(class(0x08, &[0, 0, 0x12, 0x34]), OtClass::Other);
        assert_eq!(class(0x5A, &[0x00, 0x41]), OtClass::Control);
        assert_eq!(class(0x5A, &[0x00, 0x34]), OtClass::Program);
        assert_eq!(class(0x7D, &[]), OtClass::Program);
        assert_eq!(class(0x2B, &[0x0E, 1, 0]), OtClass::Other);
    }
}
