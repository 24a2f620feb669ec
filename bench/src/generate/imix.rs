//! The IMIX and worst-case minimum-size mixes.
//!
//! IMIX is the classic "simple IMIX": 64, 594 and 1518-byte Ethernet frames
//! in the ratio 7:4:1 (average 361.8 bytes on the wire with the frame check
//! sequence). Captures hold frames without their 4-byte FCS, so the files
//! have 60, 590 and 1514-byte frames, exactly as tcpdump would show that
//! traffic. Every block of 12 frames has exactly seven small, four medium
//! and one large frame, in a shuffled order.
//!
//! The minimum-size mix is the worst case for a sensor: nothing but 64-byte
//! frames (60 captured), TCP and UDP, spread over many flows.

use super::pool::{FlowPool, MIN_FRAME};
use super::Mix;
use vagt_sensor::synth::rng::Rng;

/// IMIX frame sizes as captured (without FCS), and how many of each in a
/// block of 12.
pub const IMIX: [(usize, usize); 3] = [(60, 7), (590, 4), (1514, 1)];
/// Share of UDP flows in the IMIX and minimum-size mixes.
const UDP_SHARE: f64 = 0.3;
/// Servers the clients talk to.
const SERVERS: u32 = 512;

pub struct Imix {
    rng: Rng,
    pool: FlowPool,
    block: [usize; 12],
    next: usize,
}

impl Imix {
    pub fn new(seed: u64, flows: u64) -> Imix {
        let mut rng = Rng::new(seed);
        let pool = FlowPool::new(&mut rng, flows, SERVERS, UDP_SHARE);
        let mut block = [0; 12];
        let mut i = 0;
        for (size, count) in IMIX {
            for _ in 0..count {
                block[i] = size;
                i += 1;
            }
        }
        Imix {
            rng,
            pool,
            block,
            next: 12,
        }
    }
}

impl Mix for Imix {
    fn next_frame(&mut self, buf: &mut Vec<u8>) -> bool {
        if self.next == self.block.len() {
            // Fisher-Yates: a new order for the next 12 frames.
            for i in (1..self.block.len()).rev() {
                let j = self.rng.range(0, i as u64 + 1) as usize;
                self.block.swap(i, j);
            }
            self.next = 0;
        }
        let size = self.block[self.next];
        self.next += 1;
        self.pool.frame(&mut self.rng, size, buf);
        true
    }

    fn flows(&self) -> u64 {
        self.pool.used()
    }
}

pub struct Min64 {
    rng: Rng,
    pool: FlowPool,
}

impl Min64 {
    pub fn new(seed: u64, flows: u64) -> Min64 {
        let mut rng = Rng::new(seed);
        let pool = FlowPool::new(&mut rng, flows, SERVERS, UDP_SHARE);
        Min64 { rng, pool }
    }
}

impl Mix for Min64 {
    fn next_frame(&mut self, buf: &mut Vec<u8>) -> bool {
        self.pool.frame(&mut self.rng, MIN_FRAME, buf);
        true
    }

    fn flows(&self) -> u64 {
        self.pool.used()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{decode_all, frames_of};
    use super::*;

    #[test]
    fn imix_has_the_classic_sizes_in_ratio_7_4_1() {
        let frames = frames_of(&mut Imix::new(11, 500), 1200);
        let count = |n: usize| frames.iter().filter(|f| f.len() == n).count();
        assert_eq!((count(60), count(590), count(1514)), (700, 400, 100));
        // Every block of 12 holds the full ratio.
        for block in frames.chunks(12) {
            assert_eq!(block.iter().filter(|f| f.len() == 60).count(), 7);
            assert_eq!(block.iter().filter(|f| f.len() == 1514).count(), 1);
        }
        // Not all blocks in the same order.
        assert_ne!(
            frames[..12].iter().map(Vec::len).collect::<Vec<_>>(),
            frames[12..24].iter().map(Vec::len).collect::<Vec<_>>()
        );
        let d = decode_all(&frames);
        assert!(d.tcp > 500 && d.udp > 200, "tcp {} udp {}", d.tcp, d.udp);
        assert!(d.hosts > 300, "hosts {}", d.hosts);
    }

    #[test]
    fn min64_is_all_minimum_frames_of_many_flows() {
        let frames = frames_of(&mut Min64::new(5, 10_000), 3000);
        assert!(frames.iter().all(|f| f.len() == 60));
        let d = decode_all(&frames);
        assert!(d.tcp > 1500 && d.udp > 500, "tcp {} udp {}", d.tcp, d.udp);
        assert!(d.flows > 2500, "flows {}", d.flows);
    }

    #[test]
    fn same_seed_same_frames_other_seed_other_frames() {
        let a = frames_of(&mut Imix::new(1, 100), 300);
        let b = frames_of(&mut Imix::new(1, 100), 300);
        let c = frames_of(&mut Imix::new(2, 100), 300);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let a = frames_of(&mut Min64::new(1, 100), 300);
        let b = frames_of(&mut Min64::new(1, 100), 300);
        let c = frames_of(&mut Min64::new(2, 100), 300);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
