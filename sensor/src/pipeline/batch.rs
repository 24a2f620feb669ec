//! Packet batches: the unit that moves between threads.
//!
//! A batch is a list of packet descriptors plus either its own byte arena
//! (packets copied in, as from a live capture buffer that the kernel or
//! libpcap reuses) or a shared reference to the memory the packets already
//! live in (a mapped capture file, a recording held in memory), in which
//! case nothing is copied. Batches are allocated once, at start-up, and then
//! circulate between the reader and a worker, so moving packets costs no
//! allocation.

use crate::capture::{Backing, RawPacket};
use crate::decode::LinkType;
use std::sync::Arc;

/// Where one packet sits: in the batch's arena, or in its backing buffer.
#[derive(Clone, Copy, Debug)]
pub struct PacketRef {
    pub ts: i64,
    pub offset: usize,
    pub len: u32,
    pub wire_len: u32,
    pub link: LinkType,
    /// True when `offset` points into the backing buffer.
    pub external: bool,
    /// When the reader took the packet (monotonic ns), if measured.
    pub read_ns: u64,
}

/// Result of offering a packet to a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    Added,
    /// No room (packets or bytes), or the packet lives in another backing
    /// buffer than the batch already refers to: send this batch first.
    Full,
}

pub struct Batch {
    data: Vec<u8>,
    packets: Vec<PacketRef>,
    backing: Option<Backing>,
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
            backing: None,
            now: i64::MIN,
            flush: false,
        }
    }

    /// Adds `p`, by reference when it lives in a backing buffer and by copy
    /// otherwise.
    #[inline]
    pub fn push(&mut self, p: &RawPacket<'_>, read_ns: u64) -> Push {
        if self.packets.len() == self.packets.capacity() {
            return Push::Full;
        }
        let (offset, external) = match p.backing {
            Some((buf, offset)) => {
                match &self.backing {
                    Some(b) if Arc::ptr_eq(b, buf) => {}
                    Some(_) => return Push::Full,
                    None => self.backing = Some(buf.clone()),
                }
                (offset, true)
            }
            None => {
                if self.data.len() + p.data.len() > self.data.capacity() {
                    return Push::Full;
                }
                let offset = self.data.len();
                self.data.extend_from_slice(p.data);
                (offset, false)
            }
        };
        self.packets.push(PacketRef {
            ts: p.ts,
            offset,
            len: p.data.len() as u32,
            wire_len: p.wire_len,
            link: p.link,
            external,
            read_ns,
        });
        Push::Added
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
        self.backing = None;
        self.now = i64::MIN;
        self.flush = false;
    }

    /// The packets with their bytes.
    pub fn iter(&self) -> impl Iterator<Item = (&PacketRef, &[u8])> {
        self.packets.iter().map(move |p| (p, self.bytes_of(p)))
    }

    /// Packet `i` with its bytes.
    pub fn get(&self, i: usize) -> Option<(&PacketRef, &[u8])> {
        self.packets.get(i).map(|p| (p, self.bytes_of(p)))
    }

    fn bytes_of(&self, p: &PacketRef) -> &[u8] {
        let buf: &[u8] = match (&self.backing, p.external) {
            (Some(b), true) => (**b).as_ref(),
            (None, true) => &[],
            (_, false) => &self.data[..],
        };
        let end = (p.offset + p.len as usize).min(buf.len());
        &buf[p.offset.min(end)..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(d: &'static [u8]) -> RawPacket<'static> {
        RawPacket {
            ts: 1,
            data: d,
            wire_len: d.len() as u32,
            link: LinkType::ETHERNET,
            backing: None,
            arrival_ns: 0,
        }
    }

    #[test]
    fn batch_refuses_when_full_and_keeps_bytes_apart() {
        let mut b = Batch::new(2, 10);
        assert_eq!(b.push(&raw(b"abcd"), 0), Push::Added);
        assert_eq!(b.push(&raw(b"0123456789"), 0), Push::Full, "too many bytes");
        assert_eq!(b.push(&raw(b"xyz"), 0), Push::Added);
        assert_eq!(b.push(&raw(b"q"), 0), Push::Full, "too many packets");
        let got: Vec<&[u8]> = b.iter().map(|(_, d)| d).collect();
        assert_eq!(got, vec![&b"abcd"[..], &b"xyz"[..]]);
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn packets_in_a_backing_buffer_are_referenced_not_copied() {
        let buf: Backing = Arc::new(b"hello world".to_vec());
        let other: Backing = Arc::new(b"elsewhere".to_vec());
        let mut b = Batch::new(8, 0);
        fn p(backing: &Backing, at: usize, len: usize) -> RawPacket<'_> {
            RawPacket {
                ts: 1,
                data: &(**backing).as_ref()[at..at + len],
                wire_len: len as u32,
                link: LinkType::ETHERNET,
                backing: Some((backing, at)),
                arrival_ns: 0,
            }
        }
        let buf2 = buf.clone();
        assert_eq!(b.push(&p(&buf2, 0, 5), 0), Push::Added, "no arena needed");
        assert_eq!(b.push(&p(&buf2, 6, 5), 0), Push::Added);
        assert_eq!(
            b.push(&p(&other, 0, 4), 0),
            Push::Full,
            "one backing per batch"
        );
        let got: Vec<&[u8]> = b.iter().map(|(_, d)| d).collect();
        assert_eq!(got, vec![&b"hello"[..], &b"world"[..]]);
    }
}
