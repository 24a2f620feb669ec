//! BACnet names as the ICSNPP BACnet plugin writes them (from ASHRAE 135's
//! enumerations) and the one table that classes requests for the OT-write
//! detectors.

use vagt_schema::OtClass;

pub fn bvlc_function(f: u8) -> String {
    match f {
        0 => "BVLC_Result",
        1 => "Write_Broadcast_Table",
        2 => "Read_Broadcast_Table",
        3 => "Read_Broadcast_Table_ACK",
        4 => "Forwarded_NPDU",
        5 => "Register_Foreign_Device",
        6 => "Read_Foreign_Device_Table",
        7 => "Read_Foreign_Device_Table_ACK",
        8 => "Delete_Foreign_Device_Table_Entry",
        9 => "Distribute_Broadcast_to_Network",
        10 => "Original_Unicast_NPDU",
        11 => "Original_Broadcast_NPDU",
        _ => return format!("Unknown BVLC Function Code-0x{f:02x}"),
    }
    .to_string()
}

pub fn bvlc_result(r: u16) -> String {
    match r {
        0x00 => "Successful_completion",
        0x10 => "Write-Broadcast-Distribution-Table_NAK",
        0x20 => "Read-Broadcast-Distribution-Table_NAK",
        0x30 => "Register-Foreign-Device_NAK",
        0x40 => "Read-Foreign-Device-Table_NAK",
        0x50 => "Delete-Foreign-Device-Table-Entry_NAK",
        0x60 => "Distribute-Broadcast-To-Network_NAK",
        _ => return format!("Unknown BVLC Result Code-0x{r:02x}"),
    }
    .to_string()
}

pub fn apdu_type(t: u8) -> &'static str {
    match t {
        0 => "CONFIRMED_REQUEST",
        1 => "UNCONFIRMED_REQUEST",
        2 => "SIMPLE_ACK",
        3 => "COMPLEX_ACK",
        4 => "SEGMENT_ACK",
        5 => "ERROR_PDU",
        6 => "REJECT_PDU",
        _ => "ABORT_PDU",
    }
}

pub fn confirmed_service(s: u8) -> String {
    const NAMES: [&str; 30] = [
        "acknowledge_alarm",
        "confirmed_cov_notification",
        "confirmed_event_notification",
        "get_alarm_summary",
        "get_enrollment_summary",
        "subscribe_cov",
        "atomic_read_file",
        "atomic_write_file",
        "add_list_element",
        "remove_list_element",
        "create_object",
        "delete_object",
        "read_property",
        "read_property_conditional",
        "read_property_multiple",
        "write_property",
        "write_property_multiple",
        "device_communication_control",
        "confirmed_private_transfer",
        "confirmed_text_message",
        "reinitialized_device",
        "vt_open",
        "vt_close",
        "vt_data",
        "authenticate",
        "request_key",
        "read_range",
        "life_safety_operation",
        "subscribe_cov_property",
        "get_event_information",
    ];
    NAMES.get(usize::from(s)).map_or_else(
        || format!("Unknown Service Choice-0x{s:02x}"),
        |n| n.to_string(),
    )
}

pub fn unconfirmed_service(s: u8) -> String {
    const NAMES: [&str; 10] = [
        "i_am",
        "i_have",
        "unconfirmed_cov_notification",
        "unconfirmed_event_notification",
        "unconfirmed_private_transfer",
        "unconfirmed_text_message",
        "time_synchronization",
        "who_has",
        "who_is",
        "utc_time_synchronization",
    ];
    NAMES.get(usize::from(s)).map_or_else(
        || format!("Unknown Service Choice-0x{s:02x}"),
        |n| n.to_string(),
    )
}

pub fn reject_reason(r: u8) -> String {
    const NAMES: [&str; 10] = [
        "other",
        "buffer-overflow",
        "inconsistent-parameters",
        "invalid-parameter-data-type",
        "invalid-tag",
        "missing-required-parameter",
        "parameter-out-of-range",
        "too-many-arguments",
        "undefined-enumeration",
        "unrecognized-service",
    ];
    NAMES.get(usize::from(r)).map_or_else(
        || format!("Unknown Reject Reason-0x{r:02x}"),
        |n| n.to_string(),
    )
}

