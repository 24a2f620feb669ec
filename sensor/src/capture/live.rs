//! Live capture from a network interface through libpcap, with snap length,
//! promiscuous mode, BPF filter and kernel buffer size.
//!
//! Reads wait at most the configured timeout so the sensor can notice
//! shutdown and run its timers while the wire is quiet. libpcap's own
//! counters (`pcap_stats`: packets seen, dropped because its buffer was
//! full, dropped by the interface) become the kernel figures of the
//! statistics, as the rings' counters do for AF_PACKET.

use super::CaptureSection;
use super::{timeval_ns, CaptureError, KernelStats, Next, RawPacket, Source};
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
    /// libpcap's counters (`pcap_stats`), carried past their 32 bits.
    received: Widened,
    dropped: Widened,
    if_dropped: Widened,
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
            received: Widened::default(),
            dropped: Widened::default(),
            if_dropped: Widened::default(),
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
        // pcap_stats counts from the handle's opening (libpcap adds up the
        // kernel's reset-on-read counters itself), so each reading replaces
        // the last rather than adding to it.
        let s = self.cap.stats().ok()?;
        Some(KernelStats {
            received: self.received.update(s.received),
            dropped: self.dropped.update(s.dropped),
            if_dropped: self.if_dropped.update(s.if_dropped),
        })
    }
}

/// A cumulative 32-bit counter of libpcap's (`struct pcap_stat` has
/// `u_int` fields) carried on in 64 bits: at a million packets a second it
/// wraps after 71 minutes, and a sensor runs for months. Correct as long
/// as it is read at least once per wrap, which the stats interval does.
#[derive(Clone, Copy, Debug, Default)]
struct Widened {
    last: u32,
    total: u64,
}

impl Widened {
    fn update(&mut self, raw: u32) -> u64 {
        self.total += u64::from(raw.wrapping_sub(self.last));
        self.last = raw;
        self.total
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

#[cfg(test)]
mod tests {
    use super::Widened;

    /// libpcap's counters are cumulative and 32 bits wide: readings replace
    /// each other, and a wrap carries on instead of going back to zero.
    #[test]
    fn pcap_counters_are_cumulative_and_carried_past_32_bits() {
        let mut w = Widened::default();
        assert_eq!(w.update(10), 10);
        assert_eq!(w.update(10), 10);
        assert_eq!(w.update(u32::MAX - 5), u64::from(u32::MAX) - 5);
        assert_eq!(w.update(4), u64::from(u32::MAX) + 5);
        assert_eq!(w.update(100), u64::from(u32::MAX) + 101);
    }
}
