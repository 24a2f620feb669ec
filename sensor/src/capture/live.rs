//! Live capture from a network interface through libpcap, with snap length,
//! promiscuous mode, BPF filter and kernel buffer size.
//!
//! Reads wait at most the configured timeout so the sensor can notice
//! shutdown and run its timers while the wire is quiet.

use super::{timeval_ns, CaptureError, KernelStats, Next, RawPacket, Source};
use crate::config::CaptureSection;
use crate::decode::LinkType;

pub struct LiveSource {
    interface: String,
    cap: pcap::Capture<pcap::Active>,
    link: LinkType,
    fd: i32,
    timeout_ms: i32,
    /// The last read returned a packet, so more may be buffered: read again
    /// before waiting on the descriptor.
    draining: bool,
}

impl LiveSource {
    pub fn open(cfg: &CaptureSection) -> Result<LiveSource, CaptureError> {
        let interface = cfg.interface.clone();
        let err = |problem: String| CaptureError::Live {
            interface: interface.clone(),
            problem,
        };
        if interface.is_empty() {
            return Err(err(
                "no interface given; pass --interface IF or set capture.interface".into(),
            ));
        }
        let inactive = pcap::Capture::from_device(interface.as_str())
            .map_err(|e| err(format!("cannot use device: {e}")))?;
        let mut cap = inactive
            .promisc(cfg.promiscuous)
            .snaplen(cfg.snaplen)
            .buffer_size(cfg.buffer_mib.saturating_mul(1024 * 1024))
            .timeout(cfg.timeout_ms)
            .precision(pcap::Precision::Nano)
            .open()
            .map_err(|e| {
                let raw = e.to_string();
                if raw.contains("ermission") || raw.contains("not permitted") {
                    err(format!(
                        "{raw}; live capture needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities"
                    ))
                } else if raw.contains("No such device") || raw.contains("doesn't exist") {
                    err(format!("{raw}; list interfaces with `ip link`"))
                } else {
                    err(raw)
                }
            })?;
        if !cfg.bpf.trim().is_empty() {
            cap.filter(&cfg.bpf, true)
                .map_err(|e| err(format!("invalid BPF filter '{}': {e}", cfg.bpf)))?;
        }
        let link = LinkType(cap.get_datalink().0);
        if !link.is_supported() {
            return Err(err(format!("link type {} is not supported", link.0)));
        }
        // libpcap's own read timeout does not fire on Linux when no packets
        // arrive at all, so the sensor waits on the descriptor itself.
        let cap = cap
            .setnonblock()
            .map_err(|e| err(format!("cannot switch to non-blocking mode: {e}")))?;
        use std::os::fd::AsRawFd;
        let fd = cap.as_raw_fd();
        Ok(LiveSource {
            interface,
            cap,
            link,
            fd,
            timeout_ms: cfg.timeout_ms,
            draining: false,
        })
    }
}

impl Source for LiveSource {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        if !self.draining && !wait_readable(self.fd, self.timeout_ms) {
            return Ok(Next::Timeout);
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.draining = true;
                Ok(Next::Packet(RawPacket {
                    ts: timeval_ns(p.header.ts.tv_sec, p.header.ts.tv_usec, true),
                    data: p.data,
                    wire_len: p.header.len.max(p.header.caplen),
                    link: self.link,
                    backing: None,
                    arrival_ns: 0,
                }))
            }
            Err(pcap::Error::TimeoutExpired) | Err(pcap::Error::NoMorePackets) => {
                self.draining = false;
                Ok(Next::Timeout)
            }
            Err(e) => Err(CaptureError::Live {
                interface: self.interface.clone(),
                problem: e.to_string(),
            }),
        }
    }

    fn name(&self) -> &str {
        &self.interface
    }

    fn kernel_stats(&mut self) -> Option<KernelStats> {
        self.cap.stats().ok().map(|s| KernelStats {
            received: u64::from(s.received),
            dropped: u64::from(s.dropped),
            if_dropped: u64::from(s.if_dropped),
        })
    }
}

/// Waits until `fd` is readable or `timeout_ms` passed; true if readable.
fn wait_readable(fd: i32, timeout_ms: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    // An interrupted wait (a signal) reads as "nothing yet": the caller
    // checks for shutdown and comes back.
    n > 0
}
