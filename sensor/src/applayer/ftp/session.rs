//! Zeek's `base/protocols/ftp/main.zeek`: commands wait in a table until a
//! reply is matched to them (by which codes fit which command, and by the
//! command or argument showing up in the reply text), and a pair is written
//! when the next command arrives, when more than one command waits, or
//! when the connection ends. The session keeps the user, password, working
//! directory (for the URLs of file commands) and the last reply.

use super::util;
use crate::applayer::http::text;
use crate::applayer::{ConnIdent, Session};
use crate::flow::service::Service;
use std::net::IpAddr;
use std::sync::Arc;
use vagt_schema::{AuthRecord, EventBody, FtpRecord};

/// Zeek's `FTP::logged_commands`.
const LOGGED: &[&str] = &[
    "APPE", "DELE", "RETR", "STOR", "STOU", "ACCT", "PORT", "PASV", "EPRT", "EPSV",
];
/// Zeek's `FTP::guest_ids`: their passwords are mail addresses, not secrets.
const GUEST_IDS: &[&str] = &["anonymous", "ftp", "ftpuser", "guest"];
/// Commands whose argument names a file (written as a URL).
const FILE_CMDS: &[&str] = &[
    "APPE", "CWD", "DELE", "MKD", "RETR", "RMD", "RNFR", "RNTO", "STOR", "STOU", "REST", "SIZE",
    "MDTM",
];
const MAX_PENDING: usize = 20;
const MAX_USER: usize = 128;
const MAX_PASSWORD: usize = 128;
const MAX_ARG: usize = 4096;
const MAX_REPLY_MSG: usize = 4096;

/// Zeek's `FTP::cmd_reply_code`: which reply codes answer which command.
fn fits(cmd: &str, code: u16) -> bool {
    let codes: &[u16] = match cmd {
        "<init>" => &[120, 220, 421, 0],
        "USER" => &[230, 331, 332, 421, 530, 500, 501],
        "PASS" => &[230, 202, 332, 421, 530, 500, 501, 503],
        "ACCT" => &[230, 202, 421, 530, 500, 501, 503],
        "CWD" => &[250, 421, 500, 501, 502, 530, 550],
        "CDUP" => &[200, 250, 421, 500, 501, 502, 530, 550],
        "SMNT" => &[202, 250, 421, 500, 501, 502, 530, 550],
        "REIN" => &[120, 220, 421, 500, 502],
        "QUIT" => &[221, 500, 0],
        "PORT" => &[200, 421, 500, 501, 530],
        "PASV" => &[227, 421, 500, 501, 502, 530],
        "MODE" | "STRU" | "TYPE" => &[200, 421, 500, 501, 504, 530],
        "ALLO" => &[200, 202, 421, 500, 501, 504, 530],
        "REST" => &[200, 350, 421, 500, 501, 502, 530],
        "STOR" | "STOU" => &[
            110, 125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501,
            530, 550,
        ],
        "RETR" => &[
            110, 125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 530, 550,
        ],
        "LIST" | "NLST" => &[
            125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 502, 530, 550,
        ],
        "APPE" => &[
            125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 550, 452, 553, 500, 501,
            502, 530,
        ],
        "RNFR" => &[350, 421, 450, 550, 500, 501, 502, 530],
        "RNTO" => &[250, 421, 532, 553, 500, 501, 502, 503, 530],
        "DELE" => &[250, 421, 450, 550, 500, 501, 502, 530],
        "RMD" => &[250, 421, 500, 501, 502, 530, 550],
        "MKD" => &[257, 421, 500, 501, 502, 530, 550],
        "PWD" => &[257, 421, 500, 501, 502, 550],
        "ABOR" => &[225, 226, 421, 500, 501, 502],
        "SYST" => &[215, 421, 500, 501, 502, 530],
        "STAT" => &[211, 212, 213, 421, 450, 500, 501, 502, 530],
        "HELP" => &[200, 211, 214, 421, 500, 501, 502],
        "SITE" => &[200, 202, 214, 500, 501, 502, 530],
        "NOOP" => &[200, 421, 500],
        "LPRT" => &[500, 501, 521],
        "FEAT" => &[211, 500, 502],
        "OPTS" => &[200, 451, 501],
        "EPSV" => &[229, 500, 501],
        "EPRT" => &[200, 500, 501, 522],
        "SIZE" | "MDTM" => &[213, 500, 501, 550],
        "MLST" | "MLSD" => &[150, 226, 250, 500, 501, 550],
        "CLNT" => &[200, 500],
        "MACB" => &[200, 500, 550],
        "<missing>" => &[0],
        _ => &[],
    };
    codes.contains(&code)
}

