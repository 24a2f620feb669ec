//! The mail text as far as smtp.log needs it: the message's top-level
//! header block (Zeek's MIME reader: folded lines joined, names compared
//! upper-cased), BDAT chunks cut into lines, and the text helpers of
//! Zeek's scripts (`extract_email_addrs`, `split_mime_email_addresses`,
//! `extract_ip_addresses`) with their matching rules.

use std::net::IpAddr;

/// Header bytes kept per message; the rest of an oversized block is
/// ignored.
const MAX_HEADER_BLOCK: usize = 64 << 10;
/// Headers kept per message.
const MAX_HEADERS: usize = 256;
/// Longest BDAT line kept before it is cut (Zeek's max line length).
const MAX_BDAT_LINE: usize = 4096;

/// The top-level header block of one message.
#[derive(Debug, Default)]
pub struct Headers {
    /// Headers complete so far: name, value.
    pub done: Vec<(Vec<u8>, Vec<u8>)>,
    /// The header being read (it may continue on folded lines).
    current: Option<(Vec<u8>, Vec<u8>)>,
    bytes: usize,
    /// The blank line ending the block was seen.
    pub ended: bool,
}

impl Headers {
    /// One line of the message; returns the headers completed by it.
    pub fn line(&mut self, line: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        if self.ended {
            return Vec::new();
        }
        if line.is_empty() {
            self.ended = true;
            return self.flush();
        }
        self.bytes += line.len();
        if self.bytes > MAX_HEADER_BLOCK {
            return Vec::new();
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some((_, v)) = self.current.as_mut() {
                v.extend_from_slice(line);
            }
            return Vec::new();
        }
        let out = self.flush();
        if let Some(colon) = line.iter().position(|&c| c == b':') {
            let name = line[..colon].trim_ascii().to_ascii_uppercase();
            let value = line[colon + 1..].trim_ascii_start().to_vec();
            self.current = Some((name, value));
        }
        out
    }

    /// The message ended (or its header block did): the pending header.
    pub fn flush(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        match self.current.take() {
            Some(h) if self.done.len() < MAX_HEADERS => vec![h],
            _ => Vec::new(),
        }
    }
}

/// BDAT chunk bytes cut into lines at CRLF (a bare LF ends a line too).
#[derive(Debug, Default)]
pub struct BdatLines {
    buf: Vec<u8>,
}

impl BdatLines {
    pub fn feed(&mut self, data: &[u8], out: &mut dyn FnMut(&[u8])) {
        for &c in data {
            if c == b'\n' {
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                out(&self.buf);
                self.buf.clear();
            } else {
                self.buf.push(c);
                if self.buf.len() >= MAX_BDAT_LINE {
                    out(&self.buf);
                    self.buf.clear();
                }
            }
        }
    }

    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) {
        if !self.buf.is_empty() {
            out(&self.buf);
            self.buf.clear();
        }
    }
}

fn local_char(c: u8) -> bool {
    !matches!(c, b'<' | b',' | b':' | b' ' | b'\t' | b'@')
}

fn domain_char(c: u8) -> bool {
    !matches!(c, b'>' | b',' | b';' | b' ' | b'\t')
}

/// Zeek's mail address pattern,
/// `(^|[<,:[:blank:]])[^<,:[:blank:]@]+"@"[^>,;[:blank:]]+([>,;[:blank:]]|$)`,
/// found left to right without overlap; each match with its delimiters
/// removed.
pub fn email_addrs(s: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let lead = usize::from(matches!(s[i], b'<' | b',' | b':' | b' ' | b'\t'));
        let start = i + lead;
        let local = s[start..].iter().take_while(|&&c| local_char(c)).count();
        let at = start + local;
        if local == 0 || s.get(at) != Some(&b'@') {
            i += 1;
            continue;
        }
        let domain = s[at + 1..].iter().take_while(|&&c| domain_char(c)).count();
        if domain == 0 {
            i += 1;
            continue;
        }
        let mut end = at + 1 + domain;
        if end < s.len() {
            end += 1;
        }
        let addr: Vec<u8> = s[i..end]
            .iter()
            .copied()
            .filter(|c| !matches!(c, b'<' | b'>' | b',' | b':' | b';' | b' ' | b'\t'))
            .collect();
        out.push(addr);
        i = end;
    }
    out
}

