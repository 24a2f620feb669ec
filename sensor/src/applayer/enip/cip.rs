//! The Common Packet Format items of SendRRData and SendUnitData and the
//! CIP messages in them (ODVA CIP Vol. 1 chapter 2 and appendix C; Vol. 2
//! chapter 2): service, request path (class, instance, attribute, tag
//! names), response status, and the requests packed inside Multiple
//! Service Packets and Unconnected Sends.

use super::codes;
use nom::number::complete::{le_u16, le_u32};
use nom::IResult;
use vagt_schema::OtClass;

/// Messages read from one encapsulation message at most.
pub const MAX_MESSAGES: usize = 64;
/// Classes kept from one request path.
const MAX_CLASSES: usize = 4;

/// The classes of a request path, held inline: one is read per CIP
/// message, thousands a second on a busy cell, and a vector each showed in
/// profiles.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Classes {
    n: u8,
    v: [u32; MAX_CLASSES],
}

impl Classes {
    fn push(&mut self, class: u32) {
        if let Some(slot) = self.v.get_mut(usize::from(self.n)) {
            *slot = class;
            self.n += 1;
        }
    }
}

impl std::ops::Deref for Classes {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        &self.v[..usize::from(self.n)]
    }
}

/// One CIP request or response.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Cip {
    /// Service code without the response bit.
    pub service: u8,
    pub response: bool,
    pub status: Option<u8>,
    /// Classes named in the request path, outermost first.
    pub classes: Classes,
    pub instance: Option<u32>,
    pub attribute: Option<u32>,
    /// The path names a tag (ANSI extended symbolic segment).
    pub symbolic: bool,
    /// Sequence count of connected data.
    pub seq: Option<u16>,
    /// What a request does (`codes::class`), and for one that packs
    /// others the strongest of what it packs; `None` for a response.
    pub class: Option<OtClass>,
}

/// A message with nothing read yet.
const EMPTY: Cip = Cip {
    service: 0,
    response: false,
    status: None,
    classes: Classes {
        n: 0,
        v: [0; MAX_CLASSES],
    },
    instance: None,
    attribute: None,
    symbolic: false,
    seq: None,
    class: None,
};

/// The CIP payload of a SendRRData or SendUnitData message: the data
/// item's bytes and, for connected data, its sequence count.
pub fn cpf(data: &[u8]) -> Option<(Option<u16>, &[u8])> {
    fn head(i: &[u8]) -> IResult<&[u8], u16> {
        let (i, _interface) = le_u32(i)?;
        let (i, _timeout) = le_u16(i)?;
        le_u16(i)
    }
    let (mut i, count) = head(data).ok()?;
    for _ in 0..count.min(8) {
        let (r, kind) = le_u16::<_, nom::error::Error<&[u8]>>(i).ok()?;
        let (r, len) = le_u16::<_, nom::error::Error<&[u8]>>(r).ok()?;
        let item = r.get(..usize::from(len))?;
        i = &r[usize::from(len)..];
        match kind {
            0xb2 => return Some((None, item)),
            0xb1 => {
                let seq = u16::from_le_bytes([*item.first()?, *item.get(1)?]);
                return Some((Some(seq), item.get(2..)?));
            }
            _ => {}
        }
    }
    None
}

