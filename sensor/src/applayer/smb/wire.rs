//! The SMB2/3 wire format (MS-SMB2), as far as the logs need it: the
//! 64-byte header and the bodies of the commands whose fields Zeek's
//! `smb_mapping.log`, `smb_files.log` and the DCE/RPC and NTLM logs read.
//! Every read is checked; a body too short for its fields yields `None`.

/// Little-endian reads at an offset, checked.
pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let x = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([x[0], x[1]]))
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let x = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let x = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(x);
    Some(u64::from_le_bytes(a))
}

/// `len` bytes at `off` of `b`, checked.
pub(crate) fn slice(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}

/// UTF-16LE text as Zeek turns it into a string (lossy; a trailing NUL
/// dropped).
pub(crate) fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let units = match units.last() {
        Some(0) => &units[..units.len() - 1],
        _ => &units[..],
    };
    String::from_utf16_lossy(units)
}

pub const HEADER_LEN: usize = 64;

pub const SESSION_SETUP: u16 = 1;
pub const TREE_CONNECT: u16 = 3;
pub const TREE_DISCONNECT: u16 = 4;
pub const CREATE: u16 = 5;
pub const CLOSE: u16 = 6;
pub const READ: u16 = 8;
pub const WRITE: u16 = 9;
pub const IOCTL: u16 = 11;
pub const SET_INFO: u16 = 17;

pub const STATUS_PENDING: u32 = 0x0000_0103;
const STATUS_BUFFER_OVERFLOW: u32 = 0x8000_0005;
const STATUS_MORE_PROCESSING_REQUIRED: u32 = 0xC000_0016;

/// The fixed SMB2 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub status: u32,
    pub command: u16,
    pub next_command: u32,
    pub message_id: u64,
    /// Read where synchronous messages keep it, whatever the flags say, as
    /// Zeek reads it.
    pub tree_id: u32,
}

impl Header {
    pub fn parse(m: &[u8]) -> Option<Header> {
        if m.get(0..4)? != b"\xfeSMB" || m.len() < HEADER_LEN {
            return None;
        }
        Some(Header {
            status: u32_at(m, 8)?,
            command: u16_at(m, 12)?,
            next_command: u32_at(m, 20)?,
            message_id: u64_at(m, 24)?,
            tree_id: u32_at(m, 36)?,
        })
    }

    /// Whether a message carries its command's body rather than an error
    /// body: requests always (their status field is the channel sequence
    /// in SMB 3), responses on success and the two "more to come" codes.
    pub fn has_body(&self, is_orig: bool) -> bool {
        is_orig
            || matches!(
                self.status,
                0 | STATUS_BUFFER_OVERFLOW | STATUS_MORE_PROCESSING_REQUIRED
            )
    }
}

/// A file id as Zeek keys it: persistent plus volatile part (wrapping, as
/// the C++ sum does).
pub fn file_id(body: &[u8], at: usize) -> Option<u64> {
    Some(u64_at(body, at)?.wrapping_add(u64_at(body, at + 8)?))
}

/// A buffer named by an offset from the start of the message (header
/// included) and a length.
fn buffer(msg: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    slice(msg, off, len)
}

/// The security blob of a SESSION_SETUP request or response.
pub fn session_setup_blob(msg: &[u8], is_orig: bool) -> Option<&[u8]> {
    let b = HEADER_LEN;
    let (off, len) = if is_orig {
        (u16_at(msg, b + 12)?, u16_at(msg, b + 14)?)
    } else {
        (u16_at(msg, b + 4)?, u16_at(msg, b + 6)?)
    };
    buffer(msg, usize::from(off), usize::from(len))
}

/// The share path of a TREE_CONNECT request.
pub fn tree_connect_path(msg: &[u8]) -> Option<String> {
    let b = HEADER_LEN;
    let off = u16_at(msg, b + 4)?;
    let len = u16_at(msg, b + 6)?;
    Some(utf16(buffer(msg, usize::from(off), usize::from(len))?))
}

/// The share type of a TREE_CONNECT response.
pub fn tree_connect_share_type(msg: &[u8]) -> Option<u8> {
    msg.get(HEADER_LEN + 2).copied()
}

/// The file name of a CREATE request.
pub fn create_request_name(msg: &[u8]) -> Option<String> {
    let b = HEADER_LEN;
    let off = u16_at(msg, b + 44)?;
    let len = u16_at(msg, b + 46)?;
    if len == 0 {
        return Some(String::new());
    }
    Some(utf16(buffer(msg, usize::from(off), usize::from(len))?))
}

/// What a CREATE response says about the opened file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Created {
    pub fid: u64,
    pub size: u64,
    /// Raw FILETIMEs: modified, accessed, created, changed.
    pub times: [u64; 4],
}

pub fn create_response(msg: &[u8]) -> Option<Created> {
    let b = HEADER_LEN;
    let created = u64_at(msg, b + 8)?;
    let accessed = u64_at(msg, b + 16)?;
    let modified = u64_at(msg, b + 24)?;
    let changed = u64_at(msg, b + 32)?;
    Some(Created {
        size: u64_at(msg, b + 48)?,
        fid: file_id(msg, b + 64)?,
        times: [modified, accessed, created, changed],
    })
}

