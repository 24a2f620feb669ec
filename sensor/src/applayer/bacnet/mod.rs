//! BACnet/IP (UDP 47808), after the `bacnet.log` of CISA's ICSNPP BACnet
//! plugin: one record per message with its BVLC function and, when the
//! NPDU carries an application PDU, the APDU type, service, invoke ID and
//! result (BVLC result, error code, reject or abort reason). Requests are
//! classed for the OT-write detectors (`codes.rs`).
//!
//! Layers (ASHRAE 135): BVLC (Annex J: type 0x81, function, length), NPDU
//! (clause 6: version, control, optional destination and source network
//! addresses, hop count; a network-layer message has no APDU), APDU
//! (clause 20: type in the high nibble of the first byte).

mod codes;

use super::ot_tally::{Key, Tally};
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, u8 as byte};
use nom::IResult;
use vagt_schema::{BacnetRecord, EventBody};

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Bacnet {
        tally: Tally::new("bacnet"),
    })
}

struct Bacnet {
    /// Reads, announcements and their answers counted (`ot_tally`).
    tally: Tally,
}

/// What one message says.
#[derive(Debug, Default, PartialEq)]
struct Message {
    bvlc: u8,
    /// The BVLC length announced more bytes than the datagram holds.
    short: bool,
    bvlc_result: Option<u16>,
    apdu: Option<Apdu>,
}

#[derive(Debug, Default, PartialEq)]
struct Apdu {
    ptype: u8,
    service: Option<u8>,
    invoke_id: Option<u8>,
    /// Error code, reject or abort reason.
    result: Option<u32>,
}

fn bvlc(i: &[u8]) -> IResult<&[u8], (u8, usize)> {
    let (i, _kind) = nom::bytes::complete::tag(&[0x81u8][..])(i)?;
    let (i, function) = byte(i)?;
    let (i, len) = be_u16(i)?;
    Ok((i, (function, usize::from(len))))
}

/// The NPDU header; the rest is the APDU, or `None` for a network-layer
/// message.
fn npdu(i: &[u8]) -> IResult<&[u8], bool> {
    let (i, _version) = byte(i)?;
    let (i, control) = byte(i)?;
    let mut i = i;
    if control & 0x20 != 0 {
        let (r, _dnet) = be_u16(i)?;
        let (r, dlen) = byte(r)?;
        let (r, _dadr) = take(dlen)(r)?;
        i = r;
    }
    if control & 0x08 != 0 {
        let (r, _snet) = be_u16(i)?;
        let (r, slen) = byte(r)?;
        let (r, _sadr) = take(slen)(r)?;
        i = r;
    }
    if control & 0x20 != 0 {
        let (r, _hops) = byte(i)?;
        i = r;
    }
    Ok((i, control & 0x80 == 0))
}

/// An enumerated application tag (tag number 9) and its value.
fn enumerated(i: &[u8]) -> IResult<&[u8], u32> {
    let (i, t) = byte(i)?;
    if t >> 4 != 9 || t & 0x08 != 0 || !(1..=4).contains(&(t & 7)) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        )));
    }
    let (i, v) = take(t & 7)(i)?;
    Ok((i, v.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b))))
}

fn apdu(i: &[u8]) -> IResult<&[u8], Apdu> {
    let (i, first) = byte(i)?;
    let ptype = first >> 4;
    let seg = first & 0x08 != 0;
    let mut a = Apdu {
        ptype,
        ..Apdu::default()
    };
    let i = match ptype {
        0 => {
            let (i, _max) = byte(i)?;
            let (i, id) = byte(i)?;
            let (i, _) = take(if seg { 2usize } else { 0 })(i)?;
            let (i, s) = byte(i)?;
            a.invoke_id = Some(id);
            a.service = Some(s);
            i
        }
        1 => {
            let (i, s) = byte(i)?;
            a.service = Some(s);
            i
        }
        2 => {
            let (i, id) = byte(i)?;
            let (i, s) = byte(i)?;
            a.invoke_id = Some(id);
            a.service = Some(s);
            i
        }
        3 => {
            let (i, id) = byte(i)?;
            let (i, _) = take(if seg { 2usize } else { 0 })(i)?;
            let (i, s) = byte(i)?;
            a.invoke_id = Some(id);
            a.service = Some(s);
            i
        }
        4 => {
            let (i, id) = byte(i)?;
            a.invoke_id = Some(id);
            i
        }
        5 => {
            let (i, id) = byte(i)?;
            let (i, s) = byte(i)?;
            a.invoke_id = Some(id);
            a.service = Some(s);
            // Error class and code; some services wrap them in context
            // tag 0 (an opening tag 0x0E).
            let body = i.strip_prefix(&[0x0e]).unwrap_or(i);
            if let Ok((r, _class)) = enumerated(body) {
                if let Ok((_, code)) = enumerated(r) {
                    a.result = Some(code);
                }
            }
            i
        }
        6 | 7 => {
            let (i, id) = byte(i)?;
            let (i, reason) = byte(i)?;
            a.invoke_id = Some(id);
            a.result = Some(u32::from(reason));
            i
        }
        _ => {
            return Err(nom::Err::Error(nom::error::Error::new(
                i,
                nom::error::ErrorKind::Switch,
            )))
        }
    };
    Ok((i, a))
}

