//! The connection table of one worker: lookup, creation, expiry, eviction.
//! It stores and finds connections and keeps their timers; what a packet
//! means to its connection (TCP state, sizes, services, who the originator
//! is) is the tracker's (`flow::transport`), handed each packet's
//! connection through [`PacketLogic`].
//!
//! Connections live in a slab whose address space is reserved up front,
//! found through a hash index of slab positions, and threaded on intrusive
//! lists, one per timer class. Within a class every connection's deadline
//! is its anchor plus the same timeout, so each list is ordered by deadline
//! and expiry only ever looks at list heads. What few connections need
//! beyond the compact [`Conn`] (IPv6 addresses, a tunnel parent) sits in a
//! side slab. When the table is full, the connection idle the longest is
//! evicted (and written out) to make room.

use super::conn::{Conn, ConnKind, EndReason, Snapshot};
use super::emit::Finished;
use super::key::{icmp_counterpart, FlowKey, KeyHasher, PacketTuple, StoredKey};
use super::ports::PortSet;
use super::{record, service};
use crate::decode::{Addr, IpLayer, Transport};
use index::Index;
pub use timers::Timeouts;
use timers::{expiry_reason, List, CLASSES, UNLISTED};

mod index;
mod prefetch;
mod timers;

const NONE: u32 = u32::MAX;
const SECOND: i64 = 1_000_000_000;

/// Settings of a connection table.
#[derive(Clone, Debug)]
pub struct TableConfig {
    pub max_connections: usize,
    pub timeouts: Timeouts,
    /// Ports that suggest a server; used to pick the originator when a
    /// connection's start was not seen.
    pub likely_server_ports: PortSet,
    pub vlan_in_key: bool,
    pub tunnel_depth_in_key: bool,
    /// Secret mixed into connection uids.
    pub uid_salt: u64,
    /// Application protocol recognition settings.
    pub services: service::ServiceConfig,
    /// The application parsers that run, and their reassembly limits.
    pub app: crate::applayer::Registry,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig {
            max_connections: 1 << 20,
            timeouts: Timeouts::default(),
            likely_server_ports: PortSet::zeek_defaults(),
            vlan_in_key: true,
            tunnel_depth_in_key: true,
            uid_salt: 0,
            services: service::ServiceConfig::default(),
            app: crate::applayer::Registry::default(),
        }
    }
}

/// Counters of a table.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableStats {
    pub created: u64,
    pub expired: u64,
    pub evicted: u64,
    pub reused: u64,
    /// Most connections held at once: the figure the memory bound is
    /// about (summed over workers, it bounds the total from above).
    pub peak: u64,
}

/// One packet layer as the table needs it.
#[derive(Clone, Copy, Debug)]
pub struct LayerInput<'p, 'a> {
    pub layer: &'p IpLayer<'a>,
    /// Tunnel depth of this layer (0 = outermost).
    pub depth: u8,
    /// Packet time in nanoseconds since the epoch.
    pub ts: i64,
    /// Bytes of the (inner) frame this layer travelled in.
    pub link_len: u32,
    /// The frame's addresses, by reference: only a new connection reads
    /// them, and a copy per packet read back narrower than it was
    /// written (a store-forwarding stall, 10% of the per-packet table
    /// logic in perf).
    pub src_mac: &'p Option<[u8; 6]>,
    pub dst_mac: &'p Option<[u8; 6]>,
    /// uid of the carrying tunnel connection (0 = none).
    pub parent_uid: u64,
    /// Whether the caller needs this connection's uid (a layer inside it
    /// names it as tunnel parent); computing it costs a hash.
    pub want_uid: bool,
}

/// What a packet means to its connection, supplied by the tracker
/// (`flow::transport`): the table finds, opens and keeps connections and
/// hands each packet's connection to this logic, which owns every protocol
/// rule. A generic parameter rather than separate calls, so the hot path
/// stays one function (split in three, it executed 7% more instructions).
pub trait PacketLogic {
    /// Whether the packet starts the existing `conn` anew (TCP port reuse).
    fn reused(&self, conn: &Conn, input: &LayerInput<'_, '_>) -> bool;
    /// `conn` was just opened by this packet, whose identity as it
    /// travelled (sender first) is `tuple`; `out` holds the application
    /// layer, whose parsers may have announced the connection.
    fn opened(
        &self,
        cfg: &TableConfig,
        tuple: &PacketTuple,
        conn: &mut Conn,
        input: &LayerInput<'_, '_>,
        out: &mut impl Finished,
    );
    /// Applies the packet from endpoint `slot` to connection `idx` (its
    /// slot in the table, which identifies it to the application layer
    /// in `out` until it ends), whose key is `key`; true when the packet
    /// counts towards the connection's packet and byte totals.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        cfg: &TableConfig,
        conn: &mut Conn,
        idx: u32,
        key: &FlowKey,
        slot: usize,
        input: &LayerInput<'_, '_>,
        out: &mut impl Finished,
    ) -> bool;
}

