//! S7comm names as the ICSNPP S7comm plugin writes them (after Wireshark's
//! S7comm dissector) and the one table that classes requests for the
//! OT-write detectors.

use vagt_schema::OtClass;

pub fn rosctr(r: u8) -> &'static str {
    match r {
        0x01 => "Job-Request",
        0x02 => "ACK",
        0x03 => "ACK-Data",
        0x07 => "User-Data",
        _ => "unknown",
    }
}

pub fn function(f: u8) -> &'static str {
    match f {
        0x00 => "CPU Services",
        0x04 => "Read Variable",
        0x05 => "Write Variable",
        0x1a => "Request Download",
        0x1b => "Download Block",
        0x1c => "Download Ended",
        0x1d => "Start Upload",
        0x1e => "Upload",
        0x1f => "End Upload",
        0x28 => "PLC Control",
        0x29 => "PLC Stop",
        0xf0 => "Setup Communication",
        _ => "unknown",
    }
}

/// A User-Data type and function group byte: "Request: CPU Functions".
pub fn userdata_function(f: u8) -> String {
    let kind = match f & 0xf0 {
        0x40 => "Request",
        0x80 => "Response",
        0x00 => "Push",
        _ => "Unknown",
    };
    let group = match f & 0x0f {
        0x00 => "Mode-Transition",
        0x01 => "Programmer Controls",
        0x02 => "Cyclic Services",
        0x03 => "Block Functions",
        0x04 => "CPU Functions",
        0x05 => "Security",
        0x06 => "PBC BSEND-BRECV",
        0x07 => "Time Functions",
        0x0f => "NC Programming",
        _ => "unknown",
    };
    format!("{kind}: {group}")
}

/// A User-Data sub-function's name, which depends on the function group.
pub fn subfunction(group: u8, sub: u8) -> Option<&'static str> {
    Some(match (group & 0x0f, sub) {
        (0x00, 0x00) => "Stop",
        (0x00, 0x01) => "Warm Restart",
        (0x00, 0x02) => "Run",
        (0x00, 0x03) => "Hot Restart",
        (0x00, 0x04) => "Hold",
        (0x00, 0x06) => "Cold Restart",
        (0x00, 0x09) => "Run_R",
        (0x00, 0x0b) => "Link-Up",
        (0x00, 0x0c) => "Update",
        (0x01, 0x01) => "Block Status",
        (0x01, 0x02) => "Variable Status",
        (0x01, 0x03) => "Output ISTACK",
        (0x01, 0x04) => "Output BSTACK",
        (0x01, 0x05) => "Output LSTACK",
        (0x01, 0x06) => "Time Measurement",
        (0x01, 0x07) => "Force Selection",
        (0x01, 0x08) => "Modify Variable",
        (0x01, 0x09) => "Force",
        (0x01, 0x0a) => "Breakpoint",
        (0x01, 0x0b) => "Exit HOLD",
        (0x01, 0x0c) => "Memory Reset",
        (0x01, 0x0d) => "Disable Job",
        (0x01, 0x0e) => "Enable Job",
        (0x01, 0x0f) => "Delete Job",
        (0x01, 0x10) => "Read Job List",
        (0x01, 0x11) => "Read Job",
        (0x01, 0x12) => "Replace Job",
        (0x01, 0x13) => "Block Status v2",
        (0x01, 0x16) => "Flash LED",
        (0x02, 0x01) => "Cyclic Transfer",
        (0x02, 0x04) => "Unsubscribe",
        (0x02, 0x05) => "Change Driven Transfer",
        (0x02, 0x07) => "Change Driven Transfer Modify",
        (0x02, 0x08) => "RDREC",
        (0x03, 0x01) => "List Blocks",
        (0x03, 0x02) => "List Blocks of Type",
        (0x03, 0x03) => "Get Block Info",
        (0x04, 0x01) => "Read SZL",
        (0x04, 0x02) => "Message Service",
        (0x04, 0x03) => "Diagnostic Message",
        (0x04, 0x04) => "ALARM_8 Indication",
        (0x04, 0x05) => "NOTIFY Indication",
        (0x04, 0x06) => "ALARM_8 Lock",
        (0x04, 0x07) => "ALARM_8 Unlock",
        (0x04, 0x08) => "SCAN Indication",
        (0x04, 0x0b) => "ALARM_S Indication",
        (0x04, 0x0c) => "ALARM_SQ Indication",
        (0x04, 0x0d) => "ALARM Query",
        (0x04, 0x0e) => "ALARM ACK",
        (0x04, 0x11) => "ALARM ACK Indication",
        (0x04, 0x12) => "ALARM Lock Indication",
        (0x04, 0x13) => "ALARM Unlock Indication",
        (0x04, 0x16) => "NOTIFY_8 Indication",
        (0x05, 0x01) => "PLC Password",
        (0x07, 0x01) => "Read Clock",
        (0x07, 0x02) => "Set Clock",
        (0x07, 0x03) => "Read Clock (Following)",
        (0x07, 0x04) => "Set Clock (2)",
        (0x00..=0x05 | 0x07, _) => "unknown",
        _ => return None,
    })
}

