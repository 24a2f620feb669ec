//! The byte stream of one HTTP direction cut the way Zeek's ContentLine
//! analyzer cuts it: lines ending in CRLF, LF or a lone CR (the terminator
//! removed), or, while a body of known length is read, a number of bytes
//! passed on as they are ("plain delivery"). Lines longer than
//! [`MAX_LINE`] are passed on in pieces, as Zeek does past its limit.

/// Longest line kept; longer ones are cut (Zeek's
/// `contentline_size_exceeded`).
pub const MAX_LINE: usize = 16 << 10;

/// One piece of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A whole line without its terminator.
    Line(&'a [u8]),
    /// Body bytes read in plain mode.
    Plain(&'a [u8]),
}

/// The state of one direction's cutter.
#[derive(Debug, Default)]
pub struct Lines {
    /// The line read so far (kept between calls: lines span packets).
    buf: Vec<u8>,
    /// The last byte ended a line with CR: a LF right after it belongs to
    /// that line end.
    after_cr: bool,
    /// Bytes still to pass on in plain mode.
    pub plain: u64,
}

/// What the reader of the pieces wants next.
pub enum Next {
    Go,
    /// Stop cutting this direction (the parser gave up on it).
    Stop,
}

impl Lines {
    /// Cuts `data` and hands each piece to `f`, which may change the plain
    /// byte count it is given: the mode is asked anew before each piece.
    /// Returns how many bytes of `data` were consumed (all, unless `f`
    /// stopped the cutting).
    pub fn feed(
        &mut self,
        data: &[u8],
        weird: &mut dyn FnMut(&'static str),
        f: &mut dyn FnMut(&mut u64, Piece<'_>) -> Next,
    ) -> usize {
        let total = data.len();
        let mut data = data;
        self.cut_inner(&mut data, weird, f);
        total - data.len()
    }

    fn cut_inner<'d>(
        &mut self,
        data: &mut &'d [u8],
        weird: &mut dyn FnMut(&'static str),
        f: &mut dyn FnMut(&mut u64, Piece<'_>) -> Next,
    ) {
        while !data.is_empty() {
            if self.plain > 0 {
                self.after_cr = false;
                let n = (self.plain.min(data.len() as u64)) as usize;
                self.plain -= n as u64;
                let (now, rest) = data.split_at(n);
                *data = rest;
                if let Next::Stop = f(&mut self.plain, Piece::Plain(now)) {
                    return;
                }
                continue;
            }
            if self.after_cr {
                self.after_cr = false;
                if data[0] == b'\n' {
                    *data = &data[1..];
                    continue;
                }
            }
            let Some(end) = data.iter().position(|&b| b == b'\n' || b == b'\r') else {
                let room = MAX_LINE - self.buf.len();
                if data.len() <= room {
                    self.buf.extend_from_slice(data);
                    return;
                }
                self.buf.extend_from_slice(&data[..room]);
                *data = &data[room..];
                weird("contentline_size_exceeded");
                if let Next::Stop = self.emit(f) {
                    return;
                }
                continue;
            };
            let take = end.min(MAX_LINE - self.buf.len());
            self.buf.extend_from_slice(&data[..take]);
            if take < end {
                weird("contentline_size_exceeded");
                *data = &data[take..];
                if let Next::Stop = self.emit(f) {
                    return;
                }
                continue;
            }
            let cr = data[end] == b'\r';
            *data = &data[end + 1..];
            if cr {
                match data.first() {
                    Some(b'\n') => *data = &data[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if let Next::Stop = self.emit(f) {
                return;
            }
        }
    }

    fn emit(&mut self, f: &mut dyn FnMut(&mut u64, Piece<'_>) -> Next) -> Next {
        let line = std::mem::take(&mut self.buf);
        let next = f(&mut self.plain, Piece::Line(&line));
        // The buffer is kept for the next line: no allocation per line.
        self.buf = line;
        self.buf.clear();
        next
    }

    /// The partial line at the end of the stream, if any (Zeek passes it on
    /// as a line when the sender closes).
    pub fn take_partial(&mut self) -> Option<Vec<u8>> {
        (!self.buf.is_empty()).then(|| std::mem::take(&mut self.buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(chunks: &[&[u8]]) -> Vec<String> {
        let mut l = Lines::default();
        let mut out = Vec::new();
        for c in chunks {
            l.feed(c, &mut |_| {}, &mut |_, p| {
                if let Piece::Line(x) = p {
                    out.push(String::from_utf8_lossy(x).into_owned());
                }
                Next::Go
            });
        }
        out
    }

    #[test]
    fn line_ends() {
        assert_eq!(
            cut(&[b"a\r\nb\nc\rd\r", b"\ne\r\n"]),
            ["a", "b", "c", "d", "e"]
        );
        assert_eq!(cut(&[b"ab", b"c\r\n\r\n"]), ["abc", ""]);
    }

    #[test]
    fn plain_mode() {
        let mut l = Lines::default();
        let mut seen = Vec::new();
        l.feed(b"H\r\n12345X\r\n", &mut |_| {}, &mut |plain, p| {
            match p {
                Piece::Line(x) => {
                    seen.push(format!("L{}", String::from_utf8_lossy(x)));
                    if x == b"H" {
                        *plain = 5;
                    }
                }
                Piece::Plain(x) => seen.push(format!("P{}", String::from_utf8_lossy(x))),
            }
            Next::Go
        });
        assert_eq!(seen, ["LH", "P12345", "LX"]);
    }

    #[test]
    fn long_line_is_cut() {
        let long = vec![b'a'; MAX_LINE + 10];
        let mut weirds = 0;
        let mut l = Lines::default();
        let mut n = 0;
        l.feed(&long, &mut |_| weirds += 1, &mut |_, _| {
            n += 1;
            Next::Go
        });
        assert_eq!((n, weirds), (1, 1));
    }
}