/// Zeek's `split_mime_email_addresses`: the comma-separated parts of a
/// header (a quoted display name may hold commas), trimmed.
pub fn mime_addresses(s: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let plain = s[i..].iter().take_while(|&&c| c != b',').count();
        let quoted = (s[i] == b'"')
            .then(|| s[i + 1..].iter().position(|&c| c == b'"'))
            .flatten()
            .map(|q| i + q + 2)
            .map(|j| (j, s[j..].iter().take_while(|&&c| c != b',').count()))
            .filter(|(_, rest)| *rest > 0)
            .map_or(0, |(j, rest)| j + rest - i);
        let len = plain.max(quoted);
        if len == 0 {
            i += 1;
            continue;
        }
        let part = s[i..i + len].trim_ascii().to_vec();
        if !out.contains(&part) {
            out.push(part);
        }
        i += len;
    }
    out
}

fn ip_char(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b'.' || c == b':'
}

/// The IP addresses in `s` with the text around each, found left to right
/// taking the longest address at each place (Zeek's
/// `extract_ip_addresses`). With `wrapped`, only addresses between
/// matching brackets, parentheses, braces or blanks (or filling `s`).
pub fn ip_addresses(s: &[u8], wrapped: bool) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut prev_end = 0;
    let mut i = 0;
    while i < s.len() {
        if !ip_char(s[i]) {
            i += 1;
            continue;
        }
        let run = s[i..].iter().take_while(|&&c| ip_char(c)).count();
        let found = (1..=run).rev().find_map(|n| {
            let t = std::str::from_utf8(&s[i..i + n]).ok()?;
            t.parse::<IpAddr>().ok().map(|a| (a, n))
        });
        let Some((addr, n)) = found else {
            i += 1;
            continue;
        };
        let (before, after) = (&s[prev_end..i], &s[i + n..]);
        let ok = !wrapped
            || (before.is_empty() && after.is_empty())
            || matches!(
                (before.last(), after.first()),
                (Some(b'['), Some(b']'))
                    | (Some(b'('), Some(b')'))
                    | (Some(b'{'), Some(b'}'))
                    | (Some(b' '), Some(b' '))
            );
        if ok {
            out.push(addr);
        }
        prev_end = i + n;
        i += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<Vec<u8>>) -> Vec<String> {
        v.into_iter()
            .map(|b| String::from_utf8(b).unwrap())
            .collect()
    }

    #[test]
    fn addresses() {
        assert_eq!(
            strs(email_addrs(b"FROM:<zeek@localhost> SIZE=10")),
            ["zeek@localhost"]
        );
        assert_eq!(
            strs(email_addrs(b"TO:<a@b.c> ORCPT=rfc822;a@b.c")),
            ["a@b.c", "ORCPT=rfc822a@b.c"]
        );
        assert_eq!(
            strs(mime_addresses(b"\"Doe, J\" <j@x.org>, a@b.c")),
            ["\"Doe, J\" <j@x.org>", "a@b.c"]
        );
    }

    #[test]
    fn received_addresses() {
        let h = b"from mail.x.net (mail.x.net [216.58.97.33]) by y with esmtp; 12:55:34";
        assert_eq!(
            ip_addresses(h, true),
            ["216.58.97.33".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(ip_addresses(b"1216.58.97.3", false).len(), 1);
    }

    #[test]
    fn folded_headers() {
        let mut h = Headers::default();
        let mut got = Vec::new();
        for l in [&b"Subject: Zeek"[..], b" Logo", b"To: a@b", b""] {
            got.extend(h.line(l));
        }
        assert_eq!(got[0], (b"SUBJECT".to_vec(), b"Zeek Logo".to_vec()));
        assert_eq!(got.len(), 2);
    }
}
