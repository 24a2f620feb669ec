//! Modbus/TCP, as Zeek's `modbus.log`: one record per message (request or
//! response) with its MBAP transaction and unit identifiers, the function
//! name and, for exception responses, the exception; requests also carry
//! the OT `class` of what they do (`codes.rs` holds both tables).
//!
//! Framing follows Zeek's binpac analyzer, because that decides which
//! messages reach the log when a stream is damaged: an ADU is the 7-byte
//! MBAP header plus `length - 1` PDU bytes; the message is logged as soon
//! as its header and function code are in (an exception response once its
//! exception code is), the body is checked once the whole ADU is in, and
//! anything malformed throws away everything buffered in that direction,
//! the rest of the segment included, so parsing starts again at the next
//! segment. Several ADUs per segment and ADUs split across segments are
//! both read.

mod codes;

use super::ot_tally::{Key, Tally};
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use vagt_schema::{EventBody, ModbusRecord};

/// The longest ADU the length field can announce: 6 bytes before the
/// length's count plus 65,535.
const MAX_ADU: usize = 6 + 0xffff;
/// The MBAP header and the function code.
const HEADER: usize = 8;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Modbus {
        sides: Default::default(),
        tally: Tally::new("modbus"),
    })
}

#[derive(Default)]
struct Side {
    /// Bytes of an ADU not complete yet.
    buf: Vec<u8>,
    /// The header of the ADU at the front of `buf` was already logged.
    header_seen: bool,
}

struct Modbus {
    sides: [Side; 2],
    /// Reads and responses counted (`ot_tally`).
    tally: Tally,
}

/// An MBAP header with the function code.
struct Header {
    tid: u16,
    pid: u16,
    len: usize,
    unit: u8,
    fc: u8,
}

fn header(b: &[u8]) -> Option<Header> {
    let h = b.get(..HEADER)?;
    Some(Header {
        tid: u16::from_be_bytes([h[0], h[1]]),
        pid: u16::from_be_bytes([h[2], h[3]]),
        len: usize::from(u16::from_be_bytes([h[4], h[5]])),
        unit: h[6],
        fc: h[7],
    })
}

/// Writes a message's record, or counts it (`ot_tally`).
fn log(
    s: &mut Session<'_>,
    tally: &mut Tally,
    h: &Header,
    orig: bool,
    exception: Option<u8>,
    pdu: &[u8],
) {
    let class = orig.then(|| codes::class(h.fc, pdu));
    let key = Key {
        is_orig: orig,
        unit: Some(u32::from(h.unit)),
        code: u64::from(h.fc),
        class,
    };
    if tally.write_each(s, key, exception.is_some(), || {
        codes::func_name(h.fc).into()
    }) {
        s.emit(record(s, h, orig, exception, class));
    }
}

fn record(
    s: &Session<'_>,
    h: &Header,
    orig: bool,
    exception: Option<u8>,
    class: Option<vagt_schema::OtClass>,
) -> EventBody {
    EventBody::Modbus(ModbusRecord {
        ts: ConnIdent::time(s.ts),
        uid: s.conn.uid.clone(),
        id: s.conn.id,
        tid: Some(h.tid),
        unit: Some(h.unit),
        func: Some(codes::func_name(h.fc)),
        pdu_type: Some(if orig { "REQ" } else { "RESP" }.to_string()),
        exception: exception.map(codes::exception_name),
        class,
    })
}