/// Reads one datagram. A BVLC length beyond the datagram is counted (the
/// ICSNPP plugin logs such messages; some devices announce more than they
/// send) and what is there is read.
fn message(p: &[u8]) -> Result<Message, &'static str> {
    let (rest, (function, len)) = bvlc(p).map_err(|_| "bacnet_bad_bvlc")?;
    if len < 4 {
        return Err("bacnet_bvlc_length_mismatch");
    }
    let body = rest.get(..len - 4).unwrap_or(rest);
    let mut m = Message {
        bvlc: function,
        short: len > p.len(),
        ..Message::default()
    };
    let npdu_bytes = match function {
        0 => {
            m.bvlc_result = be_u16::<_, nom::error::Error<&[u8]>>(body)
                .ok()
                .map(|(_, r)| r);
            return Ok(m);
        }
        // Forwarded-NPDU: the original sender's B/IP address first.
        4 => body.get(6..).ok_or("bacnet_truncated")?,
        9..=11 => body,
        _ => return Ok(m),
    };
    let (apdu_bytes, has_apdu) = npdu(npdu_bytes).map_err(|_| "bacnet_bad_npdu")?;
    if has_apdu {
        m.apdu = Some(apdu(apdu_bytes).map_err(|_| "bacnet_bad_apdu")?.1);
    }
    Ok(m)
}

impl Parser for Bacnet {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        let m = match message(data) {
            Ok(m) => m,
            Err(reason) => {
                s.weird(reason);
                return Verdict::More;
            }
        };
        if m.short {
            s.weird("bacnet_bvlc_length_mismatch");
        }
        // Counted first and written only when the tally says so: a
        // building's controllers announce and poll every few seconds, and
        // the record's strings are wasted on the messages only counted.
        let (ptype, service) = m
            .apdu
            .as_ref()
            .map_or((0xff, 0), |a| (a.ptype, a.service.unwrap_or_default()));
        let class = match &m.apdu {
            None if m.bvlc != 0 && m.bvlc != 3 && m.bvlc != 7 => Some(codes::bvlc_class(m.bvlc)),
            None => None,
            Some(a) => match a.ptype {
                0 => Some(codes::confirmed_class(service)),
                1 => Some(codes::unconfirmed_class(service)),
                _ => None,
            },
        };
        let pdu_service = || match ptype {
            0 | 2 | 3 | 5 => Some(codes::confirmed_service(service)),
            1 => Some(codes::unconfirmed_service(service)),
            _ => None,
        };
        let key = Key {
            is_orig: dir.is_orig(),
            unit: None,
            code: u64::from(m.bvlc) << 16 | u64::from(ptype) << 8 | u64::from(service),
            class,
        };
        // Error, Reject and Abort PDUs, and a failed BVLC result.
        let failed = matches!(ptype, 5..=7) || m.bvlc_result.is_some_and(|r| r != 0);
        let name = || {
            pdu_service()
                .unwrap_or_else(|| codes::bvlc_function(m.bvlc))
                .into()
        };
        if !self.tally.write_each(s, key, failed, name) {
            return Verdict::More;
        }
        let id = s.conn.id;
        let (source, destination) = if dir.is_orig() {
            ((id.orig_h, id.orig_p), (id.resp_h, id.resp_p))
        } else {
            ((id.resp_h, id.resp_p), (id.orig_h, id.orig_p))
        };
        let mut rec = BacnetRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id,
            is_orig: dir.is_orig(),
            source_h: source.0,
            source_p: source.1,
            destination_h: destination.0,
            destination_p: destination.1,
            bvlc_function: Some(codes::bvlc_function(m.bvlc)),
            pdu_type: None,
            pdu_service: pdu_service(),
            invoke_id: None,
            result_code: m.bvlc_result.map(codes::bvlc_result),
            class,
        };
        if let Some(a) = &m.apdu {
            rec.pdu_type = Some(codes::apdu_type(a.ptype).to_string());
            rec.invoke_id = a.invoke_id;
            match a.ptype {
                5 => rec.result_code = a.result.map(codes::error_code),
                6 => rec.result_code = a.result.map(|r| codes::reject_reason(r as u8)),
                7 => rec.result_code = a.result.map(|r| codes::abort_reason(r as u8)),
                _ => {}
            }
        }
        s.emit(EventBody::Bacnet(rec));
        Verdict::More
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.tally.flush(s);
    }
}

