//! Synthetic traffic from a fixed seed: frames with correct checksums,
//! written as pcap, together with the ground truth of every connection.
//!
//! Used by `vagt-sensor demo`, by tests that need traffic with a known
//! answer, and by the benchmarks. `frames` builds packets, `pcap` writes
//! them, `rng` is the seeded generator and `municipal` the scenario of a
//! municipal network.

pub mod frames;
pub mod municipal;
pub mod pcap;
pub mod rng;
mod session;