/// PI services of PLC Control (function 0x28).
pub fn pi_service(name: &str) -> &'static str {
    match name {
        "_INSE" | "_INS2" => "Activates a PLC module",
        "_DELE" => "Removes module from the PLC's passive file system",
        "P_PROGRAM" => "PLC Start / Stop",
        "_MODU" => "PLC Copy Ram to Rom",
        "_GARB" => "Compress PLC memory",
        "_N_LOGIN_" => "Login",
        "_N_LOGOUT" => "Logout",
        _ => "unknown",
    }
}

pub fn error_class(c: u8) -> String {
    match c {
        0x00 => "No error",
        0x81 => "Application relationship error",
        0x82 => "Object definition error",
        0x83 => "No ressources available error",
        0x84 => "Error on service processing",
        0x85 => "Error on supplies",
        0x87 => "Access error",
        _ => return format!("Unknown error class-0x{c:02x}"),
    }
    .to_string()
}

pub fn plus_opcode(o: u8) -> String {
    match o {
        0x31 => "Request".to_string(),
        0x32 => "Response".to_string(),
        0x33 => "Notification".to_string(),
        _ => format!("Unknown s7comm-plus opcode-0x{o:02x}"),
    }
}

pub fn plus_function(f: u16) -> String {
    match f {
        0x04bb => "Explore",
        0x04ca => "Create Object",
        0x04d4 => "Delete Object",
        0x04f2 => "Set Variable",
        0x0524 => "Get Link",
        0x0542 => "Set Multi Variables",
        0x054c => "Get Multi Variables",
        0x0556 => "Begin Sequence",
        0x0560 => "End Sequence",
        0x056b => "Invoke",
        0x0586 => "Get Variable Sub Streamed",
        _ => return format!("Unknown s7comm-plus function-0x{f:04x}"),
    }
    .to_string()
}

/// What a Job request does, by parameter function code (S7comm as
/// documented by Wireshark's dissector and Snap7). `pi` is the PI service
/// of a PLC Control.
pub fn job_class(function: u8, pi: Option<&str>) -> OtClass {
    match function {
        // Read Variable.
        0x04 => OtClass::Read,
        // Write Variable.
        0x05 => OtClass::Write,
        // Request Download, Download Block, Download Ended, Start Upload,
        // Upload, End Upload: blocks (program, data) move.
        0x1a..=0x1f => OtClass::Program,
        // PLC Control: activating, deleting, copying or compressing blocks
        // changes the program; the others (P_PROGRAM: start) run it.
        0x28 => match pi {
            Some("_INSE" | "_INS2" | "_DELE" | "_MODU" | "_GARB") => OtClass::Program,
            _ => OtClass::Control,
        },
        // PLC Stop.
        0x29 => OtClass::Control,
        // Setup Communication, CPU services.
        _ => OtClass::Other,
    }
}

/// What a User-Data request does, by function group and sub-function.
pub fn userdata_class(group: u8, sub: u8) -> OtClass {
    match (group & 0x0f, sub) {
        // Mode transitions (stop, run, restarts).
        (0x00, _) => OtClass::Control,
        // Programmer commands: Force Selection, Modify Variable, Force
        // write values; Memory Reset erases the program; Breakpoint and
        // Exit HOLD stop and resume it; the rest watch.
        (0x01, 0x07..=0x09) => OtClass::Write,
        (0x01, 0x0c) => OtClass::Program,
        (0x01, 0x0a | 0x0b) => OtClass::Control,
        (0x01, _) => OtClass::Read,
        // Cyclic data, block lists and information, Read SZL.
        (0x02 | 0x03, _) | (0x04, 0x01) => OtClass::Read,
        // Read Clock, Set Clock.
        (0x07, 0x01 | 0x03) => OtClass::Read,
        (0x07, 0x02 | 0x04) => OtClass::Write,
        // Alarms and messages, password, BSEND/BRECV, NC programming.
        _ => OtClass::Other,
    }
}

/// What an S7comm-plus request does, by function. Only coarse: creating
/// an object is mostly opening a session, so it stays `other`.
pub fn plus_class(function: u16) -> OtClass {
    match function {
        // Explore, Get Link, Get Multi Variables, Get Variable Sub
        // Streamed.
        0x04bb | 0x0524 | 0x054c | 0x0586 => OtClass::Read,
        // Set Variable, Set Multi Variables.
        0x04f2 | 0x0542 => OtClass::Write,
        // Delete Object.
        0x04d4 => OtClass::Program,
        _ => OtClass::Other,
    }
}