impl Modbus {
    fn read(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) {
        let orig = dir.is_orig();
        let side = &mut self.sides[dir.index()];
        let tally = &mut self.tally;
        side.buf.extend_from_slice(data);
        let mut at = 0;
        while let Some(h) = header(&side.buf[at..]) {
            let adu_len = h.len + 6;
            if h.pid != 0 {
                // Protocol identifier 0 is Modbus; anything else is some
                // other protocol on the port (Zeek logs none of these).
                s.weird("modbus_bad_protocol_id");
                side.buf.clear();
                side.header_seen = false;
                return;
            }
            if adu_len < HEADER {
                // The length does not even cover the unit and function
                // code: Zeek's parser throws before it logs anything.
                s.weird("modbus_bad_length");
                side.buf.clear();
                side.header_seen = false;
                return;
            }
            let avail = &side.buf[at..];
            if !side.header_seen {
                side.header_seen = true;
                // Zeek logs on the header, before the body is complete;
                // requests with the exception bit are never logged, and an
                // exception response waits for its code.
                if h.fc < 0x80 {
                    let pdu = &avail[HEADER..avail.len().min(adu_len)];
                    log(s, tally, &h, orig, None, pdu);
                }
            }
            let Some(adu) = avail.get(..adu_len) else {
                break;
            };
            let body = &adu[HEADER..];
            if !body_ok(orig, h.fc, body) {
                s.weird("modbus_malformed_pdu");
                side.buf.clear();
                side.header_seen = false;
                return;
            }
            if !orig && h.fc >= 0x80 {
                log(s, tally, &h, orig, body.first().copied(), &[]);
            }
            side.header_seen = false;
            at += adu_len;
        }
        side.buf.drain(..at);
        if side.buf.len() > MAX_ADU {
            // Cannot happen with a 16-bit length; a guard on the buffer all
            // the same.
            side.buf.clear();
            side.header_seen = false;
        }
    }
}

/// Whether the body of a whole ADU parses as Zeek's analyzer reads it
/// (`modbus-protocol.pac`: the fixed fields must be there and its `&check`
/// conditions hold). Bytes after the fields are allowed.
fn body_ok(orig: bool, fc: u8, b: &[u8]) -> bool {
    let u16_at = |i: usize| b.get(i..i + 2).map(|x| u16::from_be_bytes([x[0], x[1]]));
    // A count byte at `i` followed by that many bytes.
    let counted = |i: usize| b.get(i).is_some_and(|&n| b.len() >= i + 1 + usize::from(n));
    match (orig, fc) {
        (true, 0x01 | 0x02) => u16_at(2).is_some_and(|q| q <= 2000),
        (true, 0x03 | 0x04) => u16_at(2).is_some_and(|q| q <= 125),
        (_, 0x05) => u16_at(2).is_some_and(|v| v == 0 || v == 0xff00),
        (_, 0x06) => b.len() >= 4,
        (true, 0x0F) => match (u16_at(2), b.get(4)) {
            (Some(q), Some(&n)) => {
                q <= 0x7b0 && usize::from(n) == usize::from(q).div_ceil(8) && counted(4)
            }
            _ => false,
        },
        (true, 0x10) => counted(4),
        (true, 0x14) => b.first().is_some_and(|&n| n <= 0xf5) && counted(0),
        (true, 0x15) => counted(0),
        (_, 0x16) => b.len() >= 6,
        (true, 0x17) => u16_at(2).is_some_and(|q| q <= 125) && counted(8),
        (true, 0x18) => b.len() >= 2,
        (false, 0x01..=0x04) => counted(0),
        (false, 0x0F) => u16_at(2).is_some_and(|q| q <= 0x7b0),
        (false, 0x10) => b.len() >= 4,
        (false, 0x14) => b.first().is_some_and(|&n| (7..=0xf5).contains(&n)) && counted(0),
        (false, 0x15 | 0x17) => counted(0),
        (false, 0x18) => b.len() >= 4,
        (false, 0x80..=0xff) => !b.is_empty(),
        _ => true,
    }
}

