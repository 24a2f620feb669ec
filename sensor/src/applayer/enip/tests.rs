//! Parser tests on EtherNet/IP messages taken from the corpus captures
//! (`ot/enip-*`, `attacks/CL5000EIP-*`), checked against Wireshark.

use super::*;
use crate::applayer::testing::{ident, run};
use vagt_schema::OtClass;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn records(proto: Proto, steps: &[(Dir, Vec<u8>)]) -> Vec<EnipRecord> {
    let conn = ident(proto, 44818);
    let mut p = make(&conn);
    let steps: Vec<(Dir, &[u8])> = steps.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    run(p.as_mut(), &conn, &steps)
        .0
        .into_iter()
        .filter_map(|b| match b {
            EventBody::Enip(r) => Some(r),
            _ => None,
        })
        .collect()
}

// enip-cip_stop_plc: SendUnitData, connected, CIP Stop on class 0x8e.
const STOP: &str = "70001c0001002a00000000000000000000000000000000000000000001000200a1000400224095ffb100080006010702208e2401";
// CL5000EIP-Change_Time_Attempt frame 386: Set_Attribute_List on Time
// Sync-like class 0x8b, attribute 6 (the controller's clock).
const SET_CLOCK: &str = "7000280000010211000000000000000000000000000000000000000001000200a1000400010b7c00b1001400b2040402208b240101000600c0325cfff3590400";
// enip-cip-eth-set-2: a Set_Attribute_Single response over SendRRData.
const SET_RESP: &str =
    "6f0014000001021200000000ec6d8601701ee10000000000000000000500020000000000b200040090000000";

#[test]
fn stop_is_control() {
    let r = records(Proto::Tcp, &[(Dir::ToServer, hex(STOP))]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].enip_command_code, "0x70");
    assert_eq!(r[0].enip_command, "Send Unit Data");
    assert_eq!(r[0].session_handle, "0x002a0001");
    assert_eq!(r[0].cip_sequence_count, Some(0x0106));
    assert_eq!(r[0].cip_service_code.as_deref(), Some("0x07"));
    assert_eq!(r[0].cip_service.as_deref(), Some("Stop"));
    assert_eq!(r[0].class_id.as_deref(), Some("0x8e"));
    assert_eq!(r[0].instance_id.as_deref(), Some("0x01"));
    assert_eq!(r[0].class, Some(OtClass::Control));
}

#[test]
fn setting_the_clock_is_a_write_and_responses_have_status() {
    let r = records(
        Proto::Tcp,
        &[
            (Dir::ToServer, hex(SET_CLOCK)),
            (Dir::ToClient, hex(SET_RESP)),
        ],
    );
    assert_eq!(r[0].cip_service.as_deref(), Some("Set Attribute List"));
    assert_eq!(r[0].class_id.as_deref(), Some("0x8b"));
    assert_eq!(r[0].class, Some(OtClass::Write));
    assert_eq!(r[1].enip_command, "Send RR Data");
    assert_eq!(r[1].direction.as_deref(), Some("response"));
    assert_eq!(r[1].cip_service_code.as_deref(), Some("0x10"));
    assert_eq!(r[1].cip_status.as_deref(), Some("Success"));
    assert_eq!(r[1].class, None);
}

#[test]
fn messages_split_and_joined_on_tcp() {
    let mut both = hex(STOP);
    both.extend(hex(SET_CLOCK));
    let r = records(
        Proto::Tcp,
        &[
            (Dir::ToServer, both[..10].to_vec()),
            (Dir::ToServer, both[10..60].to_vec()),
            (Dir::ToServer, both[60..].to_vec()),
        ],
    );
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].class, Some(OtClass::Write));
}

#[test]
fn session_commands_without_cip() {
    // RegisterSession request: protocol version 1, no options.
    let mut reg = vec![0x65, 0, 4, 0];
    reg.extend_from_slice(&[0; 20]);
    reg.extend_from_slice(&[1, 0, 0, 0]);
    let r = records(Proto::Tcp, &[(Dir::ToServer, reg)]);
    assert_eq!(r[0].enip_command, "Register Session");
    assert_eq!(r[0].cip_service, None);
    assert_eq!(r[0].class, Some(OtClass::Other));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let conn = ident(Proto::Tcp, 44818);
    let mut seed = 0x1234_abcdu32;
    for n in 0..400usize {
        let mut p = make(&conn);
        let mut data: Vec<u8> = (0..(n % 90) + 24)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        let len = data.len() - 24;
        data[0] = if n % 2 == 0 { 0x70 } else { 0x6f };
        data[1] = 0;
        data[2] = len as u8;
        data[3] = 0;
        let _ = run(p.as_mut(), &conn, &[(Dir::ToServer, &data)]);
    }
}

#[test]
fn known_commands_are_the_named_ones() {
    for c in 0..=u16::MAX {
        assert_eq!(
            super::codes::known_command(c),
            super::codes::command(c) != "unknown",
            "command {c:#x}"
        );
    }
}
