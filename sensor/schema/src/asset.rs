//! `asset` events: one device of the passive asset inventory, written when
//! the sensor first sees it and whenever something about it changes (a new
//! address, host name, service or role). The segment is in the envelope;
//! the record says what the device is and why the sensor thinks so.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One device seen on a segment, as the inventory knows it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetRecord {
    /// The device's key within its segment: "mac:<MAC>" when its MAC
    /// address is known, else "ip:<address>". PERSONAL (it holds the MAC or
    /// the address).
    pub key: String,
    /// MAC address, lower case with colons. PERSONAL (identifies a
    /// person's device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The organisation the MAC's prefix is registered to (IEEE registries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Local addresses the device used, each with when it was first and
    /// last seen with it. PERSONAL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<AssetIp>,
    /// The name the device gave itself (DHCP) or that DNS gave it.
    /// PERSONAL (device names often hold a person's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    /// What the device says about its operating system, as seen (DHCP
    /// vendor class, DHCP parameter request list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os_hints: Vec<String>,
    /// What the device says about itself otherwise (HTTP user agents).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_hints: Vec<String>,
    /// Services other hosts used on it: "<service or transport>/<port>",
    /// e.g. "modbus/502", "tcp/8443".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services_offered: Vec<String>,
    /// Services it used on other hosts, named the same way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services_used: Vec<String>,
    /// The sensor's guess at what the device is: router, ot_controller,
    /// domain_controller, printer, camera, iot_gateway, phone,
    /// engineering_workstation, server or client; absent while unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// What the guess rests on, in numbers, e.g. "offers modbus (502/tcp)
    /// to 3 clients".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_evidence: Vec<String>,
    /// Packet time the device was first and last seen, seconds since the
    /// Unix epoch.
    pub first_seen: f64,
    pub last_seen: f64,
    /// Why this record was written: "new", or what changed: "ip",
    /// "host_name", "role", "service", "hints".
    pub change: Vec<String>,
    /// The connection (its uid) whose record showed the change, where
    /// that record names one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uids: Vec<String>,
}

/// An address of a device and when it was seen with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetIp {
    pub ip: IpAddr,
    pub first_seen: f64,
    pub last_seen: f64,
}