impl Parser for Modbus {
    fn depth(&self, _configured: u64) -> u64 {
        super::ot_tally::WHOLE_STREAM
    }

    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        self.read(s, dir, data);
        Verdict::More
    }

    fn gap(&mut self, _s: &mut Session<'_>, _dir: Dir, _len: u64) -> Verdict {
        // Zeek's binpac buffer forgets only where the data was: an ADU
        // begun before the gap takes the bytes after it as its own. Doing
        // the same keeps the log what Zeek's would be; a damaged ADU then
        // fails its checks and parsing starts again at the next segment.
        Verdict::More
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.tally.flush(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::testing::{ident, run};
    use vagt_schema::{OtClass, Proto};

    fn records(steps: &[(Dir, &[u8])]) -> Vec<ModbusRecord> {
        let conn = ident(Proto::Tcp, 502);
        let mut p = make(&conn);
        run(p.as_mut(), &conn, steps)
            .0
            .into_iter()
            .filter_map(|b| match b {
                EventBody::Modbus(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    // Read Holding Registers, tid 1, unit 10, 2 registers from 0.
    const READ_REQ: &[u8] = &[0, 1, 0, 0, 0, 6, 10, 3, 0, 0, 0, 2];
    const READ_RESP: &[u8] = &[0, 1, 0, 0, 0, 7, 10, 3, 4, 0, 1, 0, 2];

    #[test]
    fn request_and_response() {
        let r = records(&[(Dir::ToServer, READ_REQ), (Dir::ToClient, READ_RESP)]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].tid, Some(1));
        assert_eq!(r[0].unit, Some(10));
        assert_eq!(r[0].func.as_deref(), Some("READ_HOLDING_REGISTERS"));
        assert_eq!(r[0].pdu_type.as_deref(), Some("REQ"));
        assert_eq!(r[0].class, Some(OtClass::Read));
        assert_eq!(r[1].pdu_type.as_deref(), Some("RESP"));
        assert_eq!(r[1].class, None);
    }

    #[test]
    fn several_adus_per_segment_and_split_adus() {
        let write = [0, 2, 0, 0, 0, 6, 1, 6, 0, 9, 0x12, 0x34];
        let mut both = READ_REQ.to_vec();
        both.extend_from_slice(&write);
        let r = records(&[(Dir::ToServer, &both)]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].func.as_deref(), Some("WRITE_SINGLE_REGISTER"));
        assert_eq!(r[1].class, Some(OtClass::Write));
        // Split inside the MBAP header and inside the body.
        let r = records(&[
            (Dir::ToServer, &both[..5]),
            (Dir::ToServer, &both[5..15]),
            (Dir::ToServer, &both[15..]),
        ]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].tid, Some(2));
    }

    #[test]
    fn exception_response() {
        let exc = [0, 1, 0, 0, 0, 3, 10, 0x83, 2];
        let r = records(&[(Dir::ToServer, READ_REQ), (Dir::ToClient, &exc)]);
        assert_eq!(
            r[1].func.as_deref(),
            Some("READ_HOLDING_REGISTERS_EXCEPTION")
        );
        assert_eq!(r[1].exception.as_deref(), Some("ILLEGAL_DATA_ADDRESS"));
    }

    #[test]
    fn malformed_input_is_counted_not_logged() {
        let conn = ident(Proto::Tcp, 502);
        let mut p = make(&conn);
        // Length 0 (shorter than unit and function code), then a non-zero
        // protocol identifier.
        let bad = [0, 1, 0, 0, 0, 0, 1, 3, 0, 0, 0, 0];
        let other = [0, 1, 0, 7, 0, 6, 1, 3, 0, 0, 0, 1];
        let (out, weird) = run(
            p.as_mut(),
            &conn,
            &[(Dir::ToServer, &bad), (Dir::ToServer, &other)],
        );
        assert!(out.is_empty());
        assert_eq!(weird.get("modbus_bad_length"), 1);
        assert_eq!(weird.get("modbus_bad_protocol_id"), 1);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let conn = ident(Proto::Tcp, 502);
        let mut seed = 0x1234_5678u32;
        for _ in 0..200 {
            let mut p = make(&conn);
            let data: Vec<u8> = (0..64)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8 % 8
                })
                .collect();
            let _ = run(
                p.as_mut(),
                &conn,
                &[(Dir::ToServer, &data), (Dir::ToClient, &data)],
            );
        }
    }
}
