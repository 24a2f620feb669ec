//! Opening AF_PACKET sockets: checking the interface, compiling the BPF
//! filter, setting up and mapping each TPACKET_V3 ring, binding, and
//! joining the fanout group. Errors name the interface and say what to do.

use super::AfPacketLane;
use crate::capture::CaptureSection;
use crate::capture::{CaptureError, KernelStats};
use crate::decode::LinkType;
use std::ffi::CString;
use std::sync::atomic::{AtomicU16, Ordering};

// Kernel ABI for setting up (linux/if_packet.h, linux/if_ether.h,
// linux/filter.h).
const ETH_P_ALL: u16 = 0x0003;
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_FANOUT: libc::c_int = 18;
const PACKET_MR_PROMISC: libc::c_ushort = 1;
const TPACKET_V3: libc::c_int = 2;
const PACKET_FANOUT_HASH: u32 = 0;
const PACKET_FANOUT_FLAG_DEFRAG: u32 = 0x8000;
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
pub(super) fn interface_drops(interface: &str) -> u64 {
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
            clock_offset: crate::pipeline::realtime_minus_clock(),
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
}
