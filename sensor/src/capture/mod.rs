//! Capture sources: where packets come from.
//!
//! A [`Source`] yields packets one at a time, borrowed from its own buffer,
//! with the link type, the packet time and the length on the wire; a
//! source never decodes anything. Capture files are mapped and read in
//! place (`file`, with `pcap_reader` for the pcap and pcapng formats;
//! libpcap only for variants the reader does not know, and for standard
//! input), live interfaces through AF_PACKET rings (`afpacket`) or libpcap
//! (`live`), and `recording` holds packets in memory for the benchmarks.

#[cfg(target_os = "linux")]
pub mod afpacket;
pub mod file;
pub mod live;
pub mod pcap_reader;
pub mod recording;
pub mod settings;

use crate::decode::LinkType;
pub use settings::{CaptureMethod, CaptureSection};
use std::sync::Arc;

/// Memory that packets live in and that may be shared with workers, so
/// they can be handed over without a copy (a mapped file, a recording).
pub type Backing = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Where a packet lies in its source's shared memory ([`Backing`]): what
/// a walk over an input in memory needs to deal the packet out and what
/// its worker needs to find it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Located {
    /// Nanoseconds since the Unix epoch.
    pub ts: i64,
    pub offset: usize,
    /// Captured bytes at `offset`.
    pub len: u32,
    pub wire_len: u32,
    pub link: LinkType,
}

impl Located {
    /// The packet's captured bytes in `memory`, the memory it lies in;
    /// `None` if it does not lie there.
    #[inline]
    pub fn frame<'a>(&self, memory: &'a [u8]) -> Option<&'a [u8]> {
        memory.get(self.offset..self.offset.checked_add(self.len as usize)?)
    }
}

/// A source broke its promise that its packets lie in one shared memory:
/// `what` happened, in the source `name`.
pub(crate) fn stray(name: &str, what: &str) -> CaptureError {
    CaptureError::File {
        path: name.to_string(),
        problem: format!("{what}; this is a bug, please report it"),
    }
}

/// One captured packet, borrowed from the source until the next call.
#[derive(Clone, Copy)]
pub struct RawPacket<'a> {
    /// Nanoseconds since the Unix epoch.
    pub ts: i64,
    pub data: &'a [u8],
    /// Length on the wire (may exceed `data` when the snap length cut it).
    pub wire_len: u32,
    pub link: LinkType,
    /// When `data` lies in shared memory: that memory and `data`'s offset.
    pub backing: Option<(&'a Backing, usize)>,
    /// When the packet became available, on the pipeline's monotonic clock
    /// (`pipeline::clock_ns`), for sources that know it (a kernel ring's
    /// timestamp, a paced replay's schedule); 0 means "when it was read".
    pub arrival_ns: u64,
}

impl std::fmt::Debug for RawPacket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPacket")
            .field("ts", &self.ts)
            .field("len", &self.data.len())
            .field("wire_len", &self.wire_len)
            .field("link", &self.link)
            .field("shared", &self.backing.is_some())
            .finish()
    }
}

/// What a read produced.
#[derive(Debug)]
pub enum Next<'a> {
    Packet(RawPacket<'a>),
    /// Live capture: nothing arrived within the read timeout.
    Timeout,
    /// The source is exhausted.
    End,
}

/// Counters kept by the capture layer below the sensor (the kernel).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    pub received: u64,
    /// Dropped because the capture buffer was full.
    pub dropped: u64,
    /// Dropped by the interface or driver.
    pub if_dropped: u64,
}

/// A capture problem, naming the source and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {problem}")]
    File { path: String, problem: String },
    #[error("interface {interface}: {problem}")]
    Live { interface: String, problem: String },
}

/// A packet source.
pub trait Source: Send {
    /// Reads the next packet.
    fn next(&mut self) -> Result<Next<'_>, CaptureError>;
    /// Human-readable name (file path or interface).
    fn name(&self) -> &str;
    /// Kernel counters, for live sources.
    fn kernel_stats(&mut self) -> Option<KernelStats> {
        None
    }
    /// Size of the input in bytes, when known (for progress).
    fn size_hint(&self) -> Option<u64> {
        None
    }
    /// The packet [`LOOKAHEAD`] places after the one `next` returns next,
    /// for sources that can see that far without reading it (packets in
    /// memory), so a worker can prefetch what it will need; `None` when
    /// the source cannot, or the input ends sooner.
    fn peek_ahead(&mut self) -> Option<(LinkType, &[u8])> {
        None
    }
    /// `n` independent readers over the same packets, one per worker, for
    /// sources whose packets already sit in memory (a mapped file, a
    /// recording); `None` when the source can only be read once. Called
    /// before the first packet is read.
    fn lanes(&self, _n: usize) -> Option<Vec<Box<dyn Source>>> {
        None
    }
    /// Where the next `max` packets lie, appended to `out`, with the
    /// memory they lie in: for sources whose packets sit in one shared
    /// memory (a mapped file, a recording), which a walk reads a batch at
    /// a time rather than with a call per packet. Fewer than `max` means
    /// the input ended, or was damaged after the packets appended (the
    /// second half says how). The default reads through [`Source::next`]
    /// and reports packets outside a shared memory as an error.
    fn locate(&mut self, out: &mut Vec<Located>, max: usize) -> Locating {
        locate_by_next(self, out, max)
    }
}

/// What [`Source::locate`] found: the memory the packets lie in (none if
/// no packet was read), and the damage that ended the input early.
pub type Locating = (Option<Backing>, Option<CaptureError>);

