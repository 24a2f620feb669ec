//! TLS records to handshake messages, for one direction of a connection.
//!
//! [`RecordReader`] takes the stream's bytes in whatever pieces TCP
//! delivers them, reads the 5-byte record headers, puts handshake messages
//! back together across records (a certificate chain rarely fits one) and
//! hands each whole message to a callback, borrowed from its own buffer.
//! Record types that carry no parseable content (ChangeCipherSpec,
//! ApplicationData, alerts) are reported as they start, since Zeek's
//! `ssl_history` and `established` are made of them. Application data is
//! skipped without being copied.
//!
//! Memory is bounded: a handshake message longer than the cap is skipped
//! (its bytes counted in [`RecordReader::dropped`]) and announced as
//! [`Event::HandshakeTooLarge`]. Garbage ends the reader with a
//! [`Malformed`] reason; later input is ignored and the same reason
//! returned, because a byte stream that lost its record framing cannot be
//! found again.

/// The default cap on a buffered handshake message: 64 KiB holds every
/// real certificate chain seen in the corpora with room to spare.
pub const DEFAULT_CAP: usize = 64 * 1024;

/// Buffer capacity kept between handshake messages.
const KEEP: usize = 16 * 1024;

/// The largest record the protocol allows (2^14 plus 2048 of expansion,
/// RFC 5246 §6.2.3); anything longer means the stream is not TLS.
const MAX_RECORD: usize = 16384 + 2048;

/// Record content types (RFC 8446 §5.1, RFC 6520 for heartbeat).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentType {
    ChangeCipherSpec,
    Alert,
    Handshake,
    ApplicationData,
    Heartbeat,
}

impl ContentType {
    pub fn from_u8(v: u8) -> Option<ContentType> {
        Some(match v {
            20 => ContentType::ChangeCipherSpec,
            21 => ContentType::Alert,
            22 => ContentType::Handshake,
            23 => ContentType::ApplicationData,
            24 => ContentType::Heartbeat,
            _ => return None,
        })
    }
}

/// What the reader found, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A record begins. `encrypted` is true once this direction has sent
    /// a ChangeCipherSpec: from then on its handshake and alert records
    /// are ciphertext (TLS 1.2 Finished, TLS 1.3 everything after the
    /// hellos travels as ApplicationData anyway).
    Record {
        content_type: ContentType,
        version: u16,
        length: u16,
        encrypted: bool,
    },
    /// A whole plaintext handshake message: its type and body (without the
    /// 4-byte message header).
    Handshake { msg_type: u8, body: &'a [u8] },
    /// A handshake message longer than the cap, skipped.
    HandshakeTooLarge { msg_type: u8, length: usize },
    /// A plaintext alert (the first one in its record).
    Alert { level: u8, description: u8 },
}

/// Why the stream is not (or no longer) TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// A record header with a content type outside 20..=24.
    ContentType(u8),
    /// A record version whose major byte is not 3 (SSL 3.0 to TLS 1.3).
    Version(u16),
    /// A record longer than TLS allows.
    RecordLength(u16),
    /// An SSLv2-format record (first byte with the high bit set), which
    /// this reader does not parse.
    Sslv2,
    /// A handshake record ended in the middle of a message and the next
    /// record was not a handshake record (RFC 8446 §5.1 forbids that).
    Interleaved,
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Collecting a record header.
    Header,
    /// Inside a record body with this many bytes left.
    Body {
        ct: ContentType,
        left: usize,
    },
    Failed(Malformed),
}

/// Incremental record and handshake-message reader for one direction.
#[derive(Debug)]
pub struct RecordReader {
    cap: usize,
    state: State,
    header: [u8; 5],
    header_len: usize,
    /// Handshake bytes not yet forming a whole message.
    hs: Vec<u8>,
    /// Bytes of an oversized handshake message still to skip.
    hs_skip: usize,
    /// The first two bytes of the current alert record.
    alert: [u8; 2],
    alert_len: usize,
    encrypted: bool,
    dropped: u64,
    records: u64,
}

impl Default for RecordReader {
    fn default() -> Self {
        RecordReader::new(DEFAULT_CAP)
    }
}

impl RecordReader {
    /// A reader that buffers handshake messages of up to `cap` bytes.
    pub fn new(cap: usize) -> RecordReader {
        RecordReader {
            cap,
            state: State::Header,
            header: [0; 5],
            header_len: 0,
            hs: Vec::new(),
            hs_skip: 0,
            alert: [0; 2],
            alert_len: 0,
            encrypted: false,
            dropped: 0,
            records: 0,
        }
    }

    /// Bytes of handshake messages skipped because they exceeded the cap.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Records whose header has been read.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Whether this direction has sent a ChangeCipherSpec.
    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// The reason the reader stopped, if it did.
    pub fn failed(&self) -> Option<Malformed> {
        match self.state {
            State::Failed(m) => Some(m),
            _ => None,
        }
    }