/// A command waiting for its reply (Zeek's `CmdArg`). Command and
/// argument are shared, not copied: the session holds the same command in
/// its table, as its current one and as the one it writes.
#[derive(Clone, Debug)]
struct CmdArg {
    ts: i64,
    cmd: Arc<str>,
    /// The argument as sent (bytes; written escaped).
    arg: Arc<[u8]>,
    seq: u64,
    cwd_consumed: bool,
}

/// An expected data connection.
#[derive(Clone, Copy, Debug)]
struct Channel {
    passive: bool,
    orig_h: IpAddr,
    resp_h: IpAddr,
    resp_p: u16,
}

/// The session (Zeek's `FTP::Info` and its pending commands).
pub struct FtpSession {
    started: bool,
    user: Vec<u8>,
    password: Option<Vec<u8>>,
    capture_password: bool,
    cwd: String,
    /// Pending commands by sequence number, oldest first.
    pending: Vec<CmdArg>,
    command_seq: u64,
    cmdarg: Option<CmdArg>,
    // What the next record shows; kept between records as Zeek keeps it.
    ts: i64,
    command: Option<Arc<str>>,
    arg: Option<Vec<u8>>,
    reply_code: Option<u16>,
    reply_msg: Option<Vec<u8>>,
    file_size: Option<u64>,
    channel: Option<Channel>,
    logged_command_seen: bool,
    /// `ftp://` and the server's address, the start of every file URL:
    /// made once per session.
    url_start: Option<String>,
    /// This session's token for its data connections (`data::Notes`),
    /// taken at the first one; 0 before.
    owner: u64,
    /// What the last data connection found of its file
    /// ([`super::data`]), for the next record.
    file: super::data::Note,
}

fn clip(b: &[u8], max: usize) -> &[u8] {
    &b[..b.len().min(max)]
}

impl FtpSession {
    pub fn new(capture_password: bool) -> FtpSession {
        FtpSession {
            started: false,
            user: b"<unknown>".to_vec(),
            password: None,
            capture_password,
            cwd: ".".into(),
            pending: Vec::new(),
            command_seq: 0,
            cmdarg: None,
            ts: 0,
            command: None,
            arg: None,
            reply_code: None,
            reply_msg: None,
            file_size: None,
            channel: None,
            logged_command_seen: false,
            url_start: None,
            owner: 0,
            file: super::data::Note::default(),
        }
    }

    /// Zeek's `set_ftp_session`: the first event opens the session with a
    /// shim command the server's greeting answers.
    fn start(&mut self, s: &Session<'_>) {
        if self.started {
            return;
        }
        self.started = true;
        self.ts = s.ts;
        self.add_pending(s.ts, "<init>".into(), Arc::from(&b""[..]));
    }

    fn add_pending(&mut self, ts: i64, cmd: Arc<str>, arg: Arc<[u8]>) {
        self.command_seq += 1;
        let seq = self.command_seq;
        self.pending.retain(|c| c.seq != seq);
        self.pending.push(CmdArg {
            ts,
            cmd,
            arg,
            seq,
            cwd_consumed: false,
        });
    }

