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
        Ok(LiveSource {
            interface,
            cap,
            link,
        })
    }
}

impl Source for LiveSource {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        match self.cap.next_packet() {
            Ok(p) => Ok(Next::Packet(RawPacket {
                ts: timeval_ns(
                    i64::from(p.header.ts.tv_sec),
                    i64::from(p.header.ts.tv_usec),
                    true,
                ),
                data: p.data,
                wire_len: p.header.len.max(p.header.caplen),
                link: self.link,
            })),
            Err(pcap::Error::TimeoutExpired) => Ok(Next::Timeout),
            Err(pcap::Error::NoMorePackets) => Ok(Next::End),
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
