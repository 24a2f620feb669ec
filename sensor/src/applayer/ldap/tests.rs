use super::*;
use crate::applayer::drive::Driver;
use crate::applayer::Dir::{ToClient, ToServer};
use vagt_schema::Proto as P;

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    if body.len() < 0x80 {
        v.push(body.len() as u8);
    } else {
        v.push(0x82);
        v.extend((body.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

fn msg(id: u8, op: Vec<u8>) -> Vec<u8> {
    tlv(0x30, &[tlv(0x02, &[id]), op].concat())
}

fn result(tag: u8, code: u8, diag: &str) -> Vec<u8> {
    tlv(
        tag,
        &[
            tlv(0x0a, &[code]),
            tlv(0x04, b""),
            tlv(0x04, diag.as_bytes()),
        ]
        .concat(),
    )
}

fn bind_simple(id: u8, name: &str, pw: &str) -> Vec<u8> {
    msg(
        id,
        tlv(
            0x60,
            &[
                tlv(0x02, &[3]),
                tlv(0x04, name.as_bytes()),
                tlv(0x80, pw.as_bytes()),
            ]
            .concat(),
        ),
    )
}

fn search(id: u8, base: &str) -> Vec<u8> {
    let filter = tlv(
        0xa0,
        &[
            tlv(0x87, b"objectclass"),
            tlv(
                0xa3,
                &[tlv(0x04, b"sAMAccountName"), tlv(0x04, b"bob")].concat(),
            ),
        ]
        .concat(),
    );
    msg(
        id,
        tlv(
            0x63,
            &[
                tlv(0x04, base.as_bytes()),
                tlv(0x0a, &[2]),
                tlv(0x0a, &[3]),
                tlv(0x02, &[0]),
                tlv(0x02, &[0]),
                tlv(0x01, &[0]),
                filter,
                tlv(0x30, &tlv(0x04, b"cn")),
            ]
            .concat(),
        ),
    )
}

fn ldap(d: &Driver) -> (Vec<LdapRecord>, Vec<LdapSearchRecord>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for r in d.records() {
        match r {
            EventBody::Ldap(r) => a.push(r),
            EventBody::LdapSearch(r) => b.push(r),
            _ => {}
        }
    }
    (a, b)
}

#[test]
fn bind_search_unbind() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    let mut client = bind_simple(1, "cn=admin,dc=example,dc=com", "secret");
    client.extend(search(2, "DC=example,DC=com"));
    // Split inside a message: the stream is reassembled.
    d.parse(ToServer, &client[..10]);
    d.parse(ToServer, &client[10..]);
    d.parse(ToClient, &msg(1, result(0x61, 0, "")));
    let mut reply = msg(
        2,
        tlv(0x64, &[tlv(0x04, b"CN=bob"), tlv(0x30, b"")].concat()),
    );
    reply.extend(msg(2, result(0x65, 0, "")));
    d.parse(ToClient, &reply);
    d.parse(ToServer, &msg(3, tlv(0x42, b"")));
    let (m, q) = ldap(&d);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].opcode.as_deref(), Some("bind simple"));
    assert_eq!(m[0].version, Some(3));
    assert_eq!(m[0].result.as_deref(), Some("success"));
    assert_eq!(m[0].object.as_deref(), Some("cn=admin,dc=example,dc=com"));
    assert_eq!(m[0].argument.as_deref(), Some("REDACTED"));
    assert_eq!(m[1].opcode.as_deref(), Some("unbind"));
    assert_eq!(q.len(), 1);
    let q = &q[0];
    assert_eq!(q.scope.as_deref(), Some("tree"));
    assert_eq!(q.deref_aliases.as_deref(), Some("always"));
    assert_eq!(q.result_count, 1);
    assert_eq!(
        q.filter.as_deref(),
        Some("(&(objectclass=*)(sAMAccountName=bob))")
    );
    assert_eq!(q.attributes, None);
}

#[test]
fn unanswered_operations_are_written_at_close() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    d.parse(ToServer, &msg(5, tlv(0x4a, b"CN=x")));
    d.parse(ToServer, &msg(0, tlv(0x4a, b"CN=y")));
    assert!(ldap(&d).0.is_empty());
    d.close();
    let (m, _) = ldap(&d);
    assert_eq!(m.len(), 1, "message id 0 is not written, as in Zeek");
    assert_eq!(m[0].opcode.as_deref(), Some("delete"));
    assert_eq!(m[0].object.as_deref(), Some("CN=x"));
}

#[test]
fn start_tls_ends_reading() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    d.parse(
        ToServer,
        &msg(1, tlv(0x77, &tlv(0x80, b"1.3.6.1.4.1.1466.20037"))),
    );
    d.parse(ToClient, &msg(1, result(0x78, 0, "")));
    let (m, _) = ldap(&d);
    assert_eq!(
        m[0].object.as_deref(),
        Some("1.3.6.1.4.1.1466.20037 (StartTLS)")
    );
    assert_eq!(d.parse(ToServer, &[0x16, 3, 1, 0, 5]), Verdict::Done);
}

#[test]
fn sasl_wrapped_messages_are_skipped() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    let sasl = tlv(0xa3, &tlv(0x04, b"SRP"));
    d.parse(
        ToServer,
        &msg(
            1,
            tlv(0x60, &[tlv(0x02, &[3]), tlv(0x04, b""), sasl].concat()),
        ),
    );
    d.parse(ToClient, &msg(1, result(0x61, 0, "")));
    // An opaque SASL buffer, then nothing readable.
    let mut wrapped = 8u32.to_be_bytes().to_vec();
    wrapped.extend([9; 8]);
    assert_eq!(d.parse(ToServer, &wrapped), Verdict::More);
    assert_eq!(d.weird.get("ldap_bad_message"), 0);
    let (m, _) = ldap(&d);
    assert_eq!(m[0].opcode.as_deref(), Some("bind SASL"));
    assert_eq!(m[0].argument.as_deref(), Some("SRP"));
}

#[test]
fn hostile_input_is_bounded() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    // A message claiming 16 MiB is skipped, not buffered.
    d.parse(ToServer, &[0x30, 0x84, 0x01, 0, 0, 0, 1, 2, 3]);
    assert_eq!(d.weird.get("ldap_message_too_long"), 1);
    d.parse(ToServer, &vec![0u8; 4096]);
    d.parse(ToServer, b"garbage");
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    // One-byte INTEGERs stop at 127.
    for id in 1..=127u8 {
        for _ in 0..5 {
            d.parse(ToServer, &msg(id, tlv(0x4a, b"CN=x")));
        }
    }
    d.close();
    assert_eq!(ldap(&d).0.len(), 127);
}

#[test]
fn pending_operations_are_capped() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    for id in 0..300u16 {
        let id = 0x0100 + id;
        let m = tlv(
            0x30,
            &[tlv(0x02, &id.to_be_bytes()), tlv(0x4a, b"CN=x")].concat(),
        );
        d.parse(ToServer, &m);
    }
    assert_eq!(d.weird.get("LDAP_max_pending_messages_exceeded"), 1);
    assert_eq!(
        ldap(&d).0.len(),
        MAX_PENDING,
        "the first ones were written out"
    );
    d.close();
    assert_eq!(ldap(&d).0.len(), 300);
}
