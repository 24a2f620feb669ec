//! Zeek's `base/protocols/smtp/main.zeek`: one record per mail transaction.
//! The envelope comes from MAIL FROM / RCPT TO, the headers from the
//! message's top-level header block; a record is written when the server
//! answers the end of a message (or the last BDAT chunk), before a new
//! MAIL FROM when the previous transaction was never answered, and when
//! the connection ends, but only if the client did something in it.

use super::mail;
use crate::applayer::http::text;
use crate::applayer::{ConnIdent, Session};
use vagt_schema::{EventBody, SmtpRecord};

/// Addresses and hops kept per record (Zeek's `max_rcptto_addresses`,
/// `max_to_addresses`, `max_cc_addresses`, `max_path_length`).
const MAX_ADDRESSES: usize = 1000;
/// Bytes of addresses kept per list, so that a thousand long addresses
/// cannot hold megabytes per connection.
const MAX_LIST_BYTES: usize = 64 << 10;
const MAX_PATH: usize = 1000;
/// Zeek's `SMTP::max_invalid_mail_transactions`: past it the analyzer is
/// switched off for the connection.
const MAX_INVALID: u32 = 25;

/// The session (Zeek's `SMTP::State` and the current `SMTP::Info`).
pub struct SmtpLog {
    started: bool,
    rec: Option<SmtpRecord>,
    has_client_activity: bool,
    process_received_from: bool,
    process_headers: bool,
    entity_count: u32,
    helo: Option<String>,
    messages: u64,
    mail_from_seen: bool,
    rcpt_to_seen: bool,
    invalid: u32,
    bdat_last: bool,
    /// Too many invalid transactions: the analyzer is off.
    pub disabled: bool,
}

impl SmtpLog {
    pub fn new() -> SmtpLog {
        SmtpLog {
            started: false,
            rec: None,
            has_client_activity: false,
            process_received_from: true,
            process_headers: true,
            entity_count: 0,
            helo: None,
            messages: 0,
            mail_from_seen: false,
            rcpt_to_seen: false,
            invalid: 0,
            bdat_last: false,
            disabled: false,
        }
    }

