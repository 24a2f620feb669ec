//! `vagt-bench generate`: seeded synthetic traffic written as a pcap file.
//!
//! A [`Mix`] builds frames one at a time; [`write_mix`] streams them
//! through a buffered pcap writer, so a capture of any size is written in
//! constant memory. Frames are stamped as if sent back to back on a link of
//! the given speed (each frame also takes its 4-byte FCS, 8-byte preamble
//! and 12-byte gap on the wire), so `replay --speed 1` plays them at that
//! line rate. The municipal mix comes from the sensor's own generator,
//! with its own timing.

mod concurrent;
mod imix;
mod pool;
pub mod synflood;

pub use concurrent::MIN_CONN_PACKETS;

use crate::cli::{GenerateArgs, MixKind};
use crate::stats::{mib, thousands};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use vagt_sensor::synth::municipal;
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};

/// A source of synthetic frames.
pub trait Mix {
    /// Builds the next frame into `buf` (replacing its contents); false
    /// when the mix has no more frames.
    fn next_frame(&mut self, buf: &mut Vec<u8>) -> bool;
    /// Flows (connections) that have had at least one frame so far.
    fn flows(&self) -> u64;
}

/// Tuesday 4 November 2025, 08:00:00 UTC, as in the municipal mix.
pub const START_NS: i64 = 1_762_243_200 * 1_000_000_000;
/// Bytes a frame takes on the wire beyond its captured bytes: frame check
/// sequence (4), preamble and start delimiter (8), inter-frame gap (12).
pub const WIRE_OVERHEAD: u64 = 24;

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Written {
    pub packets: u64,
    /// Captured frame bytes.
    pub bytes: u64,
    pub flows: u64,
    /// Packet time from the first frame to the last, in ns (None for the
    /// municipal mix, which keeps its own time).
    pub span_ns: Option<i64>,
}

/// Flows used by default for a mix.
pub fn default_flows(mix: MixKind) -> u64 {
    match mix {
        MixKind::Imix => 4_096,
        MixKind::Min64 => 65_536,
        MixKind::Concurrent => 10_000,
        MixKind::Municipal => 0,
        MixKind::Synflood => 2_000_000,
    }
}

/// The frame builder of a mix (all but municipal).
pub fn mix_for(mix: MixKind, seed: u64, flows: u64, packets: u64) -> Option<Box<dyn Mix>> {
    match mix {
        MixKind::Imix => Some(Box::new(imix::Imix::new(seed, flows))),
        MixKind::Min64 => Some(Box::new(imix::Min64::new(seed, flows))),
        MixKind::Concurrent => Some(Box::new(concurrent::Concurrent::new(seed, flows, packets))),
        MixKind::Municipal => None,
        MixKind::Synflood => Some(Box::new(synflood::SynFlood::new(seed, flows))),
    }
}

/// Streams up to `packets` frames of `mix` into `w` as pcap, stamped as
/// back-to-back frames on a `gbps` link.
pub fn write_mix<W: Write>(
    mix: &mut dyn Mix,
    packets: u64,
    gbps: f64,
    w: W,
) -> std::io::Result<Written> {
    let mut out = PcapWriter::new(w, LINKTYPE_ETHERNET, 65_535)?;
    let mut buf = Vec::with_capacity(2048);
    let mut done = Written::default();
    // Bits sent before the current frame, for its timestamp.
    let mut wire_bits: u128 = 0;
    let mut last_ts = START_NS;
    while done.packets < packets && mix.next_frame(&mut buf) {
        last_ts = START_NS + (wire_bits as f64 / gbps) as i64;
        out.write(last_ts, &buf)?;
        done.packets += 1;
        done.bytes += buf.len() as u64;
        wire_bits += u128::from((buf.len() as u64 + WIRE_OVERHEAD) * 8);
    }
    out.into_inner().flush()?;
    done.flows = mix.flows();
    done.span_ns = Some(last_ts - START_NS);
    Ok(done)
}

