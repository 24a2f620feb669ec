//! The parts of a multipart body (`multipart/form-data` uploads,
//! `multipart/byteranges`), each sniffed on its own as Zeek's MIME analyzer
//! hands each part to file analysis: an upload of a program inside a form
//! is `application/x-dosexec`, not the form around it.
//!
//! Reads the body line by line: `--BOUNDARY` opens a part, its header lines
//! end at an empty line, its content runs to the next delimiter (the line
//! end before a delimiter belongs to the delimiter), and `--BOUNDARY--`
//! closes the body. Only each part's first [`super::mime::SNIFF_LEN`]
//! bytes are kept; a line longer than a delimiter is passed on, not held.

use super::mime::{keep, sniff};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Before the first delimiter.
    Preamble,
    Headers,
    Content,
    /// After the closing delimiter.
    Done,
}

pub struct Parts {
    /// `--` and the boundary.
    delimiter: Vec<u8>,
    state: State,
    /// The line being read, up to a delimiter's length plus its `--`.
    line: Vec<u8>,
    /// The line being read is too long to be a delimiter.
    long_line: bool,
    /// A long line's last byte so far was a CR, held back: content if the
    /// line goes on, part of the line end if it ends.
    held_cr: bool,
    /// The current part's first bytes.
    head: Vec<u8>,
    /// A line of the current part was read, so the next one follows a
    /// line end of the content.
    after_line: bool,
    types: Vec<&'static str>,
}

impl Parts {
    /// The parts of a body whose Content-Type names `boundary`.
    pub fn new(boundary: &[u8]) -> Parts {
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(boundary);
        Parts {
            delimiter,
            state: State::Preamble,
            line: Vec::new(),
            long_line: false,
            held_cr: false,
            head: Vec::new(),
            after_line: false,
            types: Vec::new(),
        }
    }

    /// Body bytes, in order.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let (piece, ended) = match data.iter().position(|&c| c == b'\n') {
                Some(i) => (&data[..i], true),
                None => (data, false),
            };
            data = &data[piece.len() + usize::from(ended)..];
            self.piece(piece);
            if ended {
                self.end_line();
            }
        }
    }

    /// Part of a line: held while it could still be a delimiter, else
    /// passed on as content.
    fn piece(&mut self, piece: &[u8]) {
        if piece.is_empty() {
            return;
        }
        if !self.long_line {
            // Room for the delimiter, a closing `--`, a CR and white space.
            let room = (self.delimiter.len() + 8).saturating_sub(self.line.len());
            if piece.len() <= room {
                self.line.extend_from_slice(piece);
                return;
            }
            self.long_line = true;
            let held = std::mem::take(&mut self.line);
            self.content(&held, true);
        }
        if std::mem::take(&mut self.held_cr) {
            self.content(b"\r", false);
        }
        let piece = match piece.strip_suffix(b"\r") {
            Some(p) => {
                self.held_cr = true;
                p
            }
            None => piece,
        };
        self.content(piece, false);
    }

    fn end_line(&mut self) {
        if self.long_line {
            self.long_line = false;
            self.held_cr = false;
            self.after_line = true;
            return;
        }
        let line = std::mem::take(&mut self.line);
        let text = line.strip_suffix(b"\r").unwrap_or(&line);
        if let Some(rest) = text.strip_prefix(self.delimiter.as_slice()) {
            let rest = rest.trim_ascii_end();
            if rest.is_empty() || rest == b"--" {
                self.close_part();
                self.state = if rest.is_empty() {
                    State::Headers
                } else {
                    State::Done
                };
                self.line = line;
                self.line.clear();
                return;
            }
        }
        match self.state {
            State::Headers if text.is_empty() => {
                self.state = State::Content;
                self.head.clear();
                self.after_line = false;
            }
            State::Content => {
                self.content(text, true);
                self.after_line = true;
            }
            _ => {}
        }
        self.line = line;
        self.line.clear();
    }

    /// Content of the current part; `starts` when it starts a line.
    fn content(&mut self, bytes: &[u8], starts: bool) {
        if self.state != State::Content {
            return;
        }
        if starts && self.after_line {
            keep(&mut self.head, b"\r\n");
        }
        self.after_line = false;
        keep(&mut self.head, bytes);
    }

    fn close_part(&mut self) {
        if self.state == State::Content && !self.head.is_empty() {
            if let Some(t) = sniff(&self.head) {
                self.types.push(t);
            }
        }
        self.head.clear();
    }

    /// The types of the parts, the last one closed too when the body
    /// ended without its closing delimiter.
    pub fn finish(&mut self) -> Vec<&'static str> {
        if self.state == State::Content && !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.content(&line, true);
        }
        self.close_part();
        self.state = State::Done;
        std::mem::take(&mut self.types)
    }
}

