//! HTTP/1.x as Zeek's `http.log`: one row per request/response pair of a
//! connection, persistent connections and pipelining included.
//!
//! The analyzer follows Zeek's HTTP analyzer (`HTTP.cc`) step by step,
//! because which bytes count as a request, a reply or a body decides the
//! rows: per direction a line cutter ([`lines`]), the request/status line
//! rules ([`syntax`]), each message's headers and body ([`body`]), and the
//! pairing of the script layer ([`log`]). After a CONNECT is answered with
//! 200 or a protocol upgrade (101) the connection carries another
//! protocol and is no longer read as HTTP.

mod body;
pub mod hashes;
mod headers;
pub(crate) mod lines;
mod log;
pub mod mime;
mod parts;
mod syntax;
mod tunnel;

use super::{ConnIdent, Dir, Parser, Session, Verdict};
use body::{Entity, Expect, Phase};
use headers::Header;
use lines::{Lines, Next, Piece};
use syntax::Version;

/// Bytes as Zeek's logs write them (printable ASCII kept, the rest as
/// `\xNN`); the other text protocols write their fields the same way.
pub use syntax::text;

/// Requests waiting for a reply whose methods are kept (for HEAD).
const MAX_UNANSWERED: usize = 128;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Http::new(false))
}

/// For `app.http_capture_password`: basic-auth passwords are logged.
pub fn make_capturing_passwords(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Http::new(true))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// A request (or status) line is next.
    Line,
    /// Inside a message.
    Message,
    /// Nothing more is read in this direction.
    Nothing,
    /// Replies of an HTTP/0.9 request: raw bytes until the end.
    Http09,
}

struct Http {
    lines: [Lines; 2],
    state: [State; 2],
    /// The message being read per direction.
    msg: [Option<Entity>; 2],
    /// A message is under way (Zeek's `request_ongoing`/`reply_ongoing`).
    ongoing: [bool; 2],
    request_version: Version,
    reply_version: Version,
    reply_code: u16,
    num_requests: u64,
    keep_alive: bool,
    connection_close: bool,
    connect_request: bool,
    upgrade_connection: bool,
    upgrade_protocol: bool,
    /// Methods of requests not answered yet, oldest first.
    unanswered: std::collections::VecDeque<Vec<u8>>,
    /// The connection carries another protocol now.
    tunnelled: bool,
    /// A CONNECT tunnel's contents, read by the parser of what flows in it.
    tunnel: Option<tunnel::Tunnel>,
    log: log::Log,
}

impl Http {
    fn new(capture_password: bool) -> Http {
        Http {
            lines: [Lines::default(), Lines::default()],
            state: [State::Line; 2],
            msg: [None, None],
            ongoing: [false; 2],
            request_version: Version::UNSET,
            reply_version: Version::UNSET,
            reply_code: 0,
            num_requests: 0,
            keep_alive: false,
            connection_close: false,
            connect_request: false,
            upgrade_connection: false,
            upgrade_protocol: false,
            unanswered: std::collections::VecDeque::new(),
            tunnelled: false,
            tunnel: None,
            log: log::Log::new(capture_password),
        }
    }

    /// Zeek's `SetVersion`: a changed version is weird; above 1.0 the
    /// connection is kept alive.
    fn set_version(&mut self, s: &mut Session<'_>, reply: bool, v: Version) {
        let cur = if reply {
            &mut self.reply_version
        } else {
            &mut self.request_version
        };
        if *cur != Version::UNSET && *cur != v {
            s.weird("HTTP_version_mismatch");
        }
        *cur = v;
        if v.keeps_alive() {
            self.keep_alive = true;
        }
    }

    fn expect_reply_body(&self) -> Expect {
        let head = self
            .unanswered
            .front()
            .is_some_and(|m| m.len() <= 4 && b"HEAD"[..m.len()].eq_ignore_ascii_case(m));
        let c = self.reply_code;
        if head || (100..200).contains(&c) || c == 204 || c == 304 {
            Expect::NotExpected
        } else {
            Expect::Expected
        }
    }

