//! `dhcp` events: one per DHCP exchange, as Zeek's `dhcp.log`.
//!
//! Unlike the other application records, a DHCP record does not belong to
//! one connection: a client's DISCOVER goes from 0.0.0.0 to the broadcast
//! address, the server's OFFER comes back from the server's address, and
//! Zeek (and Vagt) join the messages of one exchange by transaction id
//! over all those connections. So the record carries `uids`, the set of
//! connections it was built from, in place of `uid` and `id.*`.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The messages of one DHCP exchange (same transaction id, close in time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DhcpRecord {
    /// Time of the exchange's first message.
    pub ts: f64,
    /// uids of the connections the messages travelled on, in the order
    /// first seen.
    pub uids: Vec<String>,
    /// The client's address: the source of a client message that was not
    /// sent from 0.0.0.0, else the address the server assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_addr: Option<IpAddr>,
    /// The server that handed out the lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_addr: Option<IpAddr>,
    /// Client and server ports when the lease was handed out (Zeek keeps
    /// them without logging them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_port: Option<u16>,
    /// The client's hardware address ("aa:bb:cc:dd:ee:ff"). PERSONAL
    /// (identifies a device, and so often a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Option 12, as the client sent it. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    /// Option 81's name, as the client sent it. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_fqdn: Option<String>,
    /// Option 15, as the server sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Option 50: the address the client asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_addr: Option<IpAddr>,
    /// `yiaddr` of a server message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_addr: Option<IpAddr>,
    /// Option 51, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_time: Option<f64>,
    /// Option 56 from the client (why it declined) and from the server
    /// (why it refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_message: Option<String>,
    /// Message types in the order seen ("DISCOVER", "OFFER", ...).
    pub msg_types: Vec<String>,
    /// Seconds from the first message to the last.
    pub duration: f64,
    /// Vagt: the `chaddr` field of the client's messages (Zeek keeps it
    /// without logging it). PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_chaddr: Option<String>,
    /// Vagt: option 60 (vendor class identifier) of the client, e.g.
    /// "MSFT 5.0" or "android-dhcp-13": a device fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_class: Option<String>,
    /// Vagt: option 55 (parameter request list) of the client, the option
    /// numbers in the client's order: a device fingerprint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub param_list: Vec<u8>,
}
