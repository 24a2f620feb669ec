//! DTLS (1.0 and 1.2, RFC 6347) over UDP: the same `ssl` and `x509`
//! records as TLS, read from datagrams. WebRTC sets up its media keys
//! with it, and VPN clients (AnyConnect, OpenConnect, Fortinet) carry
//! their tunnels in it.
//!
//! What differs from TLS is only the framing, so this module turns
//! datagrams into the TLS reader's [`Event`]s and leaves the rest to the
//! shared [`Conversation`]:
//! - a record header has 13 bytes (an epoch and a sequence number after
//!   the version); records of epoch 1 and later are ciphertext;
//! - a handshake message header has 12 bytes (a message sequence number,
//!   a fragment offset and a fragment length), so one message can arrive
//!   in fragments, and retransmitted copies of messages already read come
//!   again with the same sequence number;
//! - the ClientHello holds a cookie after the session id. It is taken out,
//!   which makes the message a TLS ClientHello for the hello reader and the
//!   fingerprints (JA3 over DTLS is the same string as over TLS).
//!
//! STUN, TURN and RTP share the 5-tuple with DTLS in WebRTC (RFC 7983);
//! their datagrams are told apart by the first byte and skipped.

use super::handshake::{ContentType, Event};
use super::parser::Conversation;
use super::parser::MESSAGE_CAP;
use crate::applayer::{ConnIdent, Dir, Parser, Session, Verdict};

/// Record header length: type, version, epoch, sequence number, length.
const RECORD_HEADER: usize = 13;
/// Handshake message header length in DTLS.
const MESSAGE_HEADER: usize = 12;

/// Makes the parser for a UDP connection recognised as `dtls`.
pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(DtlsParser {
        conversation: Conversation::new(super::fingerprint::Carrier::Dtls),
        directions: [Messages::default(), Messages::default()],
    })
}

struct DtlsParser {
    conversation: Conversation,
    directions: [Messages; 2],
}

/// One direction's handshake messages being put back together.
#[derive(Default)]
struct Messages {
    /// The sequence number of the next message not yet read: lower ones
    /// are retransmissions.
    next_seq: u16,
    /// The message being collected from fragments: sequence number, type
    /// and length, and its bytes from offset 0 so far in `buf`.
    partial: Option<(u16, u8, usize)>,
    buf: Vec<u8>,
}

/// One fragment of a handshake message.
struct Fragment<'a> {
    msg_type: u8,
    length: usize,
    seq: u16,
    offset: usize,
    bytes: &'a [u8],
}

/// What a fragment completed.
enum Whole<'a> {
    /// Nothing yet (a part, a retransmission, or a fragment that does not
    /// continue what was collected).
    Nothing,
    Message(u8, &'a [u8]),
    TooLarge(u8, usize),
}

impl Messages {
    fn fragment<'a>(&'a mut self, f: Fragment<'a>) -> Whole<'a> {
        if f.seq < self.next_seq {
            return Whole::Nothing;
        }
        if f.offset == 0 && f.bytes.len() == f.length {
            self.next_seq = f.seq.wrapping_add(1);
            self.partial = None;
            return Whole::Message(f.msg_type, f.bytes);
        }
        if f.length > MESSAGE_CAP {
            self.next_seq = f.seq.wrapping_add(1);
            self.partial = None;
            return Whole::TooLarge(f.msg_type, f.length);
        }
        match self.partial {
            Some((seq, _, _)) if seq == f.seq => {}
            // A later message starts: what was collected of an earlier
            // one is given up (its missing part never came).
            _ => {
                self.partial = Some((f.seq, f.msg_type, f.length));
                self.buf.clear();
            }
        }
        let Some((_, msg_type, length)) = self.partial else {
            return Whole::Nothing;
        };
        // Only a fragment that reaches the bytes collected so far extends
        // them; one further on waits for its retransmission.
        if f.offset <= self.buf.len() && f.length == length {
            let from = self.buf.len() - f.offset;
            if let Some(new) = f.bytes.get(from..) {
                let room = length - self.buf.len();
                self.buf.extend_from_slice(&new[..new.len().min(room)]);
            }
        }
        if self.buf.len() < length {
            return Whole::Nothing;
        }
        self.next_seq = f.seq.wrapping_add(1);
        self.partial = None;
        Whole::Message(msg_type, &self.buf)
    }
}

/// RFC 7983's first-byte ranges: 20 to 63 is DTLS; 0 to 3 STUN, 16 to 19
/// ZRTP, 64 to 79 TURN channels, 128 to 191 RTP and RTCP.
fn is_dtls(first: u8) -> bool {
    (20..=63).contains(&first)
}

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

fn u24_at(b: &[u8], at: usize) -> usize {
    (usize::from(b[at]) << 16) | (usize::from(b[at + 1]) << 8) | usize::from(b[at + 2])
}

/// The ClientHello without its cookie: a TLS ClientHello. `None` when the
/// message ends before the cookie does.
pub fn without_cookie(body: &[u8]) -> Option<Vec<u8>> {
    // version (2), random (32), session id (length byte and bytes)
    let at = 35 + usize::from(*body.get(34)?);
    let cookie = usize::from(*body.get(at)?);
    let rest = body.get(at + 1 + cookie..)?;
    let mut out = Vec::with_capacity(at + rest.len());
    out.extend_from_slice(&body[..at]);
    out.extend_from_slice(rest);
    Some(out)
}

