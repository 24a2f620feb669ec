//! Parser tests on S7comm PDUs taken from the corpus captures in
//! `ot/` (ITI ICS-Security-Tools), checked against Wireshark's dissector.

use super::*;
use crate::applayer::testing::{ident, run};
use vagt_schema::{OtClass, Proto};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn records(steps: &[(Dir, Vec<u8>)]) -> Vec<S7commRecord> {
    let conn = ident(Proto::Tcp, 102);
    let mut p = make(&conn);
    let steps: Vec<(Dir, &[u8])> = steps.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    run(p.as_mut(), &conn, &steps)
        .0
        .into_iter()
        .filter_map(|b| match b {
            EventBody::S7comm(r) => Some(r),
            _ => None,
        })
        .collect()
}

// snap7_s300_stop: PLC Stop ("P_PROGRAM") and its ACK-Data.
const STOP: &str = "0300002102f0803201000000020010000029000000000009505f50524f4752414d";
const STOP_ACK: &str = "0300001402f08032030000000200010000000029";
// s7comm_reading_setting_plc_time: Read Clock and Set Clock requests.
const READ_CLOCK: &str = "0300001d02f0803207000007000008000400011204114701000a000000";
const SET_CLOCK: &str =
    "0300002702f080320700000c000008000e0001120411470200ff09000a00191408201159330400";
// s7comm_downloading_block_db1: PLC Control "_INSE" after a download.
const INSE: &str =
    "0300002b02f080320100000f00001a000028000000000000fd000a01003041303030303150055f494e5345";

#[test]
fn plc_stop_and_ack() {
    let r = records(&[(Dir::ToServer, hex(STOP)), (Dir::ToClient, hex(STOP_ACK))]);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].rosctr_name.as_deref(), Some("Job-Request"));
    assert_eq!(r[0].pdu_reference, Some(2));
    assert_eq!(r[0].function_code.as_deref(), Some("0x29"));
    assert_eq!(r[0].function_name.as_deref(), Some("PLC Stop"));
    assert_eq!(r[0].class, Some(OtClass::Control));
    assert_eq!(r[1].rosctr_name.as_deref(), Some("ACK-Data"));
    assert_eq!(r[1].error_class.as_deref(), Some("No error"));
    assert_eq!(r[1].error_code.as_deref(), Some("0x00"));
    assert_eq!(r[1].class, None);
}

#[test]
fn user_data_clock_functions() {
    let r = records(&[
        (Dir::ToServer, hex(READ_CLOCK)),
        (Dir::ToServer, hex(SET_CLOCK)),
    ]);
    assert_eq!(r[0].function_code.as_deref(), Some("0x47"));
    assert_eq!(
        r[0].function_name.as_deref(),
        Some("Request: Time Functions")
    );
    assert_eq!(r[0].subfunction_name.as_deref(), Some("Read Clock"));
    assert_eq!(r[0].class, Some(OtClass::Read));
    assert_eq!(r[1].subfunction_name.as_deref(), Some("Set Clock"));
    assert_eq!(r[1].class, Some(OtClass::Write));
}

#[test]
fn plc_control_names_its_pi_service() {
    let r = records(&[(Dir::ToServer, hex(INSE))]);
    assert_eq!(r[0].function_name.as_deref(), Some("PLC Control"));
    assert_eq!(r[0].subfunction_code.as_deref(), Some("_INSE"));
    assert_eq!(
        r[0].subfunction_name.as_deref(),
        Some("Activates a PLC module")
    );
    assert_eq!(r[0].class, Some(OtClass::Program));
}

#[test]
fn frames_split_and_joined() {
    let mut both = hex(STOP);
    both.extend(hex(READ_CLOCK));
    let r = records(&[
        (Dir::ToServer, both[..3].to_vec()),
        (Dir::ToServer, both[3..40].to_vec()),
        (Dir::ToServer, both[40..].to_vec()),
    ]);
    assert_eq!(r.len(), 2);
    // A COTP data TPDU without end-of-TSDU waits for the next one.
    let stop = hex(STOP);
    let mut first = stop[..7].to_vec();
    first[6] = 0x00;
    let head = &stop[7..20];
    let mut a = vec![3, 0, 0, (7 + head.len()) as u8, 2, 0xf0, 0x00];
    a.extend_from_slice(head);
    let tail = &stop[20..];
    let mut b = vec![3, 0, 0, (7 + tail.len()) as u8, 2, 0xf0, 0x80];
    b.extend_from_slice(tail);
    let r = records(&[(Dir::ToServer, a), (Dir::ToServer, b)]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].function_name.as_deref(), Some("PLC Stop"));
}

#[test]
fn not_tpkt_stops_the_direction() {
    let conn = ident(Proto::Tcp, 102);
    let mut p = make(&conn);
    let (out, weird) = run(p.as_mut(), &conn, &[(Dir::ToServer, b"GET / HTTP/1.1\r\n")]);
    assert!(out.is_empty());
    assert_eq!(weird.get("s7comm_not_tpkt"), 1);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let conn = ident(Proto::Tcp, 102);
    let mut seed = 0x7f4a_7c15u32;
    for n in 0..400usize {
        let mut p = make(&conn);
        let mut data: Vec<u8> = (0..(n % 60) + 8)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        let len = data.len();
        data[0] = 3;
        data[2] = 0;
        data[3] = len as u8;
        data[5] = 0xf0;
        data[6] = 0x80;
        data[7] = if n % 2 == 0 { 0x32 } else { 0x72 };
        let _ = run(p.as_mut(), &conn, &[(Dir::ToServer, &data)]);
    }
}