    fn request_line(&mut self, s: &mut Session<'_>, line: &[u8]) {
        let Some(r) = syntax::request_line(line, &mut |w| s.weird(w)) else {
            if self.num_requests > 0 && !self.keep_alive {
                // Zeek's "crud_trailing_HTTP_request": ignored.
            } else if line.is_empty() {
                s.weird("empty_http_request");
            } else {
                self.state[0] = State::Nothing;
            }
            return;
        };
        if let Some(v) = r.version {
            self.set_version(s, false, v);
        }
        self.num_requests += 1;
        if !self.keep_alive && self.num_requests > 1 {
            s.weird("unexpected_multiple_HTTP_requests");
        }
        self.state[0] = State::Message;
        self.ongoing[0] = true;
        if self.unanswered.len() < MAX_UNANSWERED {
            self.unanswered.push_back(r.method.clone());
        }
        if r.method.len() <= 7 && b"CONNECT"[..r.method.len()].eq_ignore_ascii_case(&r.method) {
            self.connect_request = true;
        }
        self.log.request(s, &r.method, &r.uri);
        self.new_message(s, 0, Expect::Maybe);
        if r.version == Some(Version::V09) {
            if r.method != b"GET" {
                s.weird("invalid_http_09_request_method");
            }
            if self.msg[1].is_some() {
                s.weird("http_09_reply_before_request");
                self.message_done(s, 1, false);
                self.msg[1] = None;
            }
            self.state[1] = State::Http09;
        }
    }

    fn new_message(&mut self, s: &mut Session<'_>, d: usize, expect: Expect) {
        if self.msg[d].as_ref().is_some_and(|m| m.phase != Phase::Done) {
            s.weird("HTTP_overlapping_messages");
        }
        self.msg[d] = Some(Entity::new(expect));
    }

    fn reply_line(&mut self, s: &mut Session<'_>, line: &[u8]) {
        let Some(r) = syntax::reply_line(line, &mut |w| s.weird(w)) else {
            if !line.is_empty() {
                self.state[1] = State::Nothing;
            }
            return;
        };
        self.set_version(s, true, r.version);
        self.reply_code = r.code;
        self.state[1] = State::Message;
        self.ongoing[1] = true;
        let reason = r.reason.as_deref().unwrap_or(b"<empty>");
        self.log
            .reply(s, &self.reply_version.text(), r.code, reason);
        if self.connect_request && r.code != 200 {
            self.connect_request = false;
        }
        let expect = self.expect_reply_body();
        self.new_message(s, 1, expect);
    }

    /// A line inside message `d`.
    fn message_line(&mut self, s: &mut Session<'_>, d: usize, line: &[u8], plain: &mut u64) {
        let Some(m) = self.msg[d].as_mut() else {
            return;
        };
        match m.phase {
            Phase::Headers | Phase::Trailer => {
                if m.header_line(line, &mut |w| s.weird(w)) {
                    return;
                }
                self.headers_done(s, d, plain);
            }
            Phase::ChunkSize => {
                let size = headers::atoi(line, 16).unwrap_or_else(|| {
                    s.weird("HTTP_bad_chunk_size");
                    0
                });
                let size = u64::try_from(size).unwrap_or(0);
                if size > 0 {
                    m.phase = Phase::ChunkData;
                    m.remaining = size;
                    *plain = size;
                } else {
                    m.phase = Phase::Trailer;
                }
            }
            Phase::ChunkCrlf => m.phase = Phase::ChunkSize,
            Phase::Lines => {
                m.body(line, &mut |w| s.weird(w));
                m.crlf();
            }
            // Data trailing a finished entity is ignored, as in Zeek.
            Phase::Length | Phase::ChunkData | Phase::UntilClose | Phase::Done => {}
        }
    }

    fn headers_done(&mut self, s: &mut Session<'_>, d: usize, plain: &mut u64) {
        let Some(mut m) = self.msg[d].take() else {
            return;
        };
        let is_orig = d == 0;
        let trailer = m.phase == Phase::Trailer;
        let version = if is_orig {
            self.request_version
        } else {
            self.reply_version
        };
        let reply_code = self.reply_code;
        let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        m.headers(&mut |h| headers.push((h.name.to_vec(), h.value.to_vec())));
        for (name, value) in &headers {
            let h = Header { name, value };
            if !trailer {
                m.framing_header(&h, version, reply_code, &mut |w| s.weird(w));
            }
            self.analyzer_header(is_orig, &h);
            self.log.header(s, is_orig, name, value);
        }
        m.start_body(self.connection_close, s.shared.file_hashes);
        match m.phase {
            Phase::Length | Phase::UntilClose => {
                *plain = if m.phase == Phase::Length {
                    m.remaining
                } else {
                    u64::MAX
                };
            }
            _ => {}
        }
        let done = m.phase == Phase::Done;
        self.msg[d] = Some(m);
        if done {
            self.message_done(s, d, false);
        }
    }