/// The file id of a READ, WRITE or CLOSE request, or of an IOCTL request
/// or response.
pub fn request_file_id(msg: &[u8], command: u16) -> Option<u64> {
    let at = match command {
        READ | WRITE => 16,
        CLOSE | IOCTL => 8,
        _ => return None,
    };
    file_id(msg, HEADER_LEN + at)
}

/// The data a WRITE request carries.
pub fn write_data(msg: &[u8]) -> Option<&[u8]> {
    let b = HEADER_LEN;
    let off = u16_at(msg, b + 2)?;
    let len = u32_at(msg, b + 4)?;
    buffer(msg, usize::from(off), len as usize)
}

/// The data a READ response carries.
pub fn read_response_data(msg: &[u8]) -> Option<&[u8]> {
    let b = HEADER_LEN;
    let off = *msg.get(b + 2)?;
    let len = u32_at(msg, b + 4)?;
    buffer(msg, usize::from(off), len as usize)
}

/// An IOCTL's control code and the buffer that travels in this direction
/// (input for requests, output for responses).
pub fn ioctl(msg: &[u8], is_orig: bool) -> Option<(u32, &[u8])> {
    let b = HEADER_LEN;
    let code = u32_at(msg, b + 4)?;
    let (off, len) = if is_orig {
        (u32_at(msg, b + 24)?, u32_at(msg, b + 28)?)
    } else {
        (u32_at(msg, b + 32)?, u32_at(msg, b + 36)?)
    };
    if len == 0 {
        return Some((code, &[]));
    }
    Some((code, buffer(msg, off as usize, len as usize)?))
}

/// What a SET_INFO request changes, as far as the file log cares.
#[derive(Clone, Debug, PartialEq)]
pub enum SetInfo {
    /// FileBasicInformation: new times.
    Basic {
        fid: u64,
    },
    /// FileRenameInformation: the new name.
    Rename {
        fid: u64,
        name: String,
    },
    /// FileDispositionInformation: whether delete is pending.
    Delete {
        fid: u64,
        pending: bool,
    },
    Other,
}

pub fn set_info(msg: &[u8]) -> Option<SetInfo> {
    let b = HEADER_LEN;
    let class = *msg.get(b + 2)?;
    let level = *msg.get(b + 3)?;
    let len = u32_at(msg, b + 4)? as usize;
    let off = usize::from(u16_at(msg, b + 8)?);
    let fid = file_id(msg, b + 16)?;
    if class != 1 {
        return Some(SetInfo::Other);
    }
    let data = buffer(msg, off, len)?;
    Some(match level {
        0x04 => SetInfo::Basic { fid },
        0x0a => {
            let n = u32_at(data, 16)? as usize;
            SetInfo::Rename {
                fid,
                name: utf16(slice(data, 20, n)?),
            }
        }
        0x0d => SetInfo::Delete {
            fid,
            pending: *data.first()? > 0,
        },
        _ => SetInfo::Other,
    })
}

/// A FILETIME as Zeek turns it into seconds since 1970.
pub fn filetime(t: u64) -> f64 {
    (t as f64 / 10_000_000.0) - 11_644_473_600.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(command: u16, status: u32, mid: u64, tid: u32) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_LEN];
        h[0..4].copy_from_slice(b"\xfeSMB");
        h[4..6].copy_from_slice(&64u16.to_le_bytes());
        h[8..12].copy_from_slice(&status.to_le_bytes());
        h[12..14].copy_from_slice(&command.to_le_bytes());
        h[24..32].copy_from_slice(&mid.to_le_bytes());
        h[36..40].copy_from_slice(&tid.to_le_bytes());
        h
    }

    #[test]
    fn reads_a_tree_connect_request() {
        let mut m = header(TREE_CONNECT, 0, 4, 0);
        let path: Vec<u8> = "\\\\srv\\share"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        m.extend_from_slice(&9u16.to_le_bytes());
        m.extend_from_slice(&0u16.to_le_bytes());
        m.extend_from_slice(&72u16.to_le_bytes());
        m.extend_from_slice(&(path.len() as u16).to_le_bytes());
        m.extend_from_slice(&path);
        let h = Header::parse(&m).unwrap();
        assert_eq!((h.command, h.message_id, h.tree_id), (TREE_CONNECT, 4, 0));
        assert_eq!(tree_connect_path(&m).as_deref(), Some("\\\\srv\\share"));
    }

    #[test]
    fn error_responses_have_no_body_but_requests_do() {
        let h = Header::parse(&header(CREATE, 0xC000_0034, 1, 1)).unwrap();
        assert!(!h.has_body(false));
        assert!(h.has_body(true));
    }

    #[test]
    fn short_bodies_are_refused_not_read() {
        let m = header(CREATE, 0, 1, 1);
        assert_eq!(create_response(&m), None);
        assert_eq!(create_request_name(&m), None);
        assert_eq!(set_info(&m), None);
        assert_eq!(Header::parse(&m[..40]), None);
    }

    #[test]
    fn filetime_matches_zeek() {
        // 2011-12-06 20:16:44.512058 UTC as in Zeek's smb2 baseline.
        let t = ((1_323_202_604.512_058_f64 + 11_644_473_600.0) * 1e7) as u64;
        assert_eq!(format!("{:.6}", filetime(t)), "1323202604.512058");
    }
}
