use super::*;
use crate::applayer::drive::Driver;
use crate::applayer::Dir::{ToClient, ToServer};
use vagt_schema::Proto as P;

/// A DER element (short or long length form).
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

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn int(n: u8) -> Vec<u8> {
    tlv(0x02, &[n])
}

fn gstr(s: &str) -> Vec<u8> {
    tlv(0x1b, s.as_bytes())
}

fn principal(parts: &[&str]) -> Vec<u8> {
    let names: Vec<Vec<u8>> = parts.iter().map(|p| gstr(p)).collect();
    tlv(
        0x30,
        &cat(&[tlv(0xa0, &int(1)), tlv(0xa1, &tlv(0x30, &names.concat()))]),
    )
}

fn time(s: &str) -> Vec<u8> {
    tlv(0x18, s.as_bytes())
}

fn as_req() -> Vec<u8> {
    let body = tlv(
        0x30,
        &cat(&[
            tlv(0xa0, &tlv(0x03, &[0, 0x40, 0, 0, 0x10])),
            tlv(0xa1, &principal(&["alice"])),
            tlv(0xa2, &gstr("EXAMPLE.ORG")),
            tlv(0xa3, &principal(&["krbtgt", "EXAMPLE.ORG"])),
            tlv(0xa5, &time("20370913024805Z")),
            tlv(0xa7, &int(7)),
            tlv(0xa8, &tlv(0x30, &int(18))),
        ]),
    );
    tlv(
        0x6a,
        &tlv(
            0x30,
            &cat(&[tlv(0xa1, &int(5)), tlv(0xa2, &int(10)), tlv(0xa4, &body)]),
        ),
    )
}

fn error(code: u8, text: Option<&str>) -> Vec<u8> {
    let mut f = vec![
        tlv(0xa0, &int(5)),
        tlv(0xa1, &int(30)),
        tlv(0xa4, &time("20240101000000Z")),
        tlv(0xa5, &int(0)),
        tlv(0xa6, &int(code)),
        tlv(0xa9, &gstr("EXAMPLE.ORG")),
        tlv(0xaa, &principal(&["krbtgt", "EXAMPLE.ORG"])),
    ];
    if let Some(t) = text {
        f.push(tlv(0xab, &gstr(t)));
    }
    tlv(0x7e, &tlv(0x30, &cat(&f)))
}

fn records(d: &Driver) -> Vec<KerberosRecord> {
    d.records()
        .into_iter()
        .filter_map(|b| match b {
            EventBody::Kerberos(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn as_request_and_error_over_udp() {
    assert!(probe(&as_req(), false));
    let mut d = Driver::new(make, P::Udp, 40000, 88);
    d.parse(ToServer, &as_req());
    assert!(records(&d).is_empty());
    d.parse(ToClient, &error(60, None));
    let r = records(&d);
    assert_eq!(r.len(), 1);
    let r = &r[0];
    assert_eq!(r.request_type.as_deref(), Some("AS"));
    assert_eq!(r.client.as_deref(), Some("alice/EXAMPLE.ORG"));
    assert_eq!(r.service.as_deref(), Some("krbtgt/EXAMPLE.ORG"));
    assert_eq!(r.success, Some(false));
    assert_eq!(r.error_code, Some(60));
    assert_eq!(r.error_msg.as_deref(), Some("KRB_ERR_GENERIC"));
    assert_eq!(r.till, Some(2_136_422_885.0));
    assert_eq!((r.forwardable, r.renewable), (Some(true), Some(false)));
    // One record per connection, as Zeek.
    d.parse(ToServer, &as_req());
    d.parse(ToClient, &error(6, None));
    d.close();
    assert_eq!(records(&d).len(), 1);
}

#[test]
fn tcp_messages_split_anywhere_and_preauth_errors_ignored() {
    let m = as_req();
    let mut stream = (m.len() as u32).to_be_bytes().to_vec();
    stream.extend(m);
    assert!(probe(&stream, true));
    assert!(probe(&stream[..20], true));
    let mut d = Driver::new(make, P::Tcp, 40000, 88);
    for c in stream.chunks(7) {
        d.parse(ToServer, c);
    }
    let e = error(25, Some("NEEDED_PREAUTH"));
    let mut reply = (e.len() as u32).to_be_bytes().to_vec();
    reply.extend(e);
    d.parse(ToClient, &reply);
    d.close();
    assert!(
        records(&d).is_empty(),
        "the pre-authentication hint is not logged"
    );
}

#[test]
fn unanswered_request_is_written_at_close() {
    let mut d = Driver::new(make, P::Udp, 40000, 88);
    d.parse(ToServer, &as_req());
    d.close();
    let r = records(&d);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].success, None);
}

#[test]
fn garbage_is_counted_not_fatal() {
    let mut d = Driver::new(make, P::Udp, 40000, 88);
    d.parse(ToServer, b"\x6a\x05hello");
    assert_eq!(d.weird.get("krb_bad_message"), 1);
    let m = as_req();
    for n in 0..m.len() {
        d.parse(ToServer, &m[..n]);
    }
    assert!(!probe(b"\x00\x00\x00\x05hello", true));
    assert!(!probe(&[0xff; 8], true));
    let mut d = Driver::new(make, P::Tcp, 40000, 88);
    assert_eq!(d.parse(ToServer, &[0x7f, 0, 0, 0]), Verdict::Done);
}

#[test]
fn names_of_codes_and_ciphers() {
    assert_eq!(error_name(25), "KDC_ERR_PREAUTH_REQUIRED");
    assert_eq!(error_name(68), "KDC_ERR_WRONG_REALM");
    assert_eq!(error_name(30), "unknown-30");
    assert_eq!(error_name(500), "unknown-500");
    assert_eq!(cipher_name(23), "rc4-hmac");
    assert_eq!(cipher_name(4), "unknown-4");
}
