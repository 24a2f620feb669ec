//! S7comm and S7comm-plus on ISO-TSAP (TCP 102), after the `s7comm.log`
//! of CISA's ICSNPP S7comm plugin: TPKT frames (RFC 1006: version 3, a
//! 16-bit length) carry COTP TPDUs (ISO 8073); data TPDUs are joined up to
//! the one marked end-of-TSDU and the result is one S7 PDU: protocol id
//! 0x32 (classic: ROSCTR, PDU reference, parameters with the function
//! code, User-Data function group and sub-function) or 0x72 (S7comm-plus:
//! version, opcode, function). One record per PDU; requests are classed
//! for the OT-write detectors (`codes.rs`).

mod codes;

use super::ot_tally::{Key, Tally};
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, u8 as byte};
use nom::IResult;
use vagt_schema::{EventBody, OtClass, S7commRecord};

/// The largest S7 PDU kept; S7 negotiates at most 960 bytes, S7comm-plus
/// a few KiB. Beyond this a PDU is skipped (only its start is read).
const MAX_PDU: usize = 64 << 10;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(S7comm {
        sides: Default::default(),
        tally: Tally::new("s7comm"),
    })
}

#[derive(Default)]
struct Side {
    /// Bytes of a TPKT frame not complete yet.
    frame: Vec<u8>,
    /// Data TPDUs of an S7 PDU not ended yet.
    pdu: Vec<u8>,
}

struct S7comm {
    sides: [Side; 2],
    /// Reads and responses counted (`ot_tally`).
    tally: Tally,
}

/// The S7 header and the start of the parameters.
struct Classic<'a> {
    rosctr: u8,
    reference: u16,
    error: Option<(u8, u8)>,
    params: &'a [u8],
}

fn classic(i: &[u8]) -> IResult<&[u8], Classic<'_>> {
    let (i, _proto) = byte(i)?;
    let (i, rosctr) = byte(i)?;
    let (i, _redundancy) = be_u16(i)?;
    let (i, reference) = be_u16(i)?;
    let (i, plen) = be_u16(i)?;
    let (i, _dlen) = be_u16(i)?;
    let (i, error) = if rosctr == 2 || rosctr == 3 {
        let (i, class) = byte(i)?;
        let (i, code) = byte(i)?;
        (i, Some((class, code)))
    } else {
        (i, None)
    };
    let n = usize::from(plen).min(i.len());
    let (i, params) = take(n)(i)?;
    Ok((
        i,
        Classic {
            rosctr,
            reference,
            error,
            params,
        },
    ))
}

/// The PI service name of a PLC Control (0x28) parameter block: seven
/// bytes, a 16-bit parameter block length and the block, then a
/// length-prefixed name.
fn pi_service(params: &[u8]) -> Option<String> {
    let rest = params.get(8..)?;
    let (rest, blen) = be_u16::<_, nom::error::Error<&[u8]>>(rest).ok()?;
    let rest = rest.get(usize::from(blen)..)?;
    let (&n, rest) = rest.split_first()?;
    let name = rest.get(..usize::from(n))?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// What one S7 PDU says, in numbers: read once, then either counted or
/// turned into a record (`ot_tally`), so that counted PDUs cost no text.
enum Pdu {
    Classic {
        rosctr: u8,
        reference: u16,
        error: Option<(u8, u8)>,
        /// User-Data function group and sub-function.
        userdata: Option<(u8, u8)>,
        /// Job or Ack-Data function code.
        function: Option<u8>,
        /// PLC Control's PI service name.
        pi: Option<String>,
        class: Option<OtClass>,
    },
    Plus {
        version: u8,
        opcode: u8,
        function: Option<u16>,
        class: Option<OtClass>,
    },
}

/// Reads one S7 PDU.
fn pdu(p: &[u8]) -> Result<Pdu, &'static str> {
    match p.first() {
        Some(0x32) => {
            let (_, h) = classic(p).map_err(|_| "s7comm_truncated_header")?;
            let mut userdata = None;
            let mut function = None;
            let mut pi = None;
            let mut class = None;
            if h.rosctr == 7 {
                // User-Data parameters: head (3), length, method, type and
                // function group, sub-function, sequence number.
                if let (Some(&group), Some(&sub)) = (h.params.get(5), h.params.get(6)) {
                    userdata = Some((group, sub));
                    if group & 0xf0 == 0x40 {
                        class = Some(codes::userdata_class(group, sub));
                    }
                }
            } else if let Some(&f) = h.params.first() {
                function = Some(f);
                pi = (f == 0x28).then(|| pi_service(h.params)).flatten();
                if h.rosctr == 1 {
                    class = Some(codes::job_class(f, pi.as_deref()));
                }
            }
            Ok(Pdu::Classic {
                rosctr: h.rosctr,
                reference: h.reference,
                error: h.error,
                userdata,
                function,
                pi,
                class,
            })
        }
        Some(0x72) => {
            let version = p.get(1).copied().ok_or("s7comm_truncated_header")?;
            // Versions 2 and 3 put an integrity part (a digest length of
            // 32 and the digest) before the opcode.
            let at = if version >= 2 && p.get(4) == Some(&0x20) {
                4 + 33
            } else {
                4
            };
            let opcode = p.get(at).copied().ok_or("s7comm_truncated_header")?;
            let function = p
                .get(at + 3..at + 5)
                .map(|f| u16::from_be_bytes([f[0], f[1]]));
            let class = function.filter(|_| opcode == 0x31).map(codes::plus_class);
            Ok(Pdu::Plus {
                version,
                opcode,
                function,
                class,
            })
        }
        _ => Err("s7comm_unknown_protocol_id"),
    }
}

