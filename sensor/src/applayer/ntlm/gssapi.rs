//! Just enough DER to find NTLM inside GSSAPI/SPNEGO (RFC 4178): the
//! mechanism token of a NegTokenInit, and the negState and response token
//! of a NegTokenResp. Other mechanisms (Kerberos) are skipped.

/// SPNEGO's negState.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegResult {
    Completed,
    Incomplete,
    Rejected,
}

/// What one token holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Token<'a> {
    pub ntlm: Option<&'a [u8]>,
    pub neg_result: Option<NegResult>,
}

/// One DER element: tag and contents, and the rest after it.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, at) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let content = b.get(at..at.checked_add(len)?)?;
    Some((tag, content, &b[at + len..]))
}

/// Contents of the context-specific element `[n]` within a sequence.
fn field(seq: &[u8], n: u8) -> Option<&[u8]> {
    let mut rest = seq;
    while let Some((tag, content, next)) = tlv(rest) {
        if tag == 0xa0 + n {
            return Some(content);
        }
        rest = next;
    }
    None
}

fn ntlm(b: &[u8]) -> Option<&[u8]> {
    b.starts_with(b"NTLMSSP\0").then_some(b)
}

/// Reads a GSSAPI token (initial context token, a bare NegTokenInit or
/// NegTokenResp, or a bare NTLMSSP message).
pub fn parse(b: &[u8]) -> Token<'_> {
    let mut t = Token::default();
    if let Some(m) = ntlm(b) {
        t.ntlm = Some(m);
        return t;
    }
    let Some((tag, content, _)) = tlv(b) else {
        return t;
    };
    match tag {
        // [APPLICATION 0]: the mechanism OID, then the inner token.
        0x60 => {
            if let Some((0x06, _, inner)) = tlv(content) {
                if let Some(m) = ntlm(inner) {
                    t.ntlm = Some(m);
                } else if let Some((0xa0, init, _)) = tlv(inner) {
                    t.ntlm = neg_token_init(init);
                }
            }
        }
        0xa0 => t.ntlm = neg_token_init(content),
        0xa1 => {
            if let Some((0x30, seq, _)) = tlv(content) {
                if let Some((0x0a, state, _)) = field(seq, 0).and_then(tlv) {
                    t.neg_result = match state.first() {
                        Some(0) => Some(NegResult::Completed),
                        Some(1) => Some(NegResult::Incomplete),
                        Some(_) => Some(NegResult::Rejected),
                        None => None,
                    };
                }
                if let Some((0x04, token, _)) = field(seq, 2).and_then(tlv) {
                    t.ntlm = ntlm(token);
                }
            }
        }
        _ => {}
    }
    t
}

/// The NTLM mechanism token of a NegTokenInit, if that is what it carries.
fn neg_token_init(b: &[u8]) -> Option<&[u8]> {
    let (tag, seq, _) = tlv(b)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, token, _) = tlv(field(seq, 2)?)?;
    (tag == 0x04).then(|| ntlm(token)).flatten()
}
