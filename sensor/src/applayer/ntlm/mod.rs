//! NTLM authentication as Zeek's `ntlm.log`: the NTLMSSP messages
//! (negotiate, challenge, authenticate) and the GSSAPI/SPNEGO tokens that
//! carry them, wherever a protocol parser finds them (SMB session setup,
//! DCE/RPC auth trailers, LDAP SASL binds). One record per connection,
//! like Zeek's `c$ntlm`: written when SPNEGO reports the result, or when
//! the connection ends.
//!
//! This module owns no connection: the protocol parsers hold an
//! [`NtlmState`] and hand it the security blobs they find.

mod gssapi;

pub use gssapi::NegResult;

use super::smb::wire::{u16_at, u32_at, utf16};
use super::{ConnIdent, Session};
use vagt_schema::{EventBody, NtlmRecord};

const SIGNATURE: &[u8] = b"NTLMSSP\0";
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
/// Longest string field kept; NTLM names are far shorter.
const MAX_NAME: usize = 512;

/// One connection's NTLM authentication, as Zeek's `NTLM::Info`.
#[derive(Default)]
pub struct NtlmState {
    rec: Option<NtlmRecord>,
    done: bool,
}

impl NtlmState {
    /// A GSSAPI token (or a bare NTLMSSP message) from either side.
    pub fn gssapi(&mut self, s: &mut Session<'_>, blob: &[u8]) {
        // negState comes before the response token in the DER, and Zeek
        // raises the events in that order.
        let token = gssapi::parse(blob);
        if let Some(r) = token.neg_result {
            self.neg_result(s, r);
        }
        if let Some(ntlm) = token.ntlm {
            self.ntlmssp(s, ntlm);
        }
    }

    /// An NTLMSSP message.
    pub fn ntlmssp(&mut self, s: &mut Session<'_>, m: &[u8]) {
        if !m.starts_with(SIGNATURE) {
            s.weird("ntlm_bad_signature");
            return;
        }
        match u32_at(m, 8) {
            Some(1) => {
                self.session(s);
            }
            Some(2) => self.challenge(s, m),
            Some(3) => self.authenticate(s, m),
            _ => s.weird("ntlm_unknown_message_type"),
        }
    }

    /// SPNEGO's negState: accept-incomplete is ignored; completion or
    /// rejection sets `success` and writes the record once.
    pub fn neg_result(&mut self, s: &mut Session<'_>, r: NegResult) {
        if self.done || r == NegResult::Incomplete {
            return;
        }
        let Some(rec) = self.rec.as_mut() else {
            return;
        };
        rec.success = Some(r == NegResult::Completed);
        s.emit(EventBody::Ntlm(rec.clone()));
        self.done = true;
    }

    /// The connection ended: a record not yet written is written now.
    pub fn close(&mut self, s: &mut Session<'_>) {
        if !self.done {
            if let Some(rec) = self.rec.take() {
                s.emit(EventBody::Ntlm(rec));
            }
            self.done = true;
        }
    }

    fn session(&mut self, s: &Session<'_>) -> &mut NtlmRecord {
        self.rec.get_or_insert_with(|| NtlmRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            username: None,
            hostname: None,
            domainname: None,
            server_nb_computer_name: None,
            server_dns_computer_name: None,
            server_tree_name: None,
            success: None,
        })
    }

    fn challenge(&mut self, s: &mut Session<'_>, m: &[u8]) {
        let Some(flags) = u32_at(m, 20) else {
            s.weird("ntlm_truncated_challenge");
            return;
        };
        let info = if flags & NEGOTIATE_TARGET_INFO != 0 {
            field(m, 40)
        } else {
            None
        };
        let rec = self.session(s);
        let Some(mut av) = info else {
            return;
        };
        // AV pairs: id, length, value; MsvAvEOL (0) ends the list.
        while let (Some(id), Some(len)) = (u16_at(av, 0), u16_at(av, 2)) {
            let Some(value) = av.get(4..4 + usize::from(len)) else {
                break;
            };
            let text = || Some(utf16(&value[..value.len().min(MAX_NAME)]));
            match id {
                0 => break,
                1 => rec.server_nb_computer_name = text(),
                3 => rec.server_dns_computer_name = text(),
                5 => rec.server_tree_name = text(),
                _ => {}
            }
            av = &av[4 + usize::from(len)..];
        }
    }

    fn authenticate(&mut self, s: &mut Session<'_>, m: &[u8]) {
        let Some(flags) = u32_at(m, 60) else {
            s.weird("ntlm_truncated_authenticate");
            return;
        };
        let text = |at: usize| {
            let b = field(m, at)?;
            let b = &b[..b.len().min(MAX_NAME)];
            Some(if flags & NEGOTIATE_UNICODE != 0 {
                utf16(b)
            } else {
                String::from_utf8_lossy(b).into_owned()
            })
        };
        let (domain, user, host) = (text(28), text(36), text(44));
        let rec = self.session(s);
        // Zeek keeps earlier values when a field is absent.
        if domain.is_some() {
            rec.domainname = domain;
        }
        if host.is_some() {
            rec.hostname = host;
        }
        if user.is_some() {
            rec.username = user;
        }
    }
}

/// A security buffer (length, allocated length, offset from the message
/// start) at `at`; empty fields count as absent, as in Zeek.
fn field(m: &[u8], at: usize) -> Option<&[u8]> {
    let len = usize::from(u16_at(m, at)?);
    let off = u32_at(m, at + 4)? as usize;
    if len == 0 {
        return None;
    }
    m.get(off..off.checked_add(len)?)
}

#[cfg(test)]
pub(crate) mod tests;
