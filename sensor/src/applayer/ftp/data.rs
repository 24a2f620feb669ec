//! FTP data connections, read as far as Zeek's file analysis reads them
//! for `ftp.log`: what the transferred file is by its first bytes
//! (`mime_type`, by the same content rules as HTTP bodies) and, when
//! `[app] file_hashes` asks, its hashes, handed to the control session
//! that announced the connection, which writes them with its next
//! command, as Zeek's `file_sniff` handler sets the session's `mime_type`
//! for its next `ftp_message`.
//!
//! The data connection learns its session from the announcement that
//! named it (`applayer::expect`, by the responder's address and port) and
//! leaves what it found in the worker's [`Notes`], keyed by the session's
//! token. Both connections are on the same worker (see `expect`). Without
//! hashes the connection is no longer read once its first
//! [`mime::SNIFF_LEN`] bytes are seen: a transfer costs 4 KiB at most.
//! With them it is read to its end, past `[app] depth`, as an HTTP body
//! is; a file with a hole in it gets no hashes.

use crate::applayer::http::hashes::{Digests, Hashes};
use crate::applayer::http::mime;
use crate::applayer::{ConnIdent, Dir, Parser, Session, Verdict};
use crate::decode::Addr;
use std::collections::HashMap;

/// Sessions with a file's facts waiting, per worker, at most: more only
/// when thousands of control sessions each have a transfer whose command
/// they have not written yet. A note beyond it is dropped and counted.
const MAX_NOTES: usize = 4096;

/// What a data connection found out about its file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Note {
    pub mime: Option<&'static str>,
    pub digests: Option<Digests>,
}

/// What data connections found, waiting for the sessions that announced
/// them.
#[derive(Debug, Default)]
pub struct Notes {
    by_owner: HashMap<u64, Note>,
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

    fn note(&mut self, owner: u64) -> Option<&mut Note> {
        if owner == 0 {
            return None;
        }
        if self.by_owner.len() >= MAX_NOTES && !self.by_owner.contains_key(&owner) {
            self.dropped += 1;
            return None;
        }
        Some(self.by_owner.entry(owner).or_default())
    }

    /// What is waiting for session `owner`, which it now writes.
    pub fn take(&mut self, owner: u64) -> Option<Note> {
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
        hashes: None,
    })
}

struct FtpData {
    /// The announcing session's token, asked for at the first bytes; 0
    /// when the announcement is gone (expired, or replaced by another).
    owner: Option<u64>,
    /// The direction that carries the file: the first to send.
    dir: Option<Dir>,
    /// The file's first bytes, until they are typed.
    head: Vec<u8>,
    sniffed: bool,
    /// The file's running hashes, while it is whole so far.
    hashes: Option<Box<Hashes>>,
}

impl FtpData {
    fn sniff(&mut self, s: &mut Session<'_>) {
        if self.sniffed {
            return;
        }
        self.sniffed = true;
        let mime = mime::sniff(&self.head);
        self.head = Vec::new();
        if let (Some(mime), Some(note)) = (mime, s.shared.ftp_files.note(self.owner.unwrap_or(0))) {
            note.mime = Some(mime);
        }
    }

    /// The file ended: its type, and its hashes if it was read whole.
    fn end(&mut self, s: &mut Session<'_>) {
        self.sniff(s);
        if let Some(h) = self.hashes.take() {
            if let Some(note) = s.shared.ftp_files.note(self.owner.unwrap_or(0)) {
                note.digests = Some(h.finish());
            }
        }
    }
}

impl Parser for FtpData {
    fn depth(&self, configured: u64) -> u64 {
        // A hash needs the whole file.
        if self.hashes.is_some() {
            u64::MAX
        } else {
            configured
        }
    }

    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.owner.is_none() {
            // Asked at the first bytes: the announcement may be replaced
            // (another PASV naming the same port) before the file ends.
            let resp = Addr::from_ip(s.conn.id.resp_h);
            self.owner = Some(
                s.shared
                    .expected
                    .owner(&resp, s.conn.id.resp_p)
                    .unwrap_or(0),
            );
            let chosen = s.shared.file_hashes;
            if !chosen.is_empty() {
                self.hashes = Some(Box::new(Hashes::new(chosen)));
            }
        }
        if *self.dir.get_or_insert(dir) != dir {
            return Verdict::More;
        }
        if let Some(h) = &mut self.hashes {
            h.update(data);
        }
        if !self.sniffed {
            mime::keep(&mut self.head, data);
            if self.head.len() >= mime::SNIFF_LEN {
                self.sniff(s);
            }
        }
        if self.sniffed && self.hashes.is_none() {
            Verdict::Done
        } else {
            Verdict::More
        }
    }

    fn gap(&mut self, s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        if self.dir != Some(dir) {
            return Verdict::More;
        }
        // A hole: the hashes would not be the file's, and what came
        // before it is all the typing gets.
        self.hashes = None;
        self.sniff(s);
        Verdict::Done
    }

    fn eof(&mut self, s: &mut Session<'_>, dir: Dir) {
        // The sender's close ends the file, and comes before the server's
        // reply to the transfer command (Zeek ends it when it removes the
        // connection, which can be after that reply: tests/PARITY.md).
        if self.dir == Some(dir) {
            self.end(s);
        }
    }

    fn close(&mut self, s: &mut Session<'_>) {
        // Ended without its sender's close (a reset, the capture's end):
        // the file may be cut short, so it keeps its type but no hashes.
        self.hashes = None;
        if self.dir.is_some() {
            self.end(s);
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
        if let Some(note) = n.note(a) {
            note.mime = Some("text/plain");
        }
        assert_eq!(n.take(a).and_then(|x| x.mime), Some("text/plain"));
        assert_eq!(n.take(a), None);
        assert!(n.note(0).is_none());
        for i in 0..MAX_NOTES as u64 + 10 {
            let _ = n.note(1000 + i);
        }
        assert_eq!(n.by_owner.len(), MAX_NOTES);
        assert_eq!(n.dropped, 10);
    }
}