/// Index slots reserved at start; the index doubles from there.
const INITIAL_INDEX: usize = 4096;

/// What a connection keeps beside the table when it needs it.
#[derive(Clone, Copy, Debug, Default)]
struct Ext {
    /// Full addresses of an IPv6 key.
    a: Addr,
    b: Addr,
    parent_uid: u64,
}

/// A connection table.
pub struct ConnTable {
    cfg: TableConfig,
    slab: Vec<Conn>,
    free: Vec<u32>,
    ext: Vec<Ext>,
    ext_free: Vec<u32>,
    index: Index,

    hasher: KeyHasher,
    lists: [List; CLASSES],
    live: usize,
    pub stats: TableStats,
}

impl ConnTable {
    pub fn new(cfg: TableConfig) -> ConnTable {
        let cap = cfg.max_connections.max(1);
        let slab: Vec<Conn> = Vec::with_capacity(cap);
        // Connections are visited in no order at all; with 4 KiB pages a
        // large table misses the TLB on nearly every packet.
        advise_huge_pages(slab.as_ptr(), cap * std::mem::size_of::<Conn>());
        // The index grows with use rather than being sized for the cap: a
        // sparse index spreads a few thousand connections over megabytes,
        // and every lookup then misses the cache. The slab only reserves
        // address space; pages are touched as slots are used.
        ConnTable {
            slab,
            free: Vec::new(),
            ext: Vec::new(),
            ext_free: Vec::new(),
            index: Index::new(cap, cap.min(INITIAL_INDEX)),

            hasher: KeyHasher::default(),
            lists: [List {
                head: NONE,
                tail: NONE,
            }; CLASSES],
            live: 0,
            stats: TableStats::default(),
            cfg,
        }
    }

    pub fn config(&self) -> &TableConfig {
        &self.cfg
    }

    /// Connections currently tracked.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Updates the connection `input` belongs to, creating it if needed,
    /// with `logic` deciding what the packet means to it. Finished
    /// connections (expired, reused, evicted) go to `out`. Returns the uid
    /// of the connection when `want_uid` is set, and 0 otherwise or when
    /// the layer does not form a connection.
    pub fn process(
        &mut self,
        input: &LayerInput<'_, '_>,
        logic: &impl PacketLogic,
        out: &mut impl Finished,
    ) -> u64 {
        let layer = input.layer;
        let Some((tuple, kind)) = tuple_of(layer) else {
            return 0;
        };
        let depth = if self.cfg.tunnel_depth_in_key {
            input.depth
        } else {
            0
        };
        let vlan = if self.cfg.vlan_in_key {
            layer.vlan
        } else {
            [0; 3]
        };
        let (key, sender_is_a) = FlowKey::new(&tuple, depth, vlan);
        let sender_slot = usize::from(!sender_is_a);
        let (a_port, b_port) = if sender_is_a {
            (tuple.src_port, tuple.dst_port)
        } else {
            (tuple.dst_port, tuple.src_port)
        };
        let hash = self.hasher.hash_with_ports(&key, a_port, b_port);

        let mut found = self.find(hash, &key, tuple.one_way);
        if let Some(idx) = found {
            let c = &self.slab[idx as usize];
            // A connection whose timer ran out ends by that timer, whether
            // or not a sweep has already collected it: the record must not
            // depend on when sweeps happen to run. Its listed deadline is a
            // lower bound of the real one (one class lists an upper bound),
            // so most packets need not work the real one out.
            let why = if timers::may_be_due(c, input.ts) && self.timer(c).1 <= input.ts {
                self.stats.expired += 1;
                Some(expiry_reason(c))
            } else if logic.reused(c, input) {
                self.stats.reused += 1;
                Some(EndReason::Reused)
            } else {
                None
            };
            if let Some(why) = why {
                self.finish(idx, hash, why, out);
                found = None;
            }
        }
        let idx = match found {
            Some(idx) => idx,
            None => {
                let idx = self.create(key, hash, kind, &tuple, sender_slot, input, out);
                let conn = &mut self.slab[idx as usize];
                logic.opened(&self.cfg, &tuple, conn, input, out);
                idx
            }
        };
        let uid = self.update(idx, &key, sender_slot, input, logic, out);
        self.schedule(idx);
        uid
    }

