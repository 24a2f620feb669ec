//! Syslog over UDP (one message per datagram) and TCP (RFC 6587 framing:
//! octet counting or newline-terminated), as Zeek's `syslog.log`: one
//! record per message with the facility and severity of its `<PRI>`.
//!
//! Framing follows Zeek's Spicy grammar: a TCP frame is either `LEN SP`
//! and LEN bytes holding a message, or `<PRI>` and text up to a NUL, CR or
//! LF. A stream that is neither is given up (Zeek stops its analyzer
//! there too). A newline-terminated message is written when its
//! terminator arrives; Zeek writes it when the next frame begins, which
//! changes only its `ts`.

use super::text::escape;
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use vagt_schema::{EventBody, Proto, SyslogRecord};

/// Longest TCP frame kept whole: a frame that declares more, or a line
/// that runs longer without its terminator, ends the direction.
const MAX_FRAME: usize = 64 * 1024;
/// Zeek's value for a message without a priority.
const UNSPECIFIED: u64 = 999;

pub fn make(conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Syslog {
        tcp: conn.proto == Proto::Tcp,
        buf: [Vec::new(), Vec::new()],
    })
}

struct Syslog {
    tcp: bool,
    /// Bytes of an unfinished TCP frame, per direction.
    buf: [Vec<u8>; 2],
}

impl Parser for Syslog {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if !self.tcp {
            emit(s, data);
            return Verdict::More;
        }
        let mut buf = std::mem::take(&mut self.buf[dir.index()]);
        buf.extend_from_slice(data);
        let mut at = 0;
        let verdict = loop {
            match frame(&buf[at..]) {
                Frame::Message { body, used } => {
                    emit(s, body);
                    at += used;
                }
                Frame::Skip(used) => at += used,
                Frame::Partial => break Verdict::More,
                Frame::Bad(reason) => {
                    s.weird(reason);
                    break Verdict::Done;
                }
            }
        };
        buf.drain(..at);
        if verdict == Verdict::More && buf.len() > MAX_FRAME {
            s.weird("syslog_frame_too_long");
            buf = Vec::new();
            self.buf[dir.index()] = buf;
            return Verdict::Done;
        }
        self.buf[dir.index()] = buf;
        verdict
    }

    fn gap(&mut self, _s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // Framing lost in a gap cannot be found again.
        self.buf[dir.index()] = Vec::new();
        Verdict::Done
    }

    fn close(&mut self, _s: &mut Session<'_>) {
        // An unterminated last line is not a message in Zeek's grammar
        // either: it needs its terminator.
    }
}

/// What the start of a TCP stream's unread bytes holds.
#[derive(Debug, PartialEq)]
enum Frame<'a> {
    /// A whole message (priority and text) and the bytes its frame took.
    Message {
        body: &'a [u8],
        used: usize,
    },
    /// Terminators between frames.
    Skip(usize),
    /// Not enough bytes yet.
    Partial,
    Bad(&'static str),
}

fn frame(b: &[u8]) -> Frame<'_> {
    let Some(&first) = b.first() else {
        return Frame::Partial;
    };
    match first {
        b'1'..=b'9' => {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let Some(&sep) = b.get(digits) else {
                return if digits > 6 {
                    Frame::Bad("syslog_frame_too_long")
                } else {
                    Frame::Partial
                };
            };
            if sep != b' ' {
                return Frame::Bad("syslog_bad_octet_count");
            }
            let len = match std::str::from_utf8(&b[..digits])
                .ok()
                .and_then(|t| t.parse::<usize>().ok())
            {
                Some(n) if n <= MAX_FRAME => n,
                _ => return Frame::Bad("syslog_frame_too_long"),
            };
            match b.get(digits + 1..digits + 1 + len) {
                Some(body) => Frame::Message {
                    body,
                    used: digits + 1 + len,
                },
                None => Frame::Partial,
            }
        }
        b'<' => {
            let Some(end) = b.iter().position(|&c| matches!(c, 0 | b'\n' | b'\r')) else {
                return Frame::Partial;
            };
            match priority(&b[..end]) {
                Some((_, rest)) if !rest.is_empty() => Frame::Message {
                    body: &b[..end],
                    used: end,
                },
                _ => Frame::Bad("syslog_bad_frame"),
            }
        }
        0 | b'\n' | b'\r' => Frame::Skip(
            b.iter()
                .take_while(|c| matches!(c, 0 | b'\n' | b'\r'))
                .count(),
        ),
        _ => Frame::Bad("syslog_bad_frame"),
    }
}

/// `<digits>` at the start of a message: its value and the rest.
fn priority(m: &[u8]) -> Option<(u64, &[u8])> {
    let rest = m.strip_prefix(b"<")?;
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || rest.get(digits) != Some(&b'>') {
        return None;
    }
    let value = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    Some((value, &rest[digits + 1..]))
}

fn emit(s: &mut Session<'_>, m: &[u8]) {
    let (facility, severity, text) = match priority(m) {
        Some((v, rest)) => ((v & 0x3f8) >> 3, v & 7, rest),
        None => (UNSPECIFIED, UNSPECIFIED, m),
    };
    let rec = SyslogRecord {
        ts: ConnIdent::time(s.ts),
        uid: s.conn.uid.clone(),
        id: s.conn.id,
        proto: s.conn.proto,
        facility: facility_name(facility),
        severity: severity_name(severity),
        message: escape(text),
    };
    s.emit(EventBody::Syslog(rec));
}

fn facility_name(f: u64) -> String {
    const NAMES: [&str; 24] = [
        "KERN", "USER", "MAIL", "DAEMON", "AUTH", "SYSLOG", "LPR", "NEWS", "UUCP", "CRON",
        "AUTHPRIV", "FTP", "NTP", "AUDIT", "ALERT", "CLOCK", "LOCAL0", "LOCAL1", "LOCAL2",
        "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7",
    ];
    match NAMES.get(f as usize) {
        Some(n) => (*n).to_string(),
        None if f == UNSPECIFIED => "UNSPECIFIED".to_string(),
        None => format!("?-{f}"),
    }
}

fn severity_name(v: u64) -> String {
    const NAMES: [&str; 8] = [
        "EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
    ];
    match NAMES.get(v as usize) {
        Some(n) => (*n).to_string(),
        None if v == UNSPECIFIED => "UNSPECIFIED".to_string(),
        None => format!("?-{v}"),
    }
}

#[cfg(test)]
mod tests;
