//! One HTTP message's entity as Zeek's `HTTP_Entity` reads it: the header
//! block (read by `headers`), then the body by Content-Length, chunked
//! transfer coding, or until the connection closes, its length counted
//! after gzip/deflate decoding as Zeek's `body_length` is, and hashed
//! (`hashes`).

use super::hashes::{Digests, Hashes, Selection};
use super::headers::{self, atoi, token, Header};
use super::mime::{keep, sniff, SNIFF_LEN};
use super::parts::{self, Parts};
use flate2::write::{GzDecoder, ZlibDecoder};
use std::io::Write;

/// Header bytes one message may hold; beyond that header lines are dropped.
const MAX_HEADER_BLOCK: usize = 64 << 10;

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

/// Counts the decoded bytes written to it, keeps the first [`SNIFF_LEN`]
/// of them, for content sniffing, and hashes them.
#[derive(Default)]
struct Count {
    n: u64,
    head: Vec<u8>,
    hashes: Option<Box<Hashes>>,
}

impl Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.n += b.len() as u64;
        keep(&mut self.head, b);
        if let Some(h) = &mut self.hashes {
            h.update(b);
        }
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
    /// The body's hashes so far (while a decoder runs, it holds them);
    /// `None` for a body that will have none.
    hashes: Option<Box<Hashes>>,
    /// Zeek's `http_message_done` was raised for this message.
    pub reported: bool,
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
            hashes: None,
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

    /// Whether the body was read to its end: its length or last chunk
    /// reached, or, for a body that runs until the sender closes, the
    /// message not `interrupted` (by a gap, the inspection depth or the
    /// connection's end without a close).
    pub fn whole(&self, interrupted: bool) -> bool {
        match self.phase {
            Phase::Done | Phase::Trailer => true,
            Phase::Length => self.remaining == 0,
            Phase::UntilClose | Phase::Lines => !interrupted,
            Phase::Headers | Phase::ChunkSize | Phase::ChunkData | Phase::ChunkCrlf => false,
        }
    }

    /// The hashes of a non-empty body read whole (see `hashes`); call after
    /// [`Entity::finish`].
    pub fn digests(&mut self, whole: bool) -> Option<Digests> {
        let hashes = self.hashes.take()?;
        (whole && self.body_length > 0).then(|| hashes.finish())
    }

    /// Body bytes as they are (no content coding) to the sniffers and the
    /// hashes.
    fn plain_body(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.hashes {
            h.update(data);
        }
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
        headers::each(&block, each);
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
    /// `conn_close` is the analyzer's connection-close flag; `hashes`, the
    /// hashes the body gets (`[app] file_hashes`).
    pub fn start_body(&mut self, conn_close: bool, hashes: Selection) {
        if self.phase == Phase::Trailer {
            // A chunked body's trailer ended it: its decoder, parts and
            // hashes go on to `finish` as they are.
            self.phase = Phase::Done;
            return;
        }
        let f = &self.framing;
        self.phase = if self.expect == Expect::NotExpected {
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
        // A form's files are its parts, and a 206 reply is a piece of one.
        if !hashes.is_empty() && !f.multipart && !f.partial && self.phase != Phase::Done {
            self.hashes = Some(Box::new(Hashes::new(hashes)));
        }
        let (gzip, deflate) = (f.gzip, f.deflate);
        if gzip || deflate {
            let count = Count {
                hashes: self.hashes.take(),
                ..Count::default()
            };
            self.inflate = Some(if gzip {
                Inflate::Gzip(Box::new(GzDecoder::new(count)))
            } else {
                Inflate::Zlib(Box::new(ZlibDecoder::new(count)))
            });
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
    /// decoded first bytes it holds and, unless it failed, its hashes.
    fn end_inflate(&mut self, with: Option<Inflate>) {
        let count = match &mut self.inflate {
            Some(Inflate::Gzip(d)) => Some(d.get_mut()),
            Some(Inflate::Zlib(d)) => Some(d.get_mut()),
            _ => None,
        };
        if let Some(c) = count {
            if let Some(h) = &mut self.head {
                *h = std::mem::take(&mut c.head);
            }
            let hashes = c.hashes.take();
            if !matches!(with, Some(Inflate::Failed)) {
                self.hashes = hashes;
            }
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
                self.hashes = None;
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
        e.start_body(false, Selection::default());
        (e, w)
    }

    #[test]
    fn bodies_are_hashed_only_when_asked() {
        for (chosen, hashed) in [(Selection::default(), false), (Selection::ALL, true)] {
            let mut e = Entity::new(Expect::Expected);
            let h = Header {
                name: b"Content-Length",
                value: b"3",
            };
            e.framing_header(&h, Version::V11, 200, &mut |_| {});
            e.start_body(false, chosen);
            e.body(b"abc", &mut |_| {});
            e.remaining = 0;
            let whole = e.whole(false);
            e.finish();
            assert_eq!(e.digests(whole).is_some(), hashed);
        }
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