impl DtlsParser {
    fn handshake(&mut self, s: &mut Session<'_>, dir: Dir, mut body: &[u8]) {
        while !body.is_empty() {
            let Some(h) = body.get(..MESSAGE_HEADER) else {
                s.weird("DTLS_truncated_handshake");
                return;
            };
            let length = u24_at(h, 1);
            let offset = u24_at(h, 6);
            let fragment_length = u24_at(h, 9);
            let Some(bytes) = body.get(MESSAGE_HEADER..MESSAGE_HEADER + fragment_length) else {
                s.weird("DTLS_truncated_handshake");
                return;
            };
            body = &body[MESSAGE_HEADER + fragment_length..];
            if offset + fragment_length > length {
                s.weird("DTLS_fragment_beyond_message");
                continue;
            }
            let f = Fragment {
                msg_type: h[0],
                length,
                seq: u16::from_be_bytes([h[4], h[5]]),
                offset,
                bytes,
            };
            let event = match self.directions[dir.index()].fragment(f) {
                Whole::Nothing => continue,
                Whole::TooLarge(msg_type, length) => Event::HandshakeTooLarge { msg_type, length },
                Whole::Message(1, msg) => {
                    let hello = without_cookie(msg);
                    let body = hello.as_deref().unwrap_or(msg);
                    self.conversation
                        .event(s, dir, Event::Handshake { msg_type: 1, body });
                    continue;
                }
                Whole::Message(msg_type, msg) => Event::Handshake {
                    msg_type,
                    body: msg,
                },
            };
            self.conversation.event(s, dir, event);
        }
    }
}

impl Parser for DtlsParser {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if data.first().is_some_and(|&b| !is_dtls(b)) {
            return Verdict::More;
        }
        let mut rest = data;
        while !rest.is_empty() && !self.conversation.logged() {
            let Some(h) = rest.get(..RECORD_HEADER) else {
                s.weird("DTLS_truncated_record");
                break;
            };
            let version = u16::from_be_bytes([h[1], h[2]]);
            let length = u16_at(h, 11);
            let Some(body) = rest.get(RECORD_HEADER..RECORD_HEADER + length) else {
                s.weird("DTLS_truncated_record");
                break;
            };
            rest = &rest[RECORD_HEADER + length..];
            let Some(content_type) = ContentType::from_u8(h[0]) else {
                s.weird("DTLS_unknown_content_type");
                continue;
            };
            if h[1] != 0xfe {
                s.weird("DTLS_unknown_version");
                continue;
            }
            let encrypted = h[3] != 0 || h[4] != 0;
            self.conversation.event(
                s,
                dir,
                Event::Record {
                    content_type,
                    version,
                    length: length as u16,
                    encrypted,
                },
            );
            if encrypted {
                continue;
            }
            match content_type {
                ContentType::Handshake => self.handshake(s, dir, body),
                ContentType::Alert if body.len() >= 2 => self.conversation.event(
                    s,
                    dir,
                    Event::Alert {
                        level: body[0],
                        description: body[1],
                    },
                ),
                _ => {}
            }
        }
        if self.conversation.logged() {
            Verdict::Done
        } else {
            Verdict::More
        }
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.conversation.finish(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(seq: u16, offset: usize, bytes: &[u8], length: usize) -> Fragment<'_> {
        Fragment {
            msg_type: 11,
            length,
            seq,
            offset,
            bytes,
        }
    }

    fn whole(w: Whole<'_>) -> Option<Vec<u8>> {
        match w {
            Whole::Message(_, b) => Some(b.to_vec()),
            _ => None,
        }
    }

    #[test]
    fn fragments_join_and_retransmissions_are_skipped() {
        let mut m = Messages::default();
        assert_eq!(
            whole(m.fragment(fragment(0, 0, b"abcd", 4))),
            Some(b"abcd".to_vec())
        );
        // The same message again: already read.
        assert_eq!(whole(m.fragment(fragment(0, 0, b"abcd", 4))), None);
        assert_eq!(whole(m.fragment(fragment(1, 0, b"ab", 6))), None);
        // Overlapping, then the end.
        assert_eq!(whole(m.fragment(fragment(1, 1, b"bcd", 6))), None);
        assert_eq!(
            whole(m.fragment(fragment(1, 4, b"ef", 6))),
            Some(b"abcdef".to_vec())
        );
        // A fragment beyond what was collected waits for its turn.
        assert_eq!(whole(m.fragment(fragment(2, 3, b"de", 5))), None);
        assert_eq!(whole(m.fragment(fragment(2, 0, b"abc", 5))), None);
        assert_eq!(
            whole(m.fragment(fragment(2, 3, b"de", 5))),
            Some(b"abcde".to_vec())
        );
    }

    #[test]
    fn a_message_over_the_cap_is_announced_not_collected() {
        let mut m = Messages::default();
        let big = MESSAGE_CAP + 1;
        assert!(matches!(
            m.fragment(fragment(0, 0, b"x", big)),
            Whole::TooLarge(11, n) if n == big
        ));
        assert!(m.buf.is_empty());
    }

    #[test]
    fn the_cookie_is_taken_out_of_the_client_hello() {
        let mut body = vec![0xfe, 0xfd];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[2, 0xaa, 0xbb]); // session id
        body.extend_from_slice(&[3, 1, 2, 3]); // cookie
        body.extend_from_slice(&[0, 2, 0xc0, 0x2b, 1, 0]); // ciphers, compression
        let tls = without_cookie(&body).expect("whole hello");
        assert_eq!(&tls[..37], &body[..37]);
        assert_eq!(&tls[37..], &[0, 2, 0xc0, 0x2b, 1, 0]);
        assert_eq!(without_cookie(&body[..38]), None);
        assert_eq!(without_cookie(&[]), None);
    }

    #[test]
    fn other_protocols_on_the_five_tuple_are_skipped() {
        // STUN binding request, RTP, TURN channel data.
        for first in [0x00u8, 0x01, 0x80, 0xbf, 0x40] {
            assert!(!is_dtls(first), "{first:#x}");
        }
        assert!(is_dtls(22));
    }
}
