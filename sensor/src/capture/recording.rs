//! Packets held in memory: a capture loaded once and replayed as often as
//! needed, so benchmarks measure the sensor and not the disk.

use super::file::FileSource;
use super::{Backing, CaptureError, Located, Locating, Next, RawPacket, Source};
use crate::decode::LinkType;
use std::path::Path;
use std::sync::Arc;

/// A loaded capture; cheap to clone (shared). Workers read its packets in
/// place.
#[derive(Clone)]
pub struct Recording {
    data: Backing,
    /// Where each packet lies in `data`.
    meta: Arc<Vec<Located>>,
    /// Time shift between loops, when it is not this recording's own span
    /// (a part of a larger recording keeps the whole one's).
    loop_shift: Option<i64>,
}

impl Recording {
    /// Loads every packet of `files`, in order.
    pub fn load(files: &[impl AsRef<Path>]) -> Result<Recording, CaptureError> {
        // Room for every file up front: packet bytes never exceed the file
        // sizes, and growing by doubling would briefly hold the input three
        // times over (old copy, new copy, mapped file).
        let total: u64 = files
            .iter()
            .filter_map(|f| std::fs::metadata(f.as_ref()).ok())
            .map(|m| m.len())
            .sum();
        let mut data = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut meta = Vec::new();
        for f in files {
            let mut src = FileSource::open(f.as_ref())?;
            loop {
                match src.next()? {
                    Next::Packet(p) => {
                        meta.push(Located {
                            ts: p.ts,
                            offset: data.len(),
                            len: p.data.len() as u32,
                            wire_len: p.wire_len,
                            link: p.link,
                        });
                        data.extend_from_slice(p.data);
                    }
                    Next::End => break,
                    Next::Timeout => {}
                }
            }
        }
        Ok(Recording {
            data: Arc::new(data),
            meta: Arc::new(meta),
            loop_shift: None,
        })
    }

    /// Builds a recording from packets already in memory (link type,
    /// timestamp in ns, bytes).
    pub fn from_packets<'a>(
        packets: impl IntoIterator<Item = (LinkType, i64, &'a [u8])>,
    ) -> Recording {
        let mut data = Vec::new();
        let mut meta = Vec::new();
        for (link, ts, bytes) in packets {
            meta.push(Located {
                ts,
                offset: data.len(),
                len: bytes.len() as u32,
                wire_len: bytes.len() as u32,
                link,
            });
            data.extend_from_slice(bytes);
        }
        Recording {
            data: Arc::new(data),
            meta: Arc::new(meta),
            loop_shift: None,
        }
    }

    fn own_loop_shift(&self) -> i64 {
        match (self.meta.first(), self.meta.last()) {
            (Some(a), Some(b)) => (b.ts - a.ts).max(0) + 1_000_000_000,
            _ => 0,
        }
    }

    /// Deals the packets out into `parts` recordings, in order, putting
    /// each where `part_of(link, frame)` says (values past the last part go
    /// to the last). The parts share this recording's bytes, and replayed
    /// in loops they shift time as this one would, so together they play
    /// exactly its packets.
    pub fn partition(
        &self,
        parts: usize,
        mut part_of: impl FnMut(LinkType, &[u8]) -> usize,
    ) -> Vec<Recording> {
        let parts = parts.max(1);
        let all: &[u8] = (*self.data).as_ref();
        let mut metas: Vec<Vec<Located>> = vec![Vec::new(); parts];
        for m in self.meta.iter() {
            let part = part_of(m.link, &all[m.offset..m.offset + m.len as usize]);
            metas[part.min(parts - 1)].push(*m);
        }
        let shift = self.loop_shift.unwrap_or_else(|| self.own_loop_shift());
        metas
            .into_iter()
            .map(|meta| Recording {
                data: self.data.clone(),
                meta: Arc::new(meta),
                loop_shift: Some(shift),
            })
            .collect()
    }