impl Pdu {
    /// The kind of PDU, for counting: ROSCTR or opcode, function and
    /// sub-function.
    fn key(&self, dir: Dir) -> Key {
        let (code, class) = match self {
            Pdu::Classic {
                rosctr,
                userdata,
                function,
                pi,
                class,
                ..
            } => {
                let (group, sub) = userdata.unwrap_or_default();
                // A PI service is a word of ASCII: its first bytes tell
                // them apart.
                let pi = pi.as_deref().map_or(0, |n| {
                    n.bytes().take(4).fold(0u64, |a, b| a << 8 | u64::from(b))
                });
                let f = function.map_or(0x1ff, u64::from);
                let code = u64::from(*rosctr) << 56
                    | u64::from(group) << 48
                    | u64::from(sub) << 40
                    | f << 32
                    | pi;
                (code, *class)
            }
            Pdu::Plus {
                opcode,
                function,
                class,
                ..
            } => {
                let f = function.map_or(0x1_ffff, u64::from);
                (1 << 63 | u64::from(*opcode) << 32 | f, *class)
            }
        };
        Key {
            is_orig: dir.is_orig(),
            unit: None,
            code,
            class,
        }
    }

    /// An Ack or Ack-Data that reports an error.
    fn failed(&self) -> bool {
        match self {
            Pdu::Classic {
                error: Some((class, code)),
                ..
            } => *code != 0 || (*class != 0 && *class != 0xfe),
            _ => false,
        }
    }

    fn record(&self, s: &Session<'_>, dir: Dir) -> S7commRecord {
        let mut r = S7commRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            is_orig: dir.is_orig(),
            rosctr_code: None,
            rosctr_name: None,
            pdu_reference: None,
            function_code: None,
            function_name: None,
            subfunction_code: None,
            subfunction_name: None,
            error_class: None,
            error_code: None,
            version: None,
            opcode_name: None,
            class: None,
        };
        match self {
            Pdu::Classic {
                rosctr,
                reference,
                error,
                userdata,
                function,
                pi,
                class,
            } => {
                r.rosctr_code = Some(*rosctr);
                r.rosctr_name = Some(codes::rosctr(*rosctr).to_string());
                r.pdu_reference = Some(*reference);
                if let Some((class, code)) = *error {
                    r.error_class = Some(if class == 0xfe && code != 0 {
                        "Parameter Error".to_string()
                    } else {
                        codes::error_class(if class == 0xfe { 0 } else { class })
                    });
                    r.error_code = Some(format!("0x{code:02x}"));
                }
                if let Some((group, sub)) = *userdata {
                    r.function_code = Some(format!("0x{group:02x}"));
                    r.function_name = Some(codes::userdata_function(group));
                    r.subfunction_code = Some(format!("0x{sub:02x}"));
                    r.subfunction_name = codes::subfunction(group, sub).map(str::to_string);
                }
                if let Some(f) = *function {
                    r.function_code = Some(format!("0x{f:02x}"));
                    r.function_name = Some(codes::function(f).to_string());
                    if *rosctr == 1 {
                        if let Some(name) = pi {
                            r.subfunction_name = Some(codes::pi_service(name).to_string());
                            r.subfunction_code = Some(name.clone());
                        }
                    }
                }
                r.class = *class;
            }
            Pdu::Plus {
                version,
                opcode,
                function,
                class,
            } => {
                r.version = Some(*version);
                r.opcode_name = Some(codes::plus_opcode(*opcode));
                if let Some(f) = *function {
                    r.function_code = Some(format!("0x{f:04x}"));
                    r.function_name = Some(codes::plus_function(f));
                }
                r.class = *class;
            }
        }
        r
    }

    /// The name an `ot_summary` record gives this kind: ROSCTR or opcode,
    /// function and sub-function, as the record spells them.
    fn name(&self) -> String {
        let parts: [Option<String>; 3] = match self {
            Pdu::Classic {
                rosctr,
                userdata,
                function,
                pi,
                ..
            } => match (userdata, function) {
                (Some((group, sub)), _) => [
                    Some(codes::rosctr(*rosctr).to_string()),
                    Some(codes::userdata_function(*group)),
                    codes::subfunction(*group, *sub).map(str::to_string),
                ],
                (None, f) => [
                    Some(codes::rosctr(*rosctr).to_string()),
                    f.map(|f| codes::function(f).to_string()),
                    pi.as_deref()
                        .filter(|_| *rosctr == 1)
                        .map(|n| codes::pi_service(n).to_string()),
                ],
            },
            Pdu::Plus {
                opcode, function, ..
            } => [
                Some(codes::plus_opcode(*opcode)),
                function.map(codes::plus_function),
                None,
            ],
        };
        parts.into_iter().flatten().collect::<Vec<_>>().join(" ")
    }
}

