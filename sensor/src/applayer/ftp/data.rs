//! FTP data connections, read as far as Zeek's file analysis reads them
//! for `ftp.log`: what the transferred file is by its first bytes
//! (`mime_type`, by the same content rules as HTTP bodies), handed to the
//! control session that announced the connection, which writes it with
//! its next command, as Zeek's `file_sniff` handler sets the session's
//! `mime_type` for its next `ftp_message`.
//!
//! The data connection learns its session from the announcement that
//! named it (`applayer::expect`, by the responder's address and port) and
//! leaves what it sniffed in the worker's [`Notes`], keyed by the
//! session's token. Both connections are on the same worker (see
//! `expect`). Once the first [`mime::SNIFF_LEN`] bytes are seen the
//! connection is no longer read: a transfer costs the parser 4 KiB at most.

use crate::applayer::http::mime;
use crate::applayer::{ConnIdent, Dir, Parser, Session, Verdict};
use crate::decode::Addr;
use std::collections::HashMap;

/// Sessions with a file type waiting, per worker, at most: more only
/// when thousands of control sessions each have a transfer whose command
/// they have not written yet. A note beyond it is dropped and counted.
const MAX_NOTES: usize = 4096;

/// What data connections sniffed, waiting for the sessions that announced
/// them.
#[derive(Debug, Default)]
pub struct Notes {
    by_owner: HashMap<u64, &'static str>,
    last_owner: u64,
    /// Notes dropped at [`MAX_NOTES`].
    pub dropped: u64,
}

impl Notes {
    /// A token for a control session that announces data connections;
    /// never 0, which stands for none.
    pub fn owner(&mut self) -> u64 {
        self.last_owner += 1;
        self.last_owner
    }

    fn set(&mut self, owner: u64, mime: &'static str) {
        if self.by_owner.len() >= MAX_NOTES && !self.by_owner.contains_key(&owner) {
            self.dropped += 1;
            return;
        }
        self.by_owner.insert(owner, mime);
    }

    /// The file type waiting for session `owner`, which it now writes.
    pub fn take(&mut self, owner: u64) -> Option<&'static str> {
        // Asked at every command of a session with a data channel, and
        // nearly always with nothing waiting: no hashing then.
        if self.by_owner.is_empty() {
            return None;
        }
        self.by_owner.remove(&owner)
    }

    /// Forgets everything (packet time jumped back: the sessions are gone).
    pub fn clear(&mut self) {
        self.by_owner.clear();
    }
}

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(FtpData {
        owner: None,
        dir: None,
        head: Vec::new(),
        sniffed: false,
    })
}

struct FtpData {
    /// The announcing session's token, asked for at the first bytes; 0
    /// when the announcement is gone (expired, or replaced by another).
    owner: Option<u64>,
    /// The direction that carries the file: the first to send.
    dir: Option<Dir>,
    /// The file's first bytes.
    head: Vec<u8>,
    sniffed: bool,
}

impl FtpData {
    fn sniff(&mut self, s: &mut Session<'_>) -> Verdict {
        if !self.sniffed {
            self.sniffed = true;
            let owner = self.owner.unwrap_or(0);
            if let (Some(mime), true) = (mime::sniff(&self.head), owner != 0) {
                s.shared.ftp_files.set(owner, mime);
            }
            self.head = Vec::new();
        }
        Verdict::Done
    }
}

impl Parser for FtpData {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.sniffed {
            return Verdict::Done;
        }
        // Asked at the first bytes: the announcement may be replaced
        // (another PASV naming the same port) before the file ends.
        self.owner.get_or_insert_with(|| {
            let resp = Addr::from_ip(s.conn.id.resp_h);
            s.shared
                .expected
                .owner(&resp, s.conn.id.resp_p)
                .unwrap_or(0)
        });
        if *self.dir.get_or_insert(dir) != dir {
            return Verdict::More;
        }
        mime::keep(&mut self.head, data);
        if self.head.len() >= mime::SNIFF_LEN {
            return self.sniff(s);
        }
        Verdict::More
    }

    fn gap(&mut self, s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // The first bytes have a hole: what came before it is all there is.
        if self.dir == Some(dir) && !self.head.is_empty() {
            return self.sniff(s);
        }
        Verdict::More
    }

    fn eof(&mut self, s: &mut Session<'_>, dir: Dir) {
        // A file shorter than the sniffing length ends with its sender's
        // close, which comes before the server's reply to the transfer
        // command (Zeek types it when it removes the connection, which
        // can be after that reply: tests/PARITY.md).
        if self.dir == Some(dir) && !self.head.is_empty() {
            self.sniff(s);
        }
    }

    fn close(&mut self, s: &mut Session<'_>) {
        if !self.head.is_empty() {
            self.sniff(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_taken_once_and_bounded() {
        let mut n = Notes::default();
        let a = n.owner();
        assert_ne!(a, 0);
        n.set(a, "text/plain");
        assert_eq!(n.take(a), Some("text/plain"));
        assert_eq!(n.take(a), None);
        for i in 0..MAX_NOTES as u64 + 10 {
            n.set(1000 + i, "text/plain");
        }
        assert_eq!(n.by_owner.len(), MAX_NOTES);
        assert_eq!(n.dropped, 10);
    }
}
