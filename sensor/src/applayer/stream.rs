//! TCP stream reassembly for the parsers: each direction's payload handed
//! on in sequence order, once.
//!
//! In-order segments (nearly all of them) are passed through without a
//! copy. A segment that arrives ahead of a hole is copied and held until
//! the hole fills; bytes already delivered are never delivered again, so a
//! retransmission is dropped and an overlap is trimmed: the first copy of
//! a byte wins, as in Zeek and in Suricata's default policy. A hole that
//! will not fill becomes a gap the parser is told about: when the peer
//! acknowledges past it (the sender will not send it again, so the capture
//! missed it), when the held bytes reach the per-connection cap, or when
//! the connection ends.
//!
//! Memory is bounded twice: per direction (`max_held`) and per worker (a
//! [`Budget`] shared by all streams); a segment that fits neither is
//! dropped and counted, and its bytes become part of a gap. After `depth`
//! bytes a direction is no longer reassembled (Suricata's
//! `stream.reassembly.depth`): the connection is only counted from then on.

/// What a stream hands its parser, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// Bytes never seen.
    Gap(u64),
}

/// Memory held by out-of-order segments, shared by a worker's streams.
#[derive(Clone, Copy, Debug, Default)]
pub struct Budget {
    pub used: usize,
    pub cap: usize,
    /// Peak of `used`.
    pub peak: usize,
    /// Segments dropped because a cap was reached.
    pub dropped_segments: u64,
}

/// Reassembly counters of a worker.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamStats {
    /// Segments held back until a hole before them filled.
    pub out_of_order: u64,
    /// Segments that only repeated bytes already delivered.
    pub retransmitted: u64,
    /// Holes given to parsers as gaps, and their bytes.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Directions that reached the inspection depth.
    pub depth_reached: u64,
}

/// A segment held ahead of a hole.
#[derive(Debug)]
struct Held {
    /// Offset of its first byte in the stream.
    at: u64,
    bytes: Box<[u8]>,
}

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct Stream {
    /// Sequence number of stream offset 0 (set by the first segment seen).
    base: Option<u32>,
    /// Offset of the next byte to deliver.
    next: u64,
    /// Segments ahead of `next`, ordered by offset.
    held: Vec<Held>,
    held_bytes: usize,
    /// No more bytes are delivered (depth reached or the parser is done).
    pub closed: bool,
}

/// Limits of one stream.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes delivered per direction before it is only counted.
    pub depth: u64,
    /// Bytes held ahead of a hole per direction.
    pub max_held: usize,
}

impl Stream {
    /// Offset of the next byte to deliver.
    pub fn delivered(&self) -> u64 {
        self.next
    }

    /// Bytes currently held ahead of a hole.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Where `seq` lies relative to the next byte to deliver, allowing for
    /// wrap-around: sequence numbers are 32 bits, stream offsets are not.
    fn offset_of(&self, base: u32, seq: u32) -> u64 {
        let next_seq = base.wrapping_add(self.next as u32);
        let delta = seq.wrapping_sub(next_seq) as i32;
        (self.next as i64 + i64::from(delta)).max(0) as u64
    }

