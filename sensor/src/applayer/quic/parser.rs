//! The QUIC parser of the application layer (service `quic`, UDP): one
//! `quic` record per QUIC connection attempt as Zeek's `quic/main.zeek`
//! writes quic.log, from the long headers of each datagram, and the `ssl`
//! record Zeek writes for the TLS hellos of the Initial CRYPTO streams,
//! which are decrypted with the version's well-known Initial keys
//! ([`super::initial`]) and handed to the TLS session ([`SslSession`]),
//! as Zeek's QUIC analyzer hands them to its SSL analyzer.
//!
//! Zeek's packet rules, kept here: coalesced packets are read in turn; a
//! packet without the fixed bit ends the datagram ("X" once something was
//! decrypted); a short-header packet ends it too and counts towards the
//! "O" letters at 1, 2, 4, 8, ... per direction; each direction's Initials
//! are decrypted until its first handshake message is whole; a Retry or a
//! CONNECTION_CLOSE writes the record and starts a new one, and an
//! unknown version writes a "U" record and ends the parsing.

use super::crypto::{parse_frames, CryptoAssembler};
use super::initial::{decrypt_initial, parse_long_header, version_name, PacketType};
use crate::applayer::tls::client_hello::parse_client_hello;
use crate::applayer::tls::fingerprint::Carrier;
use crate::applayer::tls::session::SslSession;
use crate::applayer::{hex, ConnIdent, Dir, Parser, Session, Verdict};
use vagt_schema::{EventBody, QuicRecord};

/// Zeek's `QUIC::max_history_length`.
const MAX_HISTORY: usize = 100;
/// Zeek's `QUIC::max_discarded_packet_events`.
const MAX_DISCARDED: u64 = 100;
/// CRYPTO bytes kept per direction: a hello with post-quantum key shares
/// fits with room to spare; Zeek stops at the message's 2^14 + 256 limit.
const CRYPTO_CAP: usize = (1 << 14) + 256 + 4;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(QuicParser::default())
}

/// Per-direction state: [client, server].
struct Side {
    crypto: CryptoAssembler,
    /// The first handshake message was handed over; no more decryption.
    finished: bool,
    short_total: u64,
    short_next: u64,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            crypto: CryptoAssembler::new(CRYPTO_CAP),
            finished: false,
            short_total: 0,
            short_next: 1,
        }
    }
}

pub struct QuicParser {
    rec: Option<QuicRecord>,
    sides: [Side; 2],
    /// The client's first Destination Connection ID: both sides' Initial
    /// keys come from it.
    initial_dcid: Option<Vec<u8>>,
    total_decrypted: u64,
    total_discarded: u64,
    ssl: SslSession,
    stopped: bool,
}

impl Default for QuicParser {
    fn default() -> Self {
        QuicParser {
            rec: None,
            sides: [Side::default(), Side::default()],
            initial_dcid: None,
            total_decrypted: 0,
            total_discarded: 0,
            ssl: SslSession::new(Carrier::Quic),
            stopped: false,
        }
    }
}

