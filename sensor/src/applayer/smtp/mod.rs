//! SMTP as Zeek's `smtp.log`: per mail transaction the HELO name, the
//! envelope (MAIL FROM, RCPT TO), the message's top-level headers (Date,
//! From, To, Cc, Subject, Message-ID, Received, ...), the path of hops, the
//! last server reply and whether STARTTLS switched the session to TLS.
//!
//! This module follows Zeek's SMTP analyzer (`SMTP.cc`): commands are
//! queued as the client sends them (clients pipeline), each reply answers
//! the oldest, and the (command, reply) pairs move a small state machine
//! that knows when message text flows (DATA up to ".", BDAT chunks of a
//! given size). [`mail`] reads the message text, [`log`] pairs it all into
//! records as Zeek's script does. After STARTTLS the session is encrypted
//! and no longer read.

mod log;
mod mail;

use super::http::lines::{Lines, Next, Piece};
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use log::SmtpLog;
use std::collections::VecDeque;

/// Zeek's SMTP command words, in the order Zeek matches them (a command
/// names the first word it is a prefix of, case-insensitively).
const WORDS: &[&str] = &[
    "EHLO",
    "HELO",
    "MAIL",
    "RCPT",
    "DATA",
    "QUIT",
    "RSET",
    "VRFY",
    "EXPN",
    "HELP",
    "NOOP",
    "STARTTLS",
    "X_ANONYMOUSTLS",
    "CONN_ESTABLISHMENT",
    "END_OF_DATA",
    "SEND",
    "SOML",
    "SAML",
    "TURN",
    "BDAT",
    "ETRN",
    "AUTH",
    "AUTH_ANSWER",
];

fn code_of(word: &str) -> usize {
    WORDS.iter().position(|w| *w == word).unwrap_or(0)
}

/// Commands queued for their replies at most.
const MAX_QUEUE: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Connected,
    Initiated,
    NotAvailable,
    Ready,
    MailOk,
    RcptOk,
    InData,
    AfterData,
    InAuth,
    InTls,
    Quit,
    AfterGap,
    GapRecovery,
}

/// A BDAT transfer under way.
struct Bdat {
    lines: mail::BdatLines,
    last: bool,
}

/// The message being transferred.
struct Mail {
    headers: mail::Headers,
    multipart: bool,
}

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Smtp::new())
}

struct Smtp {
    lines: [Lines; 2],
    state: State,
    first_cmd: Option<usize>,
    queue: VecDeque<usize>,
    last_replied: Option<usize>,
    pending_reply: u16,
    mail: Option<Mail>,
    bdat: Option<Bdat>,
    log: SmtpLog,
}

impl Smtp {
    fn new() -> Smtp {
        let mut s = Smtp {
            lines: [Lines::default(), Lines::default()],
            state: State::Connected,
            first_cmd: Some(code_of("CONN_ESTABLISHMENT")),
            queue: VecDeque::new(),
            last_replied: None,
            pending_reply: 0,
            mail: None,
            bdat: None,
            log: SmtpLog::new(),
        };
        // Zeek's constructor: the connection itself is the first command.
        s.state = State::Initiated;
        s
    }

    fn stopped(&self) -> bool {
        self.state == State::InTls || self.log.disabled
    }

    fn new_cmd(&mut self, code: usize) {
        if self.first_cmd.is_none() {
            self.first_cmd = Some(code);
        } else if self.queue.len() < MAX_QUEUE {
            self.queue.push_back(code);
        }
    }

    fn begin_data(&mut self, s: &mut Session<'_>) {
        self.state = State::InData;
        if self.mail.is_some() {
            s.weird("smtp_nested_mail_transaction");
            self.end_data();
        }
        self.mail = Some(Mail {
            headers: mail::Headers::default(),
            multipart: false,
        });
        self.log.begin_entity();
    }

    fn end_data(&mut self) {
        if let Some(mut b) = self.bdat.take() {
            let mut lines = Vec::new();
            b.lines.finish(&mut |l| lines.push(l.to_vec()));
            for l in lines {
                self.mail_line(&l);
            }
        }
        if let Some(mut m) = self.mail.take() {
            for (n, v) in m.headers.flush() {
                self.log.header(&n, &v);
            }
        }
    }

