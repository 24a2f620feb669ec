//! The per-worker unit of work: decode a packet, reassemble IP fragments,
//! and update every connection the packet belongs to, outermost layer
//! first, so that a tunnelled connection learns the uid of the tunnel that
//! carried it.
//!
//! A tracker owns its decoder settings, reassembly table, connection table
//! and counters; it shares nothing, so workers never lock. Finished
//! connections collect in a buffer that the pipeline drains after each
//! batch.

use super::defrag::Defragmenter;
use super::emit::{Emitted, Outbox};
use super::key::FlowKey;
use super::record::uid_of;
use super::table::{ConnTable, LayerInput, TableConfig};
use crate::applayer::AppLayer;
use crate::arp::ArpSighting;
use crate::decode::arp::ArpPacket;
use crate::decode::offload::Probe;
use crate::decode::{
    DecodeCounters, DecodeOptions, Decoded, DecodedPacket, Decoder, IpLayer, LinkType, Transport,
};

/// Datagrams under reassembly per worker.
const DEFRAG_SLOTS: usize = 256;
/// Incomplete datagrams are forgotten after this long.
const DEFRAG_TIMEOUT_NS: i64 = 30_000_000_000;
/// Timer sweeps run this far behind packet time. A connection a sweep
/// writes out is then one its next packet would have ended anyway, even
/// when packets arrive slightly out of time order; this keeps records
/// identical however packets are spread over workers.
pub const SWEEP_LAG_NS: i64 = 2_000_000_000;

/// Connections above which a worker prefetches each packet's connection:
/// about a megabyte of them, what a core's L2 cache holds on today's
/// server CPUs. Below that, the look ahead only costs.
const PREFETCH_FROM: usize = 4096;

/// Decoding plus connection tracking for one worker.
pub struct Tracker {
    decoder: Decoder,
    table: ConnTable,
    defrag: Defragmenter,
    pub counters: DecodeCounters,
    pub packets: u64,
    pub bytes: u64,
    /// Finished connections and application records, and the parsers.
    out: Outbox,
    /// Time of the latest packet, in nanoseconds.
    now: i64,
    uid_salt: u64,
    /// Checksum-offload sampling in progress (live `auto` mode).
    probe: Option<Probe>,
    /// The sample that showed offload, after which checksums went unchecked.
    pub offload: Option<Probe>,
}

/// Packet facts every layer shares.
struct PacketFacts {
    ts: i64,
    frame_len: u32,
    src_mac: Option<[u8; 6]>,
    dst_mac: Option<[u8; 6]>,
}

impl Tracker {
    pub fn new(decode: DecodeOptions, table: TableConfig) -> Tracker {
        let uid_salt = table.uid_salt;
        let probe = (decode.probe_offload && decode.validate_checksums).then(Probe::default);
        Tracker {
            decoder: Decoder::new(decode),
            table: ConnTable::new(table.clone()),
            defrag: Defragmenter::new(DEFRAG_SLOTS, DEFRAG_TIMEOUT_NS),
            counters: DecodeCounters::default(),
            packets: 0,
            bytes: 0,
            out: Outbox {
                events: Vec::with_capacity(4096),
                app: AppLayer::new(table.app.clone(), uid_salt),
            },
            now: i64::MIN,
            uid_salt,
            probe,
            offload: None,
        }
    }

