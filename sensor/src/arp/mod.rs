//! ARP bindings: which MAC each IPv4 address of a segment is bound to, as
//! ARP announces it, and the `arp` events that say when that is news (a
//! binding new to the table, or moved to another MAC) or when a sender
//! sweeps the segment (`sweep`).
//!
//! Workers only read ARP frames (`decode::arp`) and hand each one on as a
//! plain [`ArpSighting`] beside their connections; the table lives here,
//! in the writer thread, as [`ArpWatch`]: a binding is a fact of the
//! segment, not of a flow, and workers share nothing. All ARP frames hash
//! to one worker (`pipeline::shard`), so they arrive here in the order
//! they came. Memory is bounded: at most [`Limits::bindings`] bindings and
//! [`Limits::senders`] senders counted for sweeps, the least recently seen
//! evicted first and counted in the stats event.

mod settings;
mod sweep;

pub use settings::ArpSection;

use crate::decode::arp::ArpOp;
use crate::decode::Addr;
use crate::flow::record::seconds;
use crate::flow::RecordContext;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use vagt_schema::{ArpRecord, ArpStats, Event, EventBody, Origin};

/// What a worker hands on for one Ethernet/IPv4 ARP frame: plain numbers,
/// so that the packet path neither allocates nor locks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpSighting {
    /// Packet time, ns.
    pub ts: i64,
    pub op: ArpOp,
    /// Ethernet source and destination of the frame.
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub sender_mac: [u8; 6],
    pub sender_ip: [u8; 4],
    pub target_mac: [u8; 6],
    pub target_ip: [u8; 4],
    /// Outermost VLAN id, 0 for none.
    pub vlan: u16,
}

/// The table's bounds and the sweep threshold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bindings held at most (a /16 of hosts).
    pub bindings: usize,
    /// Senders counted for sweeps at most.
    pub senders: usize,
    /// Distinct targets of broadcast requests that make a sweep, within
    /// `sweep_window` ns.
    pub sweep_targets: u32,
    pub sweep_window: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bindings: 65_536,
            senders: 4_096,
            // arp-scan of a /24 asks for 254 addresses in a second or two;
            // a router re-resolving its neighbours asks them one by one,
            // mostly in unicast, as their entries go stale.
            sweep_targets: 64,
            sweep_window: 60_000_000_000,
        }
    }
}

/// A table key: the segment (its index in the site, plus one; 0 for
/// unassigned) and an address or MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key<T> {
    segment: u16,
    id: T,
}

#[derive(Clone, Copy, Debug)]
struct Binding {
    mac: [u8; 6],
    /// Packet time (ns) of the last frame that announced it.
    last: i64,
}

/// The bindings of every segment, and the sweep counters.
pub struct ArpWatch {
    limits: Limits,
    bindings: HashMap<Key<[u8; 4]>, Binding>,
    /// Addresses bound to each MAC now.
    mac_ips: HashMap<Key<[u8; 6]>, u32>,
    sweeps: sweep::Sweeps,
    stats: ArpStats,
}

impl Default for ArpWatch {
    fn default() -> Self {
        ArpWatch::new(Limits::default())
    }
}

impl ArpWatch {
    pub fn new(limits: Limits) -> ArpWatch {
        ArpWatch {
            limits,
            bindings: HashMap::new(),
            mac_ips: HashMap::new(),
            sweeps: sweep::Sweeps::new(limits.senders, limits.sweep_targets, limits.sweep_window),
            stats: ArpStats::default(),
        }
    }

    /// The table's counters, once a frame was seen (the stats event then
    /// carries them).
    pub fn stats(&self) -> Option<ArpStats> {
        (self.stats.frames > 0).then(|| ArpStats {
            bindings: self.bindings.len() as u64,
            senders: self.sweeps.len() as u64,
            senders_evicted: self.sweeps.evicted,
            ..self.stats.clone()
        })
    }

