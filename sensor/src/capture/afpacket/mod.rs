//! Live capture through Linux AF_PACKET with TPACKET_V3 rings and fanout,
//! the capture path Suricata and Zeek use at line rate.
//!
//! Every worker gets a socket of its own with a memory-mapped receive ring.
//! The sockets join one fanout group with `PACKET_FANOUT_HASH` (and
//! `FLAG_DEFRAG`, so fragments are reassembled before they are hashed and
//! stay together), so the kernel shares packets out by a symmetric flow
//! hash and both directions of a connection reach the same worker. A worker
//! reads its ring in place: the kernel fills whole blocks of packets and
//! hands them over through a status word, the worker decodes straight from
//! the block and gives it back, and nothing is copied or locked on the way.
//! Only a VLAN tag that the network card stripped into metadata is put back
//! into the frame, in a buffer the lane owns.
//!
//! The kernel's counters of a ring (`tpacket_stats_v3`: packets, and drops
//! because the ring was full) are read as the statistics' kernel figures.

use super::{CaptureError, KernelStats, Next, RawPacket, Source, LOOKAHEAD};
use crate::decode::LinkType;
use setup::interface_drops;
pub use setup::open;
use std::sync::atomic::{fence, AtomicU32, Ordering};

mod setup;

// Kernel ABI for reading the ring (linux/if_packet.h).
const PACKET_STATISTICS: libc::c_int = 6;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;

#[repr(C)]
struct TpacketStatsV3 {
    packets: u32,
    drops: u32,
    freeze_q_cnt: u32,
}

// Offsets in a block descriptor (struct tpacket_block_desc with its
// tpacket_hdr_v1) and in a packet header (struct tpacket3_hdr).
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
const PKT_NEXT: usize = 0;
const PKT_SEC: usize = 4;
const PKT_NSEC: usize = 8;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_STATUS: usize = 20;
const PKT_MAC: usize = 24;
const PKT_VLAN_TCI: usize = 32;
const PKT_VLAN_TPID: usize = 36;
/// `sll_pkttype` of the sockaddr_ll after the (aligned) packet header.
const PKT_SLL_PKTTYPE: usize = 48 + 10;
const PACKET_OUTGOING: u8 = 4;

/// One worker's share of an interface: a socket with its mapped ring.
pub struct AfPacketLane {
    interface: String,
    fd: libc::c_int,
    ring: *mut u8,
    ring_len: usize,
    block_size: usize,
    blocks: usize,
    link: LinkType,
    /// On loopback every packet passes twice, going out and coming in;
    /// like libpcap, only the incoming copy is kept.
    loopback: bool,
    timeout_ms: i32,
    /// Block being read, and whether the kernel has handed it over.
    block: usize,
    holding: bool,
    /// Packets left in the held block and where the next one starts.
    left: u32,
    next_pkt: usize,
    /// Where the packet `LOOKAHEAD` places after `next_pkt` starts, once
    /// a look ahead has found it (0: not yet, or the block ends sooner).
    scout: usize,
    /// Frames whose VLAN tag the card stripped get it back here.
    scratch: Vec<u8>,
    /// Realtime minus the pipeline clock, to express packet times as
    /// arrivals on the pipeline's clock.
    clock_offset: i64,
    stats: KernelStats,
    /// The interface's own receive drops when the lane opened; one lane of
    /// a group reports the interface's drops since then.
    if_drop_base: Option<u64>,
}

// SAFETY: the ring is owned by this lane alone (its own socket's mapping),
// and the lane is used by one thread at a time.
unsafe impl Send for AfPacketLane {}

impl AfPacketLane {
    /// The status word of block `i`.
    fn block_status(&self, i: usize) -> &AtomicU32 {
        // SAFETY: the word lies inside the mapping, is 4-byte aligned (blocks
        // are page aligned) and is shared with the kernel, hence atomic.
        unsafe { &*(self.ring.add(i * self.block_size + BLOCK_STATUS) as *const AtomicU32) }
    }

