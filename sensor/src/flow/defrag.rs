//! IP fragment reassembly, so that a fragmented datagram counts once, with
//! its full length, in the connection it belongs to, and so that tunnels
//! carried in fragmented packets can be opened.
//!
//! Each worker keeps a small table of datagrams under reassembly. Buffers
//! are allocated the first time a slot is used and reused afterwards, so
//! steady-state reassembly does not allocate. The table is bounded: when it
//! is full the oldest datagram is dropped and counted, and datagrams that
//! stay incomplete for longer than the timeout are forgotten. Overlapping
//! fragments keep the bytes that arrived first.

use crate::decode::{checksum, Addr, IpLayer};

/// Largest datagram an IP header can describe, plus a header.
const MAX_DATAGRAM: usize = 65_535 + 60;
/// Byte ranges tracked per datagram; more pieces than this is an attack.
const MAX_PIECES: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct FragKey {
    src: Addr,
    dst: Addr,
    id: u32,
    proto: u8,
    version: u8,
}

struct Slot {
    key: Option<FragKey>,
    first_ts: i64,
    /// The IP header of the fragment at offset 0, once seen.
    header: [u8; 60],
    header_len: usize,
    /// Payload bytes, indexed by fragment offset.
    data: Vec<u8>,
    /// Received ranges of the payload, unordered.
    pieces: [(u32, u32); MAX_PIECES],
    piece_count: usize,
    /// Payload length, known once the last fragment arrived.
    total: Option<u32>,
}

impl Slot {
    fn empty() -> Slot {
        Slot {
            key: None,
            first_ts: 0,
            header: [0; 60],
            header_len: 0,
            data: Vec::new(),
            pieces: [(0, 0); MAX_PIECES],
            piece_count: 0,
            total: None,
        }
    }

    fn reset(&mut self, key: FragKey, ts: i64) {
        self.key = Some(key);
        self.first_ts = ts;
        self.header_len = 0;
        self.piece_count = 0;
        self.total = None;
        if self.data.capacity() < MAX_DATAGRAM {
            self.data = Vec::with_capacity(MAX_DATAGRAM);
        }
        self.data.clear();
    }

    /// Adds `bytes` at `offset`, keeping earlier bytes where pieces overlap.
    fn add(&mut self, offset: u32, bytes: &[u8]) -> bool {
        let end = offset as usize + bytes.len();
        if end > 65_535 || self.piece_count == MAX_PIECES {
            return false;
        }
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        // Copy only the parts no earlier piece covered.
        let mut gaps: [(u32, u32); MAX_PIECES + 1] = [(0, 0); MAX_PIECES + 1];
        let mut n = 1;
        gaps[0] = (offset, end as u32);
        for &(s, e) in &self.pieces[..self.piece_count] {
            let mut next = [(0u32, 0u32); MAX_PIECES + 1];
            let mut m = 0;
            for &(gs, ge) in &gaps[..n] {
                if e <= gs || s >= ge {
                    next[m] = (gs, ge);
                    m += 1;
                } else {
                    if gs < s && m <= MAX_PIECES {
                        next[m] = (gs, s);
                        m += 1;
                    }
                    if e < ge && m <= MAX_PIECES {
                        next[m] = (e, ge);
                        m += 1;
                    }
                }
            }
            gaps = next;
            n = m;
        }
        for &(gs, ge) in &gaps[..n] {
            let from = (gs - offset) as usize;
            let to = (ge - offset) as usize;
            self.data[gs as usize..ge as usize].copy_from_slice(&bytes[from..to]);
        }
        self.pieces[self.piece_count] = (offset, end as u32);
        self.piece_count += 1;
        true
    }

    /// True when every byte up to the known total has arrived.
    fn complete(&self) -> bool {
        let Some(total) = self.total else {
            return false;
        };
        if self.header_len == 0 {
            return false;
        }
        let mut covered = 0u32;
        loop {
            let mut advanced = false;
            for &(s, e) in &self.pieces[..self.piece_count] {
                if s <= covered && e > covered {
                    covered = e;
                    advanced = true;
                }
            }
            if covered >= total {
                return true;
            }
            if !advanced {
                return false;
            }
        }
    }
}

/// Counters of the reassembler.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefragStats {
    pub fragments: u64,
    pub reassembled: u64,
    pub dropped: u64,
    pub timed_out: u64,
}

/// The reassembly table of one worker.
pub struct Defragmenter {
    slots: Vec<Slot>,
    timeout_ns: i64,
    /// The most recently completed datagram (header + payload).
    out: Vec<u8>,
    pub stats: DefragStats,
}

impl Defragmenter {
    pub fn new(max_datagrams: usize, timeout_ns: i64) -> Defragmenter {
        Defragmenter {
            slots: (0..max_datagrams.max(1)).map(|_| Slot::empty()).collect(),
            timeout_ns,
            out: Vec::new(),
            stats: DefragStats::default(),
        }
    }

