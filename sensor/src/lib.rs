//! Vagt sensor: captures packets, decodes them, tracks connections and
//! writes Zeek-compatible connection records.
//!
//! The crate is organised as the packet travels:
//!
//! * [`capture`] — sources of packets (capture files, live interfaces);
//! * [`pipeline`] — reader, sharded workers and writer, joined by lock-free
//!   queues of recycled batches;
//! * [`decode`] — protocol parsing, one module per protocol, no allocation;
//! * [`applayer`] — application-layer metadata (TLS, QUIC) as pure functions;
//! * [`flow`] — connection records with Zeek's semantics;
//! * [`arp`] — ARP bindings per segment (judged in the writer thread);
//! * [`output`] — sinks for the records (JSON Lines, Zeek TSV);
//! * [`config`], [`site`] — settings and the model of the monitored network;
//! * [`synth`] — seeded synthetic traffic for demos, tests and benchmarks.

pub mod analysis;
pub mod app;
pub mod applayer;
pub mod arp;
pub mod assets;
pub mod capture;
pub mod cli;
pub mod config;
pub mod decode;
pub mod flow;
pub mod log;
pub mod output;
pub mod pipeline;
pub mod site;
pub mod synth;
