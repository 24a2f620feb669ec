//! LDAP over TCP as Zeek's `ldap.log` and `ldap_search.log`: messages
//! decoded by `ldap-parser`, paired by message id into one record per
//! operation the way Zeek's `base/protocols/ldap` script pairs them, and
//! written when the operation's final message comes (or when the
//! connection ends).
//!
//! After a SASL bind the stream may be wrapped: like Zeek's analyzer, the
//! parser then reads a four-byte length and, for Kerberos wrap tokens that
//! are signed but not sealed, the LDAP messages inside; sealed or other
//! SASL buffers are skipped. After a successful StartTLS the connection is
//! TLS and no longer read. Mode changes come from either direction (a bind
//! response changes how the client's messages are read), as in Zeek.
//!
//! The SASL credentials of bind requests and the server's SASL credentials
//! of bind responses go to the connection's [`NtlmState`], as Zeek hands
//! them to its GSSAPI and NTLM analyzers: NTLM inside `GSS-SPNEGO` (or a
//! bare NTLMSSP message) becomes the connection's `ntlm` record.

mod text;

use super::ntlm::NtlmState;
use super::{ConnIdent, Dir, Parser, Session, Verdict};
use asn1_rs::FromBer as _;
use ldap_parser::ldap::{AuthenticationChoice, LdapMessage, ProtocolOp};
use vagt_schema::{EventBody, LdapRecord, LdapSearchRecord};

/// Largest message (or SASL buffer) read; larger ones are skipped.
const MAX_MESSAGE: usize = 256 * 1024;
/// Operations waiting for their response, per connection; one more and
/// all are written out (Zeek's `LDAP::max_pending_messages`). With the
/// text caps this bounds a connection's pending records to about 2 MiB.
const MAX_PENDING: usize = 256;
/// The Kerberos V5 mechanism as Microsoft's SPNEGO names it.
const MS_KRB5: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
];

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Ldap::default())
}

/// How the messages of the connection are framed now (Zeek's
/// `MessageMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Clear,
    /// After a SASL bind: clear if a message starts with a SEQUENCE,
    /// else SASL buffers.
    MaybeWrapped,
    /// SASL buffers (length, then opaque bytes).
    Wrapped,
    /// SASL buffers holding Kerberos wrap tokens.
    Krb5,
    /// StartTLS succeeded.
    Tls,
}

#[derive(Default)]
struct Ldap {
    mode: Mode,
    sasl_mechanism: String,
    start_tls_requested: bool,
    buf: [Vec<u8>; 2],
    /// Bytes of an oversized message still to skip, per direction.
    skip: [usize; 2],
    messages: Vec<LdapRecord>,
    searches: Vec<LdapSearchRecord>,
    ntlm: NtlmState,
}

impl Ldap {
    fn message_rec(&mut self, s: &mut Session<'_>, id: i64) -> &mut LdapRecord {
        let i = match self.messages.iter().position(|m| m.message_id == id) {
            Some(i) => i,
            None => {
                self.make_room(s);
                self.messages.push(LdapRecord {
                    ts: ConnIdent::time(s.ts),
                    uid: s.conn.uid.clone(),
                    id: s.conn.id,
                    message_id: id,
                    version: None,
                    opcode: None,
                    result: None,
                    diagnostic_message: None,
                    object: None,
                    argument: None,
                });
                self.messages.len() - 1
            }
        };
        &mut self.messages[i]
    }

    fn search_rec(&mut self, s: &mut Session<'_>, id: i64) -> &mut LdapSearchRecord {
        let i = match self.searches.iter().position(|m| m.message_id == id) {
            Some(i) => i,
            None => {
                self.make_room(s);
                self.searches.push(LdapSearchRecord {
                    ts: ConnIdent::time(s.ts),
                    uid: s.conn.uid.clone(),
                    id: s.conn.id,
                    message_id: id,
                    scope: None,
                    deref_aliases: None,
                    base_object: None,
                    result_count: 0,
                    result: None,
                    diagnostic_message: None,
                    filter: None,
                    attributes: None,
                });
                self.searches.len() - 1
            }
        };
        &mut self.searches[i]
    }

