//! Which worker a flow goes to when the sensor deals packets out itself
//! (files and recordings walked together, the libpcap reader thread).
//!
//! A plain hash split leaves the shares to chance: on the corpus mix, whose
//! heaviest host pairs each carry 1% of the packets, one of two workers
//! got 55% of them, and two workers can then be at most 1.8 times one. The
//! dealer keeps the flow hash as the unit (both directions, fragments and
//! tunnels stay together, see `shard`) but decides per bucket of hashes:
//! a bucket seen for the first time goes to the worker that has been dealt
//! the fewest packets so far, and stays there until every connection has
//! been written out (a flush), after which the buckets are dealt afresh.
//! Records do not depend on the dealing; only the balance does.
//!
//! Live capture is dealt by the kernel's fanout hash instead. The
//! benchmark's apart runs use the dealer to share an input out evenly.

/// Buckets of flow hashes: enough that flows rarely share one, few enough
/// (32 KiB) to stay in the first-level cache.
const BUCKETS: usize = 1 << 13;

#[derive(Clone, Debug)]
pub struct Dealer {
    /// Each bucket's worker (low half) and the round it was dealt in (high
    /// half); a bucket from an earlier round is not dealt yet.
    owner: Box<[u32]>,
    /// Rounds start at 1, so a zeroed bucket belongs to none.
    round: u32,
    /// Packets dealt to each worker.
    dealt: Box<[u64]>,
}

impl Dealer {
    /// A dealer for `workers` workers (at most 256, as configured).
    pub fn new(workers: usize) -> Dealer {
        Dealer {
            owner: vec![0; BUCKETS].into_boxed_slice(),
            round: 1,
            dealt: vec![0; workers.clamp(1, 1 << 16)].into_boxed_slice(),
        }
    }

    /// The worker for a packet of the flow with hash `hash`.
    #[inline]
    pub fn deal(&mut self, hash: u64) -> usize {
        let bucket = (hash >> (64 - BUCKETS.trailing_zeros())) as usize;
        let w = match self.owner.get(bucket) {
            Some(&o) if o >> 16 == self.round => (o & 0xffff) as usize,
            _ => self.first_sight(bucket),
        };
        if let Some(n) = self.dealt.get_mut(w) {
            *n += 1;
        }
        w
    }

    #[cold]
    fn first_sight(&mut self, bucket: usize) -> usize {
        let lightest = (0..self.dealt.len())
            .min_by_key(|&w| self.dealt[w])
            .unwrap_or(0);
        if let Some(o) = self.owner.get_mut(bucket) {
            *o = self.round << 16 | lightest as u32;
        }
        lightest
    }

    /// Every connection has been written out: later packets start new
    /// connections, so their buckets may go anywhere. Captures played one
    /// after another do this often (26,000 times in the corpus mix), so it
    /// starts a new round rather than clearing the buckets.
    pub fn forget(&mut self) {
        self.round += 1;
        if self.round > 0xffff {
            self.owner.fill(0);
            self.round = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded generator (SplitMix64), so the traffic below is the same
    /// on every run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }

    /// Flows of very different sizes (a few carry most packets, as on
    /// real links) arriving over time, their packets interleaved: the
    /// hash of each packet's flow, in order.
    fn skewed_traffic(seed: u64) -> Vec<u64> {
        let mut rng = Rng(seed);
        let mut open: Vec<(u64, u32)> = Vec::new();
        let mut out = Vec::new();
        while out.len() < 400_000 {
            if open.len() < 40 || rng.next().is_multiple_of(64) {
                // Sizes from 1 to 32,768 packets, each power of two
                // about as likely: a heavy tail.
                let size = 1u32 << (rng.next() % 16);
                open.push((rng.next(), size));
            }
            let i = (rng.next() % open.len() as u64) as usize;
            out.push(open[i].0);
            open[i].1 -= 1;
            if open[i].1 == 0 {
                open.swap_remove(i);
            }
        }
        out
    }

    #[test]
    fn a_flow_stays_with_its_worker_until_forgotten() {
        let traffic = skewed_traffic(7);
        let mut dealer = Dealer::new(3);
        let mut seen = std::collections::HashMap::new();
        for &h in &traffic {
            let w = dealer.deal(h);
            assert!(w < 3);
            assert_eq!(*seen.entry(h).or_insert(w), w, "flow {h:#x} moved");
        }
        // After a flush the next flows are dealt to the lightest worker.
        dealer.forget();
        let before = dealer.dealt.clone();
        let lightest = (0..3).min_by_key(|&w| before[w]).unwrap();
        assert_eq!(dealer.deal(traffic[0]), lightest);
    }

    #[test]
    fn skewed_traffic_is_dealt_evenly() {
        for seed in 0..8 {
            let traffic = skewed_traffic(seed);
            for workers in [2usize, 4] {
                let mut dealer = Dealer::new(workers);
                let mut got = vec![0usize; workers];
                for &h in &traffic {
                    got[dealer.deal(h)] += 1;
                }
                let even = traffic.len() / workers;
                let worst = got.iter().max().copied().unwrap_or(0);
                assert!(
                    worst <= even + even / 25,
                    "seed {seed}, {workers} workers: {got:?}"
                );
            }
        }
    }

    #[test]
    fn rounds_wrap_without_mixing_up_buckets() {
        let traffic = skewed_traffic(11);
        let mut dealer = Dealer::new(2);
        for _ in 0..0x1_0005 {
            dealer.forget();
        }
        let mut seen = std::collections::HashMap::new();
        for &h in &traffic {
            let w = dealer.deal(h);
            assert_eq!(*seen.entry(h).or_insert(w), w, "flow {h:#x} moved");
        }
    }

    #[test]
    fn one_worker_gets_everything() {
        let mut dealer = Dealer::new(1);
        assert!(skewed_traffic(3).iter().all(|&h| dealer.deal(h) == 0));
    }
}
