//! The journal: a local, append-only file of `token<TAB>kind<TAB>value`
//! lines, one per string token the pseudonymiser made, so that the
//! municipality's staff can later reveal names, users, MACs and paths that
//! no enumeration finds. This module owns its format and its bounds. IP
//! tokens are not journalled (the revealer enumerates the internal
//! networks), nor Community IDs (one per connection; nobody reveals them).
//!
//! The file holds clear identities, so it is created 0600 and a file that
//! group or others can read is refused, like the key. It never leaves the
//! sensor.
//!
//! Bounds: a set of the tokens already written (this run, and read back
//! from the file at open) keeps each token to one line. The set holds at
//! most `max_tokens` entries (default 200,000, about 10 MB); when full it
//! is emptied and starts again, so past the bound a token may be written
//! once more (readers ignore the repeat). Values longer than
//! [`MAX_VALUE_LEN`] bytes (long log lines) are not journalled, so their
//! tokens cannot be revealed from the journal. The file itself grows with
//! the number of distinct identities; rotate it like a log (the revealer
//! reads any number of journal files).

use crate::token::{parse_string_token, Kind};
use crate::PrivacyError;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Longest value written to the journal, in bytes.
pub const MAX_VALUE_LEN: usize = 512;

/// Default bound of the in-memory set of written tokens.
pub const DEFAULT_MAX_TOKENS: usize = 200_000;

/// An open journal, for the pseudonymiser to write.
pub struct Journal {
    path: PathBuf,
    file: File,
    written: HashSet<[u8; 21]>,
    max_tokens: usize,
    errors: u64,
    last_error: Option<String>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("written", &self.written.len())
            .field("errors", &self.errors)
            .finish()
    }
}

fn set_key(token: &str) -> Option<[u8; 21]> {
    let b = token.as_bytes();
    let mut k = [0u8; 21];
    k[0] = *b.get(1)?;
    k[1..].copy_from_slice(b.get(3..23)?);
    Some(k)
}

impl Journal {
    /// Opens (or creates, mode 0600, parent made) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, PrivacyError> {
        Journal::open_bounded(path, DEFAULT_MAX_TOKENS)
    }

    /// As [`Journal::open`], with another bound on the set of written
    /// tokens.
    pub fn open_bounded(path: &Path, max_tokens: usize) -> Result<Journal, PrivacyError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                PrivacyError::io(dir, "cannot create the directory for the journal", e)
            })?;
        }
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| PrivacyError::io(path, "cannot open the journal", e))?;
        let mode = file
            .metadata()
            .map_err(|e| PrivacyError::io(path, "cannot read the journal", e))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(PrivacyError::Journal {
                path: path.to_path_buf(),
                problem: format!(
                    "has mode {mode:04o}: the journal holds clear names; run `chmod 600 {}`",
                    path.display()
                ),
            });
        }
        // Only the tokens are read back (streamed, not the values): a
        // journal of years must not cost its size in memory at start.
        let mut written = HashSet::new();
        let reader = File::open(path)
            .map(BufReader::new)
            .map_err(|e| PrivacyError::io(path, "cannot read the journal", e))?;
        for line in reader.split(b'\n') {
            let line = line.map_err(|e| PrivacyError::io(path, "cannot read the journal", e))?;
            if written.len() >= max_tokens {
                break;
            }
            let token = line.split(|&b| b == b'\t').next().unwrap_or_default();
            if let Some(k) = std::str::from_utf8(token).ok().and_then(set_key) {
                written.insert(k);
            }
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            written,
            max_tokens: max_tokens.max(1),
            errors: 0,
            last_error: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes failed since open (the pseudonymiser goes on without them:
    /// a full disk must not stop events), and the last failure.
    pub fn errors(&self) -> (u64, Option<&str>) {
        (self.errors, self.last_error.as_deref())
    }

    /// Writes one line for `token` unless it was written already.
    pub(crate) fn record(&mut self, token: &str, kind: Kind, value: &str) {
        if value.len() > MAX_VALUE_LEN {
            return;
        }
        let Some(k) = set_key(token) else { return };
        if self.written.contains(&k) {
            return;
        }
        if self.written.len() >= self.max_tokens {
            self.written.clear();
        }
        let mut line = String::with_capacity(token.len() + value.len() + 16);
        line.push_str(token);
        line.push('\t');
        line.push_str(kind.name());
        line.push('\t');
        escape_into(value, &mut line);
        line.push('\n');
        // One write per line on an O_APPEND file: lines from this process
        // never interleave.
        match self.file.write_all(line.as_bytes()) {
            Ok(()) => {
                self.written.insert(k);
            }
            Err(e) => {
                self.errors += 1;
                self.last_error = Some(format!("{}: {e}", self.path.display()));
            }
        }
    }
}

fn escape_into(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub token: String,
    pub kind: Kind,
    pub value: String,
}

/// Reads every well-formed line of the journal at `path` (others are
/// skipped: a line cut short by a crash must not hide the rest).
pub fn read_journal(path: &Path) -> Result<Vec<JournalEntry>, PrivacyError> {
    let f = File::open(path).map_err(|e| PrivacyError::io(path, "cannot open the journal", e))?;
    let mut out = Vec::new();
    for line in BufReader::new(f).split(b'\n') {
        let line = line.map_err(|e| PrivacyError::io(path, "cannot read the journal", e))?;
        let Ok(line) = std::str::from_utf8(&line) else {
            continue;
        };
        let mut parts = line.splitn(3, '\t');
        let (Some(token), Some(kind), Some(value)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Some(kind) = Kind::from_name(kind) else {
            continue;
        };
        if parse_string_token(token) != Some(kind) {
            continue;
        }
        out.push(JournalEntry {
            token: token.to_string(),
            kind,
            value: unescape(value),
        });
    }
    Ok(out)
}