    /// Takes one segment: `seq` of its first payload byte (after SYN),
    /// `syn` whether it carries SYN. Calls `deliver` with whatever becomes
    /// deliverable, in order.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        seq: u32,
        syn: bool,
        payload: &[u8],
        limits: &Limits,
        budget: &mut Budget,
        stats: &mut StreamStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        if self.closed {
            return;
        }
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        let base = *self.base.get_or_insert(data_seq);
        if payload.is_empty() {
            return;
        }
        let at = {
            // Relative to `next`, from the sequence number: negative
            // means (partly) old bytes.
            let next_seq = base.wrapping_add(self.next as u32);
            let delta = i64::from(data_seq.wrapping_sub(next_seq) as i32);
            self.next as i64 + delta
        };
        let end = at + payload.len() as i64;
        if end <= self.next as i64 {
            stats.retransmitted += 1;
            return;
        }
        if at <= self.next as i64 {
            let skip = (self.next as i64 - at) as usize;
            let fresh = &payload[skip..];
            self.deliver_bytes(fresh, limits, stats, deliver);
            self.drain(limits, budget, stats, deliver);
            return;
        }
        self.hold(at as u64, payload, limits, budget, stats, deliver);
    }

    /// The peer acknowledged everything before `ack`: a hole before that
    /// will never be filled by a retransmission the capture could see.
    pub fn ack(
        &mut self,
        ack: u32,
        limits: &Limits,
        budget: &mut Budget,
        stats: &mut StreamStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        let (Some(base), false) = (self.base, self.closed) else {
            return;
        };
        if self.held.is_empty() {
            return;
        }
        let acked = self.offset_of(base, ack);
        if self.held.first().is_some_and(|h| h.at < acked) {
            self.skip_hole(limits, budget, stats, deliver);
        }
    }

    /// The connection ended: whatever is held is delivered, holes as gaps.
    pub fn finish(
        &mut self,
        limits: &Limits,
        budget: &mut Budget,
        stats: &mut StreamStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        while !self.held.is_empty() && !self.closed {
            self.skip_hole(limits, budget, stats, deliver);
        }
        self.release(budget);
    }

    /// Stops delivering and gives back the memory held.
    pub fn release(&mut self, budget: &mut Budget) {
        budget.used -= self.held_bytes;
        self.held_bytes = 0;
        self.held = Vec::new();
    }

    fn hold(
        &mut self,
        at: u64,
        payload: &[u8],
        limits: &Limits,
        budget: &mut Budget,
        stats: &mut StreamStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        if at >= limits.depth {
            return;
        }
        if self.held_bytes + payload.len() > limits.max_held {
            // The hole has kept too much waiting: give it up as a gap.
            self.skip_hole(limits, budget, stats, deliver);
            if self.closed {
                return;
            }
            if at <= self.next {
                let skip = (self.next - at) as usize;
                if skip < payload.len() {
                    self.deliver_bytes(&payload[skip..], limits, stats, deliver);
                    self.drain(limits, budget, stats, deliver);
                }
                return;
            }
            if self.held_bytes + payload.len() > limits.max_held {
                budget.dropped_segments += 1;
                return;
            }
        }
        if budget.used + payload.len() > budget.cap {
            budget.dropped_segments += 1;
            return;
        }
        stats.out_of_order += 1;
        let pos = self.held.partition_point(|h| h.at <= at);
        self.held.insert(
            pos,
            Held {
                at,
                bytes: payload.into(),
            },
        );
        self.held_bytes += payload.len();
        budget.used += payload.len();
        budget.peak = budget.peak.max(budget.used);
    }

    /// Delivers held segments that now continue the stream.
    fn drain(
        &mut self,
        limits: &Limits,
        budget: &mut Budget,
        stats: &mut StreamStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        while let Some(h) = self.held.first() {
            if h.at > self.next || self.closed {
                break;
            }
            let h = self.held.remove(0);
            self.held_bytes -= h.bytes.len();
            budget.used -= h.bytes.len();
            let end = h.at + h.bytes.len() as u64;
            if end <= self.next {
                stats.retransmitted += 1;
                continue;
            }
            let skip = (self.next - h.at) as usize;
            self.deliver_bytes(&h.bytes[skip..], limits, stats, deliver);
        }
        if self.closed {
            self.release(budget);
        }
    }

    /// Declares the hole before the first held segment a gap and delivers
    /// what follows it.
    fn skip_hole(
        &mut self,
        limits: &Limits,
        budget: &mut Budget,
        stats: &mut StreamStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        let Some(first) = self.held.first() else {
            return;
        };
        if first.at > self.next {
            let len = first.at - self.next;
            stats.gaps += 1;
            stats.gap_bytes += len;
            self.next = first.at;
            if !deliver(Chunk::Gap(len)) {
                self.closed = true;
                self.release(budget);
                return;
            }
        }
        self.drain(limits, budget, stats, deliver);
    }

    fn deliver_bytes(
        &mut self,
        bytes: &[u8],
        limits: &Limits,
        stats: &mut StreamStats,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        let room = limits.depth.saturating_sub(self.next);
        let n = (bytes.len() as u64).min(room) as usize;
        self.next += bytes.len() as u64;
        if n > 0 && !deliver(Chunk::Data(&bytes[..n])) {
            self.closed = true;
        }
        if self.next >= limits.depth && !self.closed {
            stats.depth_reached += 1;
            self.closed = true;
        }
    }
}

#[cfg(test)]
mod tests;
