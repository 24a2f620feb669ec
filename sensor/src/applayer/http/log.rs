//! Zeek's `base/protocols/http/main.zeek`: how requests and replies pair
//! into http.log rows. Rows wait in a table keyed by transaction number;
//! a request takes the next number, a reply the oldest unanswered one, a
//! finished final reply writes its row, and whatever is left is written
//! when the connection ends. The quirks (a reply before any request, a
//! message that ends after its row was written, 1xx replies) are Zeek's,
//! kept so that the same traffic gives the same rows.

use super::hashes::Digests;
use super::syntax::text;
use crate::applayer::{ConnIdent, Session};
use vagt_schema::{EventBody, HttpRecord};

/// Rows waiting for their reply at most (Zeek's `max_pending_requests`).
const MAX_PENDING: usize = 100;
/// Entries of `proxied` kept per row.
const MAX_PROXIED: usize = 16;

/// Zeek's HTTP proxy headers (`HTTP::proxy_headers`).
const PROXY_HEADERS: &[&str] = &[
    "FORWARDED",
    "X-FORWARDED-FOR",
    "X-FORWARDED-FROM",
    "CLIENT-IP",
    "VIA",
    "XROXY-CONNECTION",
    "PROXY-CONNECTION",
];

/// Zeek's `HTTP::http_methods`; others are reported as weird.
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"OPTIONS",
    b"PUT",
    b"DELETE",
    b"TRACE",
    b"CONNECT",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"POLL",
    b"REPORT",
    b"SUBSCRIBE",
    b"BMOVE",
    b"SEARCH",
];

/// The pairing state of one connection (Zeek's `HTTP::State`).
pub struct Log {
    /// Rows by transaction number, oldest first.
    pending: Vec<(u64, HttpRecord)>,
    current_request: u64,
    current_response: u64,
    trans_depth: u64,
    /// Write the basic-auth password (`HTTP::default_capture_password`).
    capture_password: bool,
}

impl Log {
    pub fn new(capture_password: bool) -> Log {
        Log {
            pending: Vec::new(),
            current_request: 0,
            current_response: 0,
            trans_depth: 0,
            capture_password,
        }
    }

    fn new_row(&mut self, s: &Session<'_>) -> HttpRecord {
        self.trans_depth += 1;
        HttpRecord::new(
            ConnIdent::time(s.ts),
            s.conn.uid.clone(),
            s.conn.id,
            self.trans_depth,
        )
    }

    fn position(&self, n: u64) -> Option<usize> {
        self.pending.iter().position(|(k, _)| *k == n)
    }

    /// Zeek's `set_state`: the row of the current request (or response),
    /// made when there is none.
    fn row(&mut self, s: &Session<'_>, is_orig: bool) -> &mut HttpRecord {
        let n = if is_orig {
            self.current_request
        } else {
            self.current_response
        };
        let i = match self.position(n) {
            Some(i) => i,
            None => {
                let row = self.new_row(s);
                self.pending.push((n, row));
                self.pending.len() - 1
            }
        };
        &mut self.pending[i].1
    }

    pub fn request(&mut self, s: &mut Session<'_>, method: &[u8], uri: &[u8]) {
        if self.current_request < self.current_response {
            s.weird("HTTP_response_before_request");
            self.current_request = self.current_response;
        }
        if self.pending.len() > MAX_PENDING {
            s.weird("HTTP_excessive_pipelining");
            if self.current_response == 0 {
                self.current_response += 1;
            }
            while self.current_response < self.current_request {
                if let Some(i) = self.position(self.current_response) {
                    let (_, row) = self.pending.remove(i);
                    s.emit(EventBody::Http(row));
                }
                self.current_response += 1;
            }
        }
        self.current_request += 1;
        let row = self.row(s, true);
        row.method = Some(text(method));
        row.uri = Some(text(uri));
        if !METHODS.contains(&method) {
            s.weird("unknown_HTTP_method");
        }
    }