    /// Applies the packet to connection `idx` through `logic`, then counts
    /// it and writes an interim record when one is due.
    fn update(
        &mut self,
        idx: u32,
        key: &FlowKey,
        slot: usize,
        input: &LayerInput<'_, '_>,
        logic: &impl PacketLogic,
        out: &mut impl Finished,
    ) -> u64 {
        if input.parent_uid != 0 {
            self.ext_entry(idx).parent_uid = input.parent_uid;
        }
        let conn = &mut self.slab[idx as usize];
        if logic.apply(&self.cfg, conn, idx, key, slot, input, out) {
            conn.eps[slot].count(input.layer.total_len, input.link_len);
        }
        let start_ts = conn.start_ts;
        let active = self.cfg.timeouts.active(conn.kind);
        if active > 0 {
            let due = start_ts.saturating_add(active.saturating_mul(i64::from(conn.interims) + 1));
            if input.ts >= due {
                conn.interims = conn.interims.saturating_add(1);
                let mut snapshot = self.snapshot(idx);
                snapshot.interim = true;
                out.push_conn(snapshot);
            }
        }
        if input.want_uid {
            record::uid_of(self.cfg.uid_salt, key, start_ts)
        } else {
            0
        }
    }

    /// Writes out every connection whose deadline has passed at `now`.
    pub fn expire(&mut self, now: i64, out: &mut impl Finished) {
        self.expire_some(now, out, usize::MAX);
    }

    /// Like [`ConnTable::expire`], but stops once `out` holds `limit`
    /// records, so that a mass expiry can be handed on in bounded pieces;
    /// true when more are due.
    pub fn expire_some(&mut self, now: i64, out: &mut impl Finished, limit: usize) -> bool {
        for class in 0..CLASSES {
            while let Some(idx) = self.due(class, now) {
                if out.count() >= limit {
                    return true;
                }
                self.stats.expired += 1;
                let why = expiry_reason(&self.slab[idx as usize]);
                let hash = self.hasher.hash(&self.full_key(idx));
                self.finish(idx, hash, why, out);
            }
        }
        false
    }

    /// Writes out every connection (end of input or shutdown).
    pub fn flush(&mut self, out: &mut impl Finished) {
        self.flush_some(out, usize::MAX);
    }

    /// Like [`ConnTable::flush`] in pieces of at most `limit` records; true
    /// when connections remain.
    pub fn flush_some(&mut self, out: &mut impl Finished, limit: usize) -> bool {
        for class in 0..CLASSES {
            while let Some(idx) = self.head(class) {
                if out.count() >= limit {
                    return true;
                }
                let hash = self.hasher.hash(&self.full_key(idx));
                self.finish(idx, hash, EndReason::Shutdown, out);
            }
        }
        false
    }

    /// Bytes of memory per tracked IPv4 connection: its slot, and its
    /// share of the index when the index is least full (a 4-byte slot per
    /// position, doubled at 3/4 full, so a slot carries between 3/8 and
    /// 3/4 of a connection as the table grows). IPv6 connections and
    /// tunnelled ones add a side entry.
    pub fn bytes_per_connection() -> usize {
        std::mem::size_of::<Conn>() + (std::mem::size_of::<u32>() * 8).div_ceil(3)
    }

    /// Extra bytes of an IPv6 or tunnelled connection.
    pub fn bytes_per_side_entry() -> usize {
        std::mem::size_of::<Ext>()
    }

    fn find(&self, hash: u64, key: &FlowKey, one_way: bool) -> Option<u32> {
        let (slab, ext) = (&self.slab, &self.ext);
        let probe = StoredKey::of(key, one_way);
        self.index.find(hash, |i| {
            let c = &slab[i as usize];
            c.key == probe
                && (!probe.v6()
                    || ext
                        .get(c.ext as usize)
                        .is_some_and(|e| e.a == key.a && e.b == key.b))
        })
    }

    /// The full key of connection `idx`.
    fn full_key(&self, idx: u32) -> FlowKey {
        full_key_of(&self.slab, &self.ext, idx)
    }

    /// Gives connection `idx` a side entry if it has none yet.
    fn ext_entry(&mut self, idx: u32) -> &mut Ext {
        let e = self.slab[idx as usize].ext;
        let e = if (e as usize) < self.ext.len() {
            e
        } else {
            let e = match self.ext_free.pop() {
                Some(e) => e,
                None => {
                    self.ext.push(Ext::default());
                    (self.ext.len() - 1) as u32
                }
            };
            self.ext[e as usize] = Ext::default();
            self.slab[idx as usize].ext = e;
            e
        };
        &mut self.ext[e as usize]
    }