    pub fn packets(&self) -> usize {
        self.meta.len()
    }

    /// Bytes on the wire of all packets.
    pub fn wire_bytes(&self) -> u64 {
        self.meta.iter().map(|m| u64::from(m.wire_len)).sum()
    }

    /// A source that plays the recording `loops` times. Each loop after the
    /// first is shifted in time by the recording's span (plus a second), so
    /// timestamps keep increasing and connections do not merge across loops.
    pub fn source(&self, loops: u32) -> MemorySource {
        let span = self.loop_shift.unwrap_or_else(|| self.own_loop_shift());
        MemorySource {
            rec: self.clone(),
            next: 0,
            loop_no: 0,
            loops: loops.max(1),
            span,
        }
    }
}

/// How many packets ahead a memory lane, or a walk dealing packets out,
/// pulls packet headers into the cache: far enough to cover a trip to
/// memory when the reader does little else with each packet.
pub(crate) const DATA_AHEAD: usize = 16;

/// Plays a [`Recording`].
pub struct MemorySource {
    rec: Recording,
    next: usize,
    loop_no: u32,
    loops: u32,
    span: i64,
}

impl Source for MemorySource {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        if self.next == self.rec.meta.len() {
            self.loop_no += 1;
            self.next = 0;
            if self.loop_no >= self.loops || self.rec.meta.is_empty() {
                return Ok(Next::End);
            }
        }
        let m = self.rec.meta[self.next];
        self.next += 1;
        let all: &[u8] = (*self.rec.data).as_ref();
        // The headers of a packet a few places on: the packets of a lane
        // are scattered over the recording (a part of a partition skips the
        // others'), which the CPU's own prefetcher does not follow.
        if let Some(ahead) = self.rec.meta.get(self.next + DATA_AHEAD) {
            let head = (ahead.len as usize).min(128);
            super::pcap_reader::prefetch_lines(all, ahead.offset, ahead.offset + head);
        }
        Ok(Next::Packet(RawPacket {
            ts: m.ts + self.span * i64::from(self.loop_no),
            data: &all[m.offset..m.offset + m.len as usize],
            wire_len: m.wire_len,
            link: m.link,
            backing: Some((&self.rec.data, m.offset)),
            arrival_ns: 0,
        }))
    }

    fn name(&self) -> &str {
        "memory"
    }

    fn peek_ahead(&mut self) -> Option<(LinkType, &[u8])> {
        let len = self.rec.meta.len();
        // Counted over all loops, so the look ahead can run into the next.
        let at = self.loop_no as usize * len + self.next + super::LOOKAHEAD;
        if at >= self.loops as usize * len {
            return None;
        }
        let m = self.rec.meta.get(at % len)?;
        let all: &[u8] = (*self.rec.data).as_ref();
        Some((m.link, &all[m.offset..m.offset + m.len as usize]))
    }

    fn locate(&mut self, out: &mut Vec<Located>, max: usize) -> Locating {
        let meta = &self.rec.meta;
        let mut left = max;
        while left > 0 && self.loop_no < self.loops {
            if self.next == meta.len() {
                self.loop_no += 1;
                self.next = 0;
                continue;
            }
            let end = (self.next + left).min(meta.len());
            let shift = self.span * i64::from(self.loop_no);
            out.extend(meta[self.next..end].iter().map(|m| Located {
                ts: m.ts + shift,
                ..*m
            }));
            left -= end - self.next;
            self.next = end;
        }
        (Some(self.rec.data.clone()), None)
    }

    fn lanes(&self, n: usize) -> Option<Vec<Box<dyn Source>>> {
        let lane = |_| -> Box<dyn Source> {
            Box::new(MemorySource {
                rec: self.rec.clone(),
                next: self.next,
                loop_no: self.loop_no,
                loops: self.loops,
                span: self.span,
            })
        };
        Some((0..n).map(lane).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts of a partition, played side by side, are the recording:
    /// every packet once, in its part, at the time the whole would give it.
    #[test]
    fn a_partition_plays_the_same_packets_at_the_same_times() {
        let frames: Vec<Vec<u8>> = (0..50u8)
            .map(|i| vec![i; 10 + usize::from(i % 5)])
            .collect();
        let rec = Recording::from_packets(
            frames
                .iter()
                .enumerate()
                .map(|(i, f)| (LinkType::ETHERNET, 1_000 + i as i64 * 7, f.as_slice())),
        );
        let played = |r: &Recording| {
            let mut src = r.source(3);
            let mut out = Vec::new();
            while let Ok(Next::Packet(p)) = src.next() {
                out.push((p.ts, p.data.to_vec()));
            }
            out
        };
        let mut whole = played(&rec);
        let parts = rec.partition(3, |_, f| usize::from(f[0] % 4));
        assert_eq!(parts.len(), 3);
        // Frames 3, 7, ... asked for part 3 and went to the last.
        assert!(parts[2].packets() > parts[0].packets());
        let mut joined: Vec<(i64, Vec<u8>)> = parts.iter().flat_map(played).collect();
        for (part, r) in parts.iter().enumerate() {
            assert!(played(r)
                .iter()
                .all(|(_, f)| usize::from(f[0] % 4).min(2) == part));
        }
        whole.sort();
        joined.sort();
        assert_eq!(whole.len(), 150);
        assert_eq!(whole, joined);
    }

    /// Over several loops, the look ahead always names the packet that
    /// `next` hands out `LOOKAHEAD` calls later, and nothing past the end.
    #[test]
    fn looking_ahead_sees_the_packet_to_come() {
        let frames: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 20]).collect();
        for count in [1usize, 2, 5] {
            let rec = Recording::from_packets(
                frames[..count]
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (LinkType::ETHERNET, i as i64, f.as_slice())),
            );
            let mut src = rec.source(3);
            let (mut got, mut peeked) = (Vec::new(), Vec::new());
            loop {
                peeked.push(src.peek_ahead().map(|(_, f)| f.to_vec()));
                match src.next() {
                    Ok(Next::Packet(p)) => got.push(p.data.to_vec()),
                    _ => break,
                }
            }
            assert_eq!(got.len(), count * 3);
            for (i, p) in peeked.iter().enumerate() {
                assert_eq!(
                    p.as_ref(),
                    got.get(i + super::super::LOOKAHEAD),
                    "{count}: {i}"
                );
            }
        }
    }

    /// Over several loops, batches of where packets lie name the packets
    /// `next` hands out, at the same times, and stop at the end.
    #[test]
    fn locating_in_batches_plays_what_next_plays() {
        let frames: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 20 + usize::from(i)]).collect();
        let rec = Recording::from_packets(
            frames
                .iter()
                .enumerate()
                .map(|(i, f)| (LinkType::ETHERNET, 100 + i as i64, f.as_slice())),
        );
        let mut src = rec.source(3);
        let mut want = Vec::new();
        while let Ok(Next::Packet(p)) = src.next() {
            want.push((p.ts, p.data.to_vec()));
        }
        assert_eq!(want.len(), 15);
        for batch in [1, 4, 5, 15, 16] {
            let mut src = rec.source(3);
            let mut got = Vec::new();
            loop {
                let mut out = Vec::new();
                let (memory, damage) = src.locate(&mut out, batch);
                assert!(damage.is_none());
                let memory = memory.expect("a recording lies in memory");
                let data: &[u8] = (*memory).as_ref();
                got.extend(out.iter().map(|l| (l.ts, l.frame(data).unwrap().to_vec())));
                if out.len() < batch {
                    break;
                }
            }
            assert_eq!(got, want, "batches of {batch}");
            let mut out = Vec::new();
            let _ = src.locate(&mut out, batch);
            assert!(out.is_empty(), "the end stays the end");
        }
    }
}