    /// Zeek's `HTTP_Header`: what headers tell the analyzer itself.
    fn analyzer_header(&mut self, is_orig: bool, h: &Header<'_>) {
        if !h.name.eq_ignore_ascii_case(b"connection") {
            if !is_orig && h.name.eq_ignore_ascii_case(b"upgrade") {
                self.upgrade_protocol = !headers::token(h.value).0.is_empty();
            }
            return;
        }
        let tok = headers::token(h.value).0;
        if is_orig {
            self.keep_alive |= tok.eq_ignore_ascii_case(b"keep-alive");
        } else if tok.eq_ignore_ascii_case(b"close") {
            self.connection_close = true;
        } else if tok.eq_ignore_ascii_case(b"upgrade") {
            self.upgrade_connection = true;
        }
    }

    /// Body bytes read plainly.
    fn plain(&mut self, s: &mut Session<'_>, d: usize, data: &[u8], plain: u64) {
        let Some(m) = self.msg[d].as_mut() else {
            return;
        };
        match m.phase {
            Phase::Length => {
                m.body(data, &mut |w| s.weird(w));
                m.remaining -= (data.len() as u64).min(m.remaining);
                if m.remaining == 0 {
                    self.message_done(s, d, false);
                }
            }
            Phase::ChunkData => {
                m.body(data, &mut |w| s.weird(w));
                m.remaining -= (data.len() as u64).min(m.remaining);
                if plain == 0 {
                    m.phase = Phase::ChunkCrlf;
                }
            }
            _ => m.body(data, &mut |w| s.weird(w)),
        }
    }

    /// Message `d` ended (Zeek's `HTTP_Message::Done`, which goes on to
    /// `RequestMade`/`ReplyMade`).
    fn message_done(&mut self, s: &mut Session<'_>, d: usize, interrupted: bool) {
        self.report(s, d, interrupted);
        self.made(s, d, interrupted);
    }

    /// Raises the message's `http_message_done` once; `interrupted`: the
    /// message was cut short (not ended by its framing or its sender's
    /// close).
    fn report(&mut self, s: &mut Session<'_>, d: usize, interrupted: bool) {
        let Some(m) = self.msg[d].as_mut() else {
            return;
        };
        if m.reported {
            return;
        }
        let whole = m.whole(interrupted);
        m.finish();
        m.phase = Phase::Done;
        m.reported = true;
        let (len, types, digests) = (m.body_length, m.mime_types(), m.digests(whole));
        self.log.message_done(s, d == 0, len, types, digests);
    }

    /// Zeek's `RequestMade` / `ReplyMade`.
    fn made(&mut self, s: &mut Session<'_>, d: usize, interrupted: bool) {
        if !self.ongoing[d] {
            return;
        }
        self.ongoing[d] = false;
        self.report(s, d, interrupted);
        let mut upgraded = false;
        if d == 1 {
            let c = self.reply_code;
            if !(100..200).contains(&c) {
                self.unanswered.pop_front();
            }
            upgraded = c == 101
                && self.unanswered.len() == 1
                && self.upgrade_connection
                && self.upgrade_protocol;
            self.reply_code = 0;
            self.upgrade_connection = false;
            self.upgrade_protocol = false;
        }
        if upgraded {
            // The connection speaks another protocol from here on.
            self.tunnelled = true;
        }
        if self.state[d] != State::Http09 {
            self.state[d] = if interrupted || upgraded {
                State::Nothing
            } else {
                State::Line
            };
        }
    }

    /// One piece of direction `d`'s stream.
    fn piece(&mut self, s: &mut Session<'_>, d: usize, plain: &mut u64, p: Piece<'_>) -> Next {
        match p {
            Piece::Plain(data) => {
                if self.msg[d].is_some() {
                    self.plain(s, d, data, *plain);
                } else {
                    s.weird(if d == 0 {
                        "unexpected_client_HTTP_data"
                    } else {
                        "unexpected_server_HTTP_data"
                    });
                }
            }
            Piece::Line(line) => match (self.state[d], d) {
                (State::Line, 0) => self.request_line(s, line),
                (State::Line, _) => self.reply_line(s, line),
                (State::Message, _) => {
                    self.message_line(s, d, line, plain);
                    if d == 1 && self.connect_request && line.is_empty() {
                        // The proxy's tunnel is open: what follows is not
                        // HTTP (Zeek hands it to protocol detection).
                        self.tunnelled = true;
                        self.tunnel = Some(tunnel::Tunnel::default());
                    }
                }
                (State::Nothing | State::Http09, _) => {}
            },
        }
        if self.tunnelled || self.state[d] == State::Nothing || self.state[d] == State::Http09 {
            Next::Stop
        } else {
            Next::Go
        }
    }

