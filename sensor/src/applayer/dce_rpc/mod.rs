//! Connection-oriented DCE/RPC (C706, MS-RPCE) as Zeek's `dce_rpc.log`:
//! binds map context ids to interfaces, each response is logged with its
//! round trip, the interface's endpoint name and the operation name
//! (`consts`). Runs on TCP (port 135 and the dynamic ports the endpoint
//! mapper hands out) and inside SMB named pipes, where each open pipe
//! (file id) is a conversation of its own. NTLM in auth trailers goes to
//! the connection's [`NtlmState`].
//!
//! The state follows Zeek's scripts exactly, including what looks odd:
//! one record per pipe is reused from call to call, so a field a call
//! does not set keeps the previous call's value; and when the connection
//! ends with a request unanswered, every pipe's last record is written
//! again.

mod consts;

use super::ntlm::NtlmState;
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use vagt_schema::{DceRpcRecord, EventBody};

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(DceRpcTcp::default())
}

/// Conversations (pipes) kept per connection; Zeek discards its table of
/// DCE/RPC analyzers when it grows past its limit, and so do we.
const MAX_PIPES: usize = 64;
/// Contexts remembered per conversation.
const MAX_CONTEXTS: usize = 64;
/// Fragmented calls being reassembled per direction (Zeek's
/// `max_cmd_reassembly`).
const MAX_REASSEMBLY: usize = 20;
const HEADER_LEN: usize = 16;
/// Bytes of a first fragment's body kept: the request and response fields
/// a record needs.
const BODY_PREFIX: usize = 24;

const REQUEST: u8 = 0;
const RESPONSE: u8 = 2;
const BIND: u8 = 11;
const BIND_ACK: u8 = 12;
const ALTER_CONTEXT: u8 = 14;
const ALTER_CONTEXT_RESP: u8 = 15;

/// One conversation: Zeek's `BackingState` plus the analyzer's own maps.
struct Backing {
    fid: u64,
    info: DceRpcRecord,
    uuid: Option<String>,
    named_pipe: Option<String>,
    ctx_to_uuid: Vec<(u16, String)>,
    /// Opnum of the last request per context (the analyzer's map).
    ctx_opnum: Vec<(u16, u16)>,
    /// First-fragment body prefixes by call id, per direction.
    frags: [Vec<(u32, Vec<u8>)>; 2],
    /// Bytes of an unfinished PDU, per direction.
    buf: [Vec<u8>; 2],
}

/// The DCE/RPC state of one connection.
#[derive(Default)]
pub struct Calls {
    backing: Vec<Backing>,
    /// The conversation whose record is Zeek's `c$dce_rpc` (set by any PDU,
    /// cleared by a response).
    current: Option<u64>,
}

/// A PDU header.
struct Pdu<'a> {
    ptype: u8,
    first: bool,
    last: bool,
    little: bool,
    call_id: u32,
    body: &'a [u8],
    auth: Option<(u8, &'a [u8])>,
}

