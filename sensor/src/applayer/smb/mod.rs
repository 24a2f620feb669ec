//! SMB2/3 over TCP (445, 139) as Zeek's `smb_mapping.log` and
//! `smb_files.log`: NetBIOS session framing, several SMB2 messages per
//! frame (compounded, `NextCommand`), and the commands the logs need. The
//! security blobs of SESSION_SETUP go to NTLM (inside GSSAPI/SPNEGO), and
//! what is written to and read from named pipes goes to DCE/RPC, one
//! conversation per pipe. SMB1 is recognised and skipped; encrypted
//! (transform header) and compressed SMB3 messages cannot be read and are
//! skipped too.
//!
//! `files` holds Zeek's script state and writes the rows; `wire` reads the
//! messages.

mod files;
pub mod script;
pub(crate) mod wire;

use super::dce_rpc::Calls;
use super::ntlm::NtlmState;
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use files::{Action, State};
use wire::Header;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::<Smb>::default()
}

/// Bytes of one NetBIOS frame kept. Larger frames (big reads and writes)
/// are read up to here, which holds every field the logs need, and the
/// rest is skipped unbuffered.
const MAX_FRAME: usize = 128 << 10;
/// Compounded messages read per frame.
const MAX_COMPOUND: usize = 64;
/// Tree ids known to be pipes, and reads awaiting their response.
const MAX_PIPE_TREES: usize = 64;
const MAX_READS: usize = 64;

/// Pipe names Zeek's `SMB::pipe_filenames` lists: opening one of these on a
/// tree whose connect was not seen makes the tree a pipe.
const PIPE_NAMES: &[&str] = &[
    "spoolss", "winreg", "samr", "srvsvc", "netdfs", "lsarpc", "wkssvc", "MsFteWds",
];

#[derive(Default)]
struct Smb {
    /// Unfinished frame per direction.
    buf: [Vec<u8>; 2],
    /// Bytes of an oversized frame still to skip, per direction.
    skip: [usize; 2],
    state: State,
    calls: Calls,
    ntlm: NtlmState,
    pipe_trees: Vec<u32>,
    /// Read requests on pipes: message id to file id.
    reads: Vec<(u64, u64)>,
}

impl Smb {
    fn frames(&mut self, s: &mut Session<'_>, dir: Dir, mut data: &[u8]) -> Verdict {
        let d = dir.index();
        loop {
            if self.skip[d] > 0 {
                let n = self.skip[d].min(data.len());
                self.skip[d] -= n;
                data = &data[n..];
            }
            if data.is_empty() {
                return Verdict::More;
            }
            let mut buf = std::mem::take(&mut self.buf[d]);
            let need = frame_len(&buf, data);
            let Some(total) = need else {
                // Not even a frame header yet.
                buf.extend_from_slice(data);
                self.buf[d] = buf;
                return Verdict::More;
            };
            let want = total.min(MAX_FRAME + 4);
            let take = want.saturating_sub(buf.len()).min(data.len());
            buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if buf.len() < want {
                self.buf[d] = buf;
                return Verdict::More;
            }
            if total > want {
                self.skip[d] = total - want;
            }
            if buf.first() == Some(&0) {
                self.frame(s, dir.is_orig(), buf.get(4..).unwrap_or(&[]));
            }
            buf.clear();
            self.buf[d] = buf;
        }
    }

    /// One NetBIOS session message: SMB2 messages chained by NextCommand.
    fn frame(&mut self, s: &mut Session<'_>, is_orig: bool, mut m: &[u8]) {
        match m.get(0..4) {
            Some(b"\xfeSMB") => {}
            // SMB1, and SMB3 encrypted or compressed: not read.
            Some(b"\xffSMB") | Some(b"\xfdSMB") | Some(b"\xfcSMB") => return,
            _ => {
                s.weird("smb_unknown_protocol");
                return;
            }
        }
        for _ in 0..MAX_COMPOUND {
            let Some(h) = Header::parse(m) else {
                s.weird("smb2_truncated_header");
                return;
            };
            let next = h.next_command as usize;
            let msg = if next >= wire::HEADER_LEN && next <= m.len() {
                &m[..next]
            } else {
                m
            };
            self.message(s, is_orig, &h, msg);
            if next < wire::HEADER_LEN || next >= m.len() {
                return;
            }
            m = &m[next..];
        }
    }

    fn message(&mut self, s: &mut Session<'_>, is_orig: bool, h: &Header, msg: &[u8]) {
        let mid = h.message_id;
        self.state.begin(s, mid, h.tree_id);
        if h.has_body(is_orig) {
            self.command(s, is_orig, h, msg);
        }
        self.state
            .end(mid, is_orig, h.status == wire::STATUS_PENDING);
    }