/// The `boundary` parameter of a Content-Type value's parameters (after
/// the type), quoted or not.
pub fn boundary(params: &[u8]) -> Option<Vec<u8>> {
    for p in params.split(|&c| c == b';') {
        let p = p.trim_ascii();
        let Some(eq) = p.iter().position(|&c| c == b'=') else {
            continue;
        };
        if !p[..eq].trim_ascii().eq_ignore_ascii_case(b"boundary") {
            continue;
        }
        let v = p[eq + 1..].trim_ascii();
        let v = v
            .strip_prefix(b"\"")
            .and_then(|q| q.strip_suffix(b"\""))
            .unwrap_or(v);
        return (!v.is_empty() && v.len() <= 200).then(|| v.to_vec());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &[u8] = b"--XyZ\r\n\
Content-Disposition: form-data; name=\"note\"\r\n\r\n\
hello world, a plain note\r\n\
--XyZ\r\n\
Content-Disposition: form-data; name=\"file\"; filename=\"setup.exe\"\r\n\
Content-Type: image/jpeg\r\n\r\n\
MZ\x90\x00\x03\x00\x00\x00\x04\x00\r\n\
--XyZ\r\n\
Content-Disposition: form-data; name=\"empty\"\r\n\r\n\
\r\n\
--XyZ--\r\n";

    #[test]
    fn each_part_is_sniffed_on_its_own_in_any_pieces() {
        for cut in [1, 2, 3, 7, 64, FORM.len()] {
            let mut p = Parts::new(b"XyZ");
            for chunk in FORM.chunks(cut) {
                p.feed(chunk);
            }
            assert_eq!(
                p.finish(),
                vec!["text/plain", "application/x-dosexec"],
                "pieces of {cut}"
            );
        }
    }

    #[test]
    fn long_lines_keep_their_bytes_and_one_line_end() {
        let long = "x".repeat(100);
        // Before the closing delimiter, which would close the part.
        let body = format!("--B\r\n\r\n{long}\r\n{long}\r\n");
        for cut in [1, 5, 50, body.len()] {
            let mut p = Parts::new(b"B");
            for chunk in body.as_bytes().chunks(cut) {
                p.feed(chunk);
            }
            let head = String::from_utf8_lossy(&p.head).replace(&long, "L");
            assert_eq!(head, "L\r\nL", "pieces of {cut}");
        }
    }

    #[test]
    fn a_body_cut_before_its_closing_delimiter_keeps_its_last_part() {
        let mut p = Parts::new(b"XyZ");
        p.feed(b"--XyZ\r\n\r\n<!DOCTYPE html><html>");
        assert_eq!(p.finish(), vec!["text/html"]);
    }

    #[test]
    fn the_boundary_parameter_quoted_or_not() {
        assert_eq!(boundary(b"; boundary=abc"), Some(b"abc".to_vec()));
        assert_eq!(
            boundary(b" ; charset=x; BOUNDARY=\"a b\""),
            Some(b"a b".to_vec())
        );
        assert_eq!(boundary(b"; charset=x"), None);
        assert_eq!(boundary(b"; boundary="), None);
    }
}
