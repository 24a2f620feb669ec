//! Noticing checksum offload, as Suricata's `checksum-validation: auto`
//! does: a capture taken on a host whose network card fills in checksums
//! holds that host's own packets with checksums never filled in. Checking
//! them would throw away a large share of good traffic (31% of the corpus
//! mix), so in `auto` mode the first packets are sampled and, when more
//! than a tenth of those with a checksum fail it, checking stops.
//!
//! Replays decide before the run, from the first packets of each file, so
//! records never depend on how packets were spread over workers; live
//! capture decides per worker on the worker's own first packets.

use super::{DecodeCounters, DecodeError, DecodedPacket, Decoder};
use crate::capture::{Next, Source};

/// How checksums are treated.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumMode {
    /// Check them, unless the first packets show checksum offload (more
    /// than one in ten with a checksum fails it); then stop checking.
    #[default]
    Auto,
    /// Always check them, as Zeek does: a packet with a bad checksum is
    /// counted and not used.
    Strict,
    /// Never check them (like zeek -C).
    Off,
}

/// Packets sampled before deciding (Suricata's CHECKSUM_SAMPLE_COUNT).
pub const SAMPLE_PACKETS: u64 = 1000;

/// The checksum errors that offload produces.
const CHECKSUM_ERRORS: [DecodeError; 4] = [
    DecodeError::BadIpChecksum,
    DecodeError::BadTcpChecksum,
    DecodeError::BadUdpChecksum,
    DecodeError::BadIcmpChecksum,
];

fn checksum_errors(c: &DecodeCounters) -> u64 {
    CHECKSUM_ERRORS.iter().map(|e| c.errors[*e as usize]).sum()
}

/// Counts over the sampled packets; decides once the sample is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Probe {
    /// Packets sampled that carried an IP layer (so a checksum to check).
    pub sampled: u64,
    /// Of those, packets with at least one bad checksum.
    pub bad: u64,
}

impl Probe {
    /// Records one decoded packet: `errors_before` is the counters' checksum
    /// error total before it was decoded.
    pub fn observe(&mut self, pkt: &DecodedPacket, counters: &DecodeCounters, errors_before: u64) {
        if pkt.layer_count() == 0 && checksum_errors(counters) == errors_before {
            return;
        }
        self.sampled += 1;
        if checksum_errors(counters) > errors_before {
            self.bad += 1;
        }
    }

    /// The checksum error total now, to pass to the next `observe`.
    pub fn errors_now(counters: &DecodeCounters) -> u64 {
        checksum_errors(counters)
    }

    pub fn full(&self) -> bool {
        self.sampled >= SAMPLE_PACKETS
    }

    /// Offload: more than a tenth of the sampled packets failed a checksum
    /// (Suricata's CHECKSUM_INVALID_RATIO).
    pub fn offload(&self) -> bool {
        self.bad * 10 > self.sampled
    }
}

/// What `auto` found in a replay's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The input whose sample showed offload.
    pub source: String,
    pub probe: Probe,
}

/// Samples the first packets of `source` with checksums checked. A short
/// input is judged on what it has.
pub fn sample(decoder: &Decoder, source: &mut dyn Source) -> Probe {
    let mut probe = Probe::default();
    let mut counters = DecodeCounters::default();
    while !probe.full() {
        let packet = match source.next() {
            Ok(Next::Packet(p)) => p,
            // Damage is the replay's to report; the sample ends there.
            Ok(Next::Timeout) | Ok(Next::End) | Err(_) => break,
        };
        let before = Probe::errors_now(&counters);
        let mut pkt = DecodedPacket::default();
        let _ = decoder.decode(
            packet.link,
            packet.data,
            packet.wire_len,
            &mut pkt,
            &mut counters,
        );
        probe.observe(&pkt, &counters, before);
    }
    probe
}

impl Finding {
    /// One line for the run's summary.
    pub fn describe(&self) -> String {
        format!(
            "checksums not checked: {} of the first {} packets of {} had bad checksums \
             (checksum offload on the capture host); --checksums strict checks them anyway",
            self.probe.bad, self.probe.sampled, self.source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::recording::{MemorySource, Recording};
    use crate::decode::{DecodeOptions, LinkType};
    use crate::synth::frames::{self, Host};

    fn host(last: u8) -> Host {
        Host {
            mac: [2, 0, 0, 0, 0, last],
            ip: std::net::Ipv4Addr::new(10, 0, 0, last),
        }
    }

    /// `n` UDP packets, every `bad_every`-th with its checksum spoilt.
    fn capture(n: usize, bad_every: usize) -> MemorySource {
        let mut frames_out = Vec::new();
        for i in 0..n {
            let mut f = Vec::new();
            frames::udp(
                &mut f,
                &host(1),
                &host(2),
                None,
                5000,
                53,
                Some(b"question"),
                0,
                1,
            );
            if bad_every > 0 && i % bad_every == 0 {
                let last = f.len() - 1;
                f[last] ^= 0xff;
            }
            frames_out.push(f);
        }
        let rec = Recording::from_packets(
            frames_out
                .iter()
                .enumerate()
                .map(|(i, f)| (LinkType::ETHERNET, i as i64 * 1_000_000, f.as_slice())),
        );
        rec.source(1)
    }

    fn decoder() -> Decoder {
        Decoder::new(DecodeOptions::default())
    }

    #[test]
    fn clean_traffic_is_not_offload() {
        let p = sample(&decoder(), &mut capture(2000, 0));
        assert_eq!((p.sampled, p.bad), (SAMPLE_PACKETS, 0));
        assert!(!p.offload());
    }

    #[test]
    fn a_third_bad_is_offload_and_a_twentieth_is_not() {
        let p = sample(&decoder(), &mut capture(2000, 3));
        assert_eq!(p.sampled, SAMPLE_PACKETS);
        assert_eq!(p.bad, 334);
        assert!(p.offload());
        let p = sample(&decoder(), &mut capture(2000, 20));
        assert_eq!(p.bad, 50);
        assert!(!p.offload());
    }

    #[test]
    fn a_short_input_is_judged_on_what_it_has() {
        let p = sample(&decoder(), &mut capture(10, 2));
        assert_eq!((p.sampled, p.bad), (10, 5));
        assert!(p.offload());
    }
}