    fn command(&mut self, s: &mut Session<'_>, is_orig: bool, h: &Header, msg: &[u8]) {
        let mid = h.message_id;
        let dir = if is_orig {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        match (h.command, is_orig) {
            (wire::SESSION_SETUP, _) => {
                if let Some(blob) = wire::session_setup_blob(msg, is_orig) {
                    self.ntlm.gssapi(s, blob);
                }
            }
            (wire::TREE_CONNECT, true) => match wire::tree_connect_path(msg) {
                Some(p) => self.state.tree_connect_request(mid, p),
                None => s.weird("smb2_truncated_tree_connect"),
            },
            (wire::TREE_CONNECT, false) => match wire::tree_connect_share_type(msg) {
                Some(t) => {
                    if t == 2 && !self.pipe_trees.contains(&h.tree_id) {
                        if self.pipe_trees.len() >= MAX_PIPE_TREES {
                            self.pipe_trees.remove(0);
                        }
                        self.pipe_trees.push(h.tree_id);
                    }
                    self.state.tree_connect_response(s, mid, t);
                }
                None => s.weird("smb2_truncated_tree_connect"),
            },
            (wire::TREE_DISCONNECT, true) => self.state.tree_disconnect(mid, h.tree_id),
            (wire::CREATE, true) => match wire::create_request_name(msg) {
                Some(name) => {
                    let base = name.rsplit('\\').next().unwrap_or(&name);
                    if !self.pipe_trees.contains(&h.tree_id)
                        && PIPE_NAMES.iter().any(|p| p.eq_ignore_ascii_case(base))
                    {
                        if self.pipe_trees.len() < MAX_PIPE_TREES {
                            self.pipe_trees.push(h.tree_id);
                        }
                        self.state.pipe_heuristic(mid);
                    }
                    self.state.create_request(mid, name);
                }
                None => s.weird("smb2_truncated_create"),
            },
            (wire::CREATE, false) => match wire::create_response(msg) {
                Some(c) => self.state.create_response(s, mid, &c),
                None => s.weird("smb2_truncated_create"),
            },
            (wire::READ, true) => {
                let Some(fid) = wire::request_file_id(msg, h.command) else {
                    s.weird("smb2_truncated_read");
                    return;
                };
                let acts = [Action::FileRead, Action::PipeRead, Action::PrintRead];
                self.state.file_action(s, mid, fid, acts);
                if self.pipe_trees.contains(&h.tree_id) {
                    if self.reads.len() >= MAX_READS {
                        self.reads.remove(0);
                    }
                    self.reads.push((mid, fid));
                }
            }
            (wire::READ, false) => {
                let Some(k) = self.reads.iter().position(|(m, _)| *m == mid) else {
                    // The length, not the bytes: a big read is cut at MAX_FRAME.
                    if wire::u32_at(msg, wire::HEADER_LEN + 4).is_some_and(|n| n > 0) {
                        self.state.file_data(s, mid);
                    }
                    return;
                };
                let (_, fid) = self.reads.remove(k);
                if let Some(data) = wire::read_response_data(msg) {
                    self.pipe_data(s, fid, dir, data);
                }
            }
            (wire::WRITE, true) => {
                let Some(fid) = wire::request_file_id(msg, h.command) else {
                    s.weird("smb2_truncated_write");
                    return;
                };
                let acts = [Action::FileWrite, Action::PipeWrite, Action::PrintWrite];
                self.state.file_action(s, mid, fid, acts);
                let data = wire::write_data(msg).unwrap_or(&[]);
                if self.pipe_trees.contains(&h.tree_id) {
                    self.pipe_data(s, fid, dir, data);
                } else if wire::u32_at(msg, wire::HEADER_LEN + 4).is_some_and(|n| n > 0) {
                    self.state.file_data(s, mid);
                }
            }
            (wire::IOCTL, _) => {
                let (Some((code, data)), Some(fid)) = (
                    wire::ioctl(msg, is_orig),
                    wire::request_file_id(msg, h.command),
                ) else {
                    return;
                };
                // FSCTL_PIPE_* (device type 0x11): a pipe transaction.
                if code >> 16 == 0x11 && !data.is_empty() {
                    self.pipe_data(s, fid, dir, data);
                }
            }
            (wire::CLOSE, true) => {
                let Some(fid) = wire::request_file_id(msg, h.command) else {
                    s.weird("smb2_truncated_close");
                    return;
                };
                self.state.close(s, mid, fid);
                self.calls.forget(fid);
            }
            (wire::SET_INFO, true) => match wire::set_info(msg) {
                Some(wire::SetInfo::Basic { fid }) => {
                    let a = Action::FileSetAttribute;
                    self.state.file_action(s, mid, fid, [a, a, a]);
                }
                Some(wire::SetInfo::Rename { fid, name }) => self.state.rename(s, mid, fid, name),
                Some(wire::SetInfo::Delete { fid, pending }) => {
                    self.state.delete(s, mid, fid, pending)
                }
                Some(wire::SetInfo::Other) => {}
                None => s.weird("smb2_truncated_set_info"),
            },
            _ => {}
        }
    }

    fn pipe_data(&mut self, s: &mut Session<'_>, fid: u64, dir: Dir, data: &[u8]) {
        // A pipe that does not speak DCE/RPC (or lost its framing) is
        // dropped and starts afresh with its next message.
        if !self.calls.data(s, &mut self.ntlm, fid, dir, data) && self.calls.knows(fid) {
            self.calls.forget(fid);
        }
    }
}

/// The length of the frame starting with `buf` then `data` (NetBIOS
/// header included), once its four header bytes are there.
fn frame_len(buf: &[u8], data: &[u8]) -> Option<usize> {
    let mut h = [0u8; 4];
    for (i, b) in buf.iter().chain(data.iter()).take(4).enumerate() {
        h[i] = *b;
    }
    if buf.len() + data.len() < 4 {
        return None;
    }
    // Zeek reads a 24-bit length after the message type.
    Some(4 + (usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3])))
}

impl Parser for Smb {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        self.frames(s, dir, data)
    }

    fn depth(&self, _configured: u64) -> u64 {
        // File contents are skipped frame by frame, unbuffered; the log
        // needs every CREATE and CLOSE however much data came before.
        u64::MAX
    }

    fn gap(&mut self, s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // Frame boundaries are lost with the bytes.
        s.weird("smb_content_gap");
        self.buf[dir.index()].clear();
        Verdict::Done
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.calls.close(s);
        self.ntlm.close(s);
    }
}

#[cfg(test)]
mod tests;