    /// Bounds the operations held: past the cap, all are written out.
    fn make_room(&mut self, s: &mut Session<'_>) {
        if self.messages.len() + self.searches.len() >= MAX_PENDING {
            s.weird("LDAP_max_pending_messages_exceeded");
            self.flush(s);
        }
    }

    /// Writes every pending operation (Zeek skips message id 0).
    fn flush(&mut self, s: &mut Session<'_>) {
        for m in self.messages.drain(..) {
            if m.message_id > 0 {
                s.emit(EventBody::Ldap(m));
            }
        }
        for m in self.searches.drain(..) {
            if m.message_id > 0 {
                s.emit(EventBody::LdapSearch(m));
            }
        }
    }

    fn finish_message(&mut self, s: &mut Session<'_>, id: i64) {
        if let Some(i) = self.messages.iter().position(|m| m.message_id == id) {
            s.emit(EventBody::Ldap(self.messages.remove(i)));
        }
    }

    /// One decoded message, as Zeek's script takes its events.
    fn message(&mut self, s: &mut Session<'_>, m: &LdapMessage<'_>) {
        let id = i64::from(m.message_id.0);
        let result = m.protocol_op.result().map(|r| {
            (
                text::result(r.result_code.0),
                text::ascii(&r.diagnostic_message.0),
            )
        });
        let (mut object, mut argument) = (String::new(), String::new());
        let opcode = match &m.protocol_op {
            ProtocolOp::BindRequest(b) => {
                object = text::ascii(&b.name.0);
                let kind = match &b.authentication {
                    AuthenticationChoice::Simple(pw) => {
                        if !pw.is_empty() {
                            // Zeek never logs the password itself.
                            argument = "REDACTED".into();
                        }
                        "bind simple"
                    }
                    AuthenticationChoice::Sasl(c) => {
                        argument = text::ascii(&c.mechanism.0);
                        self.sasl_mechanism = argument.clone();
                        if let Some(creds) = c.credentials.as_deref() {
                            self.ntlm.gssapi(s, creds);
                        }
                        "bind SASL"
                    }
                };
                let r = self.message_rec(s, id);
                r.version.get_or_insert(i64::from(b.version));
                r.opcode = Some(kind.into());
                "bind"
            }
            ProtocolOp::BindResponse(b) => {
                if let Some(creds) = b.server_sasl_creds.as_deref() {
                    self.ntlm.gssapi(s, creds);
                }
                if !self.sasl_mechanism.is_empty() && b.result.result_code.0 == 0 {
                    self.mode = Mode::MaybeWrapped;
                }
                let krb5 = b
                    .server_sasl_creds
                    .as_deref()
                    .is_some_and(spnego_accepts_krb5);
                if self.sasl_mechanism == "GSS-SPNEGO" && krb5 {
                    self.mode = Mode::Krb5;
                }
                "bind"
            }
            ProtocolOp::UnbindRequest => "unbind",
            ProtocolOp::SearchRequest(q) => {
                let r = self.search_rec(s, id);
                r.scope = Some(text::scope(q.scope.0).into());
                r.deref_aliases = Some(text::deref(q.deref_aliases.0).into());
                if !q.base_object.0.is_empty() {
                    r.base_object = Some(text::ascii(&q.base_object.0));
                }
                r.filter = Some(text::filter(&q.filter));
                return;
            }
            ProtocolOp::SearchResultEntry(_) => {
                self.search_rec(s, id).result_count += 1;
                return;
            }
            ProtocolOp::SearchResultDone(_) => {
                let r = self.search_rec(s, id);
                if let Some((res, diag)) = result {
                    r.result = Some(res.into());
                    if !diag.is_empty() {
                        r.diagnostic_message = Some(diag);
                    }
                }
                if let Some(i) = self.searches.iter().position(|m| m.message_id == id) {
                    s.emit(EventBody::LdapSearch(self.searches.remove(i)));
                }
                return;
            }
            ProtocolOp::SearchResultReference(_) => return,
            ProtocolOp::ModifyRequest(q) => {
                object = text::ascii(&q.object.0);
                argument = text::ascii(&text::changes(&q.changes));
                "modify"
            }
            ProtocolOp::ModifyResponse(_) | ProtocolOp::ModDnRequest(_) => "modify",
            ProtocolOp::ModDnResponse(_) => "modify",
            // Zeek's analyzer does not read add and compare requests.
            ProtocolOp::AddRequest(_) | ProtocolOp::AddResponse(_) => "add",
            ProtocolOp::DelRequest(dn) => {
                object = text::ascii(&dn.0);
                "delete"
            }
            ProtocolOp::DelResponse(_) => "delete",
            ProtocolOp::CompareRequest(_) | ProtocolOp::CompareResponse(_) => "compare",
            ProtocolOp::AbandonRequest(target) => {
                object = target.0.to_string();
                "abandon"
            }
            ProtocolOp::ExtendedRequest(q) => {
                let oid = text::ascii(&q.request_name.0);
                if oid == "1.3.6.1.4.1.1466.20037" {
                    self.start_tls_requested = true;
                }
                object = format!("{oid} ({})", text::extended(&oid));
                "extended"
            }
            ProtocolOp::ExtendedResponse(r) => {
                if self.start_tls_requested && r.result.result_code.0 == 0 {
                    self.mode = Mode::Tls;
                }
                "extended"
            }
            ProtocolOp::IntermediateResponse(_) => "intermediate",
        };
        let r = self.message_rec(s, id);
        if opcode != "bind" || r.opcode.is_none() {
            r.opcode = Some(opcode.into());
        }
        if let Some((res, diag)) = result {
            r.result = Some(res.into());
            if !diag.is_empty() {
                r.diagnostic_message = Some(diag);
            }
        }
        if !object.is_empty() {
            r.object = Some(object);
        }
        if !argument.is_empty() {
            r.argument = Some(argument);
        }
        let finished = matches!(
            m.protocol_op,
            ProtocolOp::BindResponse(_)
                | ProtocolOp::UnbindRequest
                | ProtocolOp::ModifyResponse(_)
                | ProtocolOp::AddResponse(_)
                | ProtocolOp::DelResponse(_)
                | ProtocolOp::ModDnResponse(_)
                | ProtocolOp::CompareResponse(_)
                | ProtocolOp::AbandonRequest(_)
                | ProtocolOp::ExtendedResponse(_)
        );
        if finished {
            self.finish_message(s, id);
        }
    }

