//! The municipality's pseudonymisation key: 32 random bytes in a local
//! file that only the sensor's user may read. This module owns creating,
//! checking and loading that file; nothing else touches it.
//!
//! Whoever holds the key can reverse every token of the municipality (by
//! enumerating addresses, or trying candidate names), so the file is made
//! with mode 0600 and a file that group or others can read is refused
//! rather than silently used.

use crate::PrivacyError;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Length of the key in bytes.
pub const KEY_LEN: usize = 32;

/// A pseudonymisation key. Its `Debug` does not print the bytes.
#[derive(Clone)]
pub struct Key([u8; KEY_LEN]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A key from given bytes (tests, or a key kept elsewhere).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Key {
        Key(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Loads the key at `path`, or creates it (32 bytes from the kernel's
    /// random source, mode 0600, parent directory made if missing) when no
    /// file is there.
    pub fn load_or_create(path: &Path) -> Result<Key, PrivacyError> {
        match fs::symlink_metadata(path) {
            Ok(_) => Key::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match Key::create(path) {
                Ok(k) => Ok(k),
                // Another process (a second sensor start) made it between
                // our look and our create: use theirs.
                Err(PrivacyError::Io { ref source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists =>
                {
                    Key::load(path)
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(PrivacyError::io(path, "cannot look at the key file", e)),
        }
    }

    /// Loads the key at `path`, which must exist (for `reveal`: a key
    /// made now would reverse nothing).
    pub fn load(path: &Path) -> Result<Key, PrivacyError> {
        let meta = fs::metadata(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PrivacyError::Key {
                    path: path.to_path_buf(),
                    problem: "does not exist: no event was pseudonymised with a key there;                               check privacy.key_file"
                        .into(),
                }
            } else {
                PrivacyError::io(path, "cannot read the key file", e)
            }
        })?;
        if !meta.is_file() {
            return Err(PrivacyError::Key {
                path: path.to_path_buf(),
                problem: "is not a regular file; remove it or point key_file elsewhere".into(),
            });
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(PrivacyError::Key {
                path: path.to_path_buf(),
                problem: format!(
                    "has mode {mode:04o}: group or others may read the key that reverses every \
                     token; run `chmod 600 {}`",
                    path.display()
                ),
            });
        }
        let mut f = fs::File::open(path)
            .map_err(|e| PrivacyError::io(path, "cannot open the key file", e))?;
        let mut buf = Vec::with_capacity(KEY_LEN + 1);
        // Read one byte more than a key, so a longer file is noticed
        // without reading an arbitrarily large one.
        Read::by_ref(&mut f)
            .take(KEY_LEN as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| PrivacyError::io(path, "cannot read the key file", e))?;
        let bytes: [u8; KEY_LEN] = buf.as_slice().try_into().map_err(|_| PrivacyError::Key {
            path: path.to_path_buf(),
            problem: format!(
                "holds {}{} bytes, a key is exactly {KEY_LEN}: restore the right file from \
                 backup (a new key makes new tokens that no longer match earlier ones)",
                buf.len(),
                if buf.len() > KEY_LEN { " or more" } else { "" }
            ),
        })?;
        Ok(Key(bytes))
    }

    fn create(path: &Path) -> Result<Key, PrivacyError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| {
                PrivacyError::io(dir, "cannot create the directory for the key file", e)
            })?;
        }
        let mut bytes = [0u8; KEY_LEN];
        fs::File::open("/dev/urandom")
            .and_then(|mut r| r.read_exact(&mut bytes))
            .map_err(|e| {
                PrivacyError::io(Path::new("/dev/urandom"), "cannot read random bytes", e)
            })?;
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true) // O_EXCL: never overwrite a key
            .mode(0o600)
            .open(path)
            .map_err(|e| PrivacyError::io(path, "cannot create the key file", e))?;
        // The umask can only remove bits, but say 0600 explicitly anyway.
        f.set_permissions(fs::Permissions::from_mode(0o600))
            .and_then(|()| f.write_all(&bytes))
            .and_then(|()| f.sync_all())
            .map_err(|e| {
                // Leave no short key behind for the next start to refuse.
                let _ = fs::remove_file(path);
                PrivacyError::io(path, "cannot write the key file", e)
            })?;
        Ok(Key(bytes))
    }
}
