//! What a packet means to its connection, per transport: TCP's state
//! machine (`tcp`), UDP and ICMP sizes, other protocols' activity, service
//! probing (`service`), and Zeek's guess of the originator when a
//! connection's start was missed. The one path every packet layer takes:
//! the table finds or opens the connection and hands it to these rules
//! ([`PacketLogic`]), then settles its timers. The application parsers of
//! later issues run here too, beside `service::probe`, and a connection a
//! parser announced (an FTP data channel) is named as it opens.

use super::conn::{Conn, ConnKind};
use super::emit::Finished;
use super::key::FlowKey;
use super::key::PacketTuple;
use super::ports::PortSet;
use super::service::ATTACHED;
use super::service::{self, ServiceConfig};
use super::table::{ConnTable, LayerInput, PacketLogic, TableConfig};
use super::tcp;
use crate::applayer::slab::Payload;
use crate::decode::{Checksum, IpLayer, Transport};

/// Tracks one packet layer: finds or opens its connection in `table` and
/// applies the packet to it; finished connections go to `out`. Returns
/// the connection's uid when `input.want_uid` is set, else 0 (also when
/// the layer forms no connection).
#[inline]
pub fn track(table: &mut ConnTable, input: &LayerInput<'_, '_>, out: &mut impl Finished) -> u64 {
    table.process(input, &Rules, out)
}

/// The protocol rules the table applies to each packet's connection.
struct Rules;

impl PacketLogic for Rules {
    #[inline]
    fn reused(&self, c: &Conn, input: &LayerInput<'_, '_>) -> bool {
        match &input.layer.transport {
            Transport::Tcp(seg) => c.kind == ConnKind::Tcp && tcp::is_reuse(c, seg),
            _ => false,
        }
    }

    #[inline]
    fn opened(
        &self,
        cfg: &TableConfig,
        tuple: &PacketTuple,
        conn: &mut Conn,
        input: &LayerInput<'_, '_>,
        out: &mut impl Finished,
    ) {
        let flipped = originator_missed(
            &cfg.likely_server_ports,
            conn.kind,
            tuple,
            &input.layer.transport,
        );
        if flipped {
            conn.flip_roles();
        }
        if conn.kind == ConnKind::Tcp {
            if let Some((app, _)) = out.app() {
                if !app.shared.expected.is_empty() {
                    announced(&cfg.services, conn, tuple, flipped, input.ts, app);
                }
            }
        }
    }

    #[inline]
    fn apply(
        &self,
        cfg: &TableConfig,
        conn: &mut Conn,
        idx: u32,
        key: &FlowKey,
        slot: usize,
        input: &LayerInput<'_, '_>,
        out: &mut impl Finished,
    ) -> bool {
        let counted = update(&cfg.services, conn, slot, input);
        // Only connections whose service has a parser go further: one test
        // of a word already in hand for every other packet.
        if conn.services & (cfg.app.mask | ATTACHED) != 0 && counted {
            parse(conn, idx, key, slot, input, out);
        }
        counted
    }
}

/// Names a new TCP connection that a parser announced (an FTP data
/// channel), as Zeek applies its scheduled analyzers when it creates a
/// connection: by the roles it has then, after the originator guess.
#[cold]
#[inline(never)]
fn announced(
    services: &ServiceConfig,
    conn: &mut Conn,
    tuple: &PacketTuple,
    flipped: bool,
    ts: i64,
    app: &mut crate::applayer::AppLayer,
) {
    let (orig, resp) = if flipped {
        (&tuple.dst, &tuple.src)
    } else {
        (&tuple.src, &tuple.dst)
    };
    let resp_port = conn.ports().1;
    if let Some(s) = app.shared.expected.lookup(orig, resp, resp_port, ts) {
        if services.enabled {
            conn.services |= s.bit() & !services.disabled;
        }
    }
}