impl<'a> Pdu<'a> {
    fn parse(p: &'a [u8]) -> Option<Pdu<'a>> {
        let little = p.get(4)? & 0x10 != 0;
        let rd16 = |at: usize| -> Option<u16> {
            let b = p.get(at..at + 2)?;
            Some(if little {
                u16::from_le_bytes([b[0], b[1]])
            } else {
                u16::from_be_bytes([b[0], b[1]])
            })
        };
        let frag_len = usize::from(rd16(8)?);
        let auth_len = usize::from(rd16(10)?);
        let b = p.get(12..16)?;
        let call_id = if little {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        };
        let flags = *p.get(3)?;
        let trailer = if auth_len > 0 { auth_len + 8 } else { 0 };
        let body_end = frag_len.checked_sub(trailer)?;
        let body = p.get(HEADER_LEN..body_end.max(HEADER_LEN))?;
        let auth = if auth_len > 0 {
            let kind = *p.get(body_end)?;
            Some((kind, p.get(frag_len - auth_len..frag_len)?))
        } else {
            None
        };
        Some(Pdu {
            ptype: *p.get(2)?,
            first: flags & 0x01 != 0,
            last: flags & 0x02 != 0,
            little,
            call_id,
            body,
            auth,
        })
    }

    fn u16(&self, b: &[u8], at: usize) -> Option<u16> {
        let x = b.get(at..at + 2)?;
        Some(if self.little {
            u16::from_le_bytes([x[0], x[1]])
        } else {
            u16::from_be_bytes([x[0], x[1]])
        })
    }
}

/// A DCE/RPC UUID as Zeek prints it (the first three fields in the
/// sender's byte order).
fn uuid_string(b: &[u8], little: bool) -> Option<String> {
    let b = b.get(..16)?;
    let (a, m, h) = if little {
        (
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
        )
    } else {
        (
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_be_bytes([b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]]),
        )
    };
    Some(format!(
        "{a:08x}-{m:04x}-{h:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    ))
}

impl Calls {
    /// Stream bytes of conversation `fid` in direction `dir`: split into
    /// PDUs by their fragment length. Returns false when the stream is not
    /// DCE/RPC (then nothing more is read of it).
    pub fn data(
        &mut self,
        s: &mut Session<'_>,
        ntlm: &mut NtlmState,
        fid: u64,
        dir: Dir,
        data: &[u8],
    ) -> bool {
        let i = self.open(s, fid);
        let Some(b) = self.backing.get_mut(i) else {
            return false;
        };
        let mut buf = std::mem::take(&mut b.buf[dir.index()]);
        buf.extend_from_slice(data);
        let mut at = 0;
        let mut ok = true;
        while let Some(h) = buf.get(at..at + HEADER_LEN) {
            if h[0] != 5 {
                s.weird("dce_rpc_bad_version");
                ok = false;
                break;
            }
            let len = if h[4] & 0x10 != 0 {
                u16::from_le_bytes([h[8], h[9]])
            } else {
                u16::from_be_bytes([h[8], h[9]])
            };
            let len = usize::from(len);
            if len < HEADER_LEN {
                s.weird("dce_rpc_bad_fragment_length");
                ok = false;
                break;
            }
            let Some(pdu) = buf.get(at..at + len) else {
                break;
            };
            self.pdu(s, ntlm, fid, dir, pdu);
            at += len;
        }
        // The PDU handler may have dropped the conversation (discard).
        let i = self.backing.iter().position(|b| b.fid == fid);
        if let (true, Some(b)) = (ok, i.and_then(|i| self.backing.get_mut(i))) {
            buf.drain(..at);
            b.buf[dir.index()] = buf;
        }
        ok
    }

    /// Zeek's `set_session`: finds or opens conversation `fid` and makes
    /// its record the current one. Returns its index.
    fn session(&mut self, s: &mut Session<'_>, fid: u64) -> usize {
        let i = self.open(s, fid);
        self.current = Some(fid);
        let b = &mut self.backing[i];
        if let Some(u) = &b.uuid {
            b.info.endpoint = Some(consts::endpoint(u));
        }
        if let Some(p) = &b.named_pipe {
            b.info.named_pipe = Some(p.clone());
        }
        i
    }

    /// Finds or opens conversation `fid`; returns its index.
    fn open(&mut self, s: &mut Session<'_>, fid: u64) -> usize {
        match self.backing.iter().position(|b| b.fid == fid) {
            Some(i) => i,
            None => {
                if self.backing.len() >= MAX_PIPES {
                    s.weird("SMB_discarded_dce_rpc_analyzers");
                    self.backing.clear();
                    self.current = None;
                }
                self.backing.push(Backing {
                    fid,
                    info: DceRpcRecord {
                        ts: ConnIdent::time(s.ts),
                        uid: s.conn.uid.clone(),
                        id: s.conn.id,
                        rtt: None,
                        named_pipe: None,
                        endpoint: None,
                        operation: None,
                    },
                    uuid: None,
                    named_pipe: None,
                    ctx_to_uuid: Vec::new(),
                    ctx_opnum: Vec::new(),
                    frags: [Vec::new(), Vec::new()],
                    buf: [Vec::new(), Vec::new()],
                });
                self.backing.len() - 1
            }
        }
    }

    fn pdu(&mut self, s: &mut Session<'_>, ntlm: &mut NtlmState, fid: u64, dir: Dir, p: &[u8]) {
        let Some(pdu) = Pdu::parse(p) else {
            s.weird("dce_rpc_truncated_pdu");
            return;
        };
        if let Some((kind, blob)) = pdu.auth {
            match kind {
                // SPNEGO and bare NTLMSSP; other mechanisms (Kerberos, the
                // signatures on requests) carry no NTLM message.
                9 => ntlm.gssapi(s, blob),
                10 if blob.starts_with(b"NTLMSSP\0") => ntlm.ntlmssp(s, blob),
                _ => {}
            }
        }
        let i = self.open(s, fid);
        let b = &mut self.backing[i];
        // Fragments: only the last one is acted on, with the first one's
        // body fields (Zeek's `reassemble_fragment`).
        let frags = &mut b.frags[dir.index()];
        let held = frags.iter().position(|(c, _)| *c == pdu.call_id);
        let body: Vec<u8>;
        let body = match held {
            None if pdu.first && !pdu.last => {
                if frags.len() >= MAX_REASSEMBLY {
                    s.weird("too_many_dce_rpc_msgs_in_reassembly");
                } else {
                    let keep = pdu.body[..pdu.body.len().min(BODY_PREFIX)].to_vec();
                    frags.push((pdu.call_id, keep));
                }
                return;
            }
            Some(_) if !pdu.last => return,
            Some(k) => {
                body = frags.remove(k).1;
                &body[..]
            }
            None if !pdu.last => return,
            None => pdu.body,
        };
        // Zeek's events (and so `set_session`) come only for these.
        if !matches!(
            pdu.ptype,
            BIND | BIND_ACK | ALTER_CONTEXT | ALTER_CONTEXT_RESP | REQUEST | RESPONSE
        ) {
            return;
        }
        let i = self.session(s, fid);
        match pdu.ptype {
            BIND | ALTER_CONTEXT => self.bind(&pdu, body, i),
            BIND_ACK => {
                let b = &mut self.backing[i];
                let len = pdu.u16(body, 8).map_or(0, usize::from);
                if let Some(addr) = body.get(10..10 + len) {
                    let addr: &[u8] = match addr.iter().position(|&c| c == 0) {
                        Some(n) => &addr[..n],
                        None => addr,
                    };
                    if !addr.is_empty() {
                        let addr = String::from_utf8_lossy(addr).into_owned();
                        b.info.named_pipe = Some(addr.clone());
                        b.named_pipe = Some(addr);
                    }
                }
            }
            REQUEST => {
                let (Some(ctx), Some(opnum)) = (pdu.u16(body, 4), pdu.u16(body, 6)) else {
                    s.weird("dce_rpc_truncated_request");
                    return;
                };
                let b = &mut self.backing[i];
                b.info.ts = ConnIdent::time(s.ts);
                put(&mut b.ctx_opnum, ctx, opnum);
            }
            RESPONSE => {
                let Some(ctx) = pdu.u16(body, 4) else {
                    s.weird("dce_rpc_truncated_response");
                    return;
                };
                self.response(s, i, ctx);
            }
            _ => {}
        }
    }

    fn bind(&mut self, pdu: &Pdu<'_>, body: &[u8], i: usize) {
        let b = &mut self.backing[i];
        let n = body.get(8).copied().unwrap_or(0);
        let mut at = 12;
        for _ in 0..n {
            let (Some(ctx), Some(syntaxes)) = (pdu.u16(body, at), body.get(at + 2)) else {
                return;
            };
            let Some(uuid) = body.get(at + 4..).and_then(|u| uuid_string(u, pdu.little)) else {
                return;
            };
            put(&mut b.ctx_to_uuid, ctx, uuid.clone());
            b.info.endpoint = Some(consts::endpoint(&uuid));
            b.uuid = Some(uuid);
            at += 24 + 20 * usize::from(*syntaxes);
        }
    }

    /// Zeek's `dce_rpc_response` handlers: fill in the record and write it.
    fn response(&mut self, s: &mut Session<'_>, i: usize, ctx: u16) {
        let b = &mut self.backing[i];
        let opnum = b
            .ctx_opnum
            .iter()
            .find(|(c, _)| *c == ctx)
            .map_or(0, |(_, o)| *o);
        if b.info.endpoint.is_none() {
            if let Some(u) = b.named_pipe.as_deref().and_then(consts::pipe_uuid) {
                b.uuid = Some(u.to_string());
            }
        }
        if b.info.endpoint.is_some() {
            if let Some(u) = &b.uuid {
                b.info.operation = Some(consts::operation(u, opnum));
            }
            let now = ConnIdent::time(s.ts);
            if b.info.ts != now {
                b.info.rtt = Some(now - b.info.ts);
            }
        }
        if let Some((_, u)) = b.ctx_to_uuid.iter().find(|(c, _)| *c == ctx) {
            b.info.endpoint = Some(consts::endpoint(u));
            b.info.operation = Some(consts::operation(u, opnum));
        }
        if loggable(&b.info) {
            s.emit(EventBody::DceRpc(b.info.clone()));
        }
        self.current = None;
    }

    /// An SMB pipe was closed: its conversation is forgotten.
    pub fn forget(&mut self, fid: u64) {
        self.backing.retain(|b| b.fid != fid);
    }

    /// Whether conversation `fid` exists.
    pub fn knows(&self, fid: u64) -> bool {
        self.backing.iter().any(|b| b.fid == fid)
    }

    /// Zeek's `finalize_dce_rpc`: with a request still unanswered, every
    /// conversation's record is written once more.
    pub fn close(&mut self, s: &mut Session<'_>) {
        if self.current.take().is_none() {
            return;
        }
        for b in &mut self.backing {
            if let Some(u) = &b.uuid {
                b.info.endpoint = Some(consts::endpoint(u));
            }
            if let Some(p) = &b.named_pipe {
                b.info.named_pipe = Some(p.clone());
            }
            if loggable(&b.info) {
                s.emit(EventBody::DceRpc(b.info.clone()));
            }
        }
        self.backing.clear();
    }
}

/// Sets a context's value in a bounded map.
fn put<T>(map: &mut Vec<(u16, T)>, ctx: u16, v: T) {
    if let Some(k) = map.iter().position(|(c, _)| *c == ctx) {
        map[k].1 = v;
    } else if map.len() < MAX_CONTEXTS {
        map.push((ctx, v));
    }
}

fn loggable(info: &DceRpcRecord) -> bool {
    match (&info.endpoint, &info.operation) {
        (Some(e), Some(o)) => !consts::ignored(e, o),
        _ => false,
    }
}

/// DCE/RPC directly over TCP.
#[derive(Default)]
struct DceRpcTcp {
    calls: Calls,
    ntlm: NtlmState,
}

impl Parser for DceRpcTcp {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.calls.data(s, &mut self.ntlm, 0, dir, data) {
            Verdict::More
        } else {
            Verdict::Done
        }
    }

    fn gap(&mut self, s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // PDU boundaries are lost with the bytes.
        s.weird("dce_rpc_content_gap");
        let _ = dir;
        Verdict::Done
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.calls.close(s);
        self.ntlm.close(s);
    }
}

#[cfg(test)]
pub(crate) mod tests;