    /// Reads what `buf` holds from `at`; returns where it stopped (the
    /// start of an incomplete unit), or `None` once the connection
    /// turned to TLS.
    fn units(&mut self, s: &mut Session<'_>, dir: Dir, buf: &[u8]) -> Option<usize> {
        let mut at = 0;
        loop {
            let rest = buf.get(at..).unwrap_or_default();
            if rest.is_empty() {
                return Some(at);
            }
            if self.mode == Mode::Tls {
                return None;
            }
            if self.mode == Mode::MaybeWrapped {
                self.mode = if rest[0] == 0x30 {
                    Mode::Clear
                } else {
                    match rest.get(4..6) {
                        None => return Some(at),
                        Some([5, 4])
                            if self.sasl_mechanism.is_empty()
                                || self.sasl_mechanism.starts_with("GSS") =>
                        {
                            Mode::Krb5
                        }
                        Some(_) => Mode::Wrapped,
                    }
                };
            }
            if self.mode == Mode::Clear && rest[0] != 0x30 {
                // Not a message: SASL buffers of a bind this parser did not
                // see end (the capture started later, or only one side of
                // it was seen); a Kerberos wrap token shows itself.
                let wrap_token = rest.get(4..6) == Some(&[5, 4][..]);
                if !self.sasl_mechanism.is_empty() || wrap_token {
                    self.mode = Mode::MaybeWrapped;
                    continue;
                }
                if rest.len() < 6 {
                    return Some(at);
                }
                s.weird("ldap_not_a_message");
                return Some(buf.len());
            }
            let len = if self.mode == Mode::Clear {
                match ber_len(rest) {
                    Some(n) => n,
                    None if rest.len() < 6 => return Some(at),
                    None => {
                        s.weird("ldap_bad_length");
                        return Some(buf.len());
                    }
                }
            } else {
                match rest.get(..4) {
                    Some(l) => 4 + u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize,
                    None => return Some(at),
                }
            };
            if len > MAX_MESSAGE {
                s.weird("ldap_message_too_long");
                self.skip[dir.index()] = len - rest.len().min(len);
                return Some(at + rest.len().min(len));
            }
            let Some(unit) = rest.get(..len) else {
                return Some(at);
            };
            at += len;
            match self.mode {
                Mode::Clear => self.decode(s, unit),
                Mode::Krb5 => self.wrap_token(s, unit.get(4..).unwrap_or_default()),
                _ => {}
            }
        }
    }