impl QuicParser {
    /// Zeek's `set_session`.
    fn set_session(
        &mut self,
        s: &Session<'_>,
        is_orig: bool,
        version: u32,
        dcid: &[u8],
        scid: &[u8],
    ) {
        let r = self.rec.get_or_insert_with(|| QuicRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            version: version_name(version).into_owned(),
            client_initial_dcid: None,
            client_scid: None,
            server_scid: None,
            server_name: None,
            client_protocol: None,
            history: String::new(),
        });
        if is_orig && !dcid.is_empty() && r.client_initial_dcid.is_none() {
            r.client_initial_dcid = Some(hex(dcid));
        }
        if is_orig {
            r.client_scid = Some(hex(scid));
        } else {
            r.server_scid = Some(hex(scid));
        }
    }

    fn history(&mut self, s: &mut Session<'_>, is_orig: bool, c: char) {
        let Some(r) = self.rec.as_mut() else {
            return;
        };
        if r.history.len() >= MAX_HISTORY {
            return;
        }
        r.history
            .push(if is_orig { c } else { c.to_ascii_lowercase() });
        if r.history.len() == MAX_HISTORY {
            s.weird("QUIC_max_history_length_reached");
        }
    }

    fn log(&mut self, s: &mut Session<'_>) {
        if let Some(r) = self.rec.take() {
            s.emit(EventBody::Quic(r));
        }
    }

    /// One Initial packet's payload: decrypt it if this side still may,
    /// and hand a finished hello to the TLS session.
    fn initial(&mut self, s: &mut Session<'_>, is_orig: bool, packet: &[u8]) -> Result<(), ()> {
        let Ok(h) = parse_long_header(packet) else {
            return Ok(());
        };
        let side = usize::from(!is_orig);
        if self.sides[side].finished {
            return Ok(());
        }
        if is_orig && self.initial_dcid.is_none() {
            self.initial_dcid = Some(h.dcid.to_vec());
        }
        let Some(dcid) = self.initial_dcid.as_deref() else {
            return Ok(());
        };
        let Ok(plain) = decrypt_initial(packet, &h, dcid, !is_orig) else {
            // Zeek's "decryption failed": the analyzer gives up.
            s.weird("QUIC_decryption_failed");
            return Err(());
        };
        self.total_decrypted += 1;
        let frames = match parse_frames(&plain.payload) {
            Ok(f) => f,
            Err(_) => {
                s.weird("QUIC_unhandled_frame");
                return Ok(());
            }
        };
        if self.sides[side].crypto.add_frames(&frames).is_err() {
            s.weird("QUIC_too_much_crypto_data");
            self.sides[side].finished = true;
        }
        if let Some((msg_type, body)) = self.sides[side].crypto.first_message() {
            let body = body.to_vec();
            self.sides[side].finished = true;
            self.sides[side].crypto = CryptoAssembler::new(0);
            if is_orig && msg_type == 1 {
                if let Ok(ch) = parse_client_hello(&body) {
                    if let Some(r) = self.rec.as_mut() {
                        if let Some(n) = ch.server_name() {
                            r.server_name = Some(n.to_string());
                        }
                        if let Some(p) = ch.client_protocol() {
                            r.client_protocol = Some(p);
                        }
                    }
                    if ch.alpn.len() > 1 {
                        s.weird("QUIC_many_protocols");
                    }
                    self.ssl.handshake(s, true, msg_type, &body);
                    self.history(s, true, 'S');
                }
            } else if !is_orig && msg_type == 2 {
                self.ssl.handshake(s, false, msg_type, &body);
                self.history(s, false, 'S');
            }
        }
        if frames.connection_close {
            self.history(s, is_orig, 'C');
            self.log(s);
        }
        Ok(())
    }

    fn datagram(&mut self, s: &mut Session<'_>, is_orig: bool, mut rest: &[u8]) {
        while let Some(&first) = rest.first() {
            if first & 0x40 == 0 {
                self.total_discarded += 1;
                if self.total_decrypted > 0 && self.total_discarded <= MAX_DISCARDED {
                    self.history(s, is_orig, 'X');
                }
                return;
            }
            if first & 0x80 == 0 {
                let side = &mut self.sides[usize::from(!is_orig)];
                side.short_total += 1;
                if side.short_total == side.short_next {
                    side.short_next *= 2;
                    self.history(s, is_orig, 'O');
                }
                return;
            }
            let h = match parse_long_header(rest) {
                Ok(h) => h,
                Err(_) => {
                    s.weird("QUIC_truncated_packet");
                    return;
                }
            };
            let packet = rest.get(..h.packet_len).unwrap_or(rest);
            match h.packet_type {
                PacketType::Initial => {
                    self.set_session(s, is_orig, h.version, h.dcid, h.scid);
                    self.history(s, is_orig, 'I');
                    if self.initial(s, is_orig, packet).is_err() {
                        self.stopped = true;
                        return;
                    }
                }
                PacketType::Handshake => {
                    self.set_session(s, is_orig, h.version, h.dcid, h.scid);
                    self.history(s, is_orig, 'H');
                }
                PacketType::ZeroRtt => {
                    self.set_session(s, is_orig, h.version, h.dcid, h.scid);
                    self.history(s, is_orig, 'Z');
                }
                PacketType::Retry => {
                    if self.rec.is_none() {
                        self.set_session(s, is_orig, h.version, h.dcid, h.scid);
                    }
                    self.history(s, is_orig, 'R');
                    self.log(s);
                    // The client's next Initial picks new keys.
                    self.initial_dcid = None;
                    self.sides = [Side::default(), Side::default()];
                    return;
                }
                PacketType::VersionNegotiation | PacketType::Unknown => {
                    if self.rec.is_none() {
                        self.set_session(s, is_orig, h.version, h.dcid, h.scid);
                    }
                    self.history(s, is_orig, 'U');
                    self.log(s);
                    self.stopped = true;
                    return;
                }
            }
            if h.packet_len == 0 || h.packet_len >= rest.len() {
                return;
            }
            rest = &rest[h.packet_len..];
        }
    }
}

impl Parser for QuicParser {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.stopped {
            return Verdict::Done;
        }
        self.datagram(s, dir.is_orig(), data);
        if self.stopped {
            Verdict::Done
        } else {
            Verdict::More
        }
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.log(s);
        self.ssl.finish(s);
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