    /// Reads one frame; the events it is news for go to `write`.
    pub fn observe<E>(
        &mut self,
        s: &ArpSighting,
        ctx: &RecordContext,
        mut write: impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        self.stats.frames += 1;
        if matches!(s.op, ArpOp::Other(_)) {
            return Ok(());
        }
        let (sender, target) = (Addr::from_v4(s.sender_ip), Addr::from_v4(s.target_ip));
        let index = ctx.site.segment_index(s.vlan, &sender, &target);
        let segment = index.map_or(0, |i| (i + 1).min(usize::from(u16::MAX)) as u16);
        let gratuitous = s.sender_ip == s.target_ip;
        if s.op == ArpOp::Request && s.dst_mac == [0xff; 6] && !gratuitous {
            let key = Key {
                segment,
                id: s.sender_mac,
            };
            if let Some(sw) = self.sweeps.request(key, s.target_ip, s.ts) {
                let (targets, duration) = (sw.targets, sw.last - sw.first);
                let mut r = self.record(s, "sweep", segment);
                r.targets = Some(targets);
                r.duration = Some(seconds(duration));
                self.stats.records += 1;
                write(&event(ctx, index, r))?;
            }
        }
        if !binds(s) {
            return Ok(());
        }
        let key = Key {
            segment,
            id: s.sender_ip,
        };
        let (change, previous) = match self.bindings.get_mut(&key) {
            Some(b) if b.mac == s.sender_mac => {
                b.last = b.last.max(s.ts);
                return Ok(());
            }
            Some(b) => {
                let was = *b;
                *b = Binding {
                    mac: s.sender_mac,
                    last: s.ts,
                };
                self.unbind(segment, was.mac);
                ("moved", Some(was))
            }
            None => {
                if self.bindings.len() >= self.limits.bindings {
                    self.evict();
                }
                self.bindings.insert(
                    key,
                    Binding {
                        mac: s.sender_mac,
                        last: s.ts,
                    },
                );
                ("new", None)
            }
        };
        *self
            .mac_ips
            .entry(Key {
                segment,
                id: s.sender_mac,
            })
            .or_insert(0) += 1;
        let mut r = self.record(s, change, segment);
        if let Some(was) = previous {
            r.previous_mac = Some(mac_string(&was.mac));
            r.previous_age = Some(seconds(s.ts.saturating_sub(was.last).max(0)));
        }
        self.stats.records += 1;
        write(&event(ctx, index, r))
    }

    fn record(&self, s: &ArpSighting, change: &str, segment: u16) -> ArpRecord {
        let mac_ips = self
            .mac_ips
            .get(&Key {
                segment,
                id: s.sender_mac,
            })
            .copied()
            .unwrap_or(0);
        ArpRecord {
            ts: seconds(s.ts),
            op: s.op.as_str().to_string(),
            src_mac: mac_string(&s.src_mac),
            ip: Ipv4Addr::from(s.sender_ip),
            mac: mac_string(&s.sender_mac),
            previous_mac: None,
            previous_age: None,
            gratuitous: s.sender_ip == s.target_ip,
            change: change.to_string(),
            targets: None,
            duration: None,
            mac_ips,
        }
    }

    /// `mac` holds one address fewer.
    fn unbind(&mut self, segment: u16, mac: [u8; 6]) {
        let key = Key { segment, id: mac };
        if let Some(n) = self.mac_ips.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.mac_ips.remove(&key);
            }
        }
    }

    /// Forgets the least recently announced eighth of the bindings, so
    /// that a flood of addresses pays for the scan once per many of them.
    #[cold]
    fn evict(&mut self) {
        let mut last: Vec<i64> = self.bindings.values().map(|b| b.last).collect();
        let k = (last.len() / 8).max(1) - 1;
        let (_, cut, _) = last.select_nth_unstable(k);
        let cut = *cut;
        let mut gone = Vec::new();
        self.bindings.retain(|k, b| {
            let keep = b.last > cut;
            if !keep {
                gone.push((k.segment, b.mac));
            }
            keep
        });
        if gone.is_empty() {
            // Every binding was announced at the same time: drop one.
            if let Some((k, b)) = self.bindings.iter().next().map(|(k, b)| (*k, *b)) {
                self.bindings.remove(&k);
                gone.push((k.segment, b.mac));
            }
        }
        self.stats.bindings_evicted += gone.len() as u64;
        for (segment, mac) in gone {
            self.unbind(segment, mac);
        }
    }
}

/// The event a fresh table would write for `s` (its binding `new`, or a
/// plain record of the frame when it binds nothing), for callers without
/// a table: tests and fuzzing, which hold that every emitted item turns
/// into an event.
pub fn first_sight(s: &ArpSighting, ctx: &RecordContext) -> Event {
    let mut first = None;
    let _ = ArpWatch::default().observe(s, ctx, |e| -> Result<(), ()> {
        first.get_or_insert_with(|| e.clone());
        Ok(())
    });
    first.unwrap_or_else(|| {
        let watch = ArpWatch::default();
        event(ctx, None, watch.record(s, "new", 0))
    })
}

/// Whether a frame announces a binding: a sender address (0.0.0.0 is a
/// probe for a duplicate, RFC 5227) of a single host, and a sender MAC of
/// a single interface.
fn binds(s: &ArpSighting) -> bool {
    let ip = Ipv4Addr::from(s.sender_ip);
    !(ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast())
        && s.sender_mac != [0; 6]
        && s.sender_mac[0] & 1 == 0
}

fn event(ctx: &RecordContext, index: Option<usize>, r: ArpRecord) -> Event {
    let segment = index
        .and_then(|i| ctx.site.segments.get(i))
        .map_or(crate::site::UNASSIGNED, |s| s.name.as_str());
    Event::new(
        Origin {
            municipality: ctx.municipality.clone(),
            sensor: ctx.sensor.clone(),
            segment: segment.to_string(),
        },
        EventBody::Arp(r),
    )
}

/// "aa:bb:cc:dd:ee:ff".
pub fn mac_string(m: &[u8; 6]) -> String {
    let mut s = String::with_capacity(17);
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests;