/// Writes the mix described by the arguments to `path` ("-" for standard
/// output).
pub fn generate_to(
    path: &Path,
    mix: MixKind,
    packets: u64,
    seed: u64,
    flows: u64,
    gbps: f64,
) -> Result<Written, String> {
    let to_stdout = path.as_os_str() == "-";
    let fail = |e: std::io::Error| {
        if to_stdout {
            format!("cannot write to standard output: {e}")
        } else {
            format!(
                "cannot write {}: {e}; check that its folder exists, is writable and has room",
                path.display()
            )
        }
    };
    let w: Box<dyn Write> = if to_stdout {
        Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock()))
    } else {
        let f = File::create(path).map_err(fail)?;
        Box::new(BufWriter::with_capacity(1 << 20, f))
    };
    match mix_for(mix, seed, flows, packets) {
        Some(mut m) => write_mix(m.as_mut(), packets, gbps, w).map_err(fail),
        None => {
            let truth = municipal::generate(w, seed, packets).map_err(fail)?;
            Ok(Written {
                packets: truth.packets,
                bytes: truth.bytes,
                flows: truth.connections.len() as u64,
                span_ns: None,
            })
        }
    }
}

/// Checks the arguments of a generation; returns the flow count to use.
pub fn check(mix: MixKind, packets: u64, flows: Option<u64>, gbps: f64) -> Result<u64, String> {
    if packets == 0 {
        return Err("--packets must be at least 1".into());
    }
    if !(gbps.is_finite() && gbps > 0.0) {
        return Err(format!("--link-gbps must be a positive number, not {gbps}"));
    }
    let flows = flows.unwrap_or_else(|| default_flows(mix));
    if mix == MixKind::Municipal {
        return Ok(flows);
    }
    if !(1..=50_000_000).contains(&flows) {
        return Err(format!(
            "--flows must be between 1 and 50,000,000, not {}",
            thousands(flows)
        ));
    }
    if mix == MixKind::Concurrent && packets < MIN_CONN_PACKETS {
        return Err(format!(
            "the concurrent mix needs --packets of at least {MIN_CONN_PACKETS} (one whole connection)"
        ));
    }
    Ok(flows)
}