    fn read_u32(&self, at: usize) -> u32 {
        if at + 4 > self.ring_len {
            return 0;
        }
        // SAFETY: in bounds (checked); the kernel wrote it before handing
        // the block over (acquire on the status word).
        unsafe { std::ptr::read_unaligned(self.ring.add(at) as *const u32) }
    }

    fn read_u16(&self, at: usize) -> u16 {
        if at + 2 > self.ring_len {
            return 0;
        }
        // SAFETY: as in `read_u32`.
        unsafe { std::ptr::read_unaligned(self.ring.add(at) as *const u16) }
    }

    /// Gives the held block back to the kernel and moves to the next.
    fn release(&mut self) {
        if self.holding {
            // Everything read from the block happens before the kernel may
            // write it again.
            fence(Ordering::Release);
            self.block_status(self.block)
                .store(TP_STATUS_KERNEL, Ordering::Release);
            self.holding = false;
            self.left = 0;
            self.scout = 0;
            self.block = (self.block + 1) % self.blocks;
        }
    }

    /// Takes the current block if the kernel has filled it.
    fn acquire(&mut self) -> bool {
        let status = self.block_status(self.block).load(Ordering::Acquire);
        if status & TP_STATUS_USER == 0 {
            return false;
        }
        let base = self.block * self.block_size;
        self.holding = true;
        self.scout = 0;
        self.left = self.read_u32(base + BLOCK_NUM_PKTS);
        self.next_pkt = base + self.read_u32(base + BLOCK_FIRST_PKT) as usize;
        true
    }

    fn wait(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, self.timeout_ms) };
        n > 0
    }

    fn read_stats(&mut self) {
        let mut st = TpacketStatsV3 {
            packets: 0,
            drops: 0,
            freeze_q_cnt: 0,
        };
        let mut len = std::mem::size_of::<TpacketStatsV3>() as libc::socklen_t;
        // SAFETY: `st` is writable and of the size passed. The kernel resets
        // its counters on every read, so they are added up here.
        let ok = unsafe {
            libc::getsockopt(
                self.fd,
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&mut st as *mut TpacketStatsV3).cast(),
                &mut len,
            )
        } == 0;
        if ok {
            self.stats.received += u64::from(st.packets);
            self.stats.dropped += u64::from(st.drops);
        }
        if let Some(base) = self.if_drop_base {
            self.stats.if_dropped = interface_drops(&self.interface).saturating_sub(base);
        }
    }
}

impl Source for AfPacketLane {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        loop {
            if self.holding && self.left > 0 {
                if self.loopback && self.outgoing() {
                    self.skip_packet();
                    continue;
                }
                return Ok(self.take_packet());
            }
            self.release();
            if self.acquire() {
                continue;
            }
            if !self.wait() && !self.acquire() {
                return Ok(Next::Timeout);
            }
        }
    }

    fn name(&self) -> &str {
        &self.interface
    }

    fn kernel_stats(&mut self) -> Option<KernelStats> {
        self.read_stats();
        Some(self.stats)
    }

    fn peek_ahead(&mut self) -> Option<(LinkType, &[u8])> {
        // Only within the held block: the next one may not be ours yet.
        if !self.holding || self.left as usize <= LOOKAHEAD {
            return None;
        }
        if self.scout == 0 {
            let mut at = self.next_pkt;
            for _ in 0..LOOKAHEAD {
                at = self.after(at)?;
            }
            self.scout = at;
        }
        let at = self.scout;
        let block_end = (self.block + 1) * self.block_size;
        let start = at + usize::from(self.read_u16(at + PKT_MAC));
        let end = start.saturating_add(self.read_u32(at + PKT_SNAPLEN) as usize);
        // A frame whose VLAN tag the card stripped is not what the worker
        // will see; no guess beats a wrong one.
        let stripped = self.read_u32(at + PKT_STATUS) & TP_STATUS_VLAN_VALID != 0;
        if stripped || end > block_end || start >= end {
            return None;
        }
        // SAFETY: `start..end` lies inside the held block (checked), which
        // the kernel does not touch until it is released.
        let data = unsafe { std::slice::from_raw_parts(self.ring.add(start), end - start) };
        Some((self.link, data))
    }
}

