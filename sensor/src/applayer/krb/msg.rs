//! One Kerberos message read into what Zeek's `kerberos.log` uses. The
//! messages are decoded by `kerberos-parser`; a KRB-ERROR it refuses
//! (mandatory fields missing, as Zeek's own lenient parser accepts) is read
//! again field by field with a small DER walker, so the error still counts.

use asn1_rs::FromDer as _;
use kerberos_parser::krb5::{ApReq, KrbError, PrincipalName};
use kerberos_parser::krb5_parser as p;

/// What a message says, as far as the log goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// AS-REQ (`tgs` false) or TGS-REQ.
    Req {
        tgs: bool,
        client_name: Option<String>,
        realm: String,
        service_name: Option<String>,
        from: Option<f64>,
        till: Option<f64>,
        forwardable: bool,
        renewable: bool,
    },
    /// AS-REP or TGS-REP.
    Rep {
        client_name: String,
        client_realm: String,
        service_name: String,
        cipher: i32,
    },
    Error {
        client_name: Option<String>,
        client_realm: Option<String>,
        service_name: Option<String>,
        code: u32,
        text: Option<String>,
    },
    ApReq,
    /// AP-REP, KRB-SAFE, KRB-PRIV, KRB-CRED: valid, nothing to log.
    Other,
}

/// APPLICATION tags of the Kerberos messages (RFC 4120 5.10).
const AS_REQ: u8 = 0x6a;
const AS_REP: u8 = 0x6b;
const TGS_REQ: u8 = 0x6c;
const TGS_REP: u8 = 0x6d;
const AP_REQ: u8 = 0x6e;
const AP_REP: u8 = 0x6f;
const KRB_SAFE: u8 = 0x74;
const KRB_PRIV: u8 = 0x75;
const KRB_CRED: u8 = 0x76;
const KRB_ERROR: u8 = 0x7e;

/// Whether `b` starts like a Kerberos message: a known APPLICATION tag
/// around a SEQUENCE, with a length that fits (`whole`: the message must
/// end where `b` does).
pub fn looks_like(b: &[u8], whole: bool) -> bool {
    let Some(&tag) = b.first() else {
        return false;
    };
    if !matches!(
        tag,
        AS_REQ
            | AS_REP
            | TGS_REQ
            | TGS_REP
            | AP_REQ
            | AP_REP
            | KRB_SAFE
            | KRB_PRIV
            | KRB_CRED
            | KRB_ERROR
    ) {
        return false;
    }
    match header(b) {
        Some((hdr, len)) => {
            b.get(hdr) == Some(&0x30) && (if whole { hdr + len == b.len() } else { true })
        }
        None => false,
    }
}

pub fn parse(b: &[u8]) -> Result<Msg, &'static str> {
    let bad = |_| "krb_bad_message";
    match b.first() {
        Some(&AS_REQ) => p::parse_as_req(b).map(|(_, m)| req(&m, false)).map_err(bad),
        Some(&TGS_REQ) => p::parse_tgs_req(b).map(|(_, m)| req(&m, true)).map_err(bad),
        Some(&AS_REP) => p::parse_as_rep(b).map(|(_, m)| rep(&m)).map_err(bad),
        Some(&TGS_REP) => p::parse_tgs_rep(b).map(|(_, m)| rep(&m)).map_err(bad),
        Some(&KRB_ERROR) => match KrbError::from_der(b) {
            Ok((_, e)) => Ok(Msg::Error {
                client_name: e.cname.as_ref().map(name),
                client_realm: e.crealm.map(|r| r.0),
                service_name: Some(name(&e.sname)),
                code: e.error_code.0 as u32,
                text: e.etext,
            }),
            Err(_) => lenient_error(b).ok_or("krb_bad_message"),
        },
        Some(&AP_REQ) => ApReq::from_der(b).map(|_| Msg::ApReq).map_err(bad),
        Some(&AP_REP | &KRB_SAFE | &KRB_PRIV | &KRB_CRED) if looks_like(b, false) => Ok(Msg::Other),
        _ => Err("krb_unknown_message"),
    }
}

/// A principal as Zeek writes it: its name components joined by "/".
fn name(n: &PrincipalName) -> String {
    n.name_string.join("/")
}

fn req(m: &kerberos_parser::krb5::KdcReq<'_>, tgs: bool) -> Msg {
    let b = &m.req_body;
    let opts: &[u8] = &b.kdc_options.data;
    // KDCOptions bits count from the first byte's top bit: forwardable is
    // bit 1, renewable bit 8.
    Msg::Req {
        tgs,
        client_name: b.cname.as_ref().map(name),
        realm: b.realm.0.clone(),
        service_name: b.sname.as_ref().map(name),
        from: b.from.as_ref().map(|t| epoch(&t.0)),
        till: Some(epoch(&b.till.0)),
        forwardable: opts.first().is_some_and(|o| o & 0x40 != 0),
        renewable: opts.get(1).is_some_and(|o| o & 0x80 != 0),
    }
}

