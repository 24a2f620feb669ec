//! Where a sink's text goes: standard output or a file, written in whole
//! lines only, held in memory no longer than the writer thread lets it.
//!
//! Records are held (up to [`HOLD`] bytes) so that a busy sensor writes in
//! large pieces, and are pushed out when that fills or when the writer's
//! flush timer says so. Only complete lines ever leave: a line being built
//! stays behind until its end arrives, so a sensor killed between writes
//! (kill -9, power to the process cut) leaves a file of complete lines.
//! One case remains: Linux may cut a single large `write` short at a page
//! boundary when the process is killed inside it; the next start finds
//! that cut line and removes it (see [`Existing::Append`]).
//!
//! A file is opened for appending by default, so a restarted sensor adds
//! to what it wrote before; [`Lines::reopen`] opens the path again, for
//! log rotation (`mv out.json out.json.1; kill -HUP`).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// Bytes held before they are written without waiting for the timer.
pub const HOLD: usize = 1 << 20;

/// A line is never longer than this (a connection record is about 700
/// bytes); an existing file whose last this-many bytes hold no line end is
/// not a file of records, and is left alone.
const LONGEST_LINE: u64 = 64 * 1024;

/// What to do with an output file that already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Keep its records and add to them. If it ends in an incomplete line
    /// (a write cut short by a crash), that line is cut off first, so the
    /// next record starts a line of its own; a complete record is never
    /// removed.
    Append,
    /// Start it afresh.
    Truncate,
}

enum To {
    Stdout(io::Stdout),
    File { path: PathBuf, file: File },
}

/// A destination that writes whole lines.
pub struct Lines {
    to: To,
    held: Vec<u8>,
}

impl Lines {
    /// Standard output.
    pub fn stdout() -> Lines {
        Lines {
            to: To::Stdout(io::stdout()),
            held: Vec::with_capacity(HOLD),
        }
    }

    /// The file at `path`; the second half tells of a repair made to it.
    pub fn file(path: &str, existing: Existing) -> io::Result<(Lines, Option<String>)> {
        let path = PathBuf::from(path);
        let (file, repair) = open(&path, existing)?;
        let lines = Lines {
            to: To::File { path, file },
            held: Vec::with_capacity(HOLD),
        };
        Ok((lines, repair))
    }

    /// Whether this is a file (which [`Lines::reopen`] opens again).
    pub fn is_file(&self) -> bool {
        matches!(self.to, To::File { .. })
    }

    /// Opens the file's path again, appending (a file moved away by log
    /// rotation is replaced by a new one; one still there is continued),
    /// after writing out every complete line to the file it had. Says what
    /// it did; standard output is left as it is.
    pub fn reopen(&mut self) -> io::Result<Option<String>> {
        self.push()?;
        let To::File { path, file } = &mut self.to else {
            return Ok(None);
        };
        let (fresh, repair) = open(path, Existing::Append)?;
        *file = fresh;
        let mut said = format!("reopened output file {}", path.display());
        if let Some(r) = repair {
            said = format!("{said}; {r}");
        }
        Ok(Some(said))
    }

    /// Writes every complete line held.
    fn push(&mut self) -> io::Result<()> {
        let Some(end) = self.held.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let whole = &self.held[..=end];
        match &mut self.to {
            To::Stdout(out) => {
                let mut out = out.lock();
                out.write_all(whole)?;
                out.flush()?;
            }
            // One call for everything held: with O_APPEND each call lands
            // at the end as one piece, whoever else appends.
            To::File { file, .. } => file.write_all(whole)?,
        }
        self.held.drain(..=end);
        Ok(())
    }
}

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.held.extend_from_slice(buf);
        if self.held.len() >= HOLD {
            self.push()?;
        }
        Ok(buf.len())
    }

    /// Writes the complete lines held; a line still being built waits for
    /// its end.
    fn flush(&mut self) -> io::Result<()> {
        self.push()
    }
}

