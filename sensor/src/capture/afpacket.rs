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
use crate::config::CaptureSection;
use crate::decode::LinkType;
use std::ffi::CString;
use std::sync::atomic::{fence, AtomicU16, AtomicU32, Ordering};

// Kernel ABI (linux/if_packet.h, linux/if_ether.h, linux/filter.h).
const ETH_P_ALL: u16 = 0x0003;
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_FANOUT: libc::c_int = 18;
const PACKET_MR_PROMISC: libc::c_ushort = 1;
const TPACKET_V3: libc::c_int = 2;
const PACKET_FANOUT_HASH: u32 = 0;
const PACKET_FANOUT_FLAG_DEFRAG: u32 = 0x8000;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
/// Frames in a V3 ring are of variable size; the kernel only checks that
/// the nominal frame size is aligned and divides the block.
const NOMINAL_FRAME: u32 = 2048;

#[repr(C)]
struct TpacketReq3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

#[repr(C)]
struct TpacketStatsV3 {
    packets: u32,
    drops: u32,
    freeze_q_cnt: u32,
}

#[repr(C)]
struct PacketMreq {
    ifindex: libc::c_int,
    kind: libc::c_ushort,
    alen: libc::c_ushort,
    address: [u8; 8],
}

#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const pcap::BpfInstruction,
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

/// How the capture failed, with what to do about it.
fn live_err(interface: &str, problem: String) -> CaptureError {
    CaptureError::Live {
        interface: interface.to_string(),
        problem,
    }
}

fn os_err(interface: &str, what: &str) -> CaptureError {
    let e = std::io::Error::last_os_error();
    let hint = match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            "; live capture needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities"
        }
        Some(libc::ENOMEM) => "; lower capture.buffer_mib or raise the memory limits",
        _ => "",
    };
    live_err(interface, format!("{what}: {e}{hint}"))
}

fn setsockopt<T>(fd: libc::c_int, level: libc::c_int, name: libc::c_int, v: &T) -> bool {
    // SAFETY: `v` points to a live value of the size passed.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        ) == 0
    }
}

/// The ARP hardware type of an interface (1 Ethernet, 772 loopback, ...).
fn hardware_type(interface: &str) -> Result<u32, CaptureError> {
    let path = format!("/sys/class/net/{interface}/type");
    let kind = std::fs::read_to_string(&path)
        .map_err(|_| {
            live_err(
                interface,
                "no such interface; list interfaces with `ip link`".into(),
            )
        })?
        .trim()
        .parse::<u32>()
        .map_err(|_| live_err(interface, format!("cannot read {path}")))?;
    Ok(kind)
}

/// The link type of an interface, from its ARP hardware type.
fn link_type_of(kind: u32, interface: &str) -> Result<LinkType, CaptureError> {
    match kind {
        // Ethernet, and loopback (which carries Ethernet headers).
        1 | 772 => Ok(LinkType::ETHERNET),
        // Tunnel devices without a link header.
        65534 => Ok(LinkType::RAW),
        other => Err(live_err(
            interface,
            format!(
                "hardware type {other} is not supported by af-packet capture; \
                 set capture.method = \"libpcap\""
            ),
        )),
    }
}

