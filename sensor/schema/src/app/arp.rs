//! `arp` events: an address binding the sensor saw announced in ARP, written
//! only when it is news: the first time an IPv4 address is seen bound to a
//! MAC in a segment, when the binding moves to another MAC, and for
//! gratuitous announcements that change a binding. Steady ARP chatter is
//! not written. A sender that asks for many distinct addresses in a short
//! time (an ARP sweep: arp-scan, nmap's host discovery) gets a `sweep`
//! record. The spoofing detector reads these.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// One ARP binding that is new or changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArpRecord {
    /// Packet time of the ARP frame.
    pub ts: f64,
    /// `request` or `reply`.
    pub op: String,
    /// The MAC that sent the frame (Ethernet source), lower case with
    /// colons. PERSONAL.
    pub src_mac: String,
    /// The binding the frame announces: the sender's address and MAC.
    /// PERSONAL.
    pub ip: Ipv4Addr,
    pub mac: String,
    /// The MAC the address was bound to before, when the binding moved.
    /// PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_mac: Option<String>,
    /// A gratuitous announcement (sender and target address the same).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gratuitous: bool,
    /// Seconds from the last frame that announced the previous binding to
    /// this one, when it moved: a lease handed to another device follows a
    /// quiet old owner, a takeover happens while the owner still answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_age: Option<f64>,
    /// Why it was written: `new` (first binding seen for the address),
    /// `moved` (bound to another MAC than before) or `sweep` (the sender
    /// asked for `targets` distinct addresses in `duration` seconds).
    pub change: String,
    /// A sweep: distinct target addresses the sender asked for (broadcast
    /// requests) since its first request of the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<u32>,
    /// A sweep: seconds from that first request to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// How many addresses the announcing MAC is bound to now, in the
    /// sensor's table (a MAC answering for many addresses is a router, or
    /// someone poisoning caches).
    pub mac_ips: u32,
}

/// The ARP bindings table's health, in the stats event (present once the
/// sensor has seen an ARP frame).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ArpStats {
    /// Ethernet/IPv4 ARP frames read.
    pub frames: u64,
    /// Bindings held now, and bindings forgotten to stay within the cap
    /// (the least recently seen first).
    pub bindings: u64,
    pub bindings_evicted: u64,
    /// Senders whose requests are being counted for sweeps, and those
    /// forgotten to stay within the cap.
    pub senders: u64,
    pub senders_evicted: u64,
    /// `arp` records written.
    pub records: u64,
}
