//! Hashes of an HTTP body (and of an FTP transfer, `ftp::data`), as
//! Zeek's files framework writes them to
//! `files.log` (`frameworks/files/hash-all-files`) and Suricata's
//! `force-hash` computes them: over the body as the application received
//! it, after transfer and content decoding. Malware feeds list downloads
//! by these hashes, and the indicator detector holds `file_hash` entries
//! against them.
//!
//! Which hashes are taken is `[app] file_hashes` (none by default: like
//! Zeek's and Suricata's, hashing every body costs, and MD5 most).
//!
//! A hash stands only for a whole body: one that a gap, a failed decoder,
//! the inspection depth or the connection's end cut short gets none, and
//! neither does a 206 reply (a piece of a file) or a multipart body (a form
//! whose files are its parts).

use md5::Md5;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A hash algorithm of `[app] file_hashes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
}

/// The algorithms chosen, a bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Selection(u8);

impl Selection {
    /// All three.
    pub const ALL: Selection = Selection(0b111);

    pub fn of(list: &[Algorithm]) -> Selection {
        Selection(list.iter().fold(0, |bits, &a| bits | 1 << a as u8))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn has(self, a: Algorithm) -> bool {
        self.0 & 1 << a as u8 != 0
    }
}

/// The running hashes of one body.
#[derive(Clone, Default)]
pub struct Hashes {
    md5: Option<Md5>,
    sha1: Option<Sha1>,
    sha256: Option<Sha256>,
}

/// A whole body's hashes, lower-case hex.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digests {
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
}

impl Hashes {
    pub fn new(chosen: Selection) -> Hashes {
        Hashes {
            md5: chosen.has(Algorithm::Md5).then(Md5::new),
            sha1: chosen.has(Algorithm::Sha1).then(Sha1::new),
            sha256: chosen.has(Algorithm::Sha256).then(Sha256::new),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.md5 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
    }

    pub fn finish(self) -> Digests {
        let hex = |d: &[u8]| crate::applayer::hex(d);
        Digests {
            md5: self.md5.map(|h| hex(&h.finalize())),
            sha1: self.sha1.map(|h| hex(&h.finalize())),
            sha256: self.sha256.map(|h| hex(&h.finalize())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_hash_as_the_whole() {
        let all = Selection::of(&[Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256]);
        let mut h = Hashes::new(all);
        h.update(b"ab");
        h.update(b"c");
        let d = h.finish();
        // RFC 1321, FIPS 180 test vectors for "abc".
        assert_eq!(d.md5.as_deref(), Some("900150983cd24fb0d6963f7d28e17f72"));
        assert_eq!(
            d.sha1.as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            d.sha256.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn only_the_chosen_hashes_are_taken() {
        let mut h = Hashes::new(Selection::of(&[Algorithm::Sha256]));
        h.update(b"abc");
        let d = h.finish();
        assert_eq!((d.md5, d.sha1), (None, None));
        assert!(d.sha256.is_some());
        assert!(Selection::of(&[]).is_empty());
    }
}
