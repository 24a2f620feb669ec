use super::gssapi::{parse, NegResult};
use super::*;

pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// An NTLMSSP message of `kind` with `fixed` bytes of header (signature
/// and type included) and string fields at `fields` offsets.
fn message(
    kind: u32,
    fixed: usize,
    flags_at: usize,
    flags: u32,
    fields: &[(usize, Vec<u8>)],
) -> Vec<u8> {
    let mut m = vec![0u8; fixed];
    m[..8].copy_from_slice(b"NTLMSSP\0");
    m[8..12].copy_from_slice(&kind.to_le_bytes());
    m[flags_at..flags_at + 4].copy_from_slice(&flags.to_le_bytes());
    for (at, value) in fields {
        let off = m.len() as u32;
        m[*at..*at + 2].copy_from_slice(&(value.len() as u16).to_le_bytes());
        m[*at + 2..*at + 4].copy_from_slice(&(value.len() as u16).to_le_bytes());
        m[*at + 4..*at + 8].copy_from_slice(&off.to_le_bytes());
        m.extend_from_slice(value);
    }
    m
}

pub(crate) fn challenge(nb: &str, dns: &str, tree: &str) -> Vec<u8> {
    let mut av = Vec::new();
    for (id, v) in [(2u16, "DOM"), (1, nb), (3, dns), (5, tree)] {
        let v = utf16le(v);
        av.extend_from_slice(&id.to_le_bytes());
        av.extend_from_slice(&(v.len() as u16).to_le_bytes());
        av.extend_from_slice(&v);
    }
    av.extend_from_slice(&[0, 0, 0, 0]);
    message(
        2,
        56,
        20,
        NEGOTIATE_UNICODE | NEGOTIATE_TARGET_INFO,
        &[(40, av)],
    )
}

pub(crate) fn authenticate(domain: &str, user: &str, host: &str) -> Vec<u8> {
    message(
        3,
        72,
        60,
        NEGOTIATE_UNICODE,
        &[
            (28, utf16le(domain)),
            (36, utf16le(user)),
            (44, utf16le(host)),
        ],
    )
}

/// DER: tag, length, contents.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    if content.len() < 0x80 {
        v.push(content.len() as u8);
    } else {
        v.push(0x82);
        v.extend_from_slice(&(content.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(content);
    v
}

/// A NegTokenResp with an optional negState and response token.
pub(crate) fn neg_token_resp(state: Option<u8>, token: Option<&[u8]>) -> Vec<u8> {
    let mut seq = Vec::new();
    if let Some(st) = state {
        seq.extend(der(0xa0, &der(0x0a, &[st])));
    }
    if let Some(t) = token {
        seq.extend(der(0xa2, &der(0x04, t)));
    }
    der(0xa1, &der(0x30, &seq))
}

#[test]
fn spnego_tokens_yield_ntlm_and_the_result() {
    let auth = authenticate("CORP", "alice", "PC1");
    let resp = neg_token_resp(None, Some(&auth));
    let t = parse(&resp);
    assert_eq!(t.ntlm, Some(&auth[..]));
    assert_eq!(t.neg_result, None);
    let done = neg_token_resp(Some(0), None);
    let t = parse(&done);
    assert_eq!(t.neg_result, Some(NegResult::Completed));
    // An initial token: OID, then a NegTokenInit whose mechToken is NTLM.
    let nego = message(1, 32, 12, NEGOTIATE_UNICODE, &[]);
    let init = der(0xa0, &der(0x30, &der(0xa2, &der(0x04, &nego))));
    let mut inner = der(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
    inner.extend(init);
    assert_eq!(parse(&der(0x60, &inner)).ntlm, Some(&nego[..]));
    // Kerberos or garbage: nothing.
    assert_eq!(parse(&[0x60, 0x03, 0x06, 0x01, 0x2a]), Default::default());
    assert_eq!(parse(&[0xa1, 0xff, 0x30]), Default::default());
}

#[test]
fn truncated_or_hostile_blobs_never_panic() {
    let auth = authenticate("CORP", "alice", "PC1");
    let chal = challenge("SRV", "srv.corp.example", "corp.example");
    let resp = neg_token_resp(Some(1), Some(&chal));
    for blob in [&auth[..], &chal[..], &resp[..]] {
        for n in 0..blob.len() {
            let _ = parse(&blob[..n]);
        }
    }
    // Offsets and lengths pointing anywhere.
    let mut bad = auth.clone();
    bad[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    bad[28..30].copy_from_slice(&u16::MAX.to_le_bytes());
    assert_eq!(field(&bad, 28), None);
}