/// [`Source::locate`] through `next`, one packet at a time.
pub fn locate_by_next<S: Source + ?Sized>(
    src: &mut S,
    out: &mut Vec<Located>,
    max: usize,
) -> Locating {
    let mut memory: Option<Backing> = None;
    let mut stray = None;
    let mut n = 0;
    while n < max {
        let p = match src.next() {
            Ok(Next::Packet(p)) => p,
            Ok(Next::Timeout) => continue,
            Ok(Next::End) => break,
            Err(e) => return (memory, Some(e)),
        };
        match (p.backing, &memory) {
            (Some((b, _)), Some(m)) if !Arc::ptr_eq(b, m) => {
                stray = Some("packets in two memories");
                break;
            }
            (Some((b, offset)), _) => {
                memory.get_or_insert_with(|| b.clone());
                out.push(Located {
                    ts: p.ts,
                    offset,
                    len: p.data.len() as u32,
                    wire_len: p.wire_len,
                    link: p.link,
                });
                n += 1;
            }
            (None, _) => {
                stray = Some("a packet outside the input's memory");
                break;
            }
        }
    }
    (memory, stray.map(|what| self::stray(src.name(), what)))
}

impl<S: Source + ?Sized> Source for Box<S> {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        (**self).next()
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn kernel_stats(&mut self) -> Option<KernelStats> {
        (**self).kernel_stats()
    }
    fn size_hint(&self) -> Option<u64> {
        (**self).size_hint()
    }
    fn peek_ahead(&mut self) -> Option<(LinkType, &[u8])> {
        (**self).peek_ahead()
    }
    fn lanes(&self, n: usize) -> Option<Vec<Box<dyn Source>>> {
        (**self).lanes(n)
    }
    fn locate(&mut self, out: &mut Vec<Located>, max: usize) -> Locating {
        (**self).locate(out, max)
    }
}

/// How many packets ahead [`Source::peek_ahead`] looks: a worker requests
/// a packet's index slot this many packets early and its connection half
/// as many. One packet's work is shorter than a trip to memory, and with
/// several workers sharing an input most packets in between are skipped
/// quickly, so the distance is several packets (2 and 4 were measured
/// slower on 64-byte frames; 16 no faster).
pub const LOOKAHEAD: usize = 8;

/// The latest packet time a source hands out, in nanoseconds since the
/// epoch: the end of classic pcap's 32-bit seconds (early 2106). Packet
/// times are clamped to `0..=MAX_TS_NS`, whatever a (hostile) pcapng file
/// claims with its 64-bit timestamps and offsets, so that connection
/// tracking can add timeouts to them and subtract them from each other
/// without overflow.
pub const MAX_TS_NS: i64 = (u32::MAX as i64 + 1) * 1_000_000_000 - 1;

/// Converts a libpcap timeval (seconds, and micro- or nanoseconds) to ns.
pub(crate) fn timeval_ns(sec: i64, frac: i64, nanos: bool) -> i64 {
    let frac_ns = if nanos {
        frac
    } else {
        frac.saturating_mul(1000)
    };
    sec.saturating_mul(1_000_000_000)
        .saturating_add(frac_ns)
        .clamp(0, MAX_TS_NS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `frames`, each in memory of its own or in none.
    struct Scattered {
        frames: Vec<(Option<Backing>, Vec<u8>)>,
        next: usize,
    }

    impl Source for Scattered {
        fn next(&mut self) -> Result<Next<'_>, CaptureError> {
            let Some((memory, frame)) = self.frames.get(self.next) else {
                return Ok(Next::End);
            };
            self.next += 1;
            Ok(Next::Packet(RawPacket {
                ts: self.next as i64,
                data: frame,
                wire_len: frame.len() as u32,
                link: LinkType::ETHERNET,
                backing: memory.as_ref().map(|m| (m, 0)),
                arrival_ns: 0,
            }))
        }
        fn name(&self) -> &str {
            "scattered"
        }
    }

    /// Reading where packets lie through `next` keeps the packets that lie
    /// in one memory and stops, with a clear error, at the first that
    /// does not.
    #[test]
    fn locating_through_next_refuses_packets_outside_one_memory() {
        let one: Backing = Arc::new(vec![1u8; 64]);
        let other: Backing = Arc::new(vec![2u8; 64]);
        for (second, problem) in [
            (None, "outside the input's memory"),
            (Some(other), "two memories"),
        ] {
            let mut src = Scattered {
                frames: vec![
                    (Some(one.clone()), vec![0; 60]),
                    (Some(one.clone()), vec![0; 61]),
                    (second, vec![0; 62]),
                ],
                next: 0,
            };
            let mut out = Vec::new();
            let (memory, damage) = src.locate(&mut out, 8);
            assert!(memory.is_some_and(|m| Arc::ptr_eq(&m, &one)));
            assert_eq!(out.iter().map(|l| l.len).collect::<Vec<_>>(), [60, 61]);
            let e = damage.expect("refused").to_string();
            assert!(e.contains(problem) && e.contains("scattered"), "{e}");
        }
        // Within one memory every packet is read, and the end ends it.
        let mut src = Scattered {
            frames: vec![(Some(one.clone()), vec![0; 60]); 3],
            next: 0,
        };
        let mut out = Vec::new();
        let (_, damage) = src.locate(&mut out, 8);
        assert!(damage.is_none() && out.len() == 3);
    }
}