    /// The connection and its side entry, as it leaves the table.
    fn snapshot(&self, idx: u32) -> Snapshot {
        let conn = self.slab[idx as usize];
        Snapshot {
            key: self.full_key(idx),
            parent_uid: self.ext.get(conn.ext as usize).map_or(0, |e| e.parent_uid),
            interim: false,
            conn,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        key: FlowKey,
        hash: u64,
        kind: ConnKind,
        tuple: &PacketTuple,
        sender_slot: usize,
        input: &LayerInput<'_, '_>,
        out: &mut impl Finished,
    ) -> u32 {
        if self.live >= self.cfg.max_connections.max(1) {
            self.evict_one(out);
        }
        let stored = StoredKey::of(&key, tuple.one_way);
        let mut conn = Conn::new(stored, kind, input.ts);
        conn.orig_slot = sender_slot as u8;
        conn.tunnel_depth = input.depth;
        if input.depth == 0 {
            if let Some(m) = *input.src_mac {
                conn.eps[sender_slot].mac = m;
                conn.eps[sender_slot].has_mac = true;
            }
            if let Some(m) = *input.dst_mac {
                conn.eps[1 - sender_slot].mac = m;
                conn.eps[1 - sender_slot].has_mac = true;
            }
        }
        let idx = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = conn;
                i
            }
            None => {
                self.slab.push(conn);
                (self.slab.len() - 1) as u32
            }
        };
        if stored.v6() {
            let e = self.ext_entry(idx);
            e.a = key.a;
            e.b = key.b;
        }
        let (slab, ext, hasher) = (&self.slab, &self.ext, &self.hasher);
        self.index
            .insert(hash, idx, |i| hasher.hash(&full_key_of(slab, ext, i)));
        self.live += 1;
        self.stats.created += 1;
        self.stats.peak = self.stats.peak.max(self.live as u64);
        // Listed for real once its first packet is processed (`schedule`).
        self.slab[idx as usize].class = UNLISTED;
        idx
    }

    fn finish(&mut self, idx: u32, hash: u64, why: EndReason, out: &mut impl Finished) {
        let class = usize::from(self.slab[idx as usize].class);
        self.unlink(idx, class);
        self.index.remove(hash, idx);
        self.slab[idx as usize].end = why;
        let snapshot = self.snapshot(idx);
        out.conn_ended(idx, &snapshot);
        out.push_conn(snapshot);
        let e = std::mem::replace(&mut self.slab[idx as usize].ext, NONE);
        if (e as usize) < self.ext.len() {
            self.ext_free.push(e);
        }
        self.free.push(idx);
        self.live -= 1;
    }
}

/// Asks the kernel to back `bytes` bytes at `p` (reserved, not yet
/// touched) with huge pages where it can. Only a hint: without
/// transparent huge pages, or where it fails, nothing changes.
pub fn advise_huge_pages<T>(p: *const T, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = (p as usize).div_ceil(HUGE) * HUGE;
        let end = (p as usize).saturating_add(bytes) / HUGE * HUGE;
        if end > start {
            // SAFETY: madvise only changes how the kernel backs pages of
            // this process's own reserved range; the range lies inside the
            // allocation and MADV_HUGEPAGE never changes its contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (p, bytes);
    }
}

fn full_key_of(slab: &[Conn], ext: &[Ext], idx: u32) -> FlowKey {
    let c = &slab[idx as usize];
    let v6 = ext.get(c.ext as usize).map(|e| (e.a, e.b));
    c.key.full(v6)
}

/// The connection identity of a layer, if it forms a connection at all.
/// Inlined: called out of line, its result went back through memory in
/// pieces narrower than the loads that read it (a store-forwarding stall
/// that perf put at 15% of the per-packet table logic).
#[inline(always)]
fn tuple_of(layer: &IpLayer<'_>) -> Option<(PacketTuple, ConnKind)> {
    let mut t = PacketTuple {
        src: layer.src,
        dst: layer.dst,
        src_port: 0,
        dst_port: 0,
        proto: layer.proto,
        one_way: false,
    };
    let kind = match &layer.transport {
        Transport::Tcp(s) => {
            t.src_port = s.src_port;
            t.dst_port = s.dst_port;
            ConnKind::Tcp
        }
        Transport::Udp(d) => {
            t.src_port = d.src_port;
            t.dst_port = d.dst_port;
            ConnKind::Udp
        }
        Transport::Icmp(m) => {
            let (other, one_way) = icmp_counterpart(m.v6, m.icmp_type, m.code);
            t.src_port = u16::from(m.icmp_type);
            t.dst_port = other;
            t.one_way = one_way;
            ConnKind::Icmp
        }
        Transport::Other => ConnKind::Other,
        Transport::None | Transport::LaterFragment | Transport::Tunnel => return None,
    };
    Some((t, kind))
}

#[cfg(test)]
mod tests;
