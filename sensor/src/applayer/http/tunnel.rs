//! What flows through an HTTP CONNECT tunnel once the proxy said 200.
//! Zeek hands those bytes to protocol detection and logs what it finds
//! under the same connection (a mail session through a proxy shows up in
//! smtp.log with the proxy connection's uid). Here the first bytes of each
//! direction are held until they show a text protocol this sensor parses
//! (SMTP or FTP by the server's 220 greeting or the client's first
//! command); that parser then reads the rest. Anything else (TLS, most
//! often) is left alone.

use crate::applayer::{Dir, Parser, Session, Verdict};

/// Bytes held per direction while the protocol is unknown.
const MAX_PROBE: usize = 1024;

#[derive(Default)]
pub struct Tunnel {
    probe: [Vec<u8>; 2],
    inner: Option<Box<dyn Parser>>,
    /// Given up: nothing recognisable.
    unknown: bool,
    /// A direction the inner parser is done with.
    done: [bool; 2],
}

fn has_ci(h: &[u8], n: &[u8]) -> bool {
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

fn starts_ci(h: &[u8], n: &[u8]) -> bool {
    h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n)
}

impl Tunnel {
    fn detect(&self) -> Option<crate::applayer::registry::MakeParser> {
        let [client, server] = &self.probe;
        let greeting = server.starts_with(b"220") && server.contains(&b'\n');
        let first = &server[..server
            .iter()
            .position(|&c| c == b'\n')
            .unwrap_or(server.len())];
        if starts_ci(client, b"EHLO ") || starts_ci(client, b"HELO ") {
            return Some(crate::applayer::smtp::make);
        }
        if greeting && has_ci(first, b"ftp") {
            return Some(crate::applayer::ftp::make);
        }
        if greeting && (has_ci(first, b"smtp") || has_ci(first, b"mail")) {
            return Some(crate::applayer::smtp::make);
        }
        if starts_ci(client, b"USER ") {
            return Some(crate::applayer::ftp::make);
        }
        None
    }

    /// Bytes of direction `dir` inside the tunnel.
    pub fn data(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) {
        let d = dir.index();
        if self.unknown || data.is_empty() || self.done[d] {
            return;
        }
        if let Some(inner) = self.inner.as_mut() {
            self.done[d] = inner.parse(s, dir, data) == Verdict::Done;
            return;
        }
        let room = MAX_PROBE.saturating_sub(self.probe[d].len());
        self.probe[d].extend_from_slice(&data[..data.len().min(room)]);
        let Some(make) = self.detect() else {
            if self.probe.iter().any(|p| p.len() >= MAX_PROBE) {
                self.unknown = true;
                self.probe = [Vec::new(), Vec::new()];
            }
            return;
        };
        let mut inner = make(s.conn);
        // The greeting comes first in these protocols.
        let [client, server] = std::mem::take(&mut self.probe);
        if !server.is_empty() {
            self.done[1] = inner.parse(s, Dir::ToClient, &server) == Verdict::Done;
        }
        if !client.is_empty() {
            self.done[0] = inner.parse(s, Dir::ToServer, &client) == Verdict::Done;
        }
        let rest = &data[data.len().min(room)..];
        if !rest.is_empty() && !self.done[d] {
            self.done[d] = inner.parse(s, dir, rest) == Verdict::Done;
        }
        self.inner = Some(inner);
    }

    pub fn gap(&mut self, s: &mut Session<'_>, dir: Dir, len: u64) {
        match self.inner.as_mut() {
            Some(inner) => {
                self.done[dir.index()] = inner.gap(s, dir, len) == Verdict::Done;
            }
            None => self.unknown = true,
        }
    }

    pub fn eof(&mut self, s: &mut Session<'_>, dir: Dir) {
        if let Some(inner) = self.inner.as_mut() {
            inner.eof(s, dir);
        }
    }

    pub fn close(&mut self, s: &mut Session<'_>) {
        if let Some(inner) = self.inner.as_mut() {
            inner.close(s);
        }
    }

    /// Whether the tunnel may still want bytes of `dir`.
    pub fn wants(&self, dir: Dir) -> bool {
        !self.unknown && !self.done[dir.index()]
    }
}