    /// Bytes of an HTTP/0.9 reply: no status line, no headers, the body
    /// runs until the connection closes.
    fn http09_reply(&mut self, s: &mut Session<'_>, data: &[u8]) {
        if self.msg[1].is_none() {
            self.set_version(s, true, Version::V09);
            if !self.unanswered.is_empty() {
                self.unanswered.pop_front();
            }
            self.connection_close = true;
            self.ongoing[1] = true;
            self.log.reply(s, "0.9", 0, b"<empty>");
            let mut m = Entity::new(self.expect_reply_body());
            m.start_body(true, s.shared.file_hashes);
            self.msg[1] = Some(m);
        }
        if let Some(m) = self.msg[1].as_mut() {
            m.body(data, &mut |w| s.weird(w));
        }
    }

    fn feed(&mut self, s: &mut Session<'_>, d: usize, data: &[u8]) {
        if d == 1 && self.state[1] == State::Http09 {
            self.http09_reply(s, data);
            return;
        }
        let mut lines = std::mem::take(&mut self.lines[d]);
        let mut weirds: Vec<&'static str> = Vec::new();
        let used = lines.feed(data, &mut |w| weirds.push(w), &mut |plain, p| {
            self.piece(s, d, plain, p)
        });
        self.lines[d] = lines;
        for w in weirds {
            s.weird(w);
        }
        if let Some(t) = self.tunnel.as_mut() {
            // The bytes behind the proxy's answer belong to the tunnel.
            t.data(s, dir_of(d), &data[used.min(data.len())..]);
        }
    }

    fn verdict(&self, d: usize) -> Verdict {
        if let Some(t) = self.tunnel.as_ref() {
            return if t.wants(dir_of(d)) {
                Verdict::More
            } else {
                Verdict::Done
            };
        }
        if self.tunnelled || self.state[d] == State::Nothing {
            Verdict::Done
        } else {
            Verdict::More
        }
    }
}

impl Parser for Http {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        let d = dir.index();
        if let (true, Some(t)) = (self.tunnelled, self.tunnel.as_mut()) {
            t.data(s, dir, data);
        } else if !self.tunnelled && self.state[d] != State::Nothing {
            self.feed(s, d, data);
        }
        self.verdict(d)
    }

    fn gap(&mut self, s: &mut Session<'_>, dir: Dir, len: u64) -> Verdict {
        let d = dir.index();
        if let Some(t) = self.tunnel.as_mut() {
            t.gap(s, dir, len);
            return self.verdict(d);
        }
        if let Some(m) = self.msg[d].as_mut() {
            if self.ongoing[d] && m.gap(len) {
                self.lines[d].plain = self.lines[d].plain.saturating_sub(len);
                if m.phase == Phase::Length && m.remaining == 0 {
                    self.message_done(s, d, false);
                } else if m.phase == Phase::ChunkData && m.remaining == 0 {
                    m.phase = Phase::ChunkCrlf;
                }
                return self.verdict(d);
            }
        }
        if d == 0 {
            self.interrupt(s, 0);
        }
        self.interrupt(s, 1);
        self.state[d] = State::Nothing;
        Verdict::Done
    }

    fn eof(&mut self, s: &mut Session<'_>, dir: Dir) {
        let d = dir.index();
        if self.tunnelled {
            if let Some(t) = self.tunnel.as_mut() {
                t.eof(s, dir);
            }
            return;
        }
        if let Some(line) = self.lines[d].take_partial() {
            if self.state[d] != State::Nothing && self.state[d] != State::Http09 {
                self.feed(s, d, &line);
                self.feed(s, d, b"\n");
            }
        }
        // The sender closed: its message ends as it is, not interrupted.
        self.made(s, d, false);
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.interrupt(s, 0);
        self.interrupt(s, 1);
        self.log.finish(s);
        if let Some(t) = self.tunnel.as_mut() {
            t.close(s);
        }
    }
}

fn dir_of(d: usize) -> Dir {
    if d == 0 {
        Dir::ToServer
    } else {
        Dir::ToClient
    }
}

impl Http {
    /// The message of direction `d` ends unfinished.
    fn interrupt(&mut self, s: &mut Session<'_>, d: usize) {
        self.made(s, d, true);
    }
}

#[cfg(test)]
mod tests;