/// Whether `class` is set on a record: only requests carry it.
#[cfg(test)]
fn is_request(r: &BacnetRecord) -> bool {
    r.class.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::testing::{ident, run};
    use vagt_schema::{OtClass, Proto};

    fn records(steps: &[(Dir, &[u8])]) -> Vec<BacnetRecord> {
        let conn = ident(Proto::Udp, 47808);
        let mut p = make(&conn);
        run(p.as_mut(), &conn, steps)
            .0
            .into_iter()
            .filter_map(|b| match b {
                EventBody::Bacnet(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    // Frames 1 and 2 of ICSNPP's bacnet_example.pcap (in the corpus as
    // ot/icsnpp-bacnet_example): readProperty of device 1's
    // object-name (property 77) and its Complex-ACK "Sensor_45312".
    const READ: &str = "810a001101040005010c0c00000001194d";
    const ACK: &str = "810a0021010030010c0c00000001194d3e750d0053656e736f725f34353331323f";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn read_property_and_ack() {
        let (req, ack) = (hex(READ), hex(ACK));
        let r = records(&[(Dir::ToServer, &req), (Dir::ToClient, &ack)]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].bvlc_function.as_deref(), Some("Original_Unicast_NPDU"));
        assert_eq!(r[0].pdu_type.as_deref(), Some("CONFIRMED_REQUEST"));
        assert_eq!(r[0].pdu_service.as_deref(), Some("read_property"));
        assert_eq!(r[0].invoke_id, Some(1));
        assert_eq!(r[0].class, Some(OtClass::Read));
        assert!(r[0].is_orig);
        assert_eq!(r[1].pdu_type.as_deref(), Some("COMPLEX_ACK"));
        assert_eq!(r[1].pdu_service.as_deref(), Some("read_property"));
        assert!(!is_request(&r[1]));
        assert_eq!(r[1].source_h, r[1].id.resp_h);
    }

    #[test]
    fn writes_errors_and_routed_npdus() {
        // writeProperty (15) with a routed NPDU (destination network 5,
        // 1-byte address, hop count 255).
        let write = [
            0x81, 0x0a, 0, 15, 1, 0x24, 0, 5, 1, 9, 255, 0x00, 0x05, 7, 15,
        ];
        // Error-PDU for writeProperty: class property (2), code
        // write-access-denied (40).
        let error = [0x81, 0x0a, 0, 13, 1, 0, 0x50, 7, 15, 0x91, 2, 0x91, 40];
        // Who-Is broadcast, unconfirmed.
        let who_is = [0x81, 0x0b, 0, 12, 1, 0x20, 0xff, 0xff, 0, 0xff, 0x10, 0x08];
        let r = records(&[
            (Dir::ToServer, &write),
            (Dir::ToClient, &error),
            (Dir::ToServer, &who_is[..8]),
        ]);
        assert_eq!(r[0].pdu_service.as_deref(), Some("write_property"));
        assert_eq!(r[0].class, Some(OtClass::Write));
        assert_eq!(r[1].pdu_type.as_deref(), Some("ERROR_PDU"));
        assert_eq!(r[1].result_code.as_deref(), Some("write-access-denied"));
        assert_eq!(r.len(), 2, "a truncated message is counted, not logged");
        let r = records(&[(Dir::ToServer, &who_is)]);
        assert_eq!(r[0].pdu_service.as_deref(), Some("who_is"));
        assert_eq!(r[0].class, Some(OtClass::Other));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let conn = ident(Proto::Udp, 47808);
        let mut seed = 0x9e37_79b9u32;
        for n in 0..500usize {
            let mut p = make(&conn);
            let mut data: Vec<u8> = (0..(n % 40))
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            if data.len() >= 4 {
                data[0] = 0x81;
                data[1] %= 12;
                data[2] = 0;
                data[3] = data.len() as u8;
            }
            let _ = run(p.as_mut(), &conn, &[(Dir::ToServer, &data)]);
        }
    }
}
