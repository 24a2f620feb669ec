use super::*;
use crate::applayer::ntlm::tests::{authenticate, challenge};
use crate::applayer::smb::script::{run, step};
use vagt_schema::EventBody;

/// A little-endian PDU of `ptype` with `body` and an optional auth trailer.
fn pdu(ptype: u8, call_id: u32, body: &[u8], auth: Option<(u8, &[u8])>) -> Vec<u8> {
    let auth_len = auth.map_or(0, |(_, a)| a.len());
    let trailer = if auth_len > 0 { 8 + auth_len } else { 0 };
    let len = HEADER_LEN + body.len() + trailer;
    let mut p = vec![5, 0, ptype, 0x03, 0x10, 0, 0, 0];
    p.extend_from_slice(&(len as u16).to_le_bytes());
    p.extend_from_slice(&(auth_len as u16).to_le_bytes());
    p.extend_from_slice(&call_id.to_le_bytes());
    p.extend_from_slice(body);
    if let Some((kind, a)) = auth {
        p.extend_from_slice(&[kind, 2, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(a);
    }
    p
}

/// The endpoint mapper's UUID as it travels (little-endian fields).
const EPM: [u8; 16] = [
    0x08, 0x83, 0xaf, 0xe1, 0x1f, 0x5d, 0xc9, 0x11, 0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa,
];

pub(crate) fn bind(auth: Option<(u8, &[u8])>) -> Vec<u8> {
    let mut b = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0];
    b.extend_from_slice(&[0, 0, 1, 0]);
    b.extend_from_slice(&EPM);
    b.extend_from_slice(&[3, 0, 0, 0]);
    b.extend_from_slice(&[0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11]);
    b.extend_from_slice(&[0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0]);
    pdu(BIND, 1, &b, auth)
}

pub(crate) fn bind_ack(addr: &[u8], auth: Option<(u8, &[u8])>) -> Vec<u8> {
    let mut b = vec![0xb8, 0x10, 0xb8, 0x10, 0x11, 0x22, 0, 0];
    b.extend_from_slice(&(addr.len() as u16).to_le_bytes());
    b.extend_from_slice(addr);
    while !(b.len() + HEADER_LEN).is_multiple_of(4) {
        b.push(0);
    }
    b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&[0; 20]);
    pdu(BIND_ACK, 1, &b, auth)
}

pub(crate) fn request(call_id: u32, opnum: u16) -> Vec<u8> {
    let mut b = vec![16, 0, 0, 0, 0, 0];
    b.extend_from_slice(&opnum.to_le_bytes());
    b.extend_from_slice(&[0xaa; 16]);
    pdu(REQUEST, call_id, &b, None)
}

pub(crate) fn response(call_id: u32) -> Vec<u8> {
    pdu(
        RESPONSE,
        call_id,
        &[16, 0, 0, 0, 0, 0, 0, 0, 0xbb, 0xbb],
        None,
    )
}

fn calls(out: &[EventBody]) -> Vec<DceRpcRecord> {
    out.iter()
        .filter_map(|e| match e {
            EventBody::DceRpc(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_bound_call_is_logged_with_endpoint_operation_and_rtt() {
    let chal = challenge("SATURN", "", "");
    let auth = authenticate("CNAMIS", "ALeonard", "ALEONARD-XP");
    let mut s = step(false, &bind(None));
    s.extend(step(true, &bind_ack(b"135\0", Some((10, &chal)))));
    // An auth3 carries the client's answer; it is no call.
    s.extend(step(false, &pdu(16, 1, &[0, 0, 0, 0], Some((10, &auth)))));
    s.extend(step(false, &request(2, 3)));
    s.extend(step(true, &response(2)));
    let (out, weird) = run(make, 135, &s);
    let c = calls(&out);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].endpoint.as_deref(), Some("epmapper"));
    assert_eq!(c[0].operation.as_deref(), Some("ept_map"));
    assert_eq!(c[0].named_pipe.as_deref(), Some("135"));
    assert!(c[0].rtt.is_some_and(|r| r > 0.0));
    let ntlm: Vec<_> = out
        .iter()
        .filter(|e| matches!(e, EventBody::Ntlm(_)))
        .collect();
    let EventBody::Ntlm(n) = ntlm[0] else {
        unreachable!()
    };
    assert_eq!(n.username.as_deref(), Some("ALeonard"));
    assert_eq!(n.server_nb_computer_name.as_deref(), Some("SATURN"));
    assert_eq!(n.success, None);
    assert_eq!(weird.iter().count(), 0);
}

#[test]
fn an_unanswered_call_writes_the_last_record_again_as_zeek_does() {
    let mut s = step(false, &bind(None));
    s.extend(step(true, &bind_ack(b"135\0", None)));
    s.extend(step(false, &request(2, 2)));
    s.extend(step(true, &response(2)));
    s.extend(step(false, &request(3, 3)));
    let c = calls(&run(make, 135, &s).0);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].operation, c[1].operation);
    assert_eq!(c[1].operation.as_deref(), Some("ept_lookup"));
}

#[test]
fn fragments_are_acted_on_at_the_last_one() {
    let mut first = request(2, 3);
    first[3] = 0x01;
    let mut last = request(2, 9);
    last[3] = 0x02;
    let mut s = step(false, &bind(None));
    s.extend(step(true, &bind_ack(b"135\0", None)));
    s.extend(step(false, &first));
    s.extend(step(false, &last));
    s.extend(step(true, &response(2)));
    let c = calls(&run(make, 135, &s).0);
    assert_eq!(c[0].operation.as_deref(), Some("ept_map"));
}

#[test]
fn names_follow_zeeks_tables() {
    assert_eq!(
        uuid_string(&EPM, true).unwrap(),
        "e1af8308-5d1f-11c9-91a4-08002b14a0fa"
    );
    assert_eq!(
        consts::operation("12345678-1234-abcd-ef00-01234567cffb", 0x2d),
        "NetrLogonSamLogonWithFlags"
    );
    assert_eq!(
        consts::operation("4b324fc8-1670-01d3-1278-5a47bf6ee188", 0x36),
        "unknown-54"
    );
    assert_eq!(
        consts::endpoint("00000000-0000-0000-0000-000000000000"),
        "unknown-00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        consts::pipe_uuid("\\PIPE\\WinReg"),
        Some("338cd001-2244-31f1-aaaa-900038001003")
    );
    assert!(consts::ignored("winreg", "BaseRegCloseKey"));
    for (u, ops) in consts::OPERATIONS {
        assert!(
            consts::ENDPOINTS.iter().any(|(e, _)| e == u),
            "{u} has no endpoint"
        );
        assert!(!ops.contains("  "));
    }
}

#[test]
fn garbage_stops_the_direction_without_panicking() {
    let (out, weird) = run(
        make,
        135,
        &step(false, &[4, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    );
    assert!(out.is_empty());
    assert_eq!(weird.get("dce_rpc_bad_version"), 1);
    let b = bind(None);
    for n in 0..b.len() {
        let mut cut = b[..n].to_vec();
        if cut.len() > 10 {
            cut[8] = n as u8;
        }
        let _ = run(make, 135, &step(false, &cut));
    }
}
