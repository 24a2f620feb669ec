//! The passive asset inventory: every device seen per segment, with its
//! MAC and vendor, addresses over time, host name, hints about what it is,
//! the services it offers and uses, a role guess with the evidence behind
//! it, and when it was first and last seen.
//!
//! It runs in the writer thread, off the packet path, as [`InventorySink`]
//! in front of the output: every event goes on to the output, then any
//! `asset` events the inventory derived from it (a device seen for the
//! first time, or one that changed). Memory is bounded (at most
//! `max_assets` devices, the least recently seen evicted first, and every
//! per-device list capped); the inventory is saved to a state file
//! (`store`) so that a restart keeps it.
//!
//! Parts: `observe` (what each kind of event tells), `role` (the role
//! guess), `vendor` (MAC prefix to organisation), `store` (the state
//! file), `table` (the readable table of `vagt-sensor assets`).

mod observe;
pub mod role;
pub mod store;
pub mod table;
pub mod vendor;

pub use observe::{AssetChange, DhcpFacts, HttpFacts};

use crate::output::Sink;
use crate::site::Site;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vagt_schema::{AssetIp, AssetRecord, Event, EventBody, Origin};

/// Addresses kept per device; past it the least recently seen goes.
pub const MAX_IPS: usize = 16;
/// Services kept per device, offered and used each.
pub const MAX_SERVICES: usize = 32;
/// Hints kept per device, of each kind.
pub const MAX_HINTS: usize = 8;
/// Distinct peers counted per service; more show as "8 or more".
pub const MAX_PEERS: usize = 8;
/// A MAC seen with more local addresses than this within [`ROUTER_WINDOW`]
/// seconds forwards for others: a router or gateway.
pub const ROUTER_IPS: usize = 8;
pub const ROUTER_WINDOW: f64 = 3600.0;
/// State is saved at most this often while running.
pub const SAVE_EVERY: Duration = Duration::from_secs(300);

/// The `[assets]` settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AssetsSection {
    /// Keep the inventory and write `asset` events.
    pub enabled: bool,
    /// State file: "" keeps it at /var/lib/vagt/assets.json for `run`
    /// (where that folder exists) and in memory only for replays; "none"
    /// never saves; any other path is used as it is.
    pub state: String,
    /// Devices kept at most; the least recently seen are evicted.
    pub max_assets: usize,
}

impl Default for AssetsSection {
    fn default() -> Self {
        AssetsSection {
            enabled: true,
            state: String::new(),
            max_assets: 65_536,
        }
    }
}

/// Where live capture keeps the state by default: the systemd unit's
/// StateDirectory.
pub const LIVE_STATE: &str = "/var/lib/vagt/assets.json";

impl AssetsSection {
    /// The state file for a live run (`live`) or a replay.
    pub fn state_path(&self, live: bool) -> Option<PathBuf> {
        match self.state.as_str() {
            "none" => None,
            "" if live => {
                let p = PathBuf::from(LIVE_STATE);
                p.parent().is_some_and(|d| d.is_dir()).then_some(p)
            }
            "" => None,
            p => Some(PathBuf::from(p)),
        }
    }
}

/// A service a device offered or used: transport and port, the protocol
/// recognised there, and the distinct peers (hashed) it served or used.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ServiceSeen {
    pub proto: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Hashes of distinct peer addresses, at most [`MAX_PEERS`].
    pub peers: Vec<u32>,
    pub last_seen: f64,
}

impl ServiceSeen {
    /// "<service or transport>/<port>".
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            self.name.as_deref().unwrap_or(&self.proto),
            self.port
        )
    }

    /// "modbus (502/tcp)", or "502/tcp" when no protocol was recognised.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} ({}/{})", self.port, self.proto),
            None => format!("{}/{}", self.port, self.proto),
        }
    }

    /// "3", or "8 or more" once the count is capped.
    pub fn peer_count(&self) -> String {
        if self.peers.len() >= MAX_PEERS {
            format!("{MAX_PEERS} or more")
        } else {
            self.peers.len().to_string()
        }
    }
}

/// One device as the inventory keeps it (and saves it).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Asset {
    pub segment: String,
    /// "mac:<MAC>" or "ip:<address>".
    pub key: String,
    #[serde(default)]
    pub mac: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub ips: Vec<AssetIp>,
    #[serde(default)]
    pub host_name: Option<String>,
    /// Where the host name came from: "dhcp" outranks "dns".
    #[serde(default)]
    pub host_name_source: Option<String>,
    #[serde(default)]
    pub os_hints: Vec<String>,
    #[serde(default)]
    pub device_hints: Vec<String>,
    #[serde(default)]
    pub offered: Vec<ServiceSeen>,
    #[serde(default)]
    pub used: Vec<ServiceSeen>,
    /// Its MAC carried more local addresses than a host has.
    #[serde(default)]
    pub router: bool,
    /// Connections it started that were answered.
    #[serde(default)]
    pub initiated: u64,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub role_evidence: Vec<String>,
    pub first_seen: f64,
    pub last_seen: f64,
}