    pub fn reply(&mut self, s: &mut Session<'_>, version: &str, code: u16, reason: &[u8]) {
        let advance = match self.position(self.current_response) {
            None => true,
            Some(i) => self.pending[i]
                .1
                .status_code
                .is_some_and(|c| !(100..=199).contains(&c)),
        };
        if advance {
            self.current_response += 1;
        }
        let row = self.row(s, false);
        row.status_code = Some(code);
        row.status_msg = Some(text(reason));
        row.version = Some(version.to_string());
        if (100..=199).contains(&code) {
            row.info_code = Some(code);
            row.info_msg = Some(text(reason));
        }
    }

    /// A header; `name` as sent (compared without regard to case).
    pub fn header(&mut self, s: &Session<'_>, is_orig: bool, name: &[u8], value: &[u8]) {
        let capture = self.capture_password;
        let row = self.row(s, is_orig);
        if !is_orig {
            return;
        }
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("REFERER") {
            row.referrer = Some(text(value));
        } else if is("HOST") {
            row.host = Some(text(value));
        } else if is("ORIGIN") {
            row.origin = Some(text(value));
        } else if is("USER-AGENT") {
            row.user_agent = Some(text(value));
        } else if PROXY_HEADERS.iter().any(|p| is(p)) {
            let entry = format!("{} -> {}", text(name).to_ascii_uppercase(), text(value));
            if !row.proxied.contains(&entry) && row.proxied.len() < MAX_PROXIED {
                row.proxied.push(entry);
            }
        } else if is("AUTHORIZATION") || is("PROXY-AUTHORIZATION") {
            basic_auth(row, value, capture);
        }
    }

    pub fn message_done(
        &mut self,
        s: &mut Session<'_>,
        is_orig: bool,
        body_len: u64,
        types: Vec<&'static str>,
        digests: Option<Digests>,
    ) {
        let row = self.row(s, is_orig);
        let (kept, md5, sha1, sha256) = if is_orig {
            (
                &mut row.orig_mime_types,
                &mut row.orig_md5,
                &mut row.orig_sha1,
                &mut row.orig_sha256,
            )
        } else {
            (
                &mut row.resp_mime_types,
                &mut row.resp_md5,
                &mut row.resp_sha1,
                &mut row.resp_sha256,
            )
        };
        kept.extend(types.into_iter().map(str::to_string));
        if let Some(d) = digests {
            (*md5, *sha1, *sha256) = (d.md5, d.sha1, d.sha256);
        }
        if is_orig {
            row.request_body_len = body_len;
            return;
        }
        row.response_body_len = body_len;
        if row.status_code.is_some_and(|c| (100..=199).contains(&c)) {
            return;
        }
        if let Some(i) = self.position(self.current_response) {
            let (_, row) = self.pending.remove(i);
            s.emit(EventBody::Http(row));
        }
    }

    /// The connection ended: every row still waiting is written (Zeek's
    /// `finalize_http`; number 0 is never used for a row).
    pub fn finish(&mut self, s: &mut Session<'_>) {
        for (n, row) in self.pending.drain(..) {
            if n != 0 {
                s.emit(EventBody::Http(row));
            }
        }
    }
}

/// "Basic" credentials, decoded as Zeek's script does: the user name before
/// the first colon, the rest the password.
fn basic_auth(row: &mut HttpRecord, value: &[u8], capture: bool) {
    if value.len() < 6 || !value[..6].eq_ignore_ascii_case(b"basic ") {
        return;
    }
    let rest = &value[5..];
    let start = rest
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(rest.len());
    let userpass = base64(&rest[start..]);
    match userpass.iter().position(|&c| c == b':') {
        Some(i) => {
            row.username = Some(text(&userpass[..i]));
            if capture {
                row.password = Some(text(&userpass[i + 1..]));
            }
        }
        None => {
            row.username = Some(format!("<problem-decoding> ({})", text(value)));
            if capture {
                row.password = Some(text(&userpass));
            }
        }
    }
}

/// Lenient base64 as Zeek decodes it: characters outside the alphabet are
/// skipped, "=" ends the data, a short last group yields its whole bytes.
pub fn base64(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lenient() {
        assert_eq!(base64(b"dGVzdDoxOjM0"), b"test:1:34");
        assert_eq!(base64(b"dGVz dA=="), b"test");
    }
}
