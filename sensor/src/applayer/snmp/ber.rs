//! The little of ASN.1 BER that SNMP messages use: tag, length (short or
//! long form, definite only) and value, read with checked slices. Nothing
//! here allocates except an OID's text.

/// One element: its tag byte and its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
}

/// Reads elements one after another out of a byte slice.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element, or `None` when the bytes end or do not hold one
    /// (multi-byte tags, indefinite or oversized lengths included).
    pub fn element(&mut self) -> Option<Tlv<'a>> {
        let (&tag, rest) = self.rest.split_first()?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, after) = (rest.get(..n)?, rest.get(n..)?);
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let value = rest.get(..len)?;
        self.rest = rest.get(len..)?;
        Some(Tlv { tag, value })
    }

    /// The next element if it has tag `tag`.
    pub fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        let t = self.element()?;
        (t.tag == tag).then_some(t.value)
    }

    /// The next element as an INTEGER (at most 8 bytes, two's complement).
    pub fn integer(&mut self) -> Option<i64> {
        integer(self.expect(0x02)?)
    }
}

/// An INTEGER's value.
pub fn integer(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    let init: i64 = if v[0] & 0x80 != 0 { -1 } else { 0 };
    Some(v.iter().fold(init, |acc, &b| (acc << 8) | i64::from(b)))
}

/// An unsigned value (Counter32, TimeTicks, Counter64...), which may carry
/// a leading zero byte.
pub fn unsigned(v: &[u8]) -> Option<u64> {
    let v = match v {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => v,
    };
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// An OBJECT IDENTIFIER in dotted form ("1.3.6.1.2.1.1.1.0").
pub fn oid(v: &[u8]) -> Option<String> {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut acc: u64 = 0;
    let mut first = true;
    for (i, &b) in v.iter().enumerate() {
        if acc > (u64::MAX >> 7) {
            // A sub-identifier past 64 bits (Zeek's
            // `oid-subidentifier-too-long`).
            return None;
        }
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 != 0 {
            if i + 1 == v.len() {
                return None;
            }
            continue;
        }
        if first {
            let (a, b) = match acc {
                0..=39 => (0, acc),
                40..=79 => (1, acc - 40),
                _ => (2, acc - 80),
            };
            let _ = write!(out, "{a}.{b}");
            first = false;
        } else {
            let _ = write!(out, ".{acc}");
        }
        acc = 0;
    }
    (!first).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_and_values() {
        let mut r = Reader::new(&[0x02, 0x01, 0xff, 0x04, 0x81, 0x02, b'h', b'i', 0x30]);
        assert_eq!(r.integer(), Some(-1));
        assert_eq!(r.expect(0x04), Some(&b"hi"[..]));
        assert_eq!(r.element(), None);
        assert_eq!(unsigned(&[0x00, 0xff, 0xff, 0xff, 0xff]), Some(0xffff_ffff));
        assert_eq!(
            oid(&[0x2b, 6, 1, 2, 1, 1, 3, 0]).as_deref(),
            Some("1.3.6.1.2.1.1.3.0")
        );
        assert_eq!(oid(&[0x2b, 0x81]), None);
        assert_eq!(oid(&[0xff; 12]), None);
        // Lengths past the bytes, indefinite, or too wide.
        assert_eq!(Reader::new(&[0x04, 0x05, 1]).element(), None);
        assert_eq!(Reader::new(&[0x30, 0x80, 0, 0]).element(), None);
        assert_eq!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).element(), None);
    }
}
