//! Tests of the connection table: bounds, timers, interim records.

use super::*;
use crate::decode::{Addr, Checksum, IpLayer, TcpFlags, TcpSegment, Transport, UdpDatagram};
use vagt_schema::ConnState;

const S: i64 = 1_000_000_000;

fn udp_layer<'a>(src_port: u16, payload: &'a [u8]) -> IpLayer<'a> {
    IpLayer {
        version: 4,
        src: Addr::from_v4([10, 0, 0, 1]),
        dst: Addr::from_v4([10, 0, 0, 2]),
        proto: 17,
        total_len: 28 + payload.len() as u32,
        header_len: 20,
        transport: Transport::Udp(UdpDatagram {
            src_port,
            dst_port: 5000,
            length: 8 + payload.len() as u16,
            payload,
            payload_len: payload.len() as u32,
            checksum: Checksum::Good,
        }),
        ..IpLayer::default()
    }
}

fn tcp_layer(from_client: bool, flags: u8, seq: u32, ack: u32) -> IpLayer<'static> {
    let (src, dst, sp, dp) = if from_client {
        ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
    };
    IpLayer {
        version: 4,
        src: Addr::from_v4(src),
        dst: Addr::from_v4(dst),
        proto: 6,
        total_len: 40,
        header_len: 20,
        transport: Transport::Tcp(TcpSegment {
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 1000,
            window_scale: -1,
            payload: &[],
            payload_len: 0,
            checksum: Checksum::Good,
        }),
        ..IpLayer::default()
    }
}

fn feed(t: &mut ConnTable, layer: &IpLayer<'_>, ts: i64, out: &mut Vec<Snapshot>) {
    let input = LayerInput {
        layer,
        depth: 0,
        ts,
        link_len: layer.total_len + 14,
        src_mac: &None,
        dst_mac: &None,
        parent_uid: 0,
        want_uid: false,
    };
    crate::flow::transport::track(t, &input, out);
}

#[test]
fn a_full_table_evicts_the_longest_idle_and_never_grows() {
    let mut t = ConnTable::new(TableConfig {
        max_connections: 100,
        ..TableConfig::default()
    });
    let mut out = Vec::new();
    for i in 0..1000u16 {
        feed(
            &mut t,
            &udp_layer(1000 + i, b"x"),
            i64::from(i) * 1000,
            &mut out,
        );
        assert!(t.len() <= 100, "table grew to {}", t.len());
    }
    assert_eq!(t.stats.evicted, 900);
    assert!(out.iter().all(|c| c.end == EndReason::Evicted));
    // The oldest went first.
    assert_eq!(out[0].key.a_port.min(out[0].key.b_port), 1000);
    t.flush(&mut out);
    assert_eq!(out.len(), 1000, "every connection is written exactly once");
    assert!(out
        .iter()
        .all(|c| c.eps[0].pkts.get() + c.eps[1].pkts.get() == 1));
}

#[test]
fn eviction_takes_the_longest_idle_not_the_oldest() {
    let mut t = ConnTable::new(TableConfig {
        max_connections: 3,
        ..TableConfig::default()
    });
    let mut out = Vec::new();
    // Opened in the order 1, 2, 3; then 1 is busy again, so 2 has been idle
    // the longest when a fourth arrives.
    feed(&mut t, &udp_layer(1, b"a"), 0, &mut out);
    feed(&mut t, &udp_layer(2, b"a"), S, &mut out);
    feed(&mut t, &udp_layer(3, b"a"), 2 * S, &mut out);
    feed(&mut t, &udp_layer(1, b"b"), 3 * S, &mut out);
    feed(&mut t, &udp_layer(4, b"a"), 4 * S, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].end, EndReason::Evicted);
    assert_eq!(out[0].key.a_port.min(out[0].key.b_port), 2);
    feed(&mut t, &udp_layer(5, b"a"), 5 * S, &mut out);
    assert_eq!(out[1].key.a_port.min(out[1].key.b_port), 3);
    assert_eq!(t.stats.evicted, 2);
}

#[test]
fn udp_inactivity_splits_connections() {
    let mut t = ConnTable::new(TableConfig::default());
    let mut out = Vec::new();
    feed(&mut t, &udp_layer(1, b"a"), 0, &mut out);
    feed(&mut t, &udp_layer(1, b"b"), 59 * S, &mut out);
    assert!(out.is_empty(), "59 s is within the 60 s timeout");
    feed(&mut t, &udp_layer(1, b"c"), 120 * S, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].end, EndReason::Timeout);
    assert_eq!(out[0].orig().pkts.get(), 2);
    // Sweeps expire without a packet, too.
    t.expire(200 * S, &mut out);
    assert_eq!(out.len(), 2);
    assert!(t.is_empty());
}

