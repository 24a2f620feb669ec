//! One HTTP message's entity as Zeek's `HTTP_Entity` reads it: the header
//! block (parsed with httparse, folded or odd lines by hand), then the body
//! by Content-Length, chunked transfer coding, or until the connection
//! closes, its length counted after gzip/deflate decoding as Zeek's
//! `body_length` is.

use super::mime::{keep, sniff, SNIFF_LEN};
use super::parts::{self, Parts};
use flate2::write::{GzDecoder, ZlibDecoder};
use std::io::Write;

/// Header bytes one message may hold; beyond that header lines are dropped.
const MAX_HEADER_BLOCK: usize = 64 << 10;
/// Headers one message may carry (more are dropped).
const MAX_HEADERS: usize = 128;

/// Whether the message may have a body (Zeek's `HTTP_BODY_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Requests: a body only with Content-Length or chunked coding.
    Maybe,
    Expected,
    NotExpected,
}

/// Where the body reading stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Headers,
    /// Plain bytes of known length (`expect` left).
    Length,
    /// Chunked: the next line is a chunk size.
    ChunkSize,
    /// Chunked: plain chunk bytes.
    ChunkData,
    /// Chunked: the CRLF after a chunk.
    ChunkCrlf,
    /// Chunked: trailer headers after the last chunk.
    Trailer,
    /// No length known: every line (and its CRLF) counts until the
    /// connection ends.
    Lines,
    /// No length known, bytes counted plainly until the connection ends.
    UntilClose,
    Done,
}

/// Counts the decoded bytes written to it and keeps the first
/// [`SNIFF_LEN`] of them, for content sniffing.
#[derive(Default)]
struct Count {
    n: u64,
    head: Vec<u8>,
}