/// Reads a request path: logical class, instance and attribute segments
/// (8, 16 and 32 bits), symbolic segments, and port, member, key and data
/// segments skipped over.
fn path(p: &[u8], c: &mut Cip) {
    let mut i = 0;
    while let Some(&seg) = p.get(i) {
        let value = || -> Option<(u32, usize)> {
            match seg & 0x03 {
                0 => Some((u32::from(*p.get(i + 1)?), 2)),
                1 => {
                    let v = p.get(i + 2..i + 4)?;
                    Some((u32::from(u16::from_le_bytes([v[0], v[1]])), 4))
                }
                2 => {
                    let v = p.get(i + 2..i + 6)?;
                    Some((u32::from_le_bytes([v[0], v[1], v[2], v[3]]), 6))
                }
                _ => None,
            }
        };
        let step = match seg {
            0x00..=0x1f => {
                // Port segment: a one-byte link address, or a sized one.
                if seg & 0x10 != 0 {
                    let n = usize::from(*p.get(i + 1).unwrap_or(&0));
                    2 + n + (n & 1)
                } else {
                    2
                }
            }
            0x20..=0x22 => match value() {
                Some((v, n)) => {
                    c.classes.push(v);
                    n
                }
                None => return,
            },
            0x24..=0x26 => match value() {
                Some((v, n)) => {
                    c.instance.get_or_insert(v);
                    n
                }
                None => return,
            },
            0x30..=0x32 => match value() {
                Some((v, n)) => {
                    c.attribute.get_or_insert(v);
                    n
                }
                None => return,
            },
            0x28..=0x2a | 0x2c..=0x2e => match value() {
                Some((_, n)) => n,
                None => return,
            },
            // Electronic key.
            0x34 => 10,
            0x91 => {
                c.symbolic = true;
                let n = usize::from(*p.get(i + 1).unwrap_or(&0));
                2 + n + (n & 1)
            }
            0x80 => 2 + 2 * usize::from(*p.get(i + 1).unwrap_or(&0)),
            _ => return,
        };
        i += step;
    }
}

/// Reads one message into `c` (service and response bit already set);
/// its data, after the path or status, comes back. Written in place: a
/// busy cell carries thousands of CIP messages a second, and building
/// each on the stack and copying it into the list showed in profiles.
fn message<'i>(i: &'i [u8], c: &mut Cip) -> Option<&'i [u8]> {
    if c.response {
        // Reserved, general status, additional status size (words) and
        // the additional status.
        let [_reserved, status, ext, rest @ ..] = i else {
            return None;
        };
        c.status = Some(*status);
        return rest.get(2 * usize::from(*ext)..);
    }
    let (&words, rest) = i.split_first()?;
    let n = 2 * usize::from(words);
    let p = rest.get(..n)?;
    path(p, c);
    rest.get(n..)
}

/// Reads a CIP message and those packed in it into `out`.
pub fn read(data: &[u8], seq: Option<u16>, depth: u8, out: &mut Vec<Cip>) {
    if let Some(body) = one(data, seq, out) {
        if depth < 2 && out.last().is_some_and(packs) {
            unpack(body, depth, out);
        }
    }
}

/// Whether a message packs others: a Multiple Service Packet, or an
/// Unconnected Send to the Connection Manager.
fn packs(c: &Cip) -> bool {
    c.service == 0x0a || (c.service == 0x52 && !c.response && c.classes.first() == Some(&0x06))
}

/// Reads one message, without what it packs, to the end of `out`; its
/// data, after the path or status, comes back. Kept apart from
/// [`unpack`], so that the requests packed by the dozen in a Multiple
/// Service Packet are read without a recursive call each.
#[inline(always)]
fn one<'i>(data: &'i [u8], seq: Option<u16>, out: &mut Vec<Cip>) -> Option<&'i [u8]> {
    if out.len() >= MAX_MESSAGES {
        return None;
    }
    let (&code, rest) = data.split_first()?;
    // Pushed from a constant and filled in place: a message built on the
    // stack was copied in with loads wider than the stores that built it
    // (a store-forwarding stall perf put at a third of this function).
    out.push(EMPTY);
    let c = out.last_mut()?;
    c.service = code & 0x7f;
    c.response = code & 0x80 != 0;
    c.seq = seq;
    let Some(body) = message(rest, c) else {
        // Truncated: not a message.
        out.pop();
        return None;
    };
    // Classed here, while the message is at hand, rather than in a pass
    // over the list afterwards: a polled cell sends a hundred thousand of
    // these a minute.
    if !c.response {
        c.class = Some(codes::class(c.service, &c.classes, c.symbolic));
    }
    Some(body)
}