    /// Processes one captured frame.
    pub fn packet(&mut self, link: LinkType, ts: i64, frame: &[u8], wire_len: u32) {
        // Sources hand out times in this range already; clamping here keeps
        // the duration and timeout arithmetic free of overflow for any
        // caller, whatever time it passes.
        let ts = ts.clamp(0, crate::capture::MAX_TS_NS);
        self.packets += 1;
        self.bytes += u64::from(wire_len);
        self.now = ts;
        let mut pkt = DecodedPacket::default();
        let errors_before = match self.probe {
            Some(_) => Probe::errors_now(&self.counters),
            None => 0,
        };
        // Errors are counted by the decoder; whatever layers were decoded
        // before the problem are still tracked.
        let _ = self
            .decoder
            .decode(link, frame, wire_len, &mut pkt, &mut self.counters);
        if let Some(probe) = &mut self.probe {
            probe.observe(&pkt, &self.counters, errors_before);
            if probe.full() {
                self.end_probe();
            }
        }
        let facts = PacketFacts {
            ts,
            frame_len: frame.len() as u32,
            src_mac: pkt.src_mac,
            dst_mac: pkt.dst_mac,
        };
        if let Some(arp) = pkt.arp {
            self.arp(&arp, &pkt, ts);
            return;
        }
        if !pkt.subframes.is_empty() {
            self.packet_with_subframes(&pkt, &facts);
            return;
        }
        let mut parent = 0u64;
        let count = pkt.layer_count();
        for (depth, layer) in pkt.layers().iter().enumerate() {
            let inner_follows = depth + 1 < count;
            if !layer.frag.is_fragment() {
                parent = self.track(layer, depth, parent, inner_follows, &facts);
                continue;
            }
            let whole = layer.payload.len() as u32 + layer.header_len >= layer.total_len;
            if !whole {
                // A fragment cut by the snap length cannot be reassembled;
                // like Zeek, keep the first one for its header and ports.
                if layer.frag.offset == 0 {
                    self.track(layer, depth, parent, false, &facts);
                }
                break;
            }
            if let Some(datagram) = self.defrag.add(layer, ts) {
                self.counters.count(Decoded::Reassembled);
                let mut inner = DecodedPacket::default();
                let _ = self.decoder.decode_ip(
                    datagram,
                    layer.vlan,
                    layer.encap,
                    &mut inner,
                    &mut self.counters,
                );
                let inner_count = inner.layer_count();
                for (k, l) in inner.layers().iter().enumerate() {
                    parent = track_layer(
                        &mut self.table,
                        &mut self.out,
                        self.uid_salt,
                        l,
                        depth + k,
                        parent,
                        k + 1 < inner_count,
                        &facts,
                    );
                }
            }
            break;
        }
    }

    /// A frame that aggregates several packets (802.11 A-MSDU, as Aruba
    /// access points tunnel them): the decoded layers hold the first, and
    /// each further subframe is decoded and tracked as a packet of its own
    /// inside the same carriers, as Zeek does. Rare, so the common path
    /// only pays for the test that sends packets here; fragments inside
    /// such frames are not reassembled.
    #[cold]
    fn packet_with_subframes(&mut self, pkt: &DecodedPacket<'_>, facts: &PacketFacts) {
        let first = usize::from(pkt.subframe_depth);
        let count = pkt.layer_count();
        let (mut parent, mut carrier) = (0u64, 0u64);
        for (depth, layer) in pkt.layers().iter().enumerate() {
            let carries = depth + 1 == first;
            parent = self.track(layer, depth, parent, depth + 1 < count || carries, facts);
            if carries {
                carrier = parent;
            }
        }
        let mut rest = pkt.subframes;
        while !rest.is_empty() {
            let mut sub = DecodedPacket::default();
            let _ = self.decoder.decode_subframe(
                rest,
                pkt.subframe_depth,
                pkt.subframe_encap,
                &mut sub,
                &mut self.counters,
            );
            let n = sub.layer_count();
            let mut parent = carrier;
            for (k, layer) in sub.layers().iter().enumerate() {
                parent = self.track(layer, first + k, parent, k + 1 < n, facts);
            }
            // Each subframe takes at least its 14-byte header.
            if sub.subframes.len() >= rest.len() {
                break;
            }
            rest = sub.subframes;
        }
    }

    /// An ARP frame: handed on as it is, for the writer's bindings table
    /// (`crate::arp`) to judge; a plain value pushed like a connection.
    #[cold]
    fn arp(&mut self, arp: &ArpPacket<'_>, pkt: &DecodedPacket<'_>, ts: i64) {
        self.out.events.push(Emitted::Arp(ArpSighting {
            ts,
            op: arp.operation(),
            src_mac: pkt.src_mac.unwrap_or_default(),
            dst_mac: pkt.dst_mac.unwrap_or_default(),
            sender_mac: arp.sender_hardware_addr(),
            sender_ip: arp.sender_protocol_addr().octets(),
            target_mac: arp.target_hardware_addr(),
            target_ip: arp.target_protocol_addr().octets(),
            vlan: pkt.vlan[0],
        }));
    }

    /// Ends checksum-offload sampling; on offload, stops checking checksums.
    #[cold]
    fn end_probe(&mut self) {
        let Some(probe) = self.probe.take() else {
            return;
        };
        if probe.offload() {
            let mut opts = self.decoder.options().clone();
            opts.validate_checksums = false;
            self.decoder = Decoder::new(opts);
            self.offload = Some(probe);
        }
    }

    /// Numbers this tracker's worker: its clock, sent to the writer's
    /// joins, carries it.
    pub fn set_worker(&mut self, id: usize) {
        self.out.app.set_worker(id);
    }