impl AfPacketLane {
    fn outgoing(&self) -> bool {
        let at = self.next_pkt + PKT_SLL_PKTTYPE;
        at < self.ring_len && {
            // SAFETY: in bounds (checked), inside the held block.
            unsafe { *self.ring.add(at) == PACKET_OUTGOING }
        }
    }

    fn skip_packet(&mut self) {
        let at = self.next_pkt;
        let next = self.read_u32(at + PKT_NEXT) as usize;
        self.left -= 1;
        self.next_pkt = if next == 0 {
            (self.block + 1) * self.block_size
        } else {
            at + next
        };
        self.move_scout();
    }

    /// The packet after the one at `at` in the held block, if the block
    /// says where it is.
    fn after(&self, at: usize) -> Option<usize> {
        let next = self.read_u32(at + PKT_NEXT) as usize;
        let to = at + next;
        (next != 0 && to < (self.block + 1) * self.block_size).then_some(to)
    }

    /// Keeps the scout `LOOKAHEAD` packets after `next_pkt`.
    fn move_scout(&mut self) {
        if self.scout != 0 {
            self.scout = match self.left as usize > LOOKAHEAD {
                true => self.after(self.scout).unwrap_or(0),
                false => 0,
            };
        }
    }

    /// The next packet of the held block.
    fn take_packet(&mut self) -> Next<'_> {
        let at = self.next_pkt;
        let block_end = (self.block + 1) * self.block_size;
        let next = self.read_u32(at + PKT_NEXT) as usize;
        let sec = i64::from(self.read_u32(at + PKT_SEC));
        let nsec = i64::from(self.read_u32(at + PKT_NSEC));
        let snaplen = self.read_u32(at + PKT_SNAPLEN) as usize;
        let wire = self.read_u32(at + PKT_LEN);
        let status = self.read_u32(at + PKT_STATUS);
        let mac = usize::from(self.read_u16(at + PKT_MAC));
        self.left -= 1;
        self.next_pkt = if next == 0 { block_end } else { at + next };
        self.move_scout();
        // A header the kernel would never write ends the block here.
        let start = at + mac;
        let end = start.saturating_add(snaplen);
        let sane = end <= block_end && start < end;
        if !sane {
            self.left = 0;
        }
        let ts = sec * 1_000_000_000 + nsec;
        let arrival_ns = (ts - self.clock_offset).max(1) as u64;
        let data: &[u8] = if sane {
            // SAFETY: `start..end` lies inside the held block (checked), which
            // the kernel does not touch until it is released.
            unsafe { std::slice::from_raw_parts(self.ring.add(start), end - start) }
        } else {
            &[]
        };
        let tci = self.read_u32(at + PKT_VLAN_TCI) as u16;
        let stripped = status & TP_STATUS_VLAN_VALID != 0 && self.link == LinkType::ETHERNET;
        if stripped && data.len() >= 12 {
            // Put the tag back where it was on the wire.
            let tpid = if status & TP_STATUS_VLAN_TPID_VALID != 0 {
                self.read_u16(at + PKT_VLAN_TPID)
            } else {
                0x8100
            };
            self.scratch.clear();
            self.scratch.extend_from_slice(&data[..12]);
            self.scratch.extend_from_slice(&tpid.to_be_bytes());
            self.scratch.extend_from_slice(&tci.to_be_bytes());
            self.scratch.extend_from_slice(&data[12..]);
            return Next::Packet(RawPacket {
                ts,
                data: &self.scratch,
                wire_len: wire + 4,
                link: self.link,
                backing: None,
                arrival_ns,
            });
        }
        Next::Packet(RawPacket {
            ts,
            data,
            wire_len: wire.max(data.len() as u32),
            link: self.link,
            backing: None,
            arrival_ns,
        })
    }
}

impl Drop for AfPacketLane {
    fn drop(&mut self) {
        // SAFETY: the mapping and descriptor belong to this lane alone.
        unsafe {
            if !self.ring.is_null() {
                libc::munmap(self.ring.cast(), self.ring_len);
            }
            libc::close(self.fd);
        }
    }
}