impl Asset {
    fn new(segment: &str, key: String, ts: f64) -> Asset {
        Asset {
            segment: segment.to_string(),
            key,
            mac: None,
            vendor: None,
            ips: Vec::new(),
            host_name: None,
            host_name_source: None,
            os_hints: Vec::new(),
            device_hints: Vec::new(),
            offered: Vec::new(),
            used: Vec::new(),
            router: false,
            initiated: 0,
            role: None,
            role_evidence: Vec::new(),
            first_seen: ts,
            last_seen: ts,
        }
    }

    /// The wire record, saying what changed.
    pub fn record(&self, change: &[&str]) -> AssetRecord {
        AssetRecord {
            key: self.key.clone(),
            mac: self.mac.clone(),
            vendor: self.vendor.clone(),
            ips: self.ips.clone(),
            host_name: self.host_name.clone(),
            os_hints: self.os_hints.clone(),
            device_hints: self.device_hints.clone(),
            services_offered: self.offered.iter().map(ServiceSeen::label).collect(),
            services_used: self.used.iter().map(ServiceSeen::label).collect(),
            role: self.role.clone(),
            role_evidence: self.role_evidence.clone(),
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            change: change.iter().map(|c| c.to_string()).collect(),
            uids: Vec::new(),
        }
    }

    fn seen(&mut self, ts: f64) {
        if ts > self.last_seen {
            self.last_seen = ts;
        }
        if ts < self.first_seen {
            self.first_seen = ts;
        }
    }
}

/// A device's place: its segment and key.
type Key = (String, String);

/// The inventory: devices by segment and key, and which device holds each
/// local address now.
pub struct Inventory {
    site: Site,
    max_assets: usize,
    assets: HashMap<Key, Asset>,
    by_ip: HashMap<(String, IpAddr), String>,
    /// Changed since the last save.
    dirty: bool,
}

impl Inventory {
    pub fn new(site: Site, max_assets: usize) -> Inventory {
        Inventory {
            site,
            max_assets: max_assets.max(1),
            assets: HashMap::new(),
            by_ip: HashMap::new(),
            dirty: false,
        }
    }