/// Reads the requests packed in the last message of `out`, which the
/// caller found [`packs`]: a Multiple Service Packet, or else an
/// Unconnected Send.
fn unpack(body: &[u8], depth: u8, out: &mut Vec<Cip>) {
    let Some(c) = out.last() else {
        return;
    };
    let me = out.len() - 1;
    if c.service == 0x0a {
        // Multiple Service Packet: a count, offsets from the count, and
        // the messages. A message ends where the next begins.
        let Some((count, table)) = body.split_first_chunk::<2>() else {
            return;
        };
        let n = usize::from(u16::from_le_bytes(*count)).min(MAX_MESSAGES);
        let table = table.get(..2 * n).unwrap_or(table);
        let mut starts = table
            .chunks_exact(2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .peekable();
        while let Some(start) = starts.next() {
            let end = starts.peek().copied().unwrap_or(body.len());
            if let Some(m) = body.get(start..end.max(start)) {
                read_packed(m, me, depth, out);
            }
        }
    } else {
        // Unconnected Send to the Connection Manager: priority and tick,
        // timeout, the embedded request's size and the request.
        let Some(size) = body
            .get(2..4)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
        else {
            return;
        };
        if let Some(m) = body.get(4..4 + size) {
            read_packed(m, me, depth, out);
        }
    }
}

/// Reads a request packed in message `me`, which then takes the
/// strongest class of it and what it packs in turn.
fn read_packed(data: &[u8], me: usize, depth: u8, out: &mut Vec<Cip>) {
    let child = out.len();
    let Some(body) = one(data, None, out) else {
        return;
    };
    if depth + 1 < 2 && out.last().is_some_and(packs) {
        unpack(body, depth + 1, out);
    }
    let Some(class) = out.get(child).and_then(|c| c.class) else {
        return;
    };
    if let Some(Some(up)) = out.get_mut(me).map(|m| m.class.as_mut()) {
        *up = codes::strongest(*up, class);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn connected_request_with_program_path() {
        // CL5000EIP-Software_Upload, frame 434, after the encapsulation
        // header: SendUnitData items (connection address 0x00790f01,
        // connected data with sequence 0x00a5), service 0x4b on class
        // 0x6c instance 0.
        let data = hex("0000000000000200a1000400010f7900b1000800a5004b02206c2400");
        let Some((seq, cip)) = cpf(&data) else {
            panic!("no data item");
        };
        assert_eq!(seq, Some(0xa5));
        let mut out = Vec::new();
        read(cip, seq, 0, &mut out);
        assert_eq!(out[0].service, 0x4b);
        assert_eq!(*out[0].classes, [0x6c]);
        assert_eq!(out[0].instance, Some(0));
    }

    #[test]
    fn multiple_service_packet_and_unconnected_send() {
        // Multiple Service Packet to the Message Router with two requests:
        // Get_Attribute_List on class 0x8b and Stop on class 0x8e.
        let msp = [
            0x0a, 0x02, 0x20, 0x02, 0x24, 0x01, // service, path
            0x02, 0x00, 0x06, 0x00, 0x0c, 0x00, // count, offsets
            0x03, 0x02, 0x20, 0x8b, 0x24, 0x01, // first
            0x07, 0x02, 0x20, 0x8e, 0x24, 0x01, // second
        ];
        let mut out = Vec::new();
        read(&msp, None, 0, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!((out[1].service, out[1].classes[0]), (0x03, 0x8b));
        assert_eq!((out[2].service, out[2].classes[0]), (0x07, 0x8e));
        // Unconnected Send carrying a Set_Attribute_Single of attribute 3
        // of TCP/IP Interface instance 1, with a tag-named request after.
        let us = [
            0x52, 0x02, 0x20, 0x06, 0x24, 0x01, 0x0a, 0xf0, 0x08, 0x00, // head
            0x10, 0x03, 0x20, 0xf5, 0x24, 0x01, 0x30, 0x03, // embedded
            0x01, 0x00, 0x01, 0x00, // route
        ];
        let mut out = Vec::new();
        read(&us, None, 0, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].service, 0x10);
        assert_eq!(out[1].attribute, Some(3));
        let tag = [
            0x4d, 0x04, 0x91, 0x05, b'S', b'p', b'e', b'e', b'd', 0x00, 0xc4, 0x00,
        ];
        let mut out = Vec::new();
        read(&tag, None, 0, &mut out);
        assert!(out[0].symbolic && out[0].classes.is_empty());
    }
}
