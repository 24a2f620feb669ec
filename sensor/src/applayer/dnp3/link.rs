//! The DNP3 data link and transport layers over TCP or UDP, as Zeek's
//! analyzer reads them (`DNP3.cc`): link frames of a 10-byte header
//! (`05 64`, length, control, destination, source, CRC) and user data in
//! blocks of at most 16 bytes, each followed by its CRC; the first user
//! byte is the transport header (FIR, FIN, sequence). What one direction
//! yields is each application fragment once its last (FIN) frame is in.

use nom::number::complete::{le_u16, u8 as byte};
use nom::IResult;

/// Link header plus the transport byte: what is read before the length
/// of the rest is known.
const HEADER: usize = 11;
/// Bytes of an application fragment kept: the application header and the
/// first object header decide everything the record holds.
pub const KEPT: usize = 64;

/// Why a direction stopped being read (Zeek's weird names where it has
/// one). Zeek stops the whole analyzer on each of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    LacksMagic,
    HeaderChecksum,
    ChunkChecksum,
    ZeroLength,
    FirstChunkMissing,
}

impl LinkError {
    pub fn reason(self) -> &'static str {
        match self {
            LinkError::LacksMagic => "dnp3_header_lacks_magic",
            LinkError::HeaderChecksum => "dnp3_corrupt_header_checksum",
            LinkError::ChunkChecksum => "dnp3_corrupt_app_chunk_checksum",
            LinkError::ZeroLength => "dnp3_negative_or_zero_length_link_layer",
            LinkError::FirstChunkMissing => "dnp3_first_application_layer_chunk_missing",
        }
    }
}

/// A link header.
struct LinkHeader {
    len: u8,
    ctrl: u8,
    crc: u16,
}

fn link_header(i: &[u8]) -> IResult<&[u8], LinkHeader> {
    let (i, _start) = le_u16(i)?;
    let (i, len) = byte(i)?;
    let (i, ctrl) = byte(i)?;
    let (i, _dest) = le_u16(i)?;
    let (i, _src) = le_u16(i)?;
    let (i, crc) = le_u16(i)?;
    Ok((i, LinkHeader { len, ctrl, crc }))
}

/// DNP3's CRC-16 (polynomial 0x3D65, reflected as 0xA6BC), complemented.
const CRC_TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut j = 0;
        while j < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA6BC
            } else {
                crc >> 1
            };
            j += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
};

pub fn crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc = CRC_TABLE[usize::from((crc ^ u16::from(b)) as u8)] ^ (crc >> 8);
    }
    !crc
}

/// What one direction hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum Unit {
    /// The first bytes (at most [`KEPT`]) of a complete application
    /// fragment.
    Fragment(Vec<u8>),
    /// The direction cannot be read any further.
    Failed(LinkError),
    /// A link header's direction bit says the frame travels the other way
    /// than the connection's roles say (counted, not an error).
    WrongDirection,
}

/// One direction's link and transport state.
#[derive(Default)]
pub struct Link {
    /// The link frame being read (at most 292 bytes).
    frame: Vec<u8>,
    /// Length field of the frame whose body is being read, once its
    /// header is in.
    body_of: Option<u8>,
    first_seen: bool,
    fragment: Vec<u8>,
}

impl Link {
    /// Takes the next bytes of the direction (one TCP chunk or one
    /// datagram) and pushes what completes to `out`.
    pub fn push(&mut self, mut data: &[u8], is_orig: bool, out: &mut Vec<Unit>) {
        while !data.is_empty() {
            let len = match self.body_of {
                None => {
                    if !self.fill(HEADER, &mut data) {
                        return;
                    }
                    let Ok((_, h)) = link_header(&self.frame) else {
                        return;
                    };
                    if self.frame[..2] != [0x05, 0x64] {
                        out.push(Unit::Failed(LinkError::LacksMagic));
                        return;
                    }
                    if crc(&self.frame[..8]) != h.crc {
                        out.push(Unit::Failed(LinkError::HeaderChecksum));
                        return;
                    }
                    if h.len == 5 {
                        // A link frame with no user data (link status,
                        // reset). Zeek drops the rest of the chunk with it.
                        self.clear();
                        return;
                    }
                    if h.len < 5 {
                        out.push(Unit::Failed(LinkError::ZeroLength));
                        return;
                    }
                    if is_orig != (h.ctrl & 0x80 != 0) {
                        out.push(Unit::WrongDirection);
                    }
                    self.body_of = Some(h.len);
                    h.len
                }
                Some(len) => len,
            };
            let user = usize::from(len) - 5;
            let total = 10 + user + 2 * user.div_ceil(16);
            if !self.fill(total, &mut data) {
                return;
            }
            match self.frame_done(user) {
                Err(e) => {
                    out.push(Unit::Failed(e));
                    return;
                }
                Ok(true) => {
                    let f = std::mem::take(&mut self.fragment);
                    self.clear();
                    out.push(Unit::Fragment(f));
                }
                Ok(false) => {}
            }
        }
    }

