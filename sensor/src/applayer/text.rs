//! Text as Zeek's logs print it, for the parsers that copy bytes from the
//! wire into string fields.

use std::fmt::Write as _;

/// Printable ASCII as it is, every other byte as `\xNN` (what Zeek's log
/// writer does with a string's bytes).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_zeek() {
        assert_eq!(
            super::escape(b"a\x00\tb~\x7f\xff"),
            "a\\x00\\x09b~\\x7f\\xff"
        );
    }
}