/// Opens `path` as `existing` says, naming the file in any error.
fn open(path: &std::path::Path, existing: Existing) -> io::Result<(File, Option<String>)> {
    let named = |e: io::Error, what: &str| {
        io::Error::new(
            e.kind(),
            format!("cannot {what} output file {}: {e}", path.display()),
        )
    };
    if existing == Existing::Truncate {
        return Ok((File::create(path).map_err(|e| named(e, "create"))?, None));
    }
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| named(e, "open"))?;
    let repair = cut_incomplete_tail(&file).map_err(|e| named(e, "append to"))?;
    Ok((
        file,
        repair.map(|n| {
            format!(
                "cut an incomplete last line ({n} bytes, a write cut short) from {}",
                path.display()
            )
        }),
    ))
}

/// Cuts an incomplete last line off `file`; how many bytes it cut.
fn cut_incomplete_tail(file: &File) -> io::Result<Option<u64>> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let span = len.min(LONGEST_LINE);
    let mut tail = vec![0u8; span as usize];
    file.read_exact_at(&mut tail, len - span)?;
    if tail.last() == Some(&b'\n') {
        return Ok(None);
    }
    match tail.iter().rposition(|&b| b == b'\n') {
        Some(i) => {
            let keep = len - span + i as u64 + 1;
            file.set_len(keep)?;
            Ok(Some(len - keep))
        }
        // Records would have a line end in there: this is some other
        // file, or a record longer than any the sensor writes. Refuse
        // rather than cut what may not be ours.
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "its last {span} bytes hold no line end, so it is not a file of records; \
                 move it away, or pass --truncate (output.truncate = true) to start it afresh"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("vagt-lines-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    /// Appending keeps every complete line and cuts only a cut-short one,
    /// so the next record starts a line of its own.
    #[test]
    fn append_keeps_complete_lines_and_cuts_a_partial_tail() {
        let p = temp("append");
        std::fs::write(&p, b"{\"a\":1}\n{\"b\":2}\n{\"c\":").expect("write");
        let (mut l, repair) =
            Lines::file(p.to_str().expect("utf-8"), Existing::Append).expect("open");
        assert!(repair.is_some_and(|r| r.contains("(5 bytes")));
        l.write_all(b"{\"d\":4}\n").expect("write");
        l.flush().expect("flush");
        let text = std::fs::read_to_string(&p).expect("read");
        assert_eq!(text, "{\"a\":1}\n{\"b\":2}\n{\"d\":4}\n");

        // Truncating starts afresh.
        let (mut l, _) = Lines::file(p.to_str().expect("utf-8"), Existing::Truncate).expect("open");
        l.write_all(b"{\"e\":5}\n").expect("write");
        l.flush().expect("flush");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "{\"e\":5}\n");
        std::fs::remove_file(&p).ok();
    }

    /// A file with no line end near its end is not a file of records: it
    /// is refused, untouched, with what to do.
    #[test]
    fn a_file_without_line_ends_is_refused_untouched() {
        let p = temp("foreign");
        let junk = vec![7u8; 100_000];
        std::fs::write(&p, &junk).expect("write");
        let e = Lines::file(p.to_str().expect("utf-8"), Existing::Append)
            .err()
            .expect("refused");
        let msg = e.to_string();
        assert!(msg.contains(p.to_str().expect("utf-8")) && msg.contains("--truncate"));
        assert_eq!(std::fs::read(&p).expect("read"), junk);
        std::fs::remove_file(&p).ok();
    }

    /// Only complete lines leave; the one being built waits for its end.
    #[test]
    fn only_whole_lines_are_written() {
        let p = temp("whole");
        let (mut l, _) = Lines::file(p.to_str().expect("utf-8"), Existing::Truncate).expect("open");
        l.write_all(b"one\ntw").expect("write");
        l.flush().expect("flush");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "one\n");
        l.write_all(b"o\n").expect("write");
        l.flush().expect("flush");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "one\ntwo\n");

        // Rotation: the old file keeps its lines, the path gets the next.
        let moved = temp("whole.1");
        std::fs::rename(&p, &moved).expect("rotate");
        l.write_all(b"three\n").expect("write");
        let said = l.reopen().expect("reopen").expect("said");
        assert!(said.contains("reopened"));
        l.write_all(b"four\n").expect("write");
        l.flush().expect("flush");
        assert_eq!(
            std::fs::read_to_string(&moved).expect("read"),
            "one\ntwo\nthree\n"
        );
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "four\n");
        std::fs::remove_file(&p).ok();
        std::fs::remove_file(&moved).ok();
    }
}