    /// Zeek's `new_smtp_log`.
    fn open(&mut self, s: &Session<'_>) {
        self.rec = Some(SmtpRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            trans_depth: self.messages + 1,
            helo: self.helo.clone(),
            mailfrom: None,
            rcptto: Vec::new(),
            date: None,
            from: None,
            to: Vec::new(),
            cc: Vec::new(),
            reply_to: None,
            msg_id: None,
            in_reply_to: None,
            subject: None,
            x_originating_ip: None,
            first_received: None,
            second_received: None,
            last_reply: None,
            path: vec![s.conn.id.resp_h, s.conn.id.orig_h],
            user_agent: None,
            tls: false,
        });
        self.has_client_activity = false;
        self.process_received_from = true;
        self.process_headers = true;
        self.entity_count = 0;
    }

    /// Zeek's `set_smtp_session`.
    fn start(&mut self, s: &Session<'_>) {
        if !self.started {
            self.started = true;
            self.open(s);
        }
    }

    /// Zeek's `smtp_message`: writes the record if the client did
    /// something in it, and opens the next.
    fn message(&mut self, s: &mut Session<'_>) {
        if self.has_client_activity {
            if let Some(r) = self.rec.take() {
                s.emit(EventBody::Smtp(r));
            }
            self.open(s);
        }
    }

    fn invalid_transaction(&mut self, s: &mut Session<'_>) {
        s.weird("smtp_mail_transaction_invalid");
        self.invalid += 1;
        if self.invalid > MAX_INVALID {
            s.weird("smtp_excessive_invalid_mail_transactions");
            self.disabled = true;
        }
    }

    /// Zeek's `smtp_request` event; `cmd` upper-cased.
    pub fn request(&mut self, s: &mut Session<'_>, cmd: &str, arg: &[u8]) {
        self.start(s);
        let starts = |p: &[u8]| arg.len() >= p.len() && arg[..p.len()].eq_ignore_ascii_case(p);
        match cmd {
            "HELO" | "EHLO" => {
                let h = text(arg);
                self.helo = Some(h.clone());
                if let Some(r) = self.rec.as_mut() {
                    r.helo = Some(h);
                }
            }
            "RCPT" if starts(b"to:") => {
                for a in mail::email_addrs(arg) {
                    let a = strip_orcpt(&a);
                    let Some(r) = self.rec.as_mut() else {
                        break;
                    };
                    if r.rcptto.len() >= MAX_ADDRESSES || list_bytes(&r.rcptto) > MAX_LIST_BYTES {
                        s.weird("smtp_too_many_rcptto_addresses");
                        break;
                    }
                    let a = text(&a);
                    if !r.rcptto.contains(&a) {
                        r.rcptto.push(a);
                    }
                }
                self.has_client_activity = true;
                self.rcpt_to_seen = true;
                if !self.mail_from_seen {
                    self.invalid_transaction(s);
                }
            }
            "MAIL" if starts(b"from:") => {
                self.message(s);
                if let (Some(a), Some(r)) = (mail::email_addrs(arg).first(), self.rec.as_mut()) {
                    r.mailfrom = Some(text(a));
                }
                self.has_client_activity = true;
                self.mail_from_seen = true;
                self.rcpt_to_seen = false;
            }
            "DATA" | "BDAT" => {
                if !self.rcpt_to_seen {
                    self.invalid_transaction(s);
                }
                if cmd == "BDAT" && arg.ends_with(b" LAST") {
                    self.mail_from_seen = false;
                    self.rcpt_to_seen = false;
                    self.bdat_last = true;
                }
            }
            "." => {
                self.mail_from_seen = false;
                self.rcpt_to_seen = false;
            }
            _ => {}
        }
    }

    /// Zeek's `smtp_reply` event (both handlers).
    pub fn reply(&mut self, s: &mut Session<'_>, code: u16, cmd: &str, msg: &[u8], cont: bool) {
        self.start(s);
        if let Some(r) = self.rec.as_mut() {
            r.last_reply = Some(format!("{code} {}", text(msg)));
        }
        if cmd == "." || (!cont && cmd == "BDAT" && self.bdat_last) {
            self.messages += 1;
            self.bdat_last = false;
            self.message(s);
            self.open(s);
        }
    }

    /// STARTTLS was accepted.
    pub fn starttls(&mut self) {
        if let Some(r) = self.rec.as_mut() {
            r.tls = true;
            self.has_client_activity = true;
        }
    }

    /// A message's top-level entity begins; `nested` when a part inside it
    /// begins (its headers are not the message's).
    pub fn begin_entity(&mut self) {
        if self.rec.is_some() {
            self.entity_count += 1;
            if self.entity_count > 1 {
                self.process_headers = false;
            }
        }
    }

    /// Zeek's `mime_one_header` handlers.
    pub fn header(&mut self, name: &[u8], value: &[u8]) {
        if !self.process_headers {
            return;
        }
        let Some(r) = self.rec.as_mut() else {
            return;
        };
        let v = || text(value);
        match name {
            b"MESSAGE-ID" => r.msg_id = Some(v()),
            b"RECEIVED" => {
                if let Some(f) = r.first_received.take() {
                    r.second_received = Some(f);
                }
                r.first_received = Some(v());
            }
            b"IN-REPLY-TO" => r.in_reply_to = Some(v()),
            b"SUBJECT" => r.subject = Some(v()),
            b"FROM" => r.from = Some(v()),
            b"REPLY-TO" => r.reply_to = Some(v()),
            b"DATE" => r.date = Some(v()),
            b"TO" | b"CC" => {
                let list = if name == b"TO" { &mut r.to } else { &mut r.cc };
                for a in mail::mime_addresses(value) {
                    if list.len() >= MAX_ADDRESSES || list_bytes(list) > MAX_LIST_BYTES {
                        break;
                    }
                    let a = text(&a);
                    if !list.contains(&a) {
                        list.push(a);
                    }
                }
            }
            b"X-ORIGINATING-IP" => {
                if let Some(a) = mail::ip_addresses(value, false).first() {
                    r.x_originating_ip = Some(*a);
                }
            }
            b"X-MAILER" | b"USER-AGENT" | b"X-USER-AGENT" => r.user_agent = Some(v()),
            _ => {}
        }
        if name == b"RECEIVED" && self.process_received_from {
            let ips = mail::ip_addresses(value, true);
            let ip = if ips.len() > 1 {
                ips.get(1)
            } else {
                ips.first()
            };
            if let (Some(&ip), Some(r)) = (ip, self.rec.as_mut()) {
                if r.path.last() != Some(&ip) && r.path.len() < MAX_PATH {
                    r.path.push(ip);
                }
            }
        }
    }

    /// Zeek's `finalize_smtp`.
    pub fn finish(&mut self, s: &mut Session<'_>) {
        if self.rec.is_some() && self.has_client_activity {
            if let Some(r) = self.rec.take() {
                s.emit(EventBody::Smtp(r));
            }
        }
    }
}

fn list_bytes(l: &[String]) -> usize {
    l.iter().map(String::len).sum()
}

/// Zeek removes the DSN "ORCPT=rfc822;" prefix from recipients.
fn strip_orcpt(a: &[u8]) -> Vec<u8> {
    let pat = b"ORCPT=rfc822";
    let mut out = Vec::with_capacity(a.len());
    let mut i = 0;
    while i < a.len() {
        if a[i..].starts_with(pat) {
            i += pat.len();
            if a.get(i) == Some(&b';') {
                i += 1;
            }
            continue;
        }
        out.push(a[i]);
        i += 1;
    }
    out
}