#[test]
fn long_connections_write_interim_records() {
    let mut cfg = TableConfig::default();
    cfg.timeouts.udp_active = 30 * S;
    let mut t = ConnTable::new(cfg);
    let mut out = Vec::new();
    for i in 0..=10 {
        feed(&mut t, &udp_layer(7, b"ping"), i * 10 * S, &mut out);
    }
    let interim: Vec<&Snapshot> = out.iter().filter(|c| c.interim).collect();
    assert_eq!(interim.len(), 3, "at 30, 60 and 90 s");
    assert_eq!(interim[0].orig().pkts.get(), 4);
    t.flush(&mut out);
    let last = out.last().expect("final record");
    assert!(!last.interim);
    assert_eq!(last.orig().pkts.get(), 11);
}

#[test]
fn a_closed_tcp_connection_lingers_then_ends_as_closed() {
    use crate::decode::TcpFlags as F;
    let mut t = ConnTable::new(TableConfig::default());
    let mut out = Vec::new();
    let (c, s) = (1000u32, 5000u32);
    let steps = [
        (true, F::SYN, c, 0),
        (false, F::SYN | F::ACK, s, c + 1),
        (true, F::ACK, c + 1, s + 1),
        (true, F::FIN | F::ACK, c + 1, s + 1),
        (false, F::FIN | F::ACK, s + 1, c + 2),
        (true, F::ACK, c + 2, s + 2),
    ];
    for (i, (client, flags, seq, ack)) in steps.iter().enumerate() {
        feed(
            &mut t,
            &tcp_layer(*client, *flags, *seq, *ack),
            i as i64 * S / 10,
            &mut out,
        );
    }
    t.expire(S, &mut out);
    assert!(out.is_empty(), "lingers for the close delay");
    t.expire(6 * S, &mut out);
    assert_eq!(out.len(), 1);
    let conn = &out[0];
    assert_eq!(conn.end, EndReason::Closed);
    assert_eq!(record::conn_state(conn), ConnState::Sf);
    assert_eq!(conn.history.as_str(), "ShAFf");
}

#[test]
fn a_new_syn_with_another_sequence_number_starts_a_new_connection() {
    use crate::decode::TcpFlags as F;
    let mut t = ConnTable::new(TableConfig::default());
    let mut out = Vec::new();
    feed(&mut t, &tcp_layer(true, F::SYN, 100, 0), 0, &mut out);
    feed(
        &mut t,
        &tcp_layer(false, F::RST | F::ACK, 0, 101),
        S / 100,
        &mut out,
    );
    feed(&mut t, &tcp_layer(true, F::SYN, 900, 0), S / 10, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].end, EndReason::Reused);
    assert_eq!(record::conn_state(&out[0]), ConnState::Rej);
    assert_eq!(t.stats.reused, 1);
}

#[test]
fn a_connection_fits_its_memory_budget() {
    // The README states 240 bytes per connection and 251 with its share
    // of the index (see ConnTable::bytes_per_connection); growing either
    // must update the claim.
    let per = ConnTable::bytes_per_connection();
    assert!(
        std::mem::size_of::<Conn>() <= 240,
        "{} bytes",
        std::mem::size_of::<Conn>()
    );
    assert!(per <= 251, "{per} bytes per connection");
    eprintln!(
        "Conn {} bytes, {} per connection with the index, IPv6 side entry {}",
        std::mem::size_of::<Conn>(),
        per,
        ConnTable::bytes_per_side_entry()
    );
}

#[test]
fn acknowledged_but_unseen_data_counts_in_full_past_4_gib() {
    // A 5 GB download of which the capture kept no data packets: the
    // client's acknowledgements, 1.25 GB apart, wrap the server's sequence
    // space once; every byte up to the FIN is missed, the FIN itself not.
    use crate::decode::TcpFlags as F;
    let mut t = ConnTable::new(TableConfig::default());
    let mut out = Vec::new();
    let (c, s) = (1000u32, 4_000_000_000u32);
    let total: u64 = 5_000_000_000;
    let at = |n: u64| s.wrapping_add(1).wrapping_add(n as u32);
    let mut steps = vec![
        (true, F::SYN, c, 0),
        (false, F::SYN | F::ACK, s, c + 1),
        (true, F::ACK, c + 1, s + 1),
    ];
    for k in 1..=4u64 {
        steps.push((true, F::ACK, c + 1, at(k * total / 4)));
    }
    steps.push((false, F::FIN | F::ACK, at(total), c + 1));
    steps.push((true, F::FIN | F::ACK, c + 1, at(total + 1)));
    steps.push((false, F::ACK, at(total + 1), c + 2));
    for (i, (client, flags, seq, ack)) in steps.iter().enumerate() {
        feed(
            &mut t,
            &tcp_layer(*client, *flags, *seq, *ack),
            i as i64 * S / 10,
            &mut out,
        );
    }
    t.expire(10 * S, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].missed_bytes.get(), total);
    assert_eq!(out[0].history.as_str(), "ShAgfFa");
}