    pub fn len(&self) -> usize {
        self.assets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// Every device, by segment, then first address, then key.
    pub fn assets(&self) -> Vec<&Asset> {
        let mut v: Vec<&Asset> = self.assets.values().collect();
        v.sort_by(|a, b| {
            let ip = |x: &Asset| x.ips.first().map(|i| i.ip);
            (&a.segment, ip(a), &a.key).cmp(&(&b.segment, ip(b), &b.key))
        });
        v
    }

    pub fn get(&self, segment: &str, key: &str) -> Option<&Asset> {
        self.assets.get(&(segment.to_string(), key.to_string()))
    }

    /// The device holding `ip` on `segment` now, if any.
    pub fn by_ip(&self, segment: &str, ip: IpAddr) -> Option<&Asset> {
        let key = self.by_ip.get(&(segment.to_string(), ip))?;
        self.get(segment, key)
    }

    /// Takes in devices read from a state file.
    pub fn restore(&mut self, assets: Vec<Asset>) {
        for a in assets {
            self.insert(a);
        }
        self.dirty = false;
    }

    fn insert(&mut self, a: Asset) {
        self.make_room();
        for ip in &a.ips {
            self.by_ip.insert((a.segment.clone(), ip.ip), a.key.clone());
        }
        self.assets.insert((a.segment.clone(), a.key.clone()), a);
        self.dirty = true;
    }

    /// Evicts the least recently seen devices when full: an eighth at a
    /// time, found by selection rather than by sorting the inventory, so
    /// that a flood of new addresses (spoofed sources, a sweep) costs a
    /// few hundred nanoseconds per device. (A sixty-fourth with a sort of
    /// cloned keys cost 13 microseconds per new device and made the writer
    /// the bottleneck: 600,000 SYNs from internal sources took 11.7 s.)
    /// Ties of age go by key, so what is evicted does not depend on the
    /// map's order.
    fn make_room(&mut self) {
        if self.assets.len() < self.max_assets {
            return;
        }
        let n = (self.max_assets / 8).clamp(1, self.assets.len());
        let mut by_age: Vec<(f64, &Key)> =
            self.assets.iter().map(|(k, a)| (a.last_seen, k)).collect();
        by_age.select_nth_unstable_by(n - 1, |a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let old: Vec<Key> = by_age[..n].iter().map(|(_, k)| (*k).clone()).collect();
        for key in old {
            if let Some(a) = self.assets.remove(&key) {
                for ip in &a.ips {
                    let k = (a.segment.clone(), ip.ip);
                    if self.by_ip.get(&k) == Some(&a.key) {
                        self.by_ip.remove(&k);
                    }
                }
            }
        }
    }

    /// The asset events for what an event tells, newest state of each
    /// device that is new or changed.
    pub fn observe(&mut self, event: &Event) -> Vec<Event> {
        let changes = observe::observe(self, event);
        if !changes.is_empty() {
            self.dirty = true;
        }
        changes
            .into_iter()
            .filter_map(|(key, change)| {
                let a = self.assets.get(&key)?;
                let origin = Origin {
                    segment: a.segment.clone(),
                    ..event.origin.clone()
                };
                let mut record = a.record(&change);
                record.uids.extend(event.body.uid().map(String::from));
                Some(Event::new(origin, EventBody::Asset(record)))
            })
            .collect()
    }
}

/// Puts the inventory in front of `sink` when the settings enable it,
/// loaded from its state file (`live` picks the default path of `run`). A
/// state file that could not be used is said whatever `loud` says (it
/// has been moved aside); a loaded one only when `loud`.
pub fn in_front(
    settings: &AssetsSection,
    site: Site,
    sink: Box<dyn Sink>,
    live: bool,
    loud: bool,
) -> Box<dyn Sink> {
    if !settings.enabled {
        return sink;
    }
    let state = settings.state_path(live);
    let inventory = match &state {
        Some(path) => {
            let (inv, warning) = store::load(path, site, settings.max_assets);
            if let Some(w) = warning {
                tracing::warn!(path = %path.display(), "{w}");
            }
            if loud && !inv.is_empty() {
                tracing::info!(
                    devices = inv.len(),
                    path = %path.display(),
                    "asset inventory: {} device(s) from {}",
                    inv.len(),
                    path.display()
                );
            }
            inv
        }
        None => Inventory::new(site, settings.max_assets),
    };
    Box::new(InventorySink::new(sink, inventory, state))
}

/// The inventory in front of the output: every event goes on, then the
/// asset events derived from it; the state file is saved at most every
/// [`SAVE_EVERY`] and at the end.
pub struct InventorySink {
    pub inner: Box<dyn Sink>,
    pub inventory: Inventory,
    pub state: Option<PathBuf>,
    last_save: Instant,
    /// A failed save is said once, not every five minutes.
    save_failed: bool,
    /// Where the inventory goes at the end, for callers that print it.
    handback: Option<std::sync::mpsc::Sender<Inventory>>,
}

impl InventorySink {
    pub fn new(inner: Box<dyn Sink>, inventory: Inventory, state: Option<PathBuf>) -> Self {
        InventorySink {
            inner,
            inventory,
            state,
            last_save: Instant::now(),
            save_failed: false,
            handback: None,
        }
    }

    /// Sends the inventory to `to` when the output finishes.
    pub fn handing_back(mut self, to: std::sync::mpsc::Sender<Inventory>) -> Self {
        self.handback = Some(to);
        self
    }

    fn save(&mut self) {
        let Some(path) = &self.state else {
            return;
        };
        if !self.inventory.dirty {
            return;
        }
        match store::save(path, &self.inventory) {
            Ok(()) => {
                self.inventory.dirty = false;
                self.save_failed = false;
            }
            Err(e) if !self.save_failed => {
                // The inventory goes on in memory; the output matters more.
                tracing::warn!(
                    path = %path.display(),
                    "cannot save the asset inventory to {}: {e}",
                    path.display()
                );
                self.save_failed = true;
            }
            Err(_) => {}
        }
        self.last_save = Instant::now();
    }
}

impl Sink for InventorySink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        self.inner.write(event)?;
        for a in self.inventory.observe(event) {
            self.inner.write(&a)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.save();
        if let Some(to) = self.handback.take() {
            let empty = Inventory::new(self.inventory.site.clone(), self.inventory.max_assets);
            let _ = to.send(std::mem::replace(&mut self.inventory, empty));
        }
        self.inner.finish()
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.last_save.elapsed() >= SAVE_EVERY {
            self.save();
        }
        self.inner.flush()
    }

    fn reopen(&mut self) -> io::Result<Option<String>> {
        self.inner.reopen()
    }

    fn end_of_input(&mut self) -> io::Result<()> {
        self.inner.end_of_input()
    }
}
