//! EtherNet/IP and CIP names as the ICSNPP ENIP plugin writes them (from
//! the ODVA specifications) and the one table that classes requests for
//! the OT-write detectors.

use vagt_schema::OtClass;

pub fn command(c: u16) -> &'static str {
    match c {
        0x00 => "NOP",
        0x04 => "List Services",
        0x63 => "List Identity",
        0x64 => "List Interfaces",
        0x65 => "Register Session",
        0x66 => "Unregister Session",
        0x6f => "Send RR Data",
        0x70 => "Send Unit Data",
        0x72 => "Indicate Status",
        0x73 => "Cancel",
        _ => "unknown",
    }
}

/// Whether `c` is an encapsulation command [`command`] names: checked on
/// every message, so a match rather than a comparison of names.
pub fn known_command(c: u16) -> bool {
    matches!(
        c,
        0x00 | 0x04 | 0x63 | 0x64 | 0x65 | 0x66 | 0x6f | 0x70 | 0x72 | 0x73
    )
}

pub fn enip_status(s: u32) -> String {
    match s {
        0x00 => "Success",
        0x01 => "Invalid/Unsupported Command",
        0x02 => "Insufficient Memory Resources",
        0x03 => "Malformed or Incorrect Data",
        0x64 => "Invalid Session Handle",
        0x65 => "Invalid Length",
        0x69 => "Unsupported Protocol Version",
        0x6a => "CIP Service Not Allowed",
        _ => return format!("Unknown ENIP Status-0x{s:02x}"),
    }
    .to_string()
}

pub fn cip_status(s: u8) -> String {
    const NAMES: [&str; 45] = [
        "Success",
        "Connection Failure",
        "Resource Unavailable",
        "Invalid Parameter Value",
        "Path Segment Error",
        "Path Destination Unknown",
        "Partial Transfer",
        "Connection Lost",
        "Service Not Supported",
        "Invalid Attribute Value",
        "Attribute List Error",
        "Already In Requested Mode/State",
        "Object State Conflict",
        "Object Already Exists",
        "Attribute Not Settable",
        "Privilege Violation",
        "Device State Conflict",
        "Reply Data Too Large",
        "Fragmentation Of A Primitive Value",
        "Not Enough Data",
        "Attribute Not Supported",
        "Too Much Data",
        "Object Does Not Exist",
        "Service Fragmentation Sequence Not In Progress",
        "No Stored Attribute Data",
        "Store Operation Failure",
        "Routing Failure, Request Packet Too Large",
        "Routing Failure, Response Packet Too Large",
        "Missing Attribute List Entry Data",
        "Invalid Attribute Value List",
        "Embedded Service Error",
        "Vendor Specific Error",
        "Invalid Parameter",
        "Write-Once Value Or Medium Already Written",
        "Invalid Reply Received",
        "Buffer Overflow",
        "Invalid Message Format",
        "Key Failure In Path",
        "Path Size Invalid",
        "Unexpected Attribute In List",
        "Invalid Member ID",
        "Member Not Settable",
        "Group 2 Only Server General Failure",
        "Unknown Modbus Error",
        "Attribute Not Gettable",
    ];
    match NAMES.get(usize::from(s)) {
        Some(n) => n.to_string(),
        None if s == 0xff => "Still Processing".to_string(),
        None => format!("Unknown CIP Status-0x{s:02x}"),
    }
}

pub fn service(s: u8) -> &'static str {
    match s & 0x7f {
        0x01 => "Get Attributes All",
        0x02 => "Set Attributes All",
        0x03 => "Get Attribute List",
        0x04 => "Set Attribute List",
        0x05 => "Reset",
        0x06 => "Start",
        0x07 => "Stop",
        0x08 => "Create",
        0x09 => "Delete",
        0x0a => "Multiple Service Packet",
        0x0d => "Apply Attributes",
        0x0e => "Get Attributes Single",
        0x10 => "Set Attributes Single",
        0x11 => "Find Next Object Instance",
        0x15 => "Restore",
        0x16 => "Save",
        0x17 => "No Forward Open",
        0x18 => "Get Member",
        0x19 => "Set Member",
        0x1a => "Insert Member",
        0x1b => "Remove Member",
        0x1c => "Group Sync",
        0x1d => "Get Connection Point Member List",
        0x4b => "Execute PCCC Service",
        0x4c => "Read Data",
        0x4d => "Write Data",
        0x4e => "Read Write Modify Data",
        0x52 => "Read Data Fragmented",
        0x53 => "Write Data Fragmented",
        0x54 => "Forward Open",
        _ => "unknown",
    }
}

