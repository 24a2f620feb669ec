//! The `cursor` file: the next sequence number to hand out and the highest
//! released one. It is what keeps numbering monotonic after every segment was
//! released and deleted, and what tells a restarted spool where delivery
//! stopped. Plain text with a crc line, replaced atomically (temp file, fsync,
//! rename, fsync directory), so a crash leaves either the old or the new one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::SpoolError;
use crate::segment::sync_dir;

/// File name of the cursor inside the spool directory.
pub const CURSOR_FILE: &str = "cursor";
const HEADER: &str = "vagt-spool cursor v1";

/// Persistent positions of a spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Next sequence number the writer will hand out (≥ 1).
    pub next_seq: u64,
    /// All records with seq ≤ acked were released.
    pub acked: u64,
}

fn body(c: &Cursor) -> String {
    format!("{HEADER}\nnext_seq {}\nacked {}\n", c.next_seq, c.acked)
}

/// Serialises a cursor: the body and a crc32 line over it.
pub fn encode(c: &Cursor) -> String {
    let b = body(c);
    format!("{b}crc {:08x}\n", crc32fast::hash(b.as_bytes()))
}

/// Parses a cursor file's text; the error says what is wrong with it.
pub fn decode(text: &str) -> Result<Cursor, String> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(format!("first line is not {HEADER:?}"));
    }
    let field = |line: Option<&str>, name: &str| -> Result<u64, String> {
        line.and_then(|l| l.strip_prefix(name))
            .and_then(|v| v.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("missing or malformed {name:?} line"))
    };
    let next_seq = field(lines.next(), "next_seq")?;
    let acked = field(lines.next(), "acked")?;
    let crc_line = lines.next().and_then(|l| l.strip_prefix("crc "));
    let crc = crc_line
        .and_then(|v| u32::from_str_radix(v, 16).ok())
        .ok_or("missing or malformed crc line")?;
    let c = Cursor { next_seq, acked };
    if crc32fast::hash(body(&c).as_bytes()) != crc {
        return Err("checksum mismatch".into());
    }
    if next_seq == 0 || acked >= next_seq {
        return Err(format!(
            "inconsistent values: next_seq {next_seq}, acked {acked}"
        ));
    }
    Ok(c)
}

/// Path of the cursor file in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(CURSOR_FILE)
}

/// Loads the cursor: `Ok(None)` when there is none (a new spool), `Err` with
/// a human-readable reason when it exists but cannot be trusted.
pub fn load(dir: &Path) -> Result<Option<Cursor>, String> {
    let p = path(dir);
    match fs::read(&p) {
        Ok(bytes) => {
            let text =
                String::from_utf8(bytes).map_err(|_| format!("{}: not text", p.display()))?;
            decode(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", p.display()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: cannot read: {e}", p.display())),
    }
}

/// Replaces the cursor atomically and durably.
pub fn store(dir: &Path, c: &Cursor) -> Result<(), SpoolError> {
    let tmp = dir.join(format!("{CURSOR_FILE}.tmp"));
    let write = || -> io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(encode(c).as_bytes())?;
        f.sync_all()
    };
    if let Err(e) = write() {
        // Do not leave a partial temp file taking space on a full disk.
        let _ = fs::remove_file(&tmp);
        return Err(SpoolError::io("write cursor", &tmp, e));
    }
    let dst = path(dir);
    fs::rename(&tmp, &dst).map_err(|e| SpoolError::io("replace cursor", &dst, e))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_damage() {
        let c = Cursor {
            next_seq: 1234,
            acked: 1200,
        };
        let t = encode(&c);
        assert_eq!(decode(&t), Ok(c));
        let damaged = t.replace("1200", "1201");
        assert!(decode(&damaged).unwrap_err().contains("checksum"));
        assert!(decode("").is_err());
        assert!(decode(&t[..t.len() - 4]).is_err());
    }
}