    fn decode(&mut self, s: &mut Session<'_>, unit: &[u8]) {
        match LdapMessage::from_ber(unit) {
            Ok((_, m)) => self.message(s, &m),
            Err(_) => s.weird("ldap_bad_message"),
        }
    }

    /// A Kerberos wrap token (RFC 4121 4.2.6.2): LDAP messages inside
    /// when it is signed only.
    fn wrap_token(&mut self, s: &mut Session<'_>, t: &[u8]) {
        let [0x05, 0x04, flags, 0xff, ec0, ec1, rrc0, rrc1, ..] = *t else {
            return;
        };
        if flags & 0x02 != 0 {
            return; // sealed
        }
        let ec = usize::from(u16::from_be_bytes([ec0, ec1]));
        let rrc = usize::from(u16::from_be_bytes([rrc0, rrc1]));
        let (head, tail) = if rrc == ec {
            (ec, 0)
        } else if rrc == 0 {
            (0, ec)
        } else {
            s.weird("ldap_krb5_wrap_rotation");
            return;
        };
        let Some(inner) = t.get(16 + head..t.len().saturating_sub(tail)) else {
            return;
        };
        let mut at = 0;
        while let Some(rest) = inner.get(at..).filter(|r| !r.is_empty()) {
            let Some(len) = ber_len(rest).filter(|&n| n <= rest.len()) else {
                s.weird("ldap_bad_length");
                return;
            };
            self.decode(s, &rest[..len]);
            at += len;
        }
    }
}

/// Total length (header and contents) of the BER element `b` starts
/// with; `None` when its header is incomplete or not a definite length.
fn ber_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let len = b
        .get(2..2 + n)?
        .iter()
        .fold(0usize, |a, &x| (a << 8) | usize::from(x));
    Some(2 + n + len)
}

/// Whether a SPNEGO negTokenResp accepts with Microsoft's Kerberos OID.
fn spnego_accepts_krb5(creds: &[u8]) -> bool {
    creds.first() == Some(&0xa1)
        && creds.windows(3).any(|w| w == [0x0a, 0x01, 0x00])
        && creds.windows(MS_KRB5.len()).any(|w| w == MS_KRB5)
}

impl Parser for Ldap {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        let d = dir.index();
        let skip = self.skip[d].min(data.len());
        self.skip[d] -= skip;
        let data = &data[skip..];
        if data.is_empty() {
            return Verdict::More;
        }
        let mut buf = std::mem::take(&mut self.buf[d]);
        let used = if buf.is_empty() {
            let used = self.units(s, dir, data);
            if let Some(u) = used {
                buf.extend_from_slice(data.get(u..).unwrap_or_default());
            }
            used.map(|_| 0)
        } else {
            buf.extend_from_slice(data);
            self.units(s, dir, &buf)
        };
        let Some(used) = used else {
            return Verdict::Done;
        };
        buf.drain(..used.min(buf.len()));
        self.buf[d] = buf;
        Verdict::More
    }

    fn gap(&mut self, _s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // Message boundaries are lost with the bytes.
        self.buf[dir.index()] = Vec::new();
        Verdict::Done
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.flush(s);
        self.ntlm.close(s);
    }
}

#[cfg(test)]
mod tests;