/// `vagt-bench generate`.
pub fn run(args: &GenerateArgs) -> Result<(), String> {
    let flows = check(args.mix, args.packets, args.flows, args.link_gbps)?;
    let w = generate_to(
        &args.output,
        args.mix,
        args.packets,
        args.seed,
        flows,
        args.link_gbps,
    )?;
    let avg = w.bytes as f64 / w.packets.max(1) as f64;
    let mut line = format!(
        "vagt-bench: wrote {} packets ({}, {} bytes), {} flows, average frame {avg:.1} bytes \
         ({avg_wire:.1} on the wire with FCS); {} mix, seed {}",
        thousands(w.packets),
        mib(w.bytes),
        thousands(w.bytes),
        thousands(w.flows),
        args.mix.name(),
        args.seed,
        avg_wire = avg + 4.0,
    );
    if let Some(span) = w.span_ns {
        line.push_str(&format!(
            ", {:.3} s of packet time at {} Gbit/s",
            span as f64 / 1e9,
            args.link_gbps
        ));
    }
    if args.output.as_os_str() != "-" {
        line.push_str(&format!(", to {}", args.output.display()));
    }
    // Standard error, so that `-o -` can be piped.
    eprintln!("{line}");
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use vagt_sensor::capture::recording::Recording;
    use vagt_sensor::config::Config;
    use vagt_sensor::decode::{Checksum, DecodeCounters, DecodedPacket, Decoder, LinkType};
    use vagt_sensor::decode::{DecodeOptions, Transport};
    use vagt_sensor::flow::{record, Tracker};

    /// The first `n` frames of a mix.
    pub fn frames_of(mix: &mut dyn Mix, n: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while out.len() < n && mix.next_frame(&mut buf) {
            out.push(buf.clone());
        }
        out
    }

    #[derive(Debug, Default)]
    pub struct Decoded {
        pub tcp: usize,
        pub udp: usize,
        pub hosts: usize,
        pub flows: usize,
        /// Leading packets that are SYNs (without ACK: first packets).
        pub syn_first: usize,
        /// Most TCP connections between their SYN and their last FIN.
        pub max_open: usize,
        /// TCP connections with a FIN from both sides.
        pub closed: usize,
    }

    /// Decodes every frame with the sensor's decoder, checksums verified,
    /// and fails on any error or bad checksum.
    pub fn decode_all(frames: &[Vec<u8>]) -> Decoded {
        let dec = Decoder::new(DecodeOptions::default());
        let mut counters = DecodeCounters::default();
        let mut d = Decoded::default();
        let mut hosts = HashSet::new();
        let mut flows = HashSet::new();
        let mut fins: HashMap<_, u32> = HashMap::new();
        let mut open = HashSet::new();
        let mut leading_syns = true;
        for (i, f) in frames.iter().enumerate() {
            let mut p = DecodedPacket::default();
            if let Err(e) = dec.decode(LinkType::ETHERNET, f, f.len() as u32, &mut p, &mut counters)
            {
                panic!("frame {i} does not decode: {e:?}");
            }
            let l = p.layers()[0];
            hosts.insert(l.src);
            hosts.insert(l.dst);
            let (ports, syn, fin) = match l.transport {
                Transport::Tcp(s) => {
                    assert_eq!(s.checksum, Checksum::Good, "frame {i}");
                    d.tcp += 1;
                    let first = s.flags.syn() && !s.flags.ack();
                    ((s.src_port, s.dst_port), first, s.flags.fin())
                }
                Transport::Udp(u) => {
                    assert_eq!(u.checksum, Checksum::Good, "frame {i}");
                    d.udp += 1;
                    ((u.src_port, u.dst_port), false, false)
                }
                other => panic!("frame {i}: unexpected transport {other:?}"),
            };
            let (a, b) = ((l.src, ports.0), (l.dst, ports.1));
            let key = (l.proto, a.min(b), a.max(b));
            flows.insert(key);
            leading_syns &= syn;
            if leading_syns {
                d.syn_first += 1;
            }
            if syn {
                open.insert(key);
            }
            if fin {
                let n = fins.entry(key).or_default();
                *n += 1;
                if *n == 2 {
                    open.remove(&key);
                    d.closed += 1;
                }
            }
            d.max_open = d.max_open.max(open.len());
        }
        assert_eq!(counters.total_errors(), 0);
        d.hosts = hosts.len();
        d.flows = flows.len();
        d
    }

    /// Runs a recording through a tracker; (conn_state, packets) of every
    /// connection record.
    pub fn conn_states(rec: &Recording) -> Vec<(vagt_schema::ConnState, u64)> {
        use vagt_sensor::capture::{Next, Source};
        let cfg = Config::default();
        let mut t = Tracker::new(cfg.decode_options(), cfg.table_config(1));
        let mut src = rec.source(1);
        while let Ok(Next::Packet(p)) = src.next() {
            t.packet(p.link, p.ts, p.data, p.wire_len);
        }
        t.flush();
        t.finished()
            .iter()
            .filter_map(|e| e.conn())
            .map(|c| {
                let state = record::conn_state(c);
                (state, c.orig().pkts.get() + c.resp().pkts.get())
            })
            .collect()
    }

    #[test]
    fn written_file_loads_with_line_rate_timestamps() {
        let path = std::env::temp_dir().join(format!("vagt-bench-gen-{}.pcap", std::process::id()));
        let w = generate_to(&path, MixKind::Min64, 1000, 3, 100, 10.0);
        let rec = Recording::load(&[&path]);
        let _ = std::fs::remove_file(&path);
        let w = w.unwrap();
        let rec = rec.unwrap();
        assert_eq!((w.packets, w.bytes), (1000, 60_000));
        assert_eq!(rec.packets(), 1000);
        assert_eq!(rec.wire_bytes(), 60_000);
        // 84 bytes on the wire per frame at 10 Gbit/s: 67.2 ns apart.
        assert_eq!(w.span_ns, Some((999.0 * 84.0 * 8.0 / 10.0) as i64));
        assert!(w.flows > 90 && w.flows <= 100);
    }

    #[test]
    fn arguments_are_checked() {
        assert!(check(MixKind::Imix, 0, None, 10.0).is_err());
        assert!(check(MixKind::Imix, 10, Some(0), 10.0).is_err());
        assert!(check(MixKind::Imix, 10, None, 0.0).is_err());
        assert!(check(MixKind::Concurrent, 7, None, 10.0).is_err());
        assert_eq!(check(MixKind::Concurrent, 8, None, 10.0), Ok(10_000));
        assert_eq!(check(MixKind::Min64, 8, Some(3), 1.0), Ok(3));
    }

    #[test]
    fn municipal_mix_is_delegated_with_its_ground_truth() {
        let path = std::env::temp_dir().join(format!("vagt-bench-mun-{}.pcap", std::process::id()));
        let w = generate_to(&path, MixKind::Municipal, 2000, 5, 0, 10.0);
        let rec = Recording::load(&[&path]);
        let _ = std::fs::remove_file(&path);
        let (w, rec) = (w.unwrap(), rec.unwrap());
        assert!(w.packets >= 2000, "{}", w.packets);
        assert_eq!(rec.packets() as u64, w.packets);
        assert_eq!(rec.wire_bytes(), w.bytes);
        assert!(w.flows > 10, "connections of the ground truth: {}", w.flows);
        assert_eq!(w.span_ns, None);
    }
}