    fn remove_pending(&mut self, seq: u64) -> bool {
        let before = self.pending.len();
        self.pending.retain(|c| c.seq != seq);
        self.pending.len() != before
    }

    fn hide_password(&self) -> bool {
        // Bytes compared as Zeek compares the lower-cased name: the guest
        // names are ASCII, so no other byte can match them.
        !self.capture_password
            && !GUEST_IDS
                .iter()
                .any(|g| g.as_bytes().eq_ignore_ascii_case(&self.user))
    }

    /// Zeek's `ftp_message`: the current command with the last reply,
    /// written when the command is one Zeek logs.
    fn message(&mut self, s: &mut Session<'_>) {
        let Some(ca) = self.cmdarg.clone() else {
            return;
        };
        self.ts = ca.ts;
        let logged = LOGGED.contains(&&*ca.cmd);
        // Only a logged command writes its argument (it sets its own), and
        // `finish` writes the last one only when no logged command was
        // seen: otherwise nothing reads this argument, and its URL is not
        // built. An over-long one is still reported (the URL is longer).
        let arg_read = logged || !self.logged_command_seen;
        let mut arg = if arg_read {
            ca.arg.to_vec()
        } else {
            Vec::new()
        };
        if arg_read && FILE_CMDS.contains(&&*ca.cmd) {
            let path = util::build_path_compressed(&self.cwd, &String::from_utf8_lossy(&arg));
            let start = self
                .url_start
                .get_or_insert_with(|| format!("ftp://{}", util::addr_to_uri(s.conn.id.resp_h)));
            let mut url = Vec::with_capacity(start.len() + 1 + path.len());
            url.extend_from_slice(start.as_bytes());
            if !path.starts_with('/') {
                url.push(b'/');
            }
            url.extend_from_slice(path.as_bytes());
            arg = url;
        }
        let too_long = if arg_read { arg.len() } else { ca.arg.len() } > MAX_ARG;
        if too_long {
            s.weird("FTP_arg_too_long");
            arg.truncate(MAX_ARG);
        }
        if let Some(m) = self.reply_msg.as_mut() {
            if m.len() > MAX_REPLY_MSG {
                s.weird("FTP_reply_msg_too_long");
                m.truncate(MAX_REPLY_MSG);
            }
        }
        let hide = self.hide_password();
        if &*ca.cmd == "PASS" && hide {
            arg = b"<hidden>".to_vec();
        }
        self.command = Some(ca.cmd);
        self.arg = (!arg.is_empty()).then_some(arg);
        if self.owner != 0 {
            if let Some(note) = s.shared.ftp_files.take(self.owner) {
                self.file = note;
            }
        }
        if hide && self.password.as_deref().is_some_and(|p| p != b"<hidden>") {
            self.password = Some(b"<hidden>".to_vec());
        }
        if logged {
            let rec = self.record(s);
            s.emit(EventBody::Ftp(rec));
            self.logged_command_seen = true;
        }
        // Zeek resets these after every message: they belong to one
        // transfer.
        self.file = super::data::Note::default();
        self.file_size = None;
        self.channel = None;
    }