/// CIP object classes (CIP Vol. 1, chapter 5, and Vol. 2), as ICSNPP
/// names them; vendor classes are `unknown`.
pub fn class_name(c: u32) -> &'static str {
    match c {
        0x01 => "Identity",
        0x02 => "Message Router",
        0x03 => "DeviceNet",
        0x04 => "Assembly",
        0x05 => "Connection",
        0x06 => "Connection Manager",
        0x07 => "Register",
        0x08 => "Discrete Input Point",
        0x09 => "Discrete Output Point",
        0x0a => "Analog Input Point",
        0x0b => "Analog Output Point",
        0x0e => "Presence Sensing",
        0x0f => "Parameter",
        0x10 => "Parameter Group",
        0x12 => "Group",
        0x1d => "Discrete Input Group",
        0x1e => "Discrete Output Group",
        0x1f => "Discrete Group",
        0x20 => "Analog Input Group",
        0x21 => "Analog Output Group",
        0x22 => "Analog Group",
        0x23 => "Position Sensor",
        0x24 => "Position Controller Supervisor",
        0x25 => "Position Controller",
        0x26 => "Block Sequencer",
        0x27 => "Command Block",
        0x28 => "Motor Data",
        0x29 => "Control Supervisor",
        0x2a => "AC/DC Drive",
        0x2b => "Acknowledge Handler",
        0x2c => "Overload",
        0x2d => "Softstart",
        0x2e => "Selection",
        0x30 => "S-Device Supervisor",
        0x31 => "S-Analog Sensor",
        0x32 => "S-Analog Actuator",
        0x33 => "S-Single Stage Controller",
        0x34 => "S-Gas Calibration",
        0x35 => "Trip Point",
        0x37 => "File",
        0x38 => "S-Partial Pressure",
        0x39 => "Safety Supervisor",
        0x3a => "Safety Validator",
        0x3b => "Safety Discrete Output Point",
        0x3c => "Safety Discrete Output Group",
        0x3d => "Safety Discrete Input Point",
        0x3e => "Safety Discrete Input Group",
        0x3f => "Safety Dual Channel Output",
        0x40 => "S-Sensor Calibration",
        0x41 => "Event Log",
        0x42 => "Motion Device Axis",
        0x43 => "Time Sync",
        0x44 => "Modbus",
        0x45 => "Originator Connection List",
        0x46 => "Modbus Serial Link",
        0x47 => "Device Level Ring (DLR)",
        0x48 => "QoS",
        0x4d => "Target Connection List",
        0x52 => "SNMP",
        0x5d => "CIP Security",
        0x5e => "EtherNet/IP Security",
        0x5f => "Certificate Management",
        0x67 => "PCCC Class",
        0xf0 => "ControlNet",
        0xf4 => "Port",
        0xf5 => "TCP/IP Interface",
        0xf6 => "Ethernet Link",
        _ => "unknown",
    }
}

/// What an object's object-specific services do, weakest first: a path
/// naming several objects is taken by the strongest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Object {
    Plain,
    /// Logix tags: the Symbol object, or a path naming a tag.
    Tags,
    /// Connection Manager (open, close, unconnected send: the embedded
    /// request is classed on its own), PCCC.
    Router,
    /// Rockwell Logix controller objects whose object-specific services
    /// change the controller's state (lock, mode).
    Controller,
    /// File object (upload, download), firmware (non-volatile storage),
    /// and the Logix program, routine and program-structure objects
    /// RSLogix reads and writes when it uploads or downloads, as seen in
    /// the QuickDraw captures.
    Program,
}

/// A match rather than lists searched: every CIP request is classed, and
/// a polled cell sends thousands a second.
fn object(class: u32) -> Object {
    match class {
        0x37 | 0xa1 | 0x68 | 0x6a | 0x6d => Object::Program,
        0x8e | 0xac => Object::Controller,
        0x06 | 0x67 => Object::Router,
        0x6b => Object::Tags,
        _ => Object::Plain,
    }
}

/// What a CIP request does (CIP Vol. 1 appendix A for the common services
/// below 0x4B; object-specific services by their object). `classes` are
/// the classes named in the request path, outermost first; `symbolic` is
/// set when the path names a tag.
pub fn class(service: u8, classes: &[u32], symbolic: bool) -> OtClass {
    match service {
        // Get_Attributes_All, Get_Attribute_List, Get_Attribute_Single,
        // Find_Next_Object_Instance, Get_Member, Get_Connection_Point_
        // Member_List.
        0x01 | 0x03 | 0x0e | 0x11 | 0x18 | 0x1d => OtClass::Read,
        // Set_Attributes_All, Set_Attribute_List, Create, Delete,
        // Apply_Attributes, Set_Attribute_Single, Set/Insert/Remove_Member.
        0x02 | 0x04 | 0x08 | 0x09 | 0x0d | 0x10 | 0x19..=0x1b => OtClass::Write,
        // Reset, Start, Stop.
        0x05..=0x07 => OtClass::Control,
        // Restore, Save: an object's stored configuration.
        0x15 | 0x16 => OtClass::Program,
        // Object-specific services; a path without a class names a tag.
        0x4b..=0x7f => {
            let mut strongest = if symbolic || classes.is_empty() {
                Object::Tags
            } else {
                Object::Plain
            };
            for &c in classes {
                strongest = strongest.max(object(c));
            }
            match strongest {
                Object::Program => OtClass::Program,
                Object::Controller => OtClass::Control,
                // Logix tag services: Read Tag, Read Tag Fragmented;
                // Write Tag, Read-Modify-Write Tag, Write Tag Fragmented.
                Object::Tags => match service {
                    0x4c | 0x52 => OtClass::Read,
                    0x4d | 0x4e | 0x53 => OtClass::Write,
                    _ => OtClass::Other,
                },
                Object::Router | Object::Plain => OtClass::Other,
            }
        }
        // Multiple_Service_Packet (its requests are classed one by one),
        // No_Operation, Group_Sync.
        _ => OtClass::Other,
    }
}

/// What an encapsulation request without CIP does: sessions and
/// discovery.
pub fn command_class(_command: u16) -> OtClass {
    OtClass::Other
}

/// The strongest of two classes, for a request that contains others.
pub fn strongest(a: OtClass, b: OtClass) -> OtClass {
    let rank = |c: OtClass| match c {
        OtClass::Other => 0,
        OtClass::Read => 1,
        OtClass::Write => 2,
        OtClass::Control => 3,
        OtClass::Program => 4,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}
