//! EtherNet/IP (TCP and UDP 44818), after the `enip.log` and `cip.log` of
//! CISA's ICSNPP ENIP plugin: each encapsulation message (a 24-byte
//! little-endian header: command, length, session handle, status, sender
//! context, options) gives one record per CIP message it carries (`cip.rs`
//! reads them, the requests inside Multiple Service Packets and
//! Unconnected Sends included), or one record when it carries none. CIP
//! requests are classed for the OT-write detectors (`codes.rs`); a request
//! that packs others takes the strongest class among them.
//!
//! Cyclic I/O on UDP 2222 has no encapsulation header and is not logged
//! (thousands of packets a second on a busy cell, carrying no command).

mod cip;
mod codes;

use super::ot_tally::{Key, Tally};
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use cip::Cip;
use vagt_schema::{EnipRecord, EventBody, Proto};

const HEADER: usize = 24;
/// An encapsulation message is at most the header plus 65,535 bytes.
const MAX_MESSAGE: usize = HEADER + 0xffff;

pub fn make(conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Enip {
        tcp: conn.proto == Proto::Tcp,
        buf: [Vec::new(), Vec::new()],
        cips: Vec::new(),
        tally: Tally::new("enip"),
    })
}

struct Enip {
    tcp: bool,
    /// Partial messages per direction (TCP).
    buf: [Vec<u8>; 2],
    cips: Vec<Cip>,
    /// Reads, discovery and responses counted (`ot_tally`).
    tally: Tally,
}

struct Header {
    command: u16,
    length: u16,
    session: u32,
    status: u32,
    context: [u8; 8],
    options: u32,
}

/// The encapsulation header and what follows it, `None` when short.
fn header(i: &[u8]) -> Option<(&[u8], Header)> {
    let (h, rest) = i.split_first_chunk::<HEADER>()?;
    let u16_at = |k: usize| u16::from_le_bytes([h[k], h[k + 1]]);
    let u32_at = |k: usize| u32::from_le_bytes([h[k], h[k + 1], h[k + 2], h[k + 3]]);
    let mut context = [0u8; 8];
    context.copy_from_slice(&h[12..20]);
    Some((
        rest,
        Header {
            command: u16_at(0),
            length: u16_at(2),
            session: u32_at(4),
            status: u32_at(8),
            context,
            options: u32_at(20),
        },
    ))
}

/// `0x` and the bytes in lower-case hexadecimal.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    super::hex_into(&mut out, bytes);
    out
}

fn base(s: &Session<'_>, dir: Dir, h: &Header) -> EnipRecord {
    EnipRecord {
        ts: ConnIdent::time(s.ts),
        uid: s.conn.uid.clone(),
        id: s.conn.id,
        is_orig: dir.is_orig(),
        enip_command_code: format!("0x{:02x}", h.command),
        enip_command: codes::command(h.command).to_string(),
        length: h.length,
        session_handle: format!("0x{:08x}", h.session),
        enip_status: codes::enip_status(h.status),
        sender_context: hex(&h.context),
        options: format!("0x{:08x}", h.options),
        cip_sequence_count: None,
        direction: None,
        cip_service_code: None,
        cip_service: None,
        cip_status: None,
        class_id: None,
        class_name: None,
        instance_id: None,
        attribute_id: None,
        class: None,
    }
}

impl Enip {
    /// One whole encapsulation message.
    fn message(&mut self, s: &mut Session<'_>, dir: Dir, m: &[u8]) {
        let Some((data, h)) = header(m) else {
            s.weird("enip_truncated_header");
            return;
        };
        let data = data.get(..usize::from(h.length)).unwrap_or(data);
        self.cips.clear();
        if matches!(h.command, 0x6f | 0x70) {
            match cip::cpf(data) {
                Some((seq, payload)) => cip::read(payload, seq, 0, &mut self.cips),
                None => s.weird("enip_malformed_cpf"),
            }
        }
        if self.cips.is_empty() {
            let class = dir.is_orig().then(|| codes::command_class(h.command));
            let key = Key {
                is_orig: dir.is_orig(),
                unit: None,
                code: u64::from(h.command),
                class,
            };
            // A status other than success is an error, written as such.
            let command = || codes::command(h.command).into();
            if self.tally.write_each(s, key, h.status != 0, command) {
                let mut r = base(s, dir, &h);
                r.class = class;
                s.emit(EventBody::Enip(r));
            }
            return;
        }
        let counting = self.tally.begin(s);
        for c in &self.cips {
            let failed = h.status != 0 || c.status.is_some_and(|st| st != 0);
            let key = Key {
                is_orig: dir.is_orig(),
                unit: None,
                // CIP messages apart from bare encapsulation commands.
                code: 1 << 40
                    | u64::from(c.service) << 32
                    | u64::from(c.classes.first().copied().unwrap_or(0)),
                class: c.class,
            };
            let name = || match c.classes.first() {
                Some(&id) => {
                    format!("{} ({})", codes::service(c.service), codes::class_name(id)).into()
                }
                None => codes::service(c.service).into(),
            };
            if counting && !self.tally.count(s, key, failed, name) {
                continue;
            }
            let mut r = base(s, dir, &h);
            r.cip_sequence_count = c.seq.filter(|&n| n != 0);
            r.direction = Some(if c.response { "response" } else { "request" }.to_string());
            r.cip_service_code = Some(format!("0x{:02x}", c.service));
            r.cip_service = Some(codes::service(c.service).to_string());
            if c.response {
                r.cip_status = c.status.map(codes::cip_status);
            } else {
                if let Some(&id) = c.classes.first() {
                    r.class_id = Some(format!("0x{id:02x}"));
                    r.class_name = Some(codes::class_name(id).to_string());
                }
                r.instance_id = c.instance.map(|v| format!("0x{v:02x}"));
                r.attribute_id = c.attribute.map(|v| format!("0x{v:02x}"));
                r.class = c.class;
            }
            s.emit(EventBody::Enip(r));
        }
    }

    fn stream(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        let mut held = std::mem::take(&mut self.buf[dir.index()]);
        // Clients write whole messages per segment: those are framed where
        // they lie, and only a message cut by a segment boundary is copied.
        let input: &[u8] = if held.is_empty() {
            data
        } else {
            held.extend_from_slice(data);
            &held
        };
        let mut at = 0;
        while let Some(h) = input.get(at..at + HEADER) {
            let len = HEADER + usize::from(u16::from_le_bytes([h[2], h[3]]));
            let Some(m) = input.get(at..at + len) else {
                break;
            };
            if !codes::known_command(u16::from_le_bytes([h[0], h[1]])) {
                // Not an encapsulation header: the stream cannot be framed.
                s.weird("enip_unknown_command");
                return Verdict::Done;
            }
            self.message(s, dir, m);
            at += len;
        }
        let rest = input.len() - at;
        if rest > MAX_MESSAGE {
            return Verdict::Done;
        }
        if held.is_empty() {
            held.extend_from_slice(&data[at..]);
        } else {
            held.drain(..at);
        }
        self.buf[dir.index()] = held;
        Verdict::More
    }
}

impl Parser for Enip {
    fn depth(&self, _configured: u64) -> u64 {
        super::ot_tally::WHOLE_STREAM
    }

    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.tcp {
            return self.stream(s, dir, data);
        }
        self.message(s, dir, data);
        Verdict::More
    }

    fn gap(&mut self, _s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // Clients write one message per segment: start again at the next
        // one, whose command is checked.
        self.buf[dir.index()].clear();
        Verdict::More
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.tally.flush(s);
    }
}

#[cfg(test)]
mod tests;