    /// Whether looking ahead is worth its cost: only once the connections
    /// outgrow the CPU's own caches do their loads wait for memory.
    #[inline]
    pub fn prefetch_pays(&self) -> bool {
        self.table.len() > PREFETCH_FROM
    }

    /// First step of looking ahead, for a frame two packets before its
    /// turn: guesses its connection and requests the index slot. The
    /// guess goes to [`Tracker::prefetch_conn`] one packet later.
    #[inline]
    pub fn prefetch_slot(&self, link: LinkType, frame: &[u8]) -> Option<u64> {
        self.table.prefetch_slot(link, frame)
    }

    /// Second step: requests the connection itself.
    #[inline]
    pub fn prefetch_conn(&self, guess: u64) {
        self.table.prefetch_conn(guess)
    }

    fn track(
        &mut self,
        layer: &IpLayer<'_>,
        depth: usize,
        parent: u64,
        want_uid: bool,
        facts: &PacketFacts,
    ) -> u64 {
        track_layer(
            &mut self.table,
            &mut self.out,
            self.uid_salt,
            layer,
            depth,
            parent,
            want_uid,
            facts,
        )
    }

    /// Expires connections whose timers ran out by `now` (packet time of
    /// the latest packet the pipeline read).
    pub fn tick(&mut self, now: i64) {
        if now != i64::MIN {
            self.now = now;
        }
        self.table
            .expire(self.now.saturating_sub(SWEEP_LAG_NS), &mut self.out);
        let until = self.now.saturating_sub(SWEEP_LAG_NS);
        self.out.app.tick(until, &mut self.out.events);
    }

    /// Like [`Tracker::tick`], but stops once `limit` finished connections
    /// wait; true when more are due (call again after draining them).
    pub fn tick_some(&mut self, now: i64, limit: usize) -> bool {
        if now != i64::MIN {
            self.now = now;
        }
        let until = self.now.saturating_sub(SWEEP_LAG_NS);
        let more = self.table.expire_some(until, &mut self.out, limit);
        self.out.app.tick(until, &mut self.out.events);
        more
    }

    /// Like [`Tracker::flush`] in pieces; true when connections remain.
    pub fn flush_some(&mut self, limit: usize) -> bool {
        let more = self.table.flush_some(&mut self.out, limit);
        if !more {
            self.out.app.flush_shared();
        }
        more
    }

    /// Time of the latest packet.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Writes out every open connection (end of input or shutdown).
    pub fn flush(&mut self) {
        self.table.flush(&mut self.out);
        self.out.app.flush_shared();
    }

    /// Finished connections since the last drain.
    pub fn finished(&mut self) -> &mut Vec<Emitted> {
        &mut self.out.events
    }

    pub fn table(&self) -> &ConnTable {
        &self.table
    }

    /// The application layer: its parsers' counters.
    pub fn app(&self) -> &crate::applayer::slab::AppLayer {
        &self.out.app
    }

    pub fn defrag(&self) -> &Defragmenter {
        &self.defrag
    }
}

/// Updates the connection of one layer; when `want_uid`, returns the uid
/// that the layer inside it names as its tunnel parent.
#[allow(clippy::too_many_arguments)]
fn track_layer(
    table: &mut ConnTable,
    finished: &mut Outbox,
    salt: u64,
    layer: &IpLayer<'_>,
    depth: usize,
    parent: u64,
    want_uid: bool,
    facts: &PacketFacts,
) -> u64 {
    let input = LayerInput {
        layer,
        depth: depth.min(255) as u8,
        ts: facts.ts,
        link_len: if depth == 0 {
            facts.frame_len
        } else {
            layer.total_len
        },
        src_mac: &facts.src_mac,
        dst_mac: &facts.dst_mac,
        parent_uid: parent,
        want_uid,
    };
    let uid = super::transport::track(table, &input, finished);
    if uid != 0 || !want_uid {
        uid
    } else {
        tunnel_uid(salt, layer)
    }
}

/// A uid for a tunnel that is not itself a connection (GRE, IP-in-IP):
/// derived from the carrier's address pair.
fn tunnel_uid(salt: u64, layer: &IpLayer<'_>) -> u64 {
    if matches!(layer.transport, Transport::None) {
        return 0;
    }
    let (a, b) = if layer.src <= layer.dst {
        (layer.src, layer.dst)
    } else {
        (layer.dst, layer.src)
    };
    let key = FlowKey {
        a,
        b,
        proto: layer.proto,
        ..FlowKey::default()
    };
    uid_of(salt, &key, 0)
}
