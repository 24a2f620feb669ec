//! The spool's error type. Every variant names the path and the operation
//! that failed, so an operator can act on the message alone (free disk space,
//! fix permissions, move the spool directory).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Errors returned by the spool. IO errors keep the path and what the spool
/// was doing; `is_disk_full()` tells the caller whether freeing space helps.
#[derive(Debug)]
pub enum SpoolError {
    /// An IO operation on `path` failed while the spool was doing `what`.
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A payload is larger than [`crate::MAX_PAYLOAD`]; it was not appended.
    TooLarge { len: usize, max: usize },
    /// The uncommitted batch grew beyond what one segment can index; commit
    /// more often.
    BatchTooLarge { bytes: u64 },
    /// The configuration cannot work (for example `segment_bytes` of 0).
    Config(String),
}

impl SpoolError {
    pub(crate) fn io(what: &'static str, path: &Path, source: io::Error) -> Self {
        SpoolError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }

    /// True when the underlying error is "no space left on device" (or a
    /// quota): the caller should count the loss and free space.
    pub fn is_disk_full(&self) -> bool {
        match self {
            SpoolError::Io { source, .. } => {
                matches!(
                    source.kind(),
                    io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
                ) || source.raw_os_error() == Some(28)
            }
            _ => false,
        }
    }
}

impl fmt::Display for SpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpoolError::Io { what, path, source } => {
                write!(f, "spool: {what} {}: {source}", path.display())?;
                if self.is_disk_full() {
                    write!(f, " (the disk is full: free space or lower max_bytes)")?;
                } else if source.kind() == io::ErrorKind::PermissionDenied {
                    write!(f, " (check the directory's owner and permissions)")?;
                }
                Ok(())
            }
            SpoolError::TooLarge { len, max } => write!(
                f,
                "spool: payload of {len} bytes exceeds the maximum of {max} bytes; it was not spooled"
            ),
            SpoolError::BatchTooLarge { bytes } => write!(
                f,
                "spool: {bytes} uncommitted bytes in one batch; call commit() more often"
            ),
            SpoolError::Config(msg) => write!(f, "spool: bad configuration: {msg}"),
        }
    }
}

impl std::error::Error for SpoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpoolError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
