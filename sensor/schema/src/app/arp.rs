//! `arp` events: an address binding the sensor saw announced in ARP, written
//! only when it is news: the first time an IPv4 address is seen bound to a
//! MAC in a segment, when the binding moves to another MAC, and for
//! gratuitous announcements that change a binding. Steady ARP chatter is
//! not written. The spoofing detector reads these.

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
    /// Why it was written: `new` (first binding seen for the address) or
    /// `moved` (bound to another MAC than before).
    pub change: String,
    /// How many addresses the announcing MAC is bound to now, in the
    /// sensor's table (a MAC answering for many addresses is a router, or
    /// someone poisoning caches).
    pub mac_ips: u32,
}
