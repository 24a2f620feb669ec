//! FTP control connections as Zeek's `ftp.log`: commands paired with their
//! replies (multi-line replies folded as Zeek folds them), the session's
//! user and password (hidden unless anonymous), file commands written as
//! URLs under the working directory, and the data channel each PORT,
//! PASV, EPRT or EPSV sets up. Each data channel is also announced to the
//! worker (`applayer::expect`), which names the data connection `ftp-data`
//! when it opens.
//!
//! This module cuts the two directions into lines and reads them as Zeek's
//! FTP analyzer does (`FTP.cc`); [`session`] pairs them as Zeek's script
//! does; [`util`] holds the address and path helpers; [`data`] reads the
//! data connections as far as telling what file they carry. After AUTH
//! TLS is accepted the connection is encrypted and no longer read.

pub mod data;
mod session;
mod util;

use super::{ConnIdent, Dir, Parser, Session, Verdict};
use session::FtpSession;

/// Longest line kept; longer ones are cut there.
const MAX_LINE: usize = 8 << 10;
/// Zeek's `FTP::max_command_length`.
const MAX_COMMAND: usize = 100;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Ftp::new(false))
}

/// For `app.ftp_capture_password`: passwords of named users are logged.
pub fn make_capturing_passwords(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Ftp::new(true))
}

struct Ftp {
    /// Partial line per direction.
    buf: [Vec<u8>; 2],
    /// A multi-line reply is open with this code.
    pending_reply: u16,
    /// The argument of the last AUTH command.
    auth: Option<Vec<u8>>,
    /// Some command was accepted (Zeek's analyzer confirmation).
    confirmed: bool,
    /// TLS was negotiated: nothing more is readable.
    encrypted: bool,
    session: FtpSession,
}

fn is_space(c: u8) -> bool {
    c.is_ascii_whitespace() || c == 0x0b
}

fn skip_ws(l: &[u8]) -> &[u8] {
    let n = l.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    &l[n..]
}

impl Ftp {
    fn new(capture_password: bool) -> Ftp {
        Ftp {
            buf: [Vec::new(), Vec::new()],
            pending_reply: 0,
            auth: None,
            confirmed: false,
            encrypted: false,
            session: FtpSession::new(capture_password),
        }
    }

    fn command(&mut self, s: &mut Session<'_>, line: &[u8]) {
        let line = skip_ws(line);
        let cmd_len = line.iter().take_while(|&&c| !is_space(c)).count();
        let cmd = &line[..cmd_len];
        let arg = skip_ws(&line[cmd_len..]);
        if cmd.len() < 3 || !cmd.iter().all(|c| (0x21..0x7f).contains(c)) {
            if self.confirmed {
                s.weird("FTP_invalid_command");
            }
            return;
        }
        if cmd.len() > MAX_COMMAND {
            if self.confirmed {
                s.weird("FTP_max_command_length_exceeded");
            }
            return;
        }
        self.confirmed = true;
        // Printable ASCII (checked above), so upper-casing bytes is exact.
        let mut upper = [0u8; MAX_COMMAND];
        let upper = &mut upper[..cmd.len()];
        upper.copy_from_slice(cmd);
        upper.make_ascii_uppercase();
        let cmd: std::sync::Arc<str> = std::str::from_utf8(upper).unwrap_or_default().into();
        if &*cmd == "AUTH" {
            self.auth = Some(arg.to_vec());
        }
        self.session.request(s, cmd, arg);
    }

    fn reply(&mut self, s: &mut Session<'_>, line: &[u8]) {
        let mut code = match line {
            [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => 0,
        };
        let mut msg = line;
        let cont;
        if self.pending_reply != 0 {
            if code == self.pending_reply && line.get(3) == Some(&b' ') {
                msg = skip_ws(&line[3..]);
                self.pending_reply = 0;
                cont = false;
            } else {
                cont = true;
                code = 0;
            }
        } else {
            cont = match line.get(3) {
                _ if code < 100 => {
                    // Zeek: "non-numeric reply code" / "invalid reply code".
                    s.weird("FTP_invalid_reply_code");
                    return;
                }
                Some(b'-') => {
                    self.pending_reply = code;
                    msg = skip_ws(&line[4..]);
                    true
                }
                Some(b' ') | None => {
                    msg = skip_ws(&line[3..]);
                    false
                }
                Some(_) => {
                    s.weird("FTP_invalid_reply_line");
                    return;
                }
            };
        }
        if code == 234 && self.auth.as_deref() == Some(b"TLS") {
            self.encrypted = true;
        }
        self.session.reply(s, code, msg, cont);
    }

    /// Cuts `data` into lines at LF (a CR before it dropped), as Zeek's
    /// NVT reader does for FTP.
    fn feed(&mut self, s: &mut Session<'_>, d: usize, mut data: &[u8]) {
        let mut buf = std::mem::take(&mut self.buf[d]);
        while !data.is_empty() && !self.encrypted {
            let Some(end) = memchr::memchr(b'\n', data) else {
                let room = MAX_LINE - buf.len();
                buf.extend_from_slice(&data[..data.len().min(room)]);
                if data.len() > room {
                    s.weird("contentline_size_exceeded");
                    self.line(s, d, &buf);
                    buf.clear();
                }
                break;
            };
            if buf.is_empty() && end <= MAX_LINE {
                // A whole line in this segment, the common case: read in
                // place.
                let line = &data[..end];
                data = &data[end + 1..];
                self.line(s, d, line.strip_suffix(b"\r").unwrap_or(line));
                continue;
            }
            let room = MAX_LINE - buf.len();
            buf.extend_from_slice(&data[..end.min(room)]);
            if end > room {
                s.weird("contentline_size_exceeded");
            }
            data = &data[end + 1..];
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            self.line(s, d, &buf);
            buf.clear();
        }
        self.buf[d] = buf;
    }

    fn line(&mut self, s: &mut Session<'_>, d: usize, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        if d == 0 {
            self.command(s, line);
        } else {
            self.reply(s, line);
        }
    }
}

impl Parser for Ftp {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if !self.encrypted {
            self.feed(s, dir.index(), data);
        }
        if self.encrypted {
            Verdict::Done
        } else {
            Verdict::More
        }
    }

    fn gap(&mut self, _s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // A line cut by a gap cannot be read; the next whole line can.
        self.buf[dir.index()].clear();
        Verdict::More
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.session.finish(s);
    }
}

#[cfg(test)]
mod tests;