    /// Feeds the next bytes of the stream; `sink` sees every event they
    /// complete. Returns the reason once the stream stops being TLS.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        sink: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), Malformed> {
        while !data.is_empty() {
            match self.state {
                State::Failed(m) => return Err(m),
                State::Header => {
                    let take = (5 - self.header_len).min(data.len());
                    self.header[self.header_len..self.header_len + take]
                        .copy_from_slice(&data[..take]);
                    self.header_len += take;
                    data = &data[take..];
                    if self.header_len == 5 {
                        self.header_len = 0;
                        if let Err(m) = self.start_record(sink) {
                            self.state = State::Failed(m);
                            return Err(m);
                        }
                    }
                }
                State::Body { ct, left } => {
                    let take = left.min(data.len());
                    let (chunk, rest) = data.split_at(take);
                    data = rest;
                    self.body(ct, chunk, sink);
                    let left = left - take;
                    if left == 0 {
                        self.end_record(ct, sink);
                        self.state = State::Header;
                    } else {
                        self.state = State::Body { ct, left };
                    }
                }
            }
        }
        match self.state {
            State::Failed(m) => Err(m),
            _ => Ok(()),
        }
    }

    fn start_record(&mut self, sink: &mut dyn FnMut(Event<'_>)) -> Result<(), Malformed> {
        let h = self.header;
        if h[0] & 0x80 != 0 {
            return Err(Malformed::Sslv2);
        }
        let ct = ContentType::from_u8(h[0]).ok_or(Malformed::ContentType(h[0]))?;
        let version = u16::from_be_bytes([h[1], h[2]]);
        if h[1] != 3 {
            return Err(Malformed::Version(version));
        }
        let length = u16::from_be_bytes([h[3], h[4]]);
        if usize::from(length) > MAX_RECORD {
            return Err(Malformed::RecordLength(length));
        }
        // A message split over records may only continue in the next
        // handshake record; anything else in between is a broken stream.
        if ct != ContentType::Handshake && (!self.hs.is_empty() || self.hs_skip > 0) {
            return Err(Malformed::Interleaved);
        }
        self.records += 1;
        sink(Event::Record {
            content_type: ct,
            version,
            length,
            encrypted: self.encrypted,
        });
        self.alert_len = 0;
        if length == 0 {
            self.end_record(ct, sink);
        } else {
            self.state = State::Body {
                ct,
                left: usize::from(length),
            };
        }
        Ok(())
    }

    fn body(&mut self, ct: ContentType, mut chunk: &[u8], sink: &mut dyn FnMut(Event<'_>)) {
        match ct {
            ContentType::Handshake if !self.encrypted => {
                while !chunk.is_empty() {
                    if self.hs_skip > 0 {
                        let n = self.hs_skip.min(chunk.len());
                        self.hs_skip -= n;
                        self.dropped += n as u64;
                        chunk = &chunk[n..];
                        continue;
                    }
                    // Take only up to the end of the current message, so an
                    // oversized message is noticed before it is buffered.
                    let want = self.hs_wanted();
                    let n = want.min(chunk.len());
                    self.hs.extend_from_slice(&chunk[..n]);
                    chunk = &chunk[n..];
                    self.drain_handshake(sink);
                }
            }
            ContentType::Alert => {
                let n = (2 - self.alert_len).min(chunk.len());
                self.alert[self.alert_len..self.alert_len + n].copy_from_slice(&chunk[..n]);
                self.alert_len += n;
            }
            _ => {}
        }
    }

    /// How many more bytes the buffered handshake data needs to make its
    /// next step: the rest of the 4-byte header, or the rest of the body.
    fn hs_wanted(&self) -> usize {
        if self.hs.len() < 4 {
            return 4 - self.hs.len();
        }
        let len = u24(&self.hs[1..4]);
        (4 + len).saturating_sub(self.hs.len())
    }

    fn drain_handshake(&mut self, sink: &mut dyn FnMut(Event<'_>)) {
        if self.hs.len() < 4 {
            return;
        }
        let msg_type = self.hs[0];
        let len = u24(&self.hs[1..4]);
        if len > self.cap {
            sink(Event::HandshakeTooLarge {
                msg_type,
                length: len,
            });
            self.dropped += 4;
            self.hs_skip = len;
            self.hs.clear();
            return;
        }
        if self.hs.len() == 4 + len {
            sink(Event::Handshake {
                msg_type,
                body: &self.hs[4..],
            });
            self.hs.clear();
            // A rare large message (a big certificate chain) gives its
            // memory back instead of holding it for the connection's life.
            if self.hs.capacity() > KEEP {
                self.hs = Vec::new();
            }
        }
    }

    fn end_record(&mut self, ct: ContentType, sink: &mut dyn FnMut(Event<'_>)) {
        match ct {
            ContentType::ChangeCipherSpec => self.encrypted = true,
            ContentType::Alert if !self.encrypted && self.alert_len == 2 => sink(Event::Alert {
                level: self.alert[0],
                description: self.alert[1],
            }),
            _ => {}
        }
    }
}

fn u24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Own {
        Record(ContentType, u16, bool),
        Hs(u8, Vec<u8>),
        TooLarge(u8, usize),
        Alert(u8, u8),
    }

    fn run(reader: &mut RecordReader, pieces: &[&[u8]]) -> (Vec<Own>, Result<(), Malformed>) {
        let mut out = Vec::new();
        let mut res = Ok(());
        for p in pieces {
            res = reader.feed(p, &mut |e| {
                out.push(match e {
                    Event::Record {
                        content_type,
                        length,
                        encrypted,
                        ..
                    } => Own::Record(content_type, length, encrypted),
                    Event::Handshake { msg_type, body } => Own::Hs(msg_type, body.to_vec()),
                    Event::HandshakeTooLarge { msg_type, length } => {
                        Own::TooLarge(msg_type, length)
                    }
                    Event::Alert { level, description } => Own::Alert(level, description),
                })
            });
        }
        (out, res)
    }

    fn record(ct: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![ct, 3, 3];
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn hs(t: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![t, 0, (body.len() >> 8) as u8, body.len() as u8];
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn message_spanning_records_and_calls_comes_out_whole() {
        let msg = hs(11, &[7u8; 300]);
        let mut stream = record(22, &msg[..100]);
        stream.extend(record(22, &msg[100..]));
        stream.extend(record(20, &[1]));
        stream.extend(record(22, &[0xde; 40])); // encrypted Finished
        stream.extend(record(23, &[0xaa; 10]));
        // Every split point of the stream gives the same events.
        let mut whole = RecordReader::default();
        let (want, res) = run(&mut whole, &[&stream]);
        assert_eq!(res, Ok(()));
        assert_eq!(
            want,
            vec![
                Own::Record(ContentType::Handshake, 100, false),
                Own::Record(ContentType::Handshake, 204, false),
                Own::Hs(11, vec![7u8; 300]),
                Own::Record(ContentType::ChangeCipherSpec, 1, false),
                Own::Record(ContentType::Handshake, 40, true),
                Own::Record(ContentType::ApplicationData, 10, true),
            ]
        );
        for cut in 0..stream.len() {
            let mut r = RecordReader::default();
            let (got, res) = run(&mut r, &[&stream[..cut], &stream[cut..]]);
            assert_eq!(res, Ok(()));
            assert_eq!(got, want, "cut at {cut}");
        }
    }

    #[test]
    fn several_messages_in_one_record_and_alerts() {
        let mut body = hs(2, &[1, 2, 3]);
        body.extend(hs(14, &[]));
        let mut stream = record(22, &body);
        stream.extend(record(21, &[2, 40]));
        let mut r = RecordReader::default();
        let (got, res) = run(&mut r, &[&stream]);
        assert_eq!(res, Ok(()));
        assert_eq!(
            &got[1..],
            &[
                Own::Hs(2, vec![1, 2, 3]),
                Own::Hs(14, vec![]),
                Own::Record(ContentType::Alert, 2, false),
                Own::Alert(2, 40)
            ]
        );
    }

    #[test]
    fn oversized_message_is_skipped_and_counted() {
        let big = hs(11, &[9u8; 1000]);
        let mut stream = record(22, &big);
        stream.extend(record(22, &hs(14, &[])));
        let mut r = RecordReader::new(512);
        let (got, res) = run(&mut r, &[&stream[..10], &stream[10..]]);
        assert_eq!(res, Ok(()));
        assert!(got.contains(&Own::TooLarge(11, 1000)));
        assert!(got.contains(&Own::Hs(14, vec![])));
        assert_eq!(r.dropped(), 1004);
    }

    #[test]
    fn garbage_is_reported_and_sticks() {
        let mut r = RecordReader::default();
        let (_, res) = run(&mut r, &[b"GET / HTTP/1.1\r\n"]);
        assert_eq!(res, Err(Malformed::ContentType(b'G')));
        assert_eq!(
            r.feed(&record(22, &[]), &mut |_| {}),
            Err(Malformed::ContentType(b'G'))
        );
        let mut r = RecordReader::default();
        assert_eq!(
            r.feed(&[22, 2, 0, 0, 0], &mut |_| {}),
            Err(Malformed::Version(0x0200))
        );
        let mut r = RecordReader::default();
        assert_eq!(
            r.feed(&[22, 3, 1, 0xff, 0xff], &mut |_| {}),
            Err(Malformed::RecordLength(0xffff))
        );
        let mut r = RecordReader::default();
        assert_eq!(
            r.feed(&[0x80, 0x2e, 1, 0, 2], &mut |_| {}),
            Err(Malformed::Sslv2)
        );
        // A message cut short by an application data record.
        let mut stream = record(22, &hs(1, &[0; 10])[..6]);
        stream.extend(record(23, &[0]));
        let mut r = RecordReader::default();
        assert_eq!(r.feed(&stream, &mut |_| {}), Err(Malformed::Interleaved));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic walk over many shapes; the fuzz target
        // `tls_records` does the real search.
        let mut x: u32 = 1;
        for _ in 0..2000 {
            let mut buf = Vec::new();
            for _ in 0..64 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                buf.push((x % 7) as u8 + 20);
                buf.push(3);
                buf.push((x >> 8) as u8 % 5);
                buf.push(0);
                buf.push((x >> 16) as u8 % 9);
            }
            let mut r = RecordReader::new(16);
            let _ = r.feed(&buf, &mut |_| {});
        }
    }
}