/// Packets the interface dropped on receive since it came up (0 when the
/// counter cannot be read).
fn interface_drops(interface: &str) -> u64 {
    std::fs::read_to_string(format!("/sys/class/net/{interface}/statistics/rx_dropped"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// A fanout group id that other processes on the host are unlikely to use.
fn group_id() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    (std::process::id() as u16).wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Opens `lanes` sockets on `cfg.interface`, one per worker, sharing the
/// traffic by flow hash.
pub fn open(cfg: &CaptureSection, lanes: usize) -> Result<Vec<AfPacketLane>, CaptureError> {
    let interface = cfg.interface.as_str();
    if interface.is_empty() {
        return Err(live_err(
            interface,
            "no interface given; pass --interface IF or set capture.interface".into(),
        ));
    }
    let hardware = hardware_type(interface)?;
    let link = link_type_of(hardware, interface)?;
    let name = CString::new(interface)
        .map_err(|_| live_err(interface, "interface name contains a NUL byte".into()))?;
    // SAFETY: a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(live_err(
            interface,
            "no such interface; list interfaces with `ip link`".into(),
        ));
    }
    let filter = compile_filter(cfg, link)?;
    let group = group_id();
    let mut out = Vec::with_capacity(lanes);
    for i in 0..lanes.max(1) {
        let mut lane = AfPacketLane::open(cfg, ifindex as libc::c_int, link, filter.as_ref())?;
        lane.loopback = hardware == 772;
        if i == 0 {
            lane.if_drop_base = Some(interface_drops(interface));
        }
        if lanes > 1 {
            let arg = u32::from(group) | (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;
            if !setsockopt(lane.fd, libc::SOL_PACKET, PACKET_FANOUT, &arg) {
                return Err(os_err(interface, "cannot join the fanout group"));
            }
        }
        out.push(lane);
    }
    Ok(out)
}

/// The BPF filter compiled by libpcap, for the kernel to run on the socket.
fn compile_filter(
    cfg: &CaptureSection,
    link: LinkType,
) -> Result<Option<pcap::BpfProgram>, CaptureError> {
    if cfg.bpf.trim().is_empty() {
        return Ok(None);
    }
    let interface = cfg.interface.as_str();
    let dead = pcap::Capture::dead(pcap::Linktype(link.0))
        .map_err(|e| live_err(interface, format!("cannot compile the BPF filter: {e}")))?;
    dead.compile(&cfg.bpf, true)
        .map(Some)
        .map_err(|e| live_err(interface, format!("invalid BPF filter '{}': {e}", cfg.bpf)))
}

impl AfPacketLane {
    fn open(
        cfg: &CaptureSection,
        ifindex: libc::c_int,
        link: LinkType,
        filter: Option<&pcap::BpfProgram>,
    ) -> Result<AfPacketLane, CaptureError> {
        let interface = cfg.interface.as_str();
        // SAFETY: plain socket creation.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(ETH_P_ALL.to_be()),
            )
        };
        if fd < 0 {
            return Err(os_err(interface, "cannot open an AF_PACKET socket"));
        }
        // From here on the lane owns the descriptor and closes it on error.
        let block_size = (cfg.block_kib as usize) * 1024;
        let blocks = ((cfg.buffer_mib as usize) * 1024 * 1024 / block_size).max(1);
        let mut lane = AfPacketLane {
            interface: interface.to_string(),
            fd,
            ring: std::ptr::null_mut(),
            ring_len: 0,
            block_size,
            blocks,
            link,
            loopback: false,
            timeout_ms: cfg.timeout_ms,
            block: 0,
            holding: false,
            left: 0,
            next_pkt: 0,
            scout: 0,
            scratch: Vec::with_capacity(cfg.snaplen.max(64) as usize + 8),
            clock_offset: super::super::pipeline::realtime_minus_clock(),
            stats: KernelStats::default(),
            if_drop_base: None,
        };
        if !setsockopt(fd, libc::SOL_PACKET, PACKET_VERSION, &TPACKET_V3) {
            return Err(os_err(interface, "the kernel has no TPACKET_V3 rings"));
        }
        if let Some(prog) = filter {
            let insns = prog.get_instructions();
            let fprog = SockFprog {
                len: insns.len() as libc::c_ushort,
                filter: insns.as_ptr(),
            };
            if !setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog) {
                return Err(os_err(interface, "cannot attach the BPF filter"));
            }
        }
        let req = TpacketReq3 {
            block_size: block_size as u32,
            block_nr: blocks as u32,
            frame_size: NOMINAL_FRAME,
            frame_nr: (block_size as u32 / NOMINAL_FRAME) * blocks as u32,
            retire_blk_tov: cfg.block_timeout_ms as u32,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        if !setsockopt(fd, libc::SOL_PACKET, PACKET_RX_RING, &req) {
            return Err(os_err(interface, "cannot set up the receive ring"));
        }
        let len = block_size * blocks;
        // SAFETY: maps the ring the kernel just made for this socket.
        let ring = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if ring == libc::MAP_FAILED {
            return Err(os_err(interface, "cannot map the receive ring"));
        }
        lane.ring = ring.cast();
        lane.ring_len = len;
        // SAFETY: a zeroed sockaddr_ll is valid; the fields are set below.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL.to_be();
        addr.sll_ifindex = ifindex;
        // SAFETY: `addr` is a valid sockaddr_ll of the size passed.
        let bound = unsafe {
            libc::bind(
                fd,
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if bound != 0 {
            return Err(os_err(interface, "cannot bind to the interface"));
        }
        if cfg.promiscuous {
            let mreq = PacketMreq {
                ifindex,
                kind: PACKET_MR_PROMISC,
                alen: 0,
                address: [0; 8],
            };
            if !setsockopt(fd, libc::SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq) {
                return Err(os_err(interface, "cannot switch to promiscuous mode"));
            }
        }
        Ok(lane)
    }

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
