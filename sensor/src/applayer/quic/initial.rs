//! QUIC long headers and Initial packet protection.
//!
//! A long header (RFC 9000 §17.2) is readable without keys: the version,
//! both connection ids and the packet type, which is all quic.log's
//! `version`, `client_initial_dcid`, `client_scid`, `server_scid` and the
//! I/H/Z/R letters of `history` need. Initial packets are protected with
//! keys anyone can derive from the client's first Destination Connection
//! ID (RFC 9001 §5.2; RFC 9369 §3.3 gives version 2 its own salt, labels
//! and packet type numbers), so the ClientHello and ServerHello inside can
//! be read: [`decrypt_initial`] removes header protection (§5.4) and
//! opens the AES-128-GCM payload (§5.3).

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes_gcm::aead::{AeadInOut, Nonce};
use aes_gcm::Aes128Gcm;
use hkdf::Hkdf;
use sha2::Sha256;
use std::borrow::Cow;

pub const VERSION_1: u32 = 0x0000_0001;
pub const VERSION_2: u32 = 0x6b33_43cf;
pub const DRAFT_29: u32 = 0xff00_001d;

/// Why a datagram yielded no Initial payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitialError {
    /// A short-header packet (or not QUIC): no long header to read.
    NotLongHeader,
    /// The header ends before a field it announces.
    Truncated,
    /// A connection id longer than 20 bytes in a version that forbids it.
    ConnectionIdTooLong,
    /// A version whose Initial protection is not known here (the header
    /// still parses; quic.log calls these "unknown-<hex>").
    UnknownVersion(u32),
    /// Not an Initial packet.
    NotInitial,
    /// The packet is too short to hold the header protection sample.
    NoSample,
    /// The AEAD tag does not verify: wrong keys (not the client's first
    /// DCID), a damaged packet, or not QUIC at all.
    Decrypt,
}

/// Long-header packet types, named by meaning (their numbers differ
/// between versions 1 and 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
    /// Version 0: a Version Negotiation packet.
    VersionNegotiation,
    /// A version this module does not know: the type bits mean nothing.
    Unknown,
}

/// A parsed long header; slices borrow from the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongHeader<'a> {
    pub version: u32,
    pub packet_type: PacketType,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    /// An Initial's token (empty otherwise).
    pub token: &'a [u8],
    /// Where the (protected) packet number begins.
    pub pn_offset: usize,
    /// The whole packet's length in the datagram; coalesced packets
    /// follow it (RFC 9000 §12.2).
    pub packet_len: usize,
}

/// quic.log `version`, as Zeek's `QUIC::version_strings` writes it.
pub fn version_name(v: u32) -> Cow<'static, str> {
    Cow::Borrowed(match v {
        VERSION_1 => "1",
        VERSION_2 => "quicv2",
        0xff00_0016 => "draft-22",
        0xff00_0017 => "draft-23",
        0xff00_0018 => "draft-24",
        0xff00_0019 => "draft-25",
        0xff00_001a => "draft-26",
        0xff00_001b => "draft-27",
        0xff00_001c => "draft-28",
        DRAFT_29 => "draft-29",
        0xff00_001e => "draft-30",
        // Zeek's table names 0xff00001f "draft-30" too; kept for parity.
        0xff00_001f => "draft-30",
        0xff00_0020 => "draft-32",
        0xff00_0021 => "draft-33",
        0xff00_0022 => "draft-34",
        0xface_b001 => "mvfst (faceb001)",
        0xface_b002 => "mvfst (faceb002)",
        0xface_b00e => "mvfst (faceb00e)",
        0xface_b011 => "mvfst (faceb011)",
        0xface_b012 => "mvfst (faceb012)",
        0xface_b013 => "mvfst (faceb013)",
        _ => return Cow::Owned(format!("unknown-{v:x}")),
    })
}

