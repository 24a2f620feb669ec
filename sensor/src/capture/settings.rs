//! The capture settings (`[capture]` in the configuration file): which
//! interface, how (AF_PACKET rings or libpcap), snap length, filter and
//! buffers. Owned here so that capture depends on nothing above it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureSection {
    /// Interface for `run` (flag: --interface).
    pub interface: String,
    /// How to capture: AF_PACKET rings (Linux), libpcap, or `auto`.
    pub method: CaptureMethod,
    pub snaplen: i32,
    pub promiscuous: bool,
    /// BPF filter expression; empty captures everything.
    pub bpf: String,
    /// Kernel capture buffer in MiB; with AF_PACKET, per worker ring.
    pub buffer_mib: i32,
    /// AF_PACKET: size of one ring block in KiB (a power of two, at least
    /// the page size); the kernel hands blocks over whole. On a quiet wire
    /// each block retires part-full after `block_timeout_ms`, so the ring
    /// holds `buffer_mib / block_kib` such intervals: with 1 MiB blocks
    /// 64 MiB rode out only 0.64 s of a stalled worker, and the live test
    /// lost packets at 20,000 packets/s on a busy machine; 256 KiB blocks
    /// hold 2.5 s, at the same top speed (bench/RESULTS.md).
    pub block_kib: i32,
    /// AF_PACKET: a block that is not full is handed over after this many
    /// milliseconds, which bounds the latency on a quiet wire.
    pub block_timeout_ms: i32,
    /// How long a read may wait for packets before the sensor checks for
    /// shutdown and timers, in milliseconds.
    pub timeout_ms: i32,
}

impl Default for CaptureSection {
    fn default() -> Self {
        CaptureSection {
            interface: String::new(),
            snaplen: 65535,
            promiscuous: true,
            bpf: String::new(),
            method: CaptureMethod::Auto,
            buffer_mib: 64,
            block_kib: 256,
            block_timeout_ms: 10,
            timeout_ms: 100,
        }
    }
}

/// How live packets are captured.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureMethod {
    /// AF_PACKET where the system has it, else libpcap.
    #[default]
    Auto,
    /// Linux AF_PACKET TPACKET_V3 rings, one per worker, with fanout: no
    /// copy and no hand-over between threads.
    AfPacket,
    /// libpcap (portable; one reader thread feeds the workers).
    Libpcap,
}
