//! The TLS parser of the application layer (service `ssl`): reads both
//! directions of a reassembled TCP stream through a [`RecordReader`] each
//! and turns what they find into one `ssl` record per connection and an
//! `x509` record per certificate ([`SslSession`]), the way Zeek's SSL
//! analyzer and `ssl/main.zeek` do. Like Zeek (`disable_analyzer_after_
//! detection`), it stops reading once the session is established: what
//! follows is ciphertext.
//!
//! STARTTLS: a plaintext protocol's parser that sees its upgrade can make
//! a [`TlsParser`] with [`TlsParser::new`] and hand it the bytes from the
//! first TLS record on.

use super::fingerprint::Carrier;
use super::handshake::{ContentType, Event, RecordReader};
use super::session::SslSession;
use crate::applayer::{ConnIdent, Dir, Parser, Session, Verdict};

/// The largest handshake message read per direction. Real chains take a
/// few KiB, but Zeek reads any size and the corpus holds a 340 KB
/// certificate; the buffer only grows as a peer actually sends such a
/// message, and is given back once it is read.
pub(super) const MESSAGE_CAP: usize = 512 * 1024;

/// Makes the parser for a connection recognised as `ssl`.
pub fn make(conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(TlsParser::new(conn))
}

/// TLS over a byte stream, both directions.
pub struct TlsParser {
    readers: [RecordReader; 2],
    conversation: Conversation,
}

impl TlsParser {
    /// A parser for `conn`; usable by another parser that hands over after
    /// STARTTLS (the connection only names the records it writes).
    pub fn new(_conn: &ConnIdent) -> TlsParser {
        TlsParser {
            readers: [
                RecordReader::new(MESSAGE_CAP),
                RecordReader::new(MESSAGE_CAP),
            ],
            conversation: Conversation::new(Carrier::Tcp),
        }
    }
}

/// What TLS and DTLS share once their framing is read: the session's
/// record and which side is the client.
pub(super) struct Conversation {
    session: SslSession,
    /// The direction that sent the ClientHello (the originator unless the
    /// capture shows otherwise).
    client: Dir,
    hello_seen: bool,
}

impl Conversation {
    pub(super) fn new(carrier: Carrier) -> Conversation {
        Conversation {
            session: SslSession::new(carrier),
            client: Dir::ToServer,
            hello_seen: false,
        }
    }

    /// Whether the record has been written (established, or ended).
    pub(super) fn logged(&self) -> bool {
        self.session.logged()
    }

    /// Writes the record if it has not been written yet.
    pub(super) fn finish(&mut self, s: &mut Session<'_>) {
        self.session.finish(s);
    }

    pub(super) fn event(&mut self, s: &mut Session<'_>, dir: Dir, e: Event<'_>) {
        if let Event::Handshake { msg_type: 1, .. } = e {
            if !self.hello_seen {
                self.hello_seen = true;
                if dir == Dir::ToClient {
                    // Zeek's ssl_connection_flipped: the responder sent
                    // the ClientHello.
                    self.client = Dir::ToClient;
                    self.session.flipped(s);
                }
            }
        }
        let is_client = dir == self.client;
        match e {
            Event::Record {
                content_type,
                encrypted,
                ..
            } => {
                if encrypted {
                    self.session.ciphertext(s);
                } else {
                    match content_type {
                        ContentType::ChangeCipherSpec => {
                            self.session.change_cipher_spec(s, is_client)
                        }
                        ContentType::Heartbeat => self.session.heartbeat(s, is_client),
                        _ => {}
                    }
                }
            }
            Event::Handshake { msg_type, body } => {
                self.session.handshake(s, is_client, msg_type, body)
            }
            Event::HandshakeTooLarge { msg_type, .. } => {
                s.weird("SSL_handshake_message_too_large");
                self.session.skipped(s, is_client, msg_type);
            }
            Event::Alert { description, .. } => self.session.alert(s, is_client, description),
        }
    }
}

impl Parser for TlsParser {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.conversation.logged() {
            return Verdict::Done;
        }
        let conversation = &mut self.conversation;
        let result = self.readers[dir.index()].feed(data, &mut |e| conversation.event(s, dir, e));
        if result.is_err() {
            // Zeek's analyzer_violation: the record is written now.
            s.weird("SSL_malformed_record");
            self.conversation.finish(s);
            return Verdict::Done;
        }
        if self.conversation.logged() {
            Verdict::Done
        } else {
            Verdict::More
        }
    }

    fn gap(&mut self, _s: &mut Session<'_>, _dir: Dir, _len: u64) -> Verdict {
        // Record framing cannot be found again after lost bytes.
        Verdict::Done
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.conversation.finish(s);
    }
}

/// Runs `parser` over `steps` (direction and bytes, in order) and closes
/// it; returns the bodies of what it wrote and the weirds it counted. For
/// the fuzz targets and tests, which cannot make a [`Session`] themselves.
pub fn run(
    conn: &ConnIdent,
    parser: &mut dyn Parser,
    steps: &[(Dir, &[u8])],
) -> (Vec<vagt_schema::EventBody>, crate::applayer::Weirds) {
    let mut out = Vec::new();
    let mut weird = crate::applayer::Weirds::default();
    let mut shared = crate::applayer::shared::Shared::new(&crate::applayer::Registry::default());
    let mut s = Session {
        ts: 0,
        conn,
        out: &mut out,
        weird: &mut weird,
        shared: &mut shared,
    };
    let mut done = [false; 2];
    for (dir, data) in steps {
        if !done[dir.index()] {
            done[dir.index()] = parser.parse(&mut s, *dir, data) == Verdict::Done;
        }
    }
    parser.close(&mut s);
    let ctx = crate::flow::record::RecordContext {
        municipality: String::new(),
        sensor: String::new(),
        site: Default::default(),
        uid_salt: 0,
    };
    let bodies = out
        .iter()
        .filter_map(|e| match e {
            crate::flow::Emitted::Other(o) => Some(o.to_event(&ctx).body),
            crate::flow::Emitted::Conn(_)
            | crate::flow::Emitted::Arp(_)
            | crate::flow::Emitted::Dhcp(_)
            | crate::flow::Emitted::Clock { .. } => None,
        })
        .collect();
    (bodies, weird)
}

#[cfg(test)]
#[path = "parser_tests.rs"]
pub(crate) mod tests;
