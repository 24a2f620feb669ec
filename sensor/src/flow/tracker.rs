//! The per-worker unit of work: decode a packet and update every
//! connection it belongs to, outermost layer first, so that a tunnelled
//! connection learns the uid of the tunnel that carried it.
//!
//! A tracker owns its decoder state, connection table and counters; it
//! shares nothing, so workers never lock. Finished connections collect in a
//! buffer that the pipeline drains after each batch.

use super::conn::Conn;
use super::key::FlowKey;
use super::record::uid_of;
use super::table::{ConnTable, LayerInput, TableConfig};
use crate::decode::{DecodeCounters, DecodeOptions, DecodedPacket, Decoder, LinkType, Transport};

/// Decoding plus connection tracking for one worker.
pub struct Tracker {
    decoder: Decoder,
    table: ConnTable,
    pub counters: DecodeCounters,
    pub packets: u64,
    pub bytes: u64,
    finished: Vec<Conn>,
    /// Latest packet time seen, in nanoseconds.
    now: i64,
    uid_salt: u64,
}

impl Tracker {
    pub fn new(decode: DecodeOptions, table: TableConfig) -> Tracker {
        let uid_salt = table.uid_salt;
        Tracker {
            decoder: Decoder::new(decode),
            table: ConnTable::new(table),
            counters: DecodeCounters::default(),
            packets: 0,
            bytes: 0,
            finished: Vec::with_capacity(4096),
            now: i64::MIN,
            uid_salt,
        }
    }

    /// Processes one captured frame.
    pub fn packet(&mut self, link: LinkType, ts: i64, frame: &[u8], wire_len: u32) {
        self.packets += 1;
        self.bytes += u64::from(wire_len);
        if ts > self.now {
            self.now = ts;
        }
        let mut pkt = DecodedPacket::default();
        // Errors are counted by the decoder; whatever layers were decoded
        // before the problem are still tracked.
        let _ = self
            .decoder
            .decode(link, frame, wire_len, &mut pkt, &mut self.counters);
        let mut parent = 0u64;
        for (depth, layer) in pkt.layers().iter().enumerate() {
            let input = LayerInput {
                layer,
                depth: depth as u8,
                ts,
                link_len: if depth == 0 {
                    frame.len() as u32
                } else {
                    layer.total_len
                },
                src_mac: pkt.src_mac,
                dst_mac: pkt.dst_mac,
                parent_uid: parent,
            };
            let uid = self.table.process(&input, &mut self.finished);
            parent = if uid != 0 {
                uid
            } else {
                self.tunnel_uid(layer)
            };
        }
    }

    /// A uid for a tunnel that is not itself a connection (GRE, IP-in-IP):
    /// derived from the carrier's address pair.
    fn tunnel_uid(&self, layer: &crate::decode::IpLayer<'_>) -> u64 {
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
        uid_of(self.uid_salt, &key, 0)
    }

    /// Expires connections whose timers ran out by `now` (packet time).
    pub fn tick(&mut self, now: i64) {
        if now > self.now {
            self.now = now;
        }
        self.table.expire(self.now, &mut self.finished);
    }

    /// Latest packet time seen.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Writes out every open connection (end of input or shutdown).
    pub fn flush(&mut self) {
        self.table.flush(&mut self.finished);
    }

    /// Finished connections since the last drain.
    pub fn finished(&mut self) -> &mut Vec<Conn> {
        &mut self.finished
    }

    pub fn table(&self) -> &ConnTable {
        &self.table
    }
}
