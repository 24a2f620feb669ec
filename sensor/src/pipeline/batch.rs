//! Packet batches: the unit that moves between threads.
//!
//! A batch is one byte arena plus a list of packet descriptors. Batches are
//! allocated once, at start-up, and then circulate between the reader and a
//! worker forever, so moving packets costs a copy into the arena and no
//! allocation.

use crate::capture::RawPacket;
use crate::decode::LinkType;

/// Where one packet sits in its batch.
#[derive(Clone, Copy, Debug)]
pub struct PacketRef {
    pub ts: i64,
    pub offset: u32,
    pub len: u32,
    pub wire_len: u32,
    pub link: LinkType,
}

pub struct Batch {
    data: Vec<u8>,
    packets: Vec<PacketRef>,
    /// Packet time the reader had reached when it sent this batch; workers
    /// run their timers up to it.
    pub now: i64,
    /// After this batch the worker writes out every connection: packet time
    /// jumped back, so what follows is another capture.
    pub flush: bool,
}

impl Batch {
    pub fn new(max_packets: usize, max_bytes: usize) -> Batch {
        Batch {
            data: Vec::with_capacity(max_bytes),
            packets: Vec::with_capacity(max_packets),
            now: i64::MIN,
            flush: false,
        }
    }

    /// Copies `p` in; false when the batch has no room for it.
    #[inline]
    pub fn push(&mut self, p: &RawPacket<'_>) -> bool {
        if self.packets.len() == self.packets.capacity()
            || self.data.len() + p.data.len() > self.data.capacity()
        {
            return false;
        }
        let offset = self.data.len() as u32;
        self.data.extend_from_slice(p.data);
        self.packets.push(PacketRef {
            ts: p.ts,
            offset,
            len: p.data.len() as u32,
            wire_len: p.wire_len,
            link: p.link,
        });
        true
    }

    pub fn len(&self) -> usize {
        self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.packets.len() == self.packets.capacity()
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
        self.now = i64::MIN;
        self.flush = false;
    }

    /// The packets with their bytes.
    pub fn iter(&self) -> impl Iterator<Item = (&PacketRef, &[u8])> {
        self.packets.iter().map(move |p| {
            let start = p.offset as usize;
            (p, &self.data[start..start + p.len as usize])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_refuses_when_full_and_keeps_bytes_apart() {
        let mut b = Batch::new(2, 10);
        let p = |d: &'static [u8]| RawPacket {
            ts: 1,
            data: d,
            wire_len: d.len() as u32,
            link: LinkType::ETHERNET,
        };
        assert!(b.push(&p(b"abcd")));
        assert!(!b.push(&p(b"0123456789")), "too many bytes");
        assert!(b.push(&p(b"xyz")));
        assert!(!b.push(&p(b"q")), "too many packets");
        let got: Vec<&[u8]> = b.iter().map(|(_, d)| d).collect();
        assert_eq!(got, vec![&b"abcd"[..], &b"xyz"[..]]);
        b.clear();
        assert!(b.is_empty());
    }
}
