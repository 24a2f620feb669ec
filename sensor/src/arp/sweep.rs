//! ARP sweeps: one sender asking, in broadcast requests, for many distinct
//! addresses in a short time (arp-scan, nmap's host discovery on a LAN).
//! Distinct targets are counted in a 1,024-bit set per sender: a target
//! sets one bit of its hash, and a bit set for the first time counts. Up to
//! the threshold of 64 two targets rarely share a bit (the count is then
//! at most a few low), so the count is a slight underestimate, never an
//! overestimate, in 128 bytes per sender whatever the sweep's size.

use super::Key;
use std::collections::HashMap;

/// Bits per sender's target set.
const BITS: usize = 1024;

/// One sender's requests in the current window.
#[derive(Clone, Debug)]
pub(super) struct Sender {
    /// Packet time (ns) of the window's first request, and of the last.
    pub first: i64,
    pub last: i64,
    set: [u64; BITS / 64],
    /// Distinct targets counted.
    pub targets: u32,
    /// The count at which the next record is written.
    next_report: u32,
}

/// The senders being counted, at most `cap`.
pub(super) struct Sweeps {
    senders: HashMap<Key<[u8; 6]>, Sender>,
    cap: usize,
    /// Distinct targets that make a sweep, and the window (ns) they must
    /// fall in.
    threshold: u32,
    window: i64,
    pub evicted: u64,
}

impl Sweeps {
    pub fn new(cap: usize, threshold: u32, window: i64) -> Sweeps {
        Sweeps {
            senders: HashMap::new(),
            cap: cap.max(1),
            threshold: threshold.max(1),
            window,
            evicted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.senders.len()
    }

    /// Counts a broadcast request of `sender` for `target` at `ts`; the
    /// sender's state when this request makes (or doubles) a sweep.
    pub fn request(&mut self, sender: Key<[u8; 6]>, target: [u8; 4], ts: i64) -> Option<&Sender> {
        if self.senders.len() >= self.cap && !self.senders.contains_key(&sender) {
            self.evict();
        }
        let threshold = self.threshold;
        let fresh = || Sender {
            first: ts,
            last: ts,
            set: [0; BITS / 64],
            targets: 0,
            next_report: threshold,
        };
        let s = self.senders.entry(sender).or_insert_with(fresh);
        if ts.saturating_sub(s.first) > self.window || ts < s.first {
            *s = fresh();
        }
        s.last = ts;
        let bit = (spread(u32::from_be_bytes(target)) as usize) % BITS;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        if s.set[word] & mask != 0 {
            return None;
        }
        s.set[word] |= mask;
        s.targets += 1;
        if s.targets < s.next_report {
            return None;
        }
        s.next_report = s.targets.saturating_mul(2);
        Some(s)
    }

    /// Forgets the least recently active eighth of the senders, so that a
    /// flood of senders pays for the scan once per many of them.
    fn evict(&mut self) {
        let mut last: Vec<i64> = self.senders.values().map(|s| s.last).collect();
        let k = (last.len() / 8).max(1) - 1;
        let (_, cut, _) = last.select_nth_unstable(k);
        let cut = *cut;
        let before = self.senders.len();
        self.senders.retain(|_, s| s.last > cut);
        if self.senders.len() == before {
            if let Some(k) = self.senders.keys().next().copied() {
                self.senders.remove(&k);
            }
        }
        self.evicted += (before - self.senders.len()) as u64;
    }
}

/// A 32-bit mix, so that neighbouring addresses land on unrelated bits.
fn spread(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000_000;

    fn key(m: u8) -> Key<[u8; 6]> {
        Key {
            segment: 0,
            id: [0, 0x0c, 0x29, 0, 0, m],
        }
    }

    #[test]
    fn a_sweep_of_a_slash_24_is_reported_at_the_threshold_and_each_doubling() {
        let mut s = Sweeps::new(16, 64, 60 * SEC);
        let mut reports = Vec::new();
        for i in 1..=254u8 {
            if let Some(r) = s.request(key(1), [10, 1, 0, i], i64::from(i) * SEC / 100) {
                reports.push(r.targets);
            }
        }
        // 254 distinct targets: reports at 64, 128 (a collision or two in
        // 1,024 bits may delay them by a target).
        assert_eq!(reports.len(), 2, "{reports:?}");
        assert!(reports[0] == 64 && reports[1] == 128, "{reports:?}");
        // Asking again for the same addresses adds nothing.
        for i in 1..=254u8 {
            assert!(s.request(key(1), [10, 1, 0, i], 3 * SEC).is_none());
        }
    }

    #[test]
    fn requests_spread_over_more_than_the_window_are_no_sweep() {
        let mut s = Sweeps::new(16, 64, 60 * SEC);
        for i in 0..200u32 {
            let ip = (0x0a01_0000u32 + i).to_be_bytes();
            // One new address every two seconds: 30 per window at most.
            assert!(s.request(key(2), ip, i64::from(i) * 2 * SEC).is_none());
        }
    }

    #[test]
    fn many_senders_stay_within_the_cap_and_are_counted() {
        let mut s = Sweeps::new(100, 64, 60 * SEC);
        for m in 0..5000u32 {
            let k = Key {
                segment: 0,
                id: [0, 0, 0, (m >> 16) as u8, (m >> 8) as u8, m as u8],
            };
            s.request(k, [10, 0, 0, 1], i64::from(m));
        }
        assert!(s.len() <= 100);
        assert_eq!(s.evicted + s.len() as u64, 5000);
    }
}