impl S7comm {
    fn read(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        let d = dir.index();
        let mut held = std::mem::take(&mut self.sides[d].frame);
        // Senders write whole TPKT frames per segment: those are read
        // where they lie, and only a frame cut by a segment boundary is
        // copied.
        let input: &[u8] = if held.is_empty() {
            data
        } else {
            held.extend_from_slice(data);
            &held
        };
        let mut at = 0;
        while let Some(h) = input.get(at..at + 4) {
            if h[0] != 3 {
                // Not TPKT: the stream cannot be framed any more.
                s.weird("s7comm_not_tpkt");
                self.sides[d] = Side::default();
                return Verdict::Done;
            }
            let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
            if len < 7 {
                s.weird("s7comm_bad_tpkt_length");
                self.sides[d] = Side::default();
                return Verdict::Done;
            }
            let Some(tpkt) = input.get(at..at + len) else {
                break;
            };
            at += len;
            // COTP: length indicator, TPDU code; data TPDUs (0xF0) carry
            // the end-of-TSDU bit in the byte after the code.
            let li = usize::from(tpkt[4]);
            if tpkt[5] & 0xf0 != 0xf0 {
                continue;
            }
            let eot = tpkt.get(6).is_some_and(|b| b & 0x80 != 0);
            let user = tpkt.get(5 + li..).unwrap_or(&[]);
            let pdu_buf = &mut self.sides[d].pdu;
            if eot && pdu_buf.is_empty() {
                // A PDU in one data TPDU, the common case: read in place.
                message(&mut self.tally, s, dir, user);
                continue;
            }
            if pdu_buf.len() + user.len() <= MAX_PDU {
                pdu_buf.extend_from_slice(user);
            }
            if eot {
                let mut p = std::mem::take(pdu_buf);
                message(&mut self.tally, s, dir, &p);
                p.clear();
                self.sides[d].pdu = p;
            }
        }
        if held.is_empty() {
            held.extend_from_slice(&data[at..]);
        } else {
            held.drain(..at);
        }
        self.sides[d].frame = held;
        Verdict::More
    }
}

/// One whole S7 PDU: counted, or written when it changes the device or
/// failed (`ot_tally`).
fn message(tally: &mut Tally, s: &mut Session<'_>, dir: Dir, p: &[u8]) {
    match pdu(p) {
        Ok(m) => {
            let name = || m.name().into();
            if tally.write_each(s, m.key(dir), m.failed(), name) {
                s.emit(EventBody::S7comm(m.record(s, dir)));
            }
        }
        Err(reason) => s.weird(reason),
    }
}

impl Parser for S7comm {
    fn depth(&self, _configured: u64) -> u64 {
        super::ot_tally::WHOLE_STREAM
    }

    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        self.read(s, dir, data)
    }

    fn gap(&mut self, _s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // What was being framed is lost. Senders write one TPKT per
        // segment, so the next segment most likely starts a frame; if it
        // does not, the TPKT check gives up on the direction.
        self.sides[dir.index()] = Side::default();
        Verdict::More
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.tally.flush(s);
    }
}

#[cfg(test)]
mod tests;