    /// Adds the fragment in `layer`. When it completes its datagram, returns
    /// the whole IP packet (header rewritten as unfragmented), which stays
    /// valid until the next call.
    pub fn add(&mut self, layer: &IpLayer<'_>, ts: i64) -> Option<&[u8]> {
        self.stats.fragments += 1;
        let key = FragKey {
            src: layer.src,
            dst: layer.dst,
            id: layer.frag.id,
            proto: layer.proto,
            version: layer.version,
        };
        let idx = self.slot_for(key, ts);
        let slot = &mut self.slots[idx];
        let payload = layer.payload;
        if !slot.add(layer.frag.offset, payload) {
            self.stats.dropped += 1;
            slot.key = None;
            return None;
        }
        if layer.frag.offset == 0 {
            // IPv6 keeps its fixed header only: extension headers before the
            // fragment header are not needed after reassembly.
            let want = if layer.version == 4 { 60 } else { 40 };
            let hl = layer.header.len().min(want);
            slot.header[..hl].copy_from_slice(&layer.header[..hl]);
            slot.header_len = hl;
        }
        if !layer.frag.more {
            slot.total = Some(layer.frag.offset + payload.len() as u32);
        }
        if !slot.complete() {
            return None;
        }
        let total = slot.total.unwrap_or(0) as usize;
        self.out.clear();
        self.out.extend_from_slice(&slot.header[..slot.header_len]);
        self.out.extend_from_slice(&slot.data[..total]);
        let hl = slot.header_len;
        slot.key = None;
        rewrite_header(&mut self.out, hl, layer.version, layer.proto);
        self.stats.reassembled += 1;
        Some(&self.out)
    }

    /// Finds the slot of `key`, or takes a free or the oldest one.
    fn slot_for(&mut self, key: FragKey, ts: i64) -> usize {
        let mut free = None;
        let mut oldest = 0;
        for (i, s) in self.slots.iter_mut().enumerate() {
            match s.key {
                Some(k) if k == key => {
                    if ts - s.first_ts <= self.timeout_ns {
                        return i;
                    }
                    self.stats.timed_out += 1;
                    s.key = None;
                    free.get_or_insert(i);
                }
                Some(_) if ts - s.first_ts > self.timeout_ns => {
                    self.stats.timed_out += 1;
                    s.key = None;
                    free.get_or_insert(i);
                }
                Some(_) => {}
                None => {
                    free.get_or_insert(i);
                }
            }
        }
        let idx = match free {
            Some(i) => i,
            None => {
                for (i, s) in self.slots.iter().enumerate() {
                    if s.first_ts < self.slots[oldest].first_ts {
                        oldest = i;
                    }
                }
                self.stats.dropped += 1;
                oldest
            }
        };
        self.slots[idx].reset(key, ts);
        idx
    }
}

/// Makes the reassembled datagram's header describe an unfragmented packet.
fn rewrite_header(pkt: &mut [u8], header_len: usize, version: u8, proto: u8) {
    let total = pkt.len();
    if version == 4 && header_len >= 20 {
        pkt[2..4].copy_from_slice(&(total.min(65_535) as u16).to_be_bytes());
        pkt[6] = 0;
        pkt[7] = 0;
        pkt[10] = 0;
        pkt[11] = 0;
        let sum = !checksum::fold(checksum::sum(&pkt[..header_len], 0));
        pkt[10..12].copy_from_slice(&sum.to_be_bytes());
    } else if version == 6 && header_len >= 40 {
        let payload = (total - 40).min(65_535) as u16;
        pkt[4..6].copy_from_slice(&payload.to_be_bytes());
        pkt[6] = proto;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Fragment, Transport};

    fn frag<'a>(header: &'a [u8], payload: &'a [u8], offset: u32, more: bool) -> IpLayer<'a> {
        IpLayer {
            version: 4,
            src: Addr::from_v4([10, 0, 0, 1]),
            dst: Addr::from_v4([10, 0, 0, 2]),
            proto: 17,
            total_len: 20 + payload.len() as u32,
            header_len: 20,
            frag: Fragment {
                offset,
                more,
                id: 77,
            },
            header,
            payload,
            transport: Transport::LaterFragment,
            ..IpLayer::default()
        }
    }

    #[test]
    fn out_of_order_fragments_reassemble_with_a_valid_header() {
        let header = [
            0x45, 0, 0, 0, 0, 77, 0x20, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let data: Vec<u8> = (0..40u8).collect();
        let mut d = Defragmenter::new(4, 30_000_000_000);
        assert!(d.add(&frag(&header, &data[16..32], 16, true), 1).is_none());
        assert!(d.add(&frag(&header, &data[32..], 32, false), 2).is_none());
        let whole = d
            .add(&frag(&header, &data[..16], 0, true), 3)
            .expect("complete");
        assert_eq!(whole.len(), 60);
        assert_eq!(&whole[20..], &data[..]);
        assert_eq!(u16::from_be_bytes([whole[2], whole[3]]), 60);
        assert_eq!(whole[6] & 0x3f, 0, "fragment bits cleared");
        assert!(checksum::verifies(&whole[..20], 0));
        assert_eq!(d.stats.reassembled, 1);
    }

    #[test]
    fn overlaps_keep_first_bytes_and_table_stays_bounded() {
        let header = [0x45u8; 20];
        let mut d = Defragmenter::new(2, 1_000);
        let a = [1u8; 16];
        let b = [2u8; 16];
        assert!(d.add(&frag(&header, &a, 0, true), 0).is_none());
        let mut l = frag(&header, &b, 8, false);
        l.frag.offset = 8;
        let whole = d.add(&l, 0).expect("complete").to_vec();
        assert_eq!(&whole[20..36], &[1u8; 16]);
        assert_eq!(&whole[36..], &[2u8; 8]);
        // Many distinct datagrams never grow the table.
        for id in 0..100u32 {
            let mut f = frag(&header, &a, 0, true);
            f.frag.id = id;
            let _ = d.add(&f, i64::from(id));
        }
        assert_eq!(d.slots.len(), 2);
        assert!(d.stats.dropped > 0 || d.stats.timed_out > 0);
    }
}
