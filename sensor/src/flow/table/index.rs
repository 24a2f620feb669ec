//! The connection index: flow hash → slab position.
//!
//! Open addressing with linear probing over 4-byte slots. A slot holds the
//! slab position in its low bits and a few bits of the flow hash above
//! them, so most probes that are not the wanted connection are rejected
//! without touching it. The index owns one thing a general hash table
//! hides: where a hash's probe starts. That address is computable from the
//! hash alone, so the worker can prefetch it several packets early, and
//! with it the connection the slot points to; on a table larger than the
//! caches those two loads are most of a packet's cost.

/// A slot nobody used since the last rebuild: ends a probe.
const EMPTY: u32 = u32::MAX;
/// A slot whose connection left: probes go on past it.
const GONE: u32 = u32::MAX - 1;

pub(super) struct Index {
    slots: Vec<u32>,
    /// `slots.len() - 1`; the length is a power of two.
    mask: usize,
    /// Bits of a slot that hold the slab position.
    pos_bits: u32,
    live: usize,
    gone: usize,
}

impl Index {
    /// An index for slab positions below `max_positions`, with room for
    /// about `initial` connections before it first grows.
    pub(super) fn new(max_positions: usize, initial: usize) -> Index {
        // Positions stay clear of the two markers whatever the hash bits.
        let needed = (max_positions as u64 + 2).next_power_of_two();
        let pos_bits = needed.trailing_zeros().clamp(1, 32);
        let len = (initial.max(8) * 2).next_power_of_two();
        Index {
            slots: vec![EMPTY; len],
            mask: len - 1,
            pos_bits,
            live: 0,
            gone: 0,
        }
    }

    #[inline]
    fn tag_of(&self, hash: u64) -> u32 {
        // The probe start uses the low hash bits, the tag the high ones.
        ((hash >> 32) as u32)
            .checked_shl(self.pos_bits)
            .unwrap_or(0)
    }

    #[inline]
    fn pos_mask(&self) -> u32 {
        u32::MAX.checked_shr(32 - self.pos_bits).unwrap_or(u32::MAX)
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        hash as usize & self.mask
    }

    /// The slab position whose connection `is_it` accepts, among those
    /// filed under `hash`.
    #[inline]
    pub(super) fn find(&self, hash: u64, mut is_it: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = self.tag_of(hash);
        let pos_mask = self.pos_mask();
        let mut at = self.home(hash);
        loop {
            let s = self.slots[at];
            if s == EMPTY {
                return None;
            }
            if s != GONE && s & !pos_mask == tag && is_it(s & pos_mask) {
                return Some(s & pos_mask);
            }
            at = (at + 1) & self.mask;
        }
    }

    /// Files `pos` under `hash`; the caller knows it is not filed yet.
    /// `rehash` gives the hash of a filed position when the index grows.
    pub(super) fn insert(&mut self, hash: u64, pos: u32, rehash: impl Fn(u32) -> u64) {
        // At most three quarters used, markers of departed connections
        // included, keeps probes short; when departures make up the bulk,
        // rebuilding at the same size clears them.
        if (self.live + self.gone + 1) * 4 > self.slots.len() * 3 {
            // Doubling only past half full live keeps a slot's share of a
            // connection at a quarter or more.
            let len = if (self.live + 1) * 2 > self.slots.len() {
                self.slots.len() * 2
            } else {
                self.slots.len()
            };
            self.rebuild(len, &rehash);
        }
        let at = self.free_slot(hash);
        if self.slots[at] == GONE {
            self.gone -= 1;
        }
        self.slots[at] = self.tag_of(hash) | pos;
        self.live += 1;
    }

    fn free_slot(&self, hash: u64) -> usize {
        let mut at = self.home(hash);
        while self.slots[at] != EMPTY && self.slots[at] != GONE {
            at = (at + 1) & self.mask;
        }
        at
    }

    /// Removes `pos`, filed under `hash`.
    pub(super) fn remove(&mut self, hash: u64, pos: u32) {
        let want = self.tag_of(hash) | pos;
        let mut at = self.home(hash);
        loop {
            let s = self.slots[at];
            if s == EMPTY {
                debug_assert!(false, "removing a position that is not filed");
                return;
            }
            if s == want {
                break;
            }
            at = (at + 1) & self.mask;
        }
        self.live -= 1;
        if self.slots[(at + 1) & self.mask] == EMPTY {
            // Nothing probes past an empty slot, so this one and the
            // markers just before it can be empty too.
            self.slots[at] = EMPTY;
            let mut back = at.wrapping_sub(1) & self.mask;
            while self.slots[back] == GONE {
                self.slots[back] = EMPTY;
                self.gone -= 1;
                back = back.wrapping_sub(1) & self.mask;
            }
        } else {
            self.slots[at] = GONE;
            self.gone += 1;
        }
    }