    /// A line of message text.
    fn mail_line(&mut self, line: &[u8]) {
        let Some(m) = self.mail.as_mut() else {
            return;
        };
        if m.headers.ended {
            return;
        }
        let done = m.headers.line(line);
        for (n, v) in &done {
            if n == b"CONTENT-TYPE" {
                let t = v.trim_ascii_start();
                m.multipart = t.len() >= 9
                    && (t[..9].eq_ignore_ascii_case(b"multipart")
                        || t[..7].eq_ignore_ascii_case(b"message"));
            }
        }
        let nested = m.headers.ended && m.multipart;
        for (n, v) in done {
            self.log.header(&n, &v);
        }
        if nested {
            // Its parts begin: their headers are not the message's.
            self.log.begin_entity();
        }
    }

    /// Zeek's `UpdateState` for one (command, reply) pair; reply 0 means
    /// the command was just sent.
    fn update(&mut self, s: &mut Session<'_>, cmd: usize, reply: u16) {
        let in_data = self.state == State::InData;
        match WORDS.get(cmd).copied().unwrap_or("") {
            "CONN_ESTABLISHMENT" => match reply {
                0 => self.state = State::Initiated,
                421 | 554 => self.state = State::NotAvailable,
                _ => {}
            },
            "EHLO" | "HELO" => match reply {
                0 => self.state = State::Ready,
                421 | 500 | 501 | 504 | 550 => self.state = State::Initiated,
                _ => {}
            },
            "MAIL" | "SEND" | "SOML" | "SAML" => match reply {
                0 => self.state = State::MailOk,
                421 | 451 | 452 | 500 | 501 | 503 | 550 | 552 | 553 if !in_data => {
                    self.state = State::Ready
                }
                _ => {}
            },
            "RCPT" if reply == 0 => self.state = State::RcptOk,
            "DATA" => match reply {
                0 => self.begin_data(s),
                354 => {}
                _ => {
                    if in_data {
                        self.end_data();
                    }
                    self.state = if reply == 421 {
                        State::Quit
                    } else {
                        State::Ready
                    };
                }
            },
            "END_OF_DATA" => {
                if reply == 0 {
                    self.end_data();
                    self.state = State::AfterData;
                } else {
                    self.state = State::Ready;
                }
            }
            "RSET" if reply == 0 => self.state = State::Ready,
            "QUIT" if reply == 0 => self.state = State::Quit,
            "AUTH" | "AUTH_ANSWER" => match reply {
                0 => {}
                334 => self.state = State::InAuth,
                _ => self.state = State::Initiated,
            },
            "STARTTLS" | "X_ANONYMOUSTLS" if reply == 220 => {
                self.state = State::InTls;
                self.log.starttls();
            }
            _ => {}
        }
    }