    /// Copies bytes until the frame holds `target`; whether it does.
    fn fill(&mut self, target: usize, data: &mut &[u8]) -> bool {
        let want = target.saturating_sub(self.frame.len()).min(data.len());
        self.frame.extend_from_slice(&data[..want]);
        *data = &data[want..];
        self.frame.len() >= target
    }

    /// Checks a whole frame's blocks and adds its user data (without the
    /// transport byte) to the fragment; whether the frame carried FIN.
    fn frame_done(&mut self, user: usize) -> Result<bool, LinkError> {
        let tp = self.frame.get(10).copied().unwrap_or(0);
        let mut at = 10;
        let mut left = user;
        let mut skip = 1;
        while left > 0 {
            let n = left.min(16);
            let block = self.frame.get(at..at + n).unwrap_or(&[]);
            let sum = self.frame.get(at + n..at + n + 2).unwrap_or(&[]);
            if sum.len() != 2 || crc(block) != u16::from_le_bytes([sum[0], sum[1]]) {
                return Err(LinkError::ChunkChecksum);
            }
            let room = KEPT.saturating_sub(self.fragment.len());
            let data = block.get(skip..).unwrap_or(&[]);
            self.fragment
                .extend_from_slice(&data[..data.len().min(room)]);
            skip = 0;
            at += n + 2;
            left -= n;
        }
        let (fir, fin) = (tp & 0x40 != 0, tp & 0x80 != 0);
        if fir {
            self.first_seen = true;
        }
        if !fir && !self.first_seen {
            return Err(LinkError::FirstChunkMissing);
        }
        self.frame.clear();
        self.body_of = None;
        Ok(fin)
    }

    fn clear(&mut self) {
        self.frame.clear();
        self.body_of = None;
        self.first_seen = false;
        self.fragment.clear();
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Builds a link frame around `user` (transport byte included).
    pub fn frame(ctrl: u8, user: &[u8]) -> Vec<u8> {
        let mut f = vec![0x05, 0x64, (user.len() + 5) as u8, ctrl, 1, 0, 2, 0];
        let c = crc(&f);
        f.extend_from_slice(&c.to_le_bytes());
        for block in user.chunks(16) {
            f.extend_from_slice(block);
            f.extend_from_slice(&crc(block).to_le_bytes());
        }
        f
    }

    #[test]
    fn crc_matches_a_captured_header() {
        // 05 64 0a 44 03 00 04 00 | 7c ae: frame 4 of Zeek's dnp3.pcap
        // (an unsolicited response), CRC least significant byte first.
        assert_eq!(
            crc(&[0x05, 0x64, 0x0a, 0x44, 0x03, 0x00, 0x04, 0x00]),
            0xae7c
        );
    }

    #[test]
    fn reads_fragments_split_anyhow() {
        let user: Vec<u8> = [0xc0, 0xc3, 0x01].into_iter().chain(0..30).collect();
        let f = frame(0xc4, &user);
        for cut in 0..f.len() {
            let mut l = Link::default();
            let mut out = Vec::new();
            l.push(&f[..cut], true, &mut out);
            l.push(&f[cut..], true, &mut out);
            assert_eq!(out.len(), 1, "cut {cut}");
            let Unit::Fragment(app) = &out[0] else {
                panic!("{out:?}")
            };
            assert_eq!(&app[..3], &[0xc3, 0x01, 0]);
        }
    }

    #[test]
    fn bad_checksum_fails() {
        let mut f = frame(0xc4, &[0xc0, 0xc3, 0x01, 0x3c, 0x02, 0x06]);
        let last = f.len() - 1;
        f[last] ^= 1;
        let mut out = Vec::new();
        Link::default().push(&f, true, &mut out);
        assert_eq!(out, vec![Unit::Failed(LinkError::ChunkChecksum)]);
    }
}