pub fn abort_reason(r: u8) -> String {
    const NAMES: [&str; 5] = [
        "other",
        "buffer-overflow",
        "invalid-apdu-in-this-state",
        "preempted-by-higher-priority-task",
        "segmentation-not-supported",
    ];
    NAMES.get(usize::from(r)).map_or_else(
        || format!("Unknown Abort Reason-0x{r:02x}"),
        |n| n.to_string(),
    )
}

/// BACnetErrorCode values 0 to 50 (ASHRAE 135 clause 21). ICSNPP also
/// names codes 73 to 136; here they are written as its unknown codes are
/// (`Unknown Error Code-0x..`).
pub fn error_code(c: u32) -> String {
    const NAMES: [&str; 51] = [
        "other",
        "authentication-failed",
        "configuration-in-progress",
        "device-busy",
        "dynamic-creation-not-supported",
        "file-access-denied",
        "incompatible-security-levels",
        "inconsistent-parameters",
        "inconsistent-selection-criterion",
        "invalid-data-type",
        "invalid-file-access-method",
        "invalid-file-start-position",
        "invalid-operator-name",
        "invalid-parameter-data-type",
        "invalid-time-stamp",
        "key-generation-error",
        "missing-required-parameter",
        "no-objects-of-specified-type",
        "no-space-for-object",
        "no-space-to-add-list-element",
        "no-space-to-write-property",
        "no-vt-sessions-available",
        "property-is-not-a-list",
        "object-deletion-not-permitted",
        "object-identifier-already-exists",
        "operational-problem",
        "password-failure",
        "read-access-denied",
        "security-not-supported",
        "service-request-denied",
        "timeout",
        "unknown-object",
        "unknown-property",
        "removed enumeration",
        "unknown-vt-class",
        "unknown-vt-session",
        "unsupported-object-type",
        "value-out-of-range",
        "vt-session-already-closed",
        "vt-session-termination-failure",
        "write-access-denied",
        "character-set-not-supported",
        "invalid-array-index",
        "cov-subscription-failed",
        "not-cov-property",
        "optional-functionality-not-supported",
        "invalid-configuration-data",
        "datatype-not-supported",
        "duplicate-name",
        "duplicate-object-id",
        "property-is-not-an-array",
    ];
    usize::try_from(c)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or_else(
            || format!("Unknown Error Code-0x{c:02x}"),
            |n| n.to_string(),
        )
}

/// What a confirmed request does (ASHRAE 135 clauses 13 to 17, the
/// BACnetConfirmedServiceChoice numbers).
pub fn confirmed_class(service: u8) -> OtClass {
    match service {
        // getAlarmSummary, getEnrollmentSummary, atomicReadFile,
        // readProperty, readPropertyConditional, readPropertyMultiple,
        // readRange, getEventInformation.
        3 | 4 | 6 | 12..=14 | 26 | 29 => OtClass::Read,
        // addListElement, removeListElement, createObject, deleteObject,
        // writeProperty, writePropertyMultiple.
        8..=11 | 15 | 16 => OtClass::Write,
        // atomicWriteFile: files hold programs, configuration, firmware.
        7 => OtClass::Program,
        // deviceCommunicationControl, reinitializeDevice,
        // lifeSafetyOperation.
        17 | 20 | 27 => OtClass::Control,
        // Alarm acknowledgement, notifications, COV subscriptions,
        // private transfer, text messages, virtual terminal,
        // authentication.
        _ => OtClass::Other,
    }
}

/// What an unconfirmed request does (BACnetUnconfirmedServiceChoice).
pub fn unconfirmed_class(service: u8) -> OtClass {
    match service {
        // timeSynchronization, utcTimeSynchronization set the clock.
        6 | 9 => OtClass::Write,
        // who-is, i-am, who-has, i-have, notifications, private transfer,
        // text messages.
        _ => OtClass::Other,
    }
}

/// What a message without an application PDU does, by BVLC function
/// (ASHRAE 135 Annex J.2).
pub fn bvlc_class(function: u8) -> OtClass {
    match function {
        // Read-Broadcast-Distribution-Table, Read-Foreign-Device-Table.
        2 | 6 => OtClass::Read,
        // Write-Broadcast-Distribution-Table,
        // Delete-Foreign-Device-Table-Entry change a BBMD's tables.
        1 | 8 => OtClass::Write,
        // Foreign device registration, network-layer messages.
        _ => OtClass::Other,
    }
}