/// Hands the packet's payload to the application layer.
#[cold]
#[inline(never)]
fn parse(
    conn: &mut Conn,
    idx: u32,
    key: &FlowKey,
    slot: usize,
    input: &LayerInput<'_, '_>,
    out: &mut impl Finished,
) {
    let payload = match &input.layer.transport {
        Transport::Tcp(seg) => {
            // Pure ACKs matter once a parser reads the connection: they
            // tell the reassembler which holes the capture missed.
            if seg.payload.is_empty() && conn.services & ATTACHED == 0 {
                return;
            }
            let f = seg.flags;
            Payload::Tcp {
                seq: seg.seq,
                ack: f.ack().then_some(seg.ack),
                syn: f.syn(),
                fin: f.fin(),
                data: seg.payload,
            }
        }
        Transport::Udp(d) if d.checksum != Checksum::Bad => Payload::Udp(d.payload),
        _ => return,
    };
    let is_orig = conn.is_orig(slot);
    if let Some((app, events)) = out.app() {
        app.packet(events, conn, idx, key, is_orig, input.ts, payload);
    }
}

/// Applies one packet from endpoint `slot` to `conn`; true when the packet
/// counts towards the connection's packet and byte totals.
#[inline]
fn update(
    services: &ServiceConfig,
    conn: &mut Conn,
    slot: usize,
    input: &LayerInput<'_, '_>,
) -> bool {
    let layer = input.layer;
    let ts = input.ts;
    match &layer.transport {
        Transport::Tcp(seg) => {
            let o = tcp::process(conn, slot, seg, ts);
            if o == tcp::Outcome::Counted && !seg.payload.is_empty() {
                let group = resp_multicast(conn, slot, layer);
                service::probe(services, conn, slot, seg.payload, ConnKind::Tcp, group);
            }
            o == tcp::Outcome::Counted
        }
        Transport::Udp(d) => {
            let is_orig = conn.is_orig(slot);
            let ep = &mut conn.eps[slot];
            if d.checksum == Checksum::Bad {
                if super::history::scaled(&mut ep.checksum_errors) {
                    conn.history.add(is_orig, b'C');
                }
            } else {
                ep.add_plain_size(u64::from(d.length.saturating_sub(8)));
                ep.active = true;
                conn.last_ts = conn.last_ts.max(ts);
                let mask = super::history::bit::DATA;
                conn.history.check(is_orig, mask, b'D');
                let group = resp_multicast(conn, slot, layer);
                service::probe(services, conn, slot, d.payload, ConnKind::Udp, group);
            }
            // Zeek's UDP analyzer returns at a bad checksum before it hands
            // the packet on to the analyzer that counts packets and bytes.
            d.checksum != Checksum::Bad
        }
        Transport::Icmp(m) => {
            if m.checksum == Checksum::Bad {
                false
            } else {
                let ep = &mut conn.eps[slot];
                ep.add_plain_size(u64::from(m.payload_len));
                ep.active = true;
                conn.last_ts = conn.last_ts.max(ts);
                // Zeek only counts ICMP messages it captured whole.
                m.payload.len() as u32 >= m.payload_len
            }
        }
        Transport::Other => {
            conn.eps[slot].active = true;
            conn.last_ts = conn.last_ts.max(ts);
            true
        }
        Transport::None | Transport::LaterFragment | Transport::Tunnel => false,
    }
}

/// Zeek's guess that the first packet seen came from the responder, when
/// the connection's start was not seen: then the roles are swapped.
fn originator_missed(
    ports: &PortSet,
    kind: ConnKind,
    t: &PacketTuple,
    transport: &Transport<'_>,
) -> bool {
    match (kind, transport) {
        (ConnKind::Tcp, Transport::Tcp(seg)) => {
            let f = seg.flags;
            if f.syn() && !f.ack() {
                return false;
            }
            if !ports.tcp(t.src_port) {
                return false;
            }
            // A SYN-ACK from a server port is the server's answer.
            // Otherwise, when both ports are plausible servers, flip
            // only towards the lower port.
            f.syn() || !ports.tcp(t.dst_port) || t.src_port < t.dst_port
        }
        // A datagram to a broadcast or multicast group is never a reply.
        (ConnKind::Udp, _) => ports.udp(t.src_port) && !ports.udp(t.dst_port) && !t.dst.is_group(),
        _ => false,
    }
}

/// Whether the responder of `conn`, as seen in a packet from `slot`, is a
/// multicast group.
fn resp_multicast(conn: &Conn, slot: usize, layer: &IpLayer<'_>) -> bool {
    let resp = if conn.is_orig(slot) {
        layer.dst
    } else {
        layer.src
    };
    resp.is_multicast()
}