fn rep(m: &kerberos_parser::krb5::KdcRep<'_>) -> Msg {
    Msg::Rep {
        client_name: name(&m.cname),
        client_realm: m.crealm.0.clone(),
        service_name: name(&m.ticket.sname),
        cipher: m.ticket.enc_part.etype.0,
    }
}

/// Seconds since the epoch of a KerberosTime (always UTC, RFC 4120 5.2.3).
fn epoch(t: &asn1_rs::ASN1DateTime) -> f64 {
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m, d) = (i64::from(t.year), i64::from(t.month), i64::from(t.day));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs =
        days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second);
    secs as f64 + f64::from(t.millisecond.unwrap_or(0)) / 1000.0
}

/// The identifier octet and content length of a DER element; `None` when
/// the header runs past `b` or uses forms Kerberos never does.
fn header(b: &[u8]) -> Option<(usize, usize)> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for &x in b.get(2..2 + n)? {
        len = (len << 8) | usize::from(x);
    }
    Some((2 + n, len))
}

/// Splits off one element: (identifier, contents, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (hdr, len) = header(b)?;
    let end = hdr.checked_add(len)?;
    Some((*b.first()?, b.get(hdr..end)?, b.get(end..)?))
}

/// The elements of a constructed value's contents.
fn elements(mut b: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (tag, body, rest) = tlv(b)?;
        b = rest;
        Some((tag, body))
    })
}

/// A KRB-ERROR read field by field, every field optional (as Zeek's
/// parser takes it); the error code is the one field it needs.
fn lenient_error(b: &[u8]) -> Option<Msg> {
    let (_, body, _) = tlv(b)?;
    let (seq_tag, fields, _) = tlv(body)?;
    if seq_tag != 0x30 {
        return None;
    }
    let string = |v: &[u8]| {
        let (_, s, _) = tlv(v)?;
        Some(String::from_utf8_lossy(s).into_owned())
    };
    let principal = |v: &[u8]| {
        let (_, seq, _) = tlv(v)?;
        let (_, strings) = elements(seq).find(|(t, _)| *t == 0xa1)?;
        let (_, list, _) = tlv(strings)?;
        let parts: Vec<String> = elements(list)
            .map(|(_, s)| String::from_utf8_lossy(s).into_owned())
            .collect();
        Some(parts.join("/"))
    };
    let (mut code, mut text, mut cname, mut crealm, mut sname) = (None, None, None, None, None);
    for (tag, v) in elements(fields) {
        match tag {
            0xa6 => {
                let (t, int, _) = tlv(v)?;
                if t != 0x02 || int.is_empty() || int.len() > 4 {
                    return None;
                }
                code = Some(int.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x)));
            }
            0xa7 => crealm = string(v),
            0xa8 => cname = principal(v),
            0xaa => sname = principal(v),
            0xab => text = string(v),
            _ => {}
        }
    }
    Some(Msg::Error {
        client_name: cname,
        client_realm: crealm,
        service_name: sname,
        code: code?,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_error_is_read_leniently() {
        // A KRB-ERROR with only an error code (25) and e-data, as a
        // scanner may send it; kerberos-parser wants the mandatory fields.
        let b = [
            0x7e, 0x14, 0x30, 0x12, 0xa6, 0x03, 0x02, 0x01, 0x19, 0xac, 0x0b, 0x30, 0x09, 0x30,
            0x07, 0xa1, 0x03, 0x02, 0x01, 0x02, 0xa2, 0x00,
        ];
        assert!(looks_like(&b, true));
        assert_eq!(
            parse(&b),
            Ok(Msg::Error {
                client_name: None,
                client_realm: None,
                service_name: None,
                code: 25,
                text: None
            })
        );
        for n in 0..b.len() {
            let _ = parse(&b[..n]);
        }
    }

    #[test]
    fn epoch_of_dates() {
        let t = |year, month, day, hour| asn1_rs::ASN1DateTime {
            year,
            month,
            day,
            hour,
            minute: 0,
            second: 0,
            millisecond: None,
            tz: asn1_rs::ASN1TimeZone::Z,
        };
        assert_eq!(epoch(&t(1970, 1, 1, 0)), 0.0);
        assert_eq!(
            epoch(&t(2037, 9, 13, 2)) as i64 + 48 * 60 + 5,
            2_136_422_885
        );
        assert_eq!(epoch(&t(2000, 3, 1, 0)), 951_868_800.0);
    }

    #[test]
    fn not_kerberos() {
        assert!(!looks_like(b"GET / HTTP/1.1", false));
        assert!(!looks_like(&[0x6a, 0x85], false));
        assert!(!looks_like(&[0x6a, 0x03, 0x31, 0, 0], false));
        assert_eq!(parse(&[0x30, 0]), Err("krb_unknown_message"));
    }
}