/// Protection parameters of a version: initial salt and label prefix.
fn protection(version: u32) -> Option<(&'static [u8; 20], &'static str)> {
    const SALT_V1: [u8; 20] = [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c,
        0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ];
    const SALT_V2: [u8; 20] = [
        0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d,
        0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
    ];
    // draft-ietf-quic-tls-29 §5.2, used by drafts 29 to 32.
    const SALT_D29: [u8; 20] = [
        0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11,
        0xe0, 0x43, 0x90, 0xa8, 0x99,
    ];
    match version {
        VERSION_1 | 0xff00_0021 | 0xff00_0022 => Some((&SALT_V1, "quic")),
        VERSION_2 => Some((&SALT_V2, "quicv2")),
        0xff00_001d..=0xff00_0020 => Some((&SALT_D29, "quic")),
        _ => None,
    }
}

fn packet_type(version: u32, bits: u8) -> PacketType {
    let v2 = version == VERSION_2;
    match (version, bits) {
        (0, _) => PacketType::VersionNegotiation,
        _ if protection(version).is_none() && version >> 8 != 0xff_0000 => PacketType::Unknown,
        (_, 0) if v2 => PacketType::Retry,
        (_, 1) if v2 => PacketType::Initial,
        (_, 2) if v2 => PacketType::ZeroRtt,
        (_, 3) if v2 => PacketType::Handshake,
        (_, 0) => PacketType::Initial,
        (_, 1) => PacketType::ZeroRtt,
        (_, 2) => PacketType::Handshake,
        _ => PacketType::Retry,
    }
}

/// A variable-length integer (RFC 9000 §16) at `b[*pos]`.
pub(crate) fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *b.get(*pos)?;
    let len = 1usize << (first >> 6);
    let bytes = b.get(*pos..*pos + len)?;
    let mut v = u64::from(first & 0x3f);
    for x in &bytes[1..] {
        v = (v << 8) | u64::from(*x);
    }
    *pos += len;
    Some(v)
}

/// Reads the long header at the start of `packet` (a datagram, or what is
/// left of it after earlier coalesced packets).
pub fn parse_long_header(packet: &[u8]) -> Result<LongHeader<'_>, InitialError> {
    let first = *packet.first().ok_or(InitialError::Truncated)?;
    if first & 0x80 == 0 {
        return Err(InitialError::NotLongHeader);
    }
    let version = u32::from_be_bytes(
        packet
            .get(1..5)
            .and_then(|v| v.try_into().ok())
            .ok_or(InitialError::Truncated)?,
    );
    let mut pos = 5;
    let cid = |pos: &mut usize| -> Result<&[u8], InitialError> {
        let len = usize::from(*packet.get(*pos).ok_or(InitialError::Truncated)?);
        // Versions 1 and 2 cap connection ids at 20 bytes (RFC 9000
        // §17.2); other versions may use longer ones.
        if len > 20 && protection(version).is_some() {
            return Err(InitialError::ConnectionIdTooLong);
        }
        let id = packet
            .get(*pos + 1..*pos + 1 + len)
            .ok_or(InitialError::Truncated)?;
        *pos += 1 + len;
        Ok(id)
    };
    let dcid = cid(&mut pos)?;
    let scid = cid(&mut pos)?;
    let packet_type = packet_type(version, (first >> 4) & 0x03);
    let mut header = LongHeader {
        version,
        packet_type,
        dcid,
        scid,
        token: &[],
        pn_offset: pos,
        packet_len: packet.len(),
    };
    match packet_type {
        // Nothing after the ids can be read (or need be): the rest of the
        // datagram is this packet.
        PacketType::Retry | PacketType::VersionNegotiation | PacketType::Unknown => {
            return Ok(header)
        }
        PacketType::Initial => {
            let tlen = varint(packet, &mut pos).ok_or(InitialError::Truncated)?;
            let tlen = usize::try_from(tlen).map_err(|_| InitialError::Truncated)?;
            header.token = packet
                .get(pos..pos.saturating_add(tlen))
                .ok_or(InitialError::Truncated)?;
            pos += tlen;
        }
        PacketType::ZeroRtt | PacketType::Handshake => {}
    }
    let len = varint(packet, &mut pos).ok_or(InitialError::Truncated)?;
    let len = usize::try_from(len).map_err(|_| InitialError::Truncated)?;
    header.pn_offset = pos;
    header.packet_len = pos
        .checked_add(len)
        .filter(|end| *end <= packet.len())
        .ok_or(InitialError::Truncated)?;
    Ok(header)
}