    fn record(&self, s: &Session<'_>) -> FtpRecord {
        let ch = self.channel;
        FtpRecord {
            ts: ConnIdent::time(self.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            user: text(&self.user),
            password: self.password.as_deref().map(text),
            command: self.command.as_deref().map(str::to_string),
            arg: self.arg.as_deref().map(text),
            mime_type: self.file.mime.map(str::to_string),
            md5: self.file.digests.as_ref().and_then(|d| d.md5.clone()),
            sha1: self.file.digests.as_ref().and_then(|d| d.sha1.clone()),
            sha256: self.file.digests.as_ref().and_then(|d| d.sha256.clone()),
            file_size: self.file_size,
            reply_code: self.reply_code,
            reply_msg: self.reply_msg.as_deref().map(text),
            data_channel_passive: ch.map(|c| c.passive),
            data_channel_orig_h: ch.map(|c| c.orig_h),
            data_channel_resp_h: ch.map(|c| c.resp_h),
            data_channel_resp_p: ch.map(|c| c.resp_p),
        }
    }

    /// Zeek's `ftp_request` event.
    pub fn request(&mut self, s: &mut Session<'_>, cmd: Arc<str>, arg: &[u8]) {
        if self.reply_code.is_some() {
            if let Some(seq) = self.cmdarg.as_ref().map(|c| c.seq) {
                if self.remove_pending(seq) {
                    self.message(s);
                }
            }
        }
        self.start(s);
        if self.pending.len() < MAX_PENDING {
            self.add_pending(s.ts, cmd.clone(), Arc::from(arg));
        } else {
            s.weird("FTP_too_many_pending_commands");
        }
        match &*cmd {
            "USER" => {
                if arg.len() > MAX_USER {
                    s.weird("FTP_user_too_long");
                }
                self.user = clip(arg, MAX_USER).to_vec();
            }
            "PASS" => {
                if arg.len() > MAX_PASSWORD {
                    s.weird("FTP_password_too_long");
                }
                self.password = Some(clip(arg, MAX_PASSWORD).to_vec());
            }
            "PORT" | "EPRT" => {
                let data = if &*cmd == "PORT" {
                    util::parse_port(arg)
                } else {
                    util::parse_eftp(arg)
                };
                if let Some((h, p)) = data {
                    self.open_channel(
                        s,
                        Channel {
                            passive: false,
                            orig_h: s.conn.id.resp_h,
                            resp_h: h,
                            resp_p: p,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// Zeek's `add_expected_data_channel`: the record shows the channel,
    /// and the worker expects the data connection (named `ftp-data`).
    fn open_channel(&mut self, s: &mut Session<'_>, ch: Channel) {
        if self.owner == 0 {
            self.owner = s.shared.ftp_files.owner();
        }
        s.expect(
            Some(ch.orig_h),
            ch.resp_h,
            ch.resp_p,
            Service::FtpData,
            self.owner,
        );
        self.channel = Some(ch);
    }

    /// Zeek's `get_pending_cmd`: the best-fitting waiting command, the
    /// oldest among equals.
    fn best_pending(&self, code: u16, msg: &[u8]) -> Option<CmdArg> {
        // Replies and needles are short: a search per first byte beats
        // building a searcher (`memmem`) per reply.
        let contains = |needle: &[u8]| match needle.first() {
            None => true,
            Some(&c) => memchr::memchr_iter(c, msg).any(|i| msg[i..].starts_with(needle)),
        };
        self.pending
            .iter()
            .map(|c| {
                let mut score = 0;
                if code == 500 || fits(&c.cmd, code) {
                    score += 100;
                }
                if contains(c.cmd.as_bytes()) {
                    score += 20;
                }
                if contains(&c.arg[..]) {
                    score += 10;
                }
                (score, std::cmp::Reverse(c.seq), c)
            })
            .max_by_key(|(score, seq, _)| (*score, *seq))
            .map(|(_, _, c)| c.clone())
    }

    /// Zeek's `ftp_reply` event.
    pub fn reply(&mut self, s: &mut Session<'_>, code: u16, msg: &[u8], cont: bool) {
        self.start(s);
        if cont && code == 0 && self.reply_code.is_some() && !looks_like_reply(msg) {
            return;
        }
        // With nothing waiting Zeek's handler fails at this point.
        let Some(ca) = self.best_pending(code, msg) else {
            return;
        };
        let cmd = ca.cmd.clone();
        self.cmdarg = Some(ca);
        self.reply_code = Some(code);
        // The buffer of the last reply is reused: a reply per command.
        let m = self.reply_msg.get_or_insert_with(Vec::new);
        m.clear();
        m.extend_from_slice(msg);
        if cont {
            return;
        }
        if matches!(&*cmd, "USER" | "PASS") && matches!(code, 230 | 530) {
            // A login answered: ftp.log leaves PASS out, so the outcome
            // travels in an `auth` record (the brute-force detector's).
            s.emit(EventBody::Auth(AuthRecord {
                ts: ConnIdent::time(s.ts),
                uid: s.conn.uid.clone(),
                id: s.conn.id,
                service: "ftp".into(),
                user: Some(text(&self.user)),
                success: code == 230,
                reply_code: Some(code),
            }));
        }
        let cmd = &*cmd;
        if (code == 150 && cmd == "RETR") || (code == 213 && cmd == "SIZE") {
            self.file_size = Some(util::extract_last_count(msg));
        } else if (code == 227 || code == 229) && (cmd == "PASV" || cmd == "EPSV") {
            let data = if code == 227 {
                util::parse_pasv(msg)
            } else {
                msg.iter()
                    .position(|&c| c == b'(')
                    .and_then(|p| util::parse_eftp(&msg[p + 1..]))
            };
            if let Some((mut h, p)) = data {
                if code == 229 && h == IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED) {
                    h = s.conn.id.resp_h;
                }
                self.open_channel(
                    s,
                    Channel {
                        passive: true,
                        orig_h: s.conn.id.orig_h,
                        resp_h: h,
                        resp_p: p,
                    },
                );
            }
        }
        self.directory(code, msg);
        if self.pending.len() > 1 {
            if let Some(seq) = self.cmdarg.as_ref().map(|c| c.seq) {
                self.remove_pending(seq);
            }
            self.message(s);
        }
    }

    /// Successful directory commands move the working directory.
    fn directory(&mut self, code: u16, msg: &[u8]) {
        let Some(ca) = self.cmdarg.as_mut() else {
            return;
        };
        let dir_cmd = matches!(
            (&*ca.cmd, code),
            ("CWD", 250) | ("CDUP", 200) | ("CDUP", 250) | ("PWD", 257) | ("XPWD", 257)
        );
        if !dir_cmd || ca.cwd_consumed {
            return;
        }
        ca.cwd_consumed = true;
        let seq = ca.seq;
        let cmd = ca.cmd.clone();
        let arg = String::from_utf8_lossy(&ca.arg).into_owned();
        if let Some(p) = self.pending.iter_mut().find(|p| p.seq == seq) {
            p.cwd_consumed = true;
        }
        self.cwd = match &*cmd {
            "CWD" => util::build_path_compressed(&self.cwd, &arg),
            "CDUP" => util::build_path_compressed(&self.cwd, "/.."),
            _ => String::from_utf8_lossy(&util::extract_path(msg)).into_owned(),
        };
    }

    /// Zeek's `finalize_ftp`: every waiting command is written with the
    /// last reply; a session that wrote nothing gets one record.
    pub fn finish(&mut self, s: &mut Session<'_>) {
        if !self.started {
            return;
        }
        for ca in std::mem::take(&mut self.pending) {
            self.cmdarg = Some(ca);
            self.message(s);
        }
        if !self.logged_command_seen {
            let rec = self.record(s);
            s.emit(EventBody::Ftp(rec));
        }
        // A note that arrived after the last command has no record to go
        // to: dropped with the session.
        if self.owner != 0 {
            s.shared.ftp_files.take(self.owner);
        }
    }
}

/// Zeek's `/^[1-9][0-9]{2} [[:print:]]{10}.*/`: a continuation line that
/// still looks like a reply.
fn looks_like_reply(m: &[u8]) -> bool {
    m.len() >= 14
        && (b'1'..=b'9').contains(&m[0])
        && m[1].is_ascii_digit()
        && m[2].is_ascii_digit()
        && m[3] == b' '
        && m[4..14].iter().all(|c| (0x20..0x7f).contains(c))
}
