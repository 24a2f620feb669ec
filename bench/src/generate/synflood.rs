//! A SYN flood over ordinary traffic: the mix that attacks the connection
//! table.
//!
//! Every source of the flood is a different address (100.64.0.0/10, four
//! million of them), each sending one SYN to the victim, a web server; none
//! is ever answered, so a sensor that tracked them all would need memory
//! without bound. Between the SYNs runs ordinary traffic from a pool of
//! long-lived flows (one frame in [`BACKGROUND_EVERY`]), whose connections
//! must still be tracked and reported while the table is under attack.

use super::pool::{pad_to_minimum, FlowPool, MIN_FRAME};
use super::Mix;
use std::net::Ipv4Addr;
use vagt_sensor::synth::frames::{self, flags, Host, TcpSpec};
use vagt_sensor::synth::rng::Rng;

/// One frame in this many is ordinary traffic.
pub const BACKGROUND_EVERY: u64 = 10;
/// Flows of the ordinary traffic.
pub const BACKGROUND_FLOWS: u64 = 256;
/// Most distinct flood sources (the size of 100.64.0.0/10, less a few).
pub const MAX_SOURCES: u64 = (1 << 22) - 2;

/// The victim of the flood.
pub fn victim() -> Host {
    Host {
        mac: [0x02, 0, 0xac, 0x10, 0xff, 0x01],
        ip: Ipv4Addr::new(172, 16, 255, 1),
    }
}

/// Flood source number `i`.
pub fn source(i: u64) -> Host {
    let ip = Ipv4Addr::from(0x6440_0001u32 + (i % MAX_SOURCES) as u32);
    let o = ip.octets();
    Host {
        mac: [0x02, 0x66, o[0], o[1], o[2], o[3]],
        ip,
    }
}

pub struct SynFlood {
    rng: Rng,
    background: FlowPool,
    sources: u64,
    sent_syns: u64,
    frame_no: u64,
}

impl SynFlood {
    /// A flood from `sources` distinct addresses.
    pub fn new(seed: u64, sources: u64) -> SynFlood {
        let mut rng = Rng::new(seed);
        let background = FlowPool::new(&mut rng, BACKGROUND_FLOWS, 16, 0.3);
        SynFlood {
            rng,
            background,
            sources: sources.clamp(1, MAX_SOURCES),
            sent_syns: 0,
            frame_no: 0,
        }
    }
}

impl Mix for SynFlood {
    fn next_frame(&mut self, buf: &mut Vec<u8>) -> bool {
        self.frame_no += 1;
        if self.frame_no.is_multiple_of(BACKGROUND_EVERY) {
            let size = if self.rng.chance(0.5) { MIN_FRAME } else { 590 };
            self.background.frame(&mut self.rng, size, buf);
            return true;
        }
        if self.sent_syns >= self.sources {
            // Every source has sent its SYN: only ordinary traffic is left.
            self.background.frame(&mut self.rng, MIN_FRAME, buf);
            return true;
        }
        let src = source(self.sent_syns);
        self.sent_syns += 1;
        let spec = TcpSpec {
            sport: self.rng.range(1024, 65_536) as u16,
            dport: 80,
            seq: self.rng.next_u64() as u32,
            ack: 0,
            flags: flags::SYN,
            window: 1024,
            payload_len: 0,
            prefix: b"",
        };
        frames::tcp(buf, &src, &victim(), None, &spec, self.frame_no as u16);
        pad_to_minimum(buf);
        true
    }

    fn flows(&self) -> u64 {
        self.sent_syns + self.background.used()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flood_source_is_new_and_background_keeps_flowing() {
        let mut m = SynFlood::new(1, 1000);
        let frames = crate::generate::tests::frames_of(&mut m, 2000);
        let d = crate::generate::tests::decode_all(&frames);
        // 9 in 10 frames are SYNs until the 1000 sources are used up.
        assert_eq!(m.sent_syns, 1000);
        assert!(d.flows >= 1000 && d.flows <= 1000 + BACKGROUND_FLOWS as usize);
        assert!(d.tcp > 1000);
    }
}