/// The long headers of the packets coalesced in one datagram, in order,
/// up to the first short-header packet or the first that does not parse.
pub fn coalesced(datagram: &[u8]) -> Vec<LongHeader<'_>> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while let Ok(h) = parse_long_header(rest) {
        out.push(h);
        // A zero-length packet cannot happen (the header is in it), but a
        // loop must not rely on that.
        if h.packet_len == 0 || h.packet_len >= rest.len() {
            break;
        }
        rest = &rest[h.packet_len..];
    }
    out
}

/// The keys protecting one direction's Initial packets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialKeys {
    pub key: [u8; 16],
    pub iv: [u8; 12],
    pub hp: [u8; 16],
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
fn expand_label(secret: &[u8], label: &str, out: &mut [u8]) -> Option<()> {
    let hk = Hkdf::<Sha256>::from_prk(secret).ok()?;
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&u16::try_from(out.len()).ok()?.to_be_bytes());
    info.push(u8::try_from(full.len()).ok()?);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    hk.expand(&info, out).ok()
}

/// The Initial keys of `version` for the client's first DCID, for the
/// client's packets or (with `server`) the server's.
pub fn initial_keys(version: u32, client_dcid: &[u8], server: bool) -> Option<InitialKeys> {
    let (salt, prefix) = protection(version)?;
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), client_dcid);
    let mut secret = [0u8; 32];
    expand_label(
        &prk,
        if server { "server in" } else { "client in" },
        &mut secret,
    )?;
    let mut keys = InitialKeys {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&secret, &format!("{prefix} key"), &mut keys.key)?;
    expand_label(&secret, &format!("{prefix} iv"), &mut keys.iv)?;
    expand_label(&secret, &format!("{prefix} hp"), &mut keys.hp)?;
    Some(keys)
}

/// A decrypted Initial packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decrypted {
    pub packet_number: u64,
    /// The frames.
    pub payload: Vec<u8>,
}

/// Removes the protection of the Initial packet at the start of `packet`
/// (whose header is `h`), with the keys derived from `client_dcid` (the
/// DCID of the client's first Initial; for the client's own first packet
/// that is `h.dcid`). `server` picks the server's keys.
pub fn decrypt_initial(
    packet: &[u8],
    h: &LongHeader<'_>,
    client_dcid: &[u8],
    server: bool,
) -> Result<Decrypted, InitialError> {
    if h.packet_type != PacketType::Initial {
        return Err(InitialError::NotInitial);
    }
    let keys = initial_keys(h.version, client_dcid, server)
        .ok_or(InitialError::UnknownVersion(h.version))?;
    let packet = packet.get(..h.packet_len).ok_or(InitialError::Truncated)?;
    // The sample starts 4 bytes after the packet number's start whatever
    // its real length (RFC 9001 §5.4.2).
    let sample: [u8; 16] = packet
        .get(h.pn_offset + 4..h.pn_offset + 20)
        .and_then(|s| s.try_into().ok())
        .ok_or(InitialError::NoSample)?;
    let hp = aes::Aes128::new_from_slice(&keys.hp).map_err(|_| InitialError::Decrypt)?;
    let mut mask = aes::Block::from(sample);
    hp.encrypt_block(&mut mask);
    let first = packet[0] ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 0x03) + 1;
    let mut header = packet[..h.pn_offset + pn_len].to_vec();
    header[0] = first;
    let mut pn: u64 = 0;
    for i in 0..pn_len {
        header[h.pn_offset + i] ^= mask[1 + i];
        pn = (pn << 8) | u64::from(header[h.pn_offset + i]);
    }
    // The first Initials number from 0, so the truncated number is the
    // full one (no earlier packet to decode it against, §17.1).
    let mut nonce = keys.iv;
    for (i, b) in pn.to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= b;
    }
    let mut payload = packet[h.pn_offset + pn_len..].to_vec();
    let aead = Aes128Gcm::new_from_slice(&keys.key).map_err(|_| InitialError::Decrypt)?;
    aead.decrypt_in_place(&Nonce::<Aes128Gcm>::from(nonce), &header, &mut payload)
        .map_err(|_| InitialError::Decrypt)?;
    Ok(Decrypted {
        packet_number: pn,
        payload,
    })
}

#[cfg(test)]
#[path = "initial_tests.rs"]
pub(crate) mod tests;
