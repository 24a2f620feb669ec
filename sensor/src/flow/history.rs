//! Zeek's connection history string: one letter per notable event,
//! upper case for the originator, lower case for the responder.
//!
//! Letters recorded once per direction are guarded by a bit mask; counted
//! events (checksum errors, retransmissions, zero windows, gaps) are
//! recorded at 1, 10, 100, ... occurrences, as Zeek does.

/// Bits of the once-per-direction mask; the responder's are shifted by 8.
pub mod bit {
    pub const SYN: u16 = 0x1;
    pub const FIN: u16 = 0x2;
    pub const RST: u16 = 0x4;
    pub const FIN_RST: u16 = 0x8;
    pub const DATA: u16 = 0x10;
    pub const ACK: u16 = 0x20;
    pub const MULTI_FLAG: u16 = 0x40;
}

/// Longest history kept; longer ones end in '+'. Once-per-direction
/// letters give at most 14 and the counted ones grow by powers of ten, so
/// real histories stay far shorter (the longest in Zeek's own test traces
/// has 12); the bound keeps every connection within its memory budget.
const CAPACITY: usize = 15;

/// A short inline history string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    buf: [u8; CAPACITY],
    len: u8,
    /// Once-per-direction letters already recorded.
    seen: u16,
}

impl History {
    pub fn push(&mut self, letter: u8) {
        let len = usize::from(self.len);
        if len < CAPACITY {
            self.buf[len] = letter;
            self.len += 1;
        } else {
            self.buf[CAPACITY - 1] = b'+';
        }
    }

    /// Records `letter` (given in upper case) for the direction unless it
    /// was recorded before. Returns true when it had been seen already,
    /// which is when Zeek considers recording a repeat.
    pub fn check(&mut self, is_orig: bool, mask: u16, letter: u8) -> bool {
        let mask = if is_orig { mask } else { mask << 8 };
        if self.seen & mask != 0 {
            return true;
        }
        self.seen |= mask;
        self.push(cased(is_orig, letter));
        false
    }

    /// Records `letter` for the direction unconditionally.
    pub fn add(&mut self, is_orig: bool, letter: u8) {
        self.push(cased(is_orig, letter));
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters and '^'/'+' are ever pushed.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn cased(is_orig: bool, letter: u8) -> u8 {
    if is_orig {
        letter.to_ascii_uppercase()
    } else {
        letter.to_ascii_lowercase()
    }
}

/// Counts an event and says whether it reached the next power of ten, the
/// moments at which Zeek adds another history letter.
pub fn scaled(counter: &mut u16) -> bool {
    *counter = counter.saturating_add(1);
    matches!(*counter, 1 | 10 | 100 | 1000 | 10000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_letters_are_recorded_once_per_direction() {
        let mut h = History::default();
        assert!(!h.check(true, bit::SYN, b'S'));
        assert!(h.check(true, bit::SYN, b'S'));
        assert!(!h.check(false, bit::SYN, b'H'));
        h.add(true, b'^');
        assert_eq!(h.as_str(), "Sh^");
    }

    #[test]
    fn scaled_events_hit_powers_of_ten() {
        let mut c = 0u16;
        let hits: Vec<u16> = (1..=150u16).filter(|_| scaled(&mut c)).collect();
        assert_eq!(hits.len(), 3);
    }

    #[test]
    fn overlong_history_is_marked() {
        let mut h = History::default();
        for _ in 0..40 {
            h.push(b'T');
        }
        assert_eq!(h.as_str().len(), CAPACITY);
        assert!(h.as_str().ends_with('+'));
    }
}