    fn rebuild(&mut self, len: usize, rehash: &impl Fn(u32) -> u64) {
        let pos_mask = self.pos_mask();
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; len]);
        self.mask = len - 1;
        self.gone = 0;
        for s in old {
            if s != EMPTY && s != GONE {
                let pos = s & pos_mask;
                let hash = rehash(pos);
                let at = self.free_slot(hash);
                self.slots[at] = self.tag_of(hash) | pos;
            }
        }
    }

    /// Asks the CPU to fetch where the probe for `hash` starts.
    #[inline]
    pub(super) fn prefetch(&self, hash: u64) {
        prefetch(self.slots.as_ptr().wrapping_add(self.home(hash)));
    }

    /// The first position filed under `hash` whose tag matches, looking
    /// only at the probe's first cache line's worth of slots: a guess of
    /// which connection a packet will need, for prefetching it.
    #[inline]
    pub(super) fn guess(&self, hash: u64) -> Option<u32> {
        let tag = self.tag_of(hash);
        let pos_mask = self.pos_mask();
        let mut at = self.home(hash);
        for _ in 0..16 {
            let s = self.slots[at];
            if s == EMPTY {
                return None;
            }
            if s != GONE && s & !pos_mask == tag {
                return Some(s & pos_mask);
            }
            at = (at + 1) & self.mask;
        }
        None
    }
}

/// A hint to load the cache line at `p`; never faults, whatever `p` is.
#[inline]
pub(super) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint and does not fault on any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(mut x: u64) -> u64 {
        x ^= x >> 31;
        x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^ (x >> 29)
    }

    /// Random inserts and removals against a reference map, with a hash
    /// that collides on purpose (few distinct values) and one that does
    /// not; every filed position must be found and nothing else.
    #[test]
    fn agrees_with_a_reference_map() {
        for (cap, spread) in [
            (1000usize, u64::MAX),
            (1000, 7),
            (100_000, u64::MAX),
            (3, 2),
        ] {
            let hash_of = |key: u64| mix(key) % spread.max(1);
            let mut idx = Index::new(cap, 4);
            // Key of each filed position; keys are unique among them.
            let mut key_at: Vec<Option<u64>> = vec![None; cap];
            let mut filed: Vec<u32> = Vec::new();
            let mut free: Vec<u32> = (0..cap as u32).rev().collect();
            let mut next_key = 0u64;
            let mut state = 0x7a67_2026u64;
            for _ in 0..20_000 {
                state = mix(state.wrapping_add(1));
                if !state.is_multiple_of(3) && !free.is_empty() {
                    let pos = free.pop().expect("not empty");
                    let key = next_key;
                    next_key += 1;
                    let keys = &key_at;
                    idx.insert(hash_of(key), pos, |p| {
                        hash_of(keys[p as usize].expect("rehash of a filed position"))
                    });
                    key_at[pos as usize] = Some(key);
                    filed.push(pos);
                } else if !filed.is_empty() {
                    let pos = filed.swap_remove((state >> 8) as usize % filed.len());
                    let key = key_at[pos as usize].take().expect("filed");
                    idx.remove(hash_of(key), pos);
                    free.push(pos);
                }
                assert_eq!(idx.live, filed.len());
            }
            for &pos in &filed {
                let key = key_at[pos as usize].expect("filed");
                assert_eq!(
                    idx.find(hash_of(key), |p| key_at[p as usize] == Some(key)),
                    Some(pos)
                );
            }
            for key in next_key..next_key + 100 {
                assert_eq!(
                    idx.find(hash_of(key), |p| key_at[p as usize] == Some(key)),
                    None
                );
            }
            let gone = idx.slots.iter().filter(|&&s| s == GONE).count();
            assert_eq!(gone, idx.gone);
            assert!((idx.live + idx.gone) * 4 <= idx.slots.len() * 3);
        }
    }

    #[test]
    fn positions_never_look_like_markers() {
        // The largest position with every tag bit set stays below GONE.
        for cap in [1usize, 2, 3, 1 << 20, (1 << 30) - 3] {
            let idx = Index::new(cap, 8);
            let top = idx.tag_of(u64::MAX) | (cap as u32 - 1);
            assert!(top < GONE, "cap {cap}");
        }
    }
}