    /// Zeek's `ProcessBdatArg`: a valid BDAT switches the client side to
    /// reading `size` bytes of message text.
    fn bdat(&mut self, s: &mut Session<'_>, arg: &[u8], plain: &mut u64) -> bool {
        let err = |s: &mut Session<'_>| {
            s.weird("smtp_invalid_bdat_command");
            false
        };
        if arg.is_empty() || arg.len() > 25 || !arg[0].is_ascii_digit() {
            return err(s);
        }
        let digits = arg.iter().take_while(|c| c.is_ascii_digit()).count();
        let rest = &arg[digits..];
        if !rest.is_empty() && rest[0] != b' ' {
            return err(s);
        }
        let Some(size) = std::str::from_utf8(&arg[..digits])
            .ok()
            .and_then(|d| d.parse::<u64>().ok())
        else {
            return err(s);
        };
        let last = !rest.is_empty();
        if last && !rest.eq_ignore_ascii_case(b" LAST") {
            return err(s);
        }
        if self.mail.is_none() {
            self.begin_data(s);
        }
        // BDAT text is not dot-terminated: the client side stays in
        // command mode once the chunk is read.
        self.state = State::Ready;
        let b = self.bdat.get_or_insert_with(|| Bdat {
            lines: mail::BdatLines::default(),
            last: false,
        });
        b.last = last;
        *plain = size;
        if size == 0 && last {
            self.end_data();
        }
        true
    }

    fn client_line(&mut self, s: &mut Session<'_>, line: &[u8], plain: &mut u64) {
        if self.state == State::AfterGap {
            return;
        }
        if self.state == State::InData && line == b"." {
            let eod = code_of("END_OF_DATA");
            self.new_cmd(eod);
            self.update(s, eod, 0);
            self.log.request(s, ".", b"");
            return;
        }
        if self.state == State::InData {
            let data = line.strip_prefix(b".").unwrap_or(line);
            self.mail_line(data);
            return;
        }
        let (code, cmd, arg): (usize, &[u8], &[u8]) = if self.state == State::InAuth {
            // Zeek names the client's authentication answers "**".
            (code_of("AUTH_ANSWER"), b"**", line)
        } else {
            let n = line.iter().take_while(|c| !c.is_ascii_whitespace()).count();
            let (cmd, rest) = line.split_at(n);
            let arg = &rest[rest
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count()..];
            let Some(code) = (!cmd.is_empty())
                .then(|| {
                    WORDS.iter().position(|w| {
                        cmd.len() <= w.len() && w.as_bytes()[..cmd.len()].eq_ignore_ascii_case(cmd)
                    })
                })
                .flatten()
            else {
                return;
            };
            (code, cmd, arg)
        };
        self.new_cmd(code);
        let upper = String::from_utf8_lossy(cmd).to_ascii_uppercase();
        if !cmd.is_empty() || !arg.is_empty() {
            self.log.request(s, &upper, arg);
        }
        let mut update = true;
        if WORDS[code] == "BDAT" {
            update = self.bdat(s, arg, plain);
        } else if self.bdat.is_some() {
            s.weird("smtp_missing_bdat_last_chunk");
            self.end_data();
        }
        if update {
            self.update(s, code, 0);
        }
    }

    fn server_line(&mut self, s: &mut Session<'_>, line: &[u8]) {
        let code = match line {
            [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => 0,
        };
        if !(100..=599).contains(&code) {
            s.weird("smtp_reply_code_out_of_range");
            return;
        }
        if self.pending_reply != 0 && code != self.pending_reply {
            self.pending_reply = 0;
        }
        if self.pending_reply == 0 {
            // A new reply answers the oldest command.
            if self.state == State::AfterGap {
                self.state = State::GapRecovery;
                self.log.request(s, "(UNKNOWN)", b"");
            }
            let cmd = self.first_cmd;
            self.last_replied = cmd;
            self.first_cmd = self.queue.pop_front();
            if let Some(cmd) = cmd {
                self.update(s, cmd, code);
            }
        }
        let msg = if line.get(3) == Some(&b'-') {
            self.pending_reply = code;
            &line[4..]
        } else {
            self.pending_reply = 0;
            &line[3.min(line.len())..]
        };
        let msg = &msg[msg.iter().take_while(|&&c| c == b' ' || c == b'\t').count()..];
        let cmd = match self.last_replied.and_then(|c| WORDS.get(c)) {
            Some(&"CONN_ESTABLISHMENT") => ">",
            Some(&"END_OF_DATA") => ".",
            Some(w) => w,
            None => "(UNKNOWN)",
        };
        self.log.reply(s, code, cmd, msg, self.pending_reply > 0);
    }

    fn piece(&mut self, s: &mut Session<'_>, d: usize, plain: &mut u64, p: Piece<'_>) -> Next {
        match p {
            Piece::Line(line) if d == 0 => self.client_line(s, line, plain),
            Piece::Line(line) => self.server_line(s, line),
            Piece::Plain(data) => {
                let mut lines = Vec::new();
                if let Some(b) = self.bdat.as_mut() {
                    b.lines.feed(data, &mut |l| lines.push(l.to_vec()));
                }
                for l in lines {
                    self.mail_line(&l);
                }
                if *plain == 0 && self.bdat.as_ref().is_some_and(|b| b.last) {
                    self.end_data();
                }
            }
        }
        if self.stopped() {
            Next::Stop
        } else {
            Next::Go
        }
    }
}

impl Parser for Smtp {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        let d = dir.index();
        if !self.stopped() {
            let mut lines = std::mem::take(&mut self.lines[d]);
            let mut weirds: Vec<&'static str> = Vec::new();
            lines.feed(data, &mut |w| weirds.push(w), &mut |plain, p| {
                self.piece(s, d, plain, p)
            });
            self.lines[d] = lines;
            for w in weirds {
                s.weird(w);
            }
        }
        if self.stopped() {
            Verdict::Done
        } else {
            Verdict::More
        }
    }

    fn gap(&mut self, s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // Zeek: a gap ends the message under way and the command/reply
        // pairing starts over at the next reply.
        s.weird("smtp_content_gap");
        if self.state == State::InData || self.bdat.is_some() {
            self.end_data();
        }
        self.lines[dir.index()] = Lines::default();
        self.queue.clear();
        self.first_cmd = None;
        self.last_replied = None;
        self.state = State::AfterGap;
        Verdict::More
    }

    fn close(&mut self, s: &mut Session<'_>) {
        if self.mail.is_some() {
            self.end_data();
        }
        self.log.finish(s);
    }
}

#[cfg(test)]
mod tests;