impl Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.n += b.len() as u64;
        keep(&mut self.head, b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Inflate {
    Gzip(Box<GzDecoder<Count>>),
    Zlib(Box<ZlibDecoder<Count>>),
    /// Decoding failed: nothing more counts.
    Failed,
}

/// A header as the analyzer and the log see it.
pub struct Header<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// The body-relevant facts of the headers (Zeek's `SubmitHeader`).
#[derive(Debug, Default)]
pub struct Framing {
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub gzip: bool,
    pub deflate: bool,
    pub multipart: bool,
    /// A multipart body's boundary (Content-Type's `boundary`).
    pub boundary: Option<Vec<u8>>,
    pub range_length: Option<u64>,
    /// A 206 reply (part of a file), and where its range starts in the
    /// whole file when its Content-Range could be read.
    pub partial: bool,
    pub range_start: Option<u64>,
}

pub struct Entity {
    pub expect: Expect,
    pub phase: Phase,
    header_block: Vec<u8>,
    pub framing: Framing,
    expect_100: bool,
    /// Body bytes left of the current Content-Length or chunk.
    pub remaining: u64,
    pub body_length: u64,
    inflate: Option<Inflate>,
    /// The body's first bytes (decoded), for content sniffing; `None` once
    /// a gap cut them short.
    head: Option<Vec<u8>>,
    /// A multipart body's parts, each sniffed on its own.
    parts: Option<Box<Parts>>,
    /// Zeek's `http_message_done` was raised for this message.
    pub reported: bool,
}

/// The first token of a header value (Zeek's `get_value_token`) and what
/// follows it.
pub fn token(v: &[u8]) -> (&[u8], &[u8]) {
    let start = v
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(v.len());
    let v = &v[start..];
    let end = v
        .iter()
        .position(|&c| c <= b' ' || c >= 127 || b"()<>@,;:\\\"/[]?=".contains(&c))
        .unwrap_or(v.len());
    (&v[..end], &v[end..])
}

/// Zeek's `atoi_n`: an optional minus, then digits of `base` up to the
/// first other character; `None` when the first character is no digit.
pub fn atoi(t: &[u8], base: u32) -> Option<i64> {
    let (neg, t) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for (i, &c) in t.iter().enumerate() {
        match (c as char).to_digit(base) {
            Some(d) => n = n.wrapping_mul(i64::from(base)).wrapping_add(i64::from(d)),
            None if i > 0 => break,
            None => return None,
        }
    }
    if t.is_empty() {
        return None;
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

impl Entity {
    pub fn new(expect: Expect) -> Entity {
        Entity {
            expect,
            phase: Phase::Headers,
            header_block: Vec::new(),
            framing: Framing::default(),
            expect_100: false,
            remaining: 0,
            body_length: 0,
            inflate: None,
            head: Some(Vec::new()),
            parts: None,
            reported: false,
        }
    }

    /// Two body bytes that were read as a line end (bodies read by lines).
    pub fn crlf(&mut self) {
        self.body_length += 2;
        if self.inflate.is_none() {
            self.plain_body(b"\r\n");
        }
    }

    /// What the body is, by its first bytes (`mime::sniff`), or what each
    /// part of a multipart body is. None for an empty body, a part of a
    /// file not known to start it (a 206 reply but from offset 0), a
    /// compressed multipart body, or first bytes lost to a gap.
    pub fn mime_types(&mut self) -> Vec<&'static str> {
        let f = &self.framing;
        if self.body_length == 0 || (f.partial && f.range_start != Some(0)) {
            return Vec::new();
        }
        if f.multipart {
            return self.parts.as_mut().map(|p| p.finish()).unwrap_or_default();
        }
        self.head.as_deref().and_then(sniff).into_iter().collect()
    }

    /// Body bytes as they are (no content coding) to the sniffers.
    fn plain_body(&mut self, data: &[u8]) {
        if let Some(p) = &mut self.parts {
            p.feed(data);
        } else if let Some(h) = &mut self.head {
            keep(h, data);
        }
    }

    /// A header line of the message head or of the chunked trailer; false
    /// when it ended the block (an empty line).
    pub fn header_line(&mut self, line: &[u8], weird: &mut dyn FnMut(&'static str)) -> bool {
        if line.is_empty() {
            return false;
        }
        if self.header_block.len() + line.len() + 2 > MAX_HEADER_BLOCK {
            weird("HTTP_header_block_too_long");
            return true;
        }
        self.header_block.extend_from_slice(line);
        self.header_block.extend_from_slice(b"\r\n");
        true
    }

    /// The header block ended: calls `each` for every header in order.
    pub fn headers(&mut self, each: &mut dyn FnMut(Header<'_>)) {
        let mut block = std::mem::take(&mut self.header_block);
        block.extend_from_slice(b"\r\n");
        let mut parsed = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match httparse::parse_headers(&block, &mut parsed) {
            Ok(httparse::Status::Complete((_, hs))) => {
                for h in hs.iter() {
                    each(Header {
                        name: h.name.as_bytes(),
                        value: h.value,
                    });
                }
            }
            // Folded lines, odd bytes, too many headers: read line by line
            // as Zeek's MIME reader does, which joins folded lines and
            // skips lines without a colon.
            _ => each_by_hand(&block, each),
        }
    }

    /// Zeek's `HTTP_Entity::SubmitHeader` for the framing headers.
    pub fn framing_header(
        &mut self,
        h: &Header<'_>,
        version: super::syntax::Version,
        reply_code: u16,
        weird: &mut dyn FnMut(&'static str),
    ) {
        let f = &mut self.framing;
        f.partial |= reply_code == 206;
        let name = h.name;
        let (tok, after) = token(h.value);
        if name.eq_ignore_ascii_case(b"content-length") {
            if f.chunked {
                weird("HTTP_content_length_and_chunked");
            }
            if tok.is_empty() {
                return;
            }
            match atoi(tok, 10).and_then(|n| u64::try_from(n).ok()) {
                Some(n) => {
                    if n > 0 && tok[0] == b'0' {
                        weird("HTTP_content_length_leading_zeros");
                    }
                    let mut cl = n;
                    if let Some(r) = f.range_length {
                        if r != n {
                            weird("HTTP_range_not_matching_len");
                            cl = cl.max(r);
                        }
                    }
                    f.content_length = Some(cl);
                    if cl == 0 && self.expect_100 {
                        weird("HTTP_content_length_0_and_expect_100_cont");
                    }
                }
                None => {
                    weird("HTTP_bad_content_length");
                    f.content_length = Some(0);
                }
            }
        } else if name.eq_ignore_ascii_case(b"content-range") && reply_code == 206 {
            self.content_range(tok, after, weird);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if tok.eq_ignore_ascii_case(b"chunked") && version == super::syntax::Version::V11 {
                f.chunked = true;
                if !after.is_empty() {
                    weird("HTTP_chunked_multi");
                }
                if f.content_length.is_some() {
                    weird("HTTP_content_length_and_chunked");
                }
            }
        } else if name.eq_ignore_ascii_case(b"content-encoding") {
            f.gzip |= tok.eq_ignore_ascii_case(b"gzip") || tok.eq_ignore_ascii_case(b"x-gzip");
            f.deflate |= tok.eq_ignore_ascii_case(b"deflate");
        } else if name.eq_ignore_ascii_case(b"expect") {
            if !tok.eq_ignore_ascii_case(b"100-continue") {
                weird("HTTP_expect_not_100_continue");
            }
            self.expect_100 = true;
            if f.content_length == Some(0) {
                weird("HTTP_content_length_0_and_expect_100_cont");
            }
        } else if name.eq_ignore_ascii_case(b"content-type") {
            f.multipart =
                tok.eq_ignore_ascii_case(b"multipart") || tok.eq_ignore_ascii_case(b"message");
            f.boundary = if f.multipart {
                parts::boundary(after)
            } else {
                None
            };
        }
    }

    /// A 206 reply's Content-Range decides the body length when it is
    /// larger than the Content-Length (Zeek's guard against evasion).
    fn content_range(&mut self, unit: &[u8], after: &[u8], weird: &mut dyn FnMut(&'static str)) {
        if unit != b"bytes" {
            weird("HTTP_content_range_unknown_byte_unit");
            return;
        }
        let range: Vec<u8> = after.iter().copied().filter(|&c| c != b' ').collect();
        let Some(slash) = range.iter().position(|&c| c == b'/') else {
            weird("HTTP_content_range_cannot_parse");
            return;
        };
        let spec = &range[..slash];
        let Some(dash) = spec.iter().position(|&c| c == b'-') else {
            weird("HTTP_content_range_cannot_parse");
            return;
        };
        let (Some(first), Some(last)) = (atoi(&spec[..dash], 10), atoi(&spec[dash + 1..], 10))
        else {
            weird("HTTP_content_range_cannot_parse");
            return;
        };
        if first < 0 || last < 0 {
            weird("HTTP_content_range_invalid");
            return;
        }
        if last < first {
            weird("HTTP_non_positive_content_range");
            return;
        }
        if last - first > i64::MAX - 1 {
            weird("HTTP_content_range_overflow");
            return;
        }
        let len = (last - first + 1) as u64;
        let f = &mut self.framing;
        f.range_length = Some(len);
        f.range_start = Some(first as u64);
        match f.content_length {
            Some(cl) if cl > 0 => {
                if cl != len {
                    weird("HTTP_range_not_matching_len");
                    f.content_length = Some(cl.max(len));
                }
            }
            _ => f.content_length = Some(len),
        }
    }

    /// Zeek's `SubmitAllHeaders`: picks how the body is read.
    /// `conn_close` is the analyzer's connection-close flag.
    pub fn start_body(&mut self, conn_close: bool) {
        let f = &self.framing;
        self.phase = if self.phase == Phase::Trailer || self.expect == Expect::NotExpected {
            Phase::Done
        } else if f.multipart {
            match f.content_length {
                Some(0) => Phase::Done,
                Some(n) => {
                    self.remaining = n;
                    Phase::Length
                }
                None => Phase::Lines,
            }
        } else if f.chunked {
            Phase::ChunkSize
        } else if let Some(n) = f.content_length {
            self.remaining = n;
            if n > 0 {
                Phase::Length
            } else {
                Phase::Done
            }
        } else if conn_close || f.gzip || f.deflate {
            Phase::UntilClose
        } else if self.expect != Expect::Expected {
            Phase::Done
        } else {
            Phase::Lines
        };
        if f.multipart && !f.gzip && !f.deflate {
            self.parts = f.boundary.as_deref().map(|b| Box::new(Parts::new(b)));
        }
        if f.gzip {
            self.inflate = Some(Inflate::Gzip(Box::new(GzDecoder::new(Count::default()))));
        } else if f.deflate {
            self.inflate = Some(Inflate::Zlib(Box::new(ZlibDecoder::new(Count::default()))));
        }
    }

    /// Body bytes (after any transfer coding).
    pub fn body(&mut self, data: &[u8], weird: &mut dyn FnMut(&'static str)) {
        let ok = match &mut self.inflate {
            None => {
                self.body_length += data.len() as u64;
                self.plain_body(data);
                true
            }
            Some(Inflate::Failed) => true,
            Some(Inflate::Gzip(d)) => {
                let before = d.get_ref().n;
                let ok = d.write_all(data).is_ok();
                self.body_length += d.get_ref().n - before;
                ok
            }
            Some(Inflate::Zlib(d)) => {
                let before = d.get_ref().n;
                let ok = d.write_all(data).is_ok();
                self.body_length += d.get_ref().n - before;
                ok
            }
        };
        if !ok {
            weird("inflate_failed");
            self.end_inflate(Some(Inflate::Failed));
        }
    }

    /// Replaces the decoder (`None`: the body is plain again), keeping the
    /// decoded first bytes it holds.
    fn end_inflate(&mut self, with: Option<Inflate>) {
        let count = match &mut self.inflate {
            Some(Inflate::Gzip(d)) => Some(d.get_mut()),
            Some(Inflate::Zlib(d)) => Some(d.get_mut()),
            _ => None,
        };
        if let (Some(c), Some(h)) = (count, &mut self.head) {
            *h = std::mem::take(&mut c.head);
        }
        self.inflate = with;
    }

    /// The body ended: flush what the decoder holds.
    pub fn finish(&mut self) {
        let before;
        let after;
        match &mut self.inflate {
            Some(Inflate::Gzip(d)) => {
                before = d.get_ref().n;
                let _ = d.try_finish();
                after = d.get_ref().n;
            }
            Some(Inflate::Zlib(d)) => {
                before = d.get_ref().n;
                let _ = d.try_finish();
                after = d.get_ref().n;
            }
            _ => return,
        }
        self.body_length += after - before;
        self.end_inflate(None);
    }

    /// A gap of `len` bytes: true when it lay inside a body of known
    /// length (counted as body, Zeek's `Undelivered`), false when the
    /// message cannot go on.
    pub fn gap(&mut self, len: u64) -> bool {
        if self.body_length == 0 {
            return false;
        }
        match self.phase {
            Phase::Length | Phase::ChunkData if self.remaining >= len => {
                self.body_length += len;
                self.remaining -= len;
                // The first bytes are known only up to the gap.
                if self.head.as_ref().is_some_and(|h| h.len() < SNIFF_LEN) {
                    self.head = None;
                }
                self.parts = None;
                // A decoder cannot continue over missing bytes.
                if self.inflate.is_some() {
                    self.inflate = Some(Inflate::Failed);
                }
                true
            }
            _ => false,
        }
    }
}

/// Headers of a block httparse refused, read leniently: folded lines join
/// the header before them, lines without a colon are skipped.
fn each_by_hand(block: &[u8], each: &mut dyn FnMut(Header<'_>)) {
    let mut joined: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in block.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some((_, v)) = joined.last_mut() {
                v.push(b' ');
                v.extend_from_slice(line.trim_ascii());
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        if joined.len() >= MAX_HEADERS {
            break;
        }
        joined.push((
            line[..colon].trim_ascii().to_vec(),
            line[colon + 1..].trim_ascii_start().to_vec(),
        ));
    }
    for (n, v) in &joined {
        each(Header { name: n, value: v });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::http::syntax::Version;

    fn framing(headers: &[(&str, &str)], code: u16) -> (Entity, Vec<&'static str>) {
        let mut e = Entity::new(Expect::Expected);
        let mut w = Vec::new();
        for (n, v) in headers {
            let h = Header {
                name: n.as_bytes(),
                value: v.as_bytes(),
            };
            e.framing_header(&h, Version::V11, code, &mut |x| w.push(x));
        }
        e.start_body(false);
        (e, w)
    }

    #[test]
    fn framing_rules() {
        let (e, w) = framing(&[("Content-Length", "0050")], 200);
        assert_eq!((e.phase, e.remaining), (Phase::Length, 50));
        assert_eq!(w, ["HTTP_content_length_leading_zeros"]);
        let (e, w) = framing(&[("Transfer-Encoding", "chunked, identity")], 200);
        assert_eq!((e.phase, w), (Phase::ChunkSize, vec!["HTTP_chunked_multi"]));
        let (e, _) = framing(
            &[
                ("Content-Range", "bytes 0-32/100"),
                ("Content-Length", "14"),
            ],
            206,
        );
        assert_eq!(e.remaining, 33);
        let (e, w) = framing(&[("Content-Range", "bytes foo-bar/baz")], 206);
        assert_eq!(
            (e.phase, w),
            (Phase::Lines, vec!["HTTP_content_range_cannot_parse"])
        );
    }

    #[test]
    fn gzip_counts_decoded_bytes() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&[b'x'; 1000]).unwrap();
        let data = gz.finish().unwrap();
        let (mut e, _) = framing(&[("Content-Encoding", "gzip")], 200);
        for c in data.chunks(7) {
            e.body(c, &mut |_| {});
        }
        e.finish();
        assert_eq!(e.body_length, 1000);
    }

    #[test]
    fn folded_headers_by_hand() {
        let mut e = Entity::new(Expect::Maybe);
        let mut w = |_| {};
        e.header_line(b"Host: a", &mut w);
        e.header_line(b"X-Long: one", &mut w);
        e.header_line(b"  two", &mut w);
        let mut seen = Vec::new();
        e.headers(&mut |h| seen.push((text(h.name), text(h.value))));
        assert_eq!(
            seen,
            [
                ("Host".into(), "a".into()),
                ("X-Long".into(), "one two".into())
            ]
        );
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }
}
