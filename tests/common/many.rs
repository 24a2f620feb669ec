//! A capture with tens of thousands of connections open at once, and what
//! was sent on each: enough to outgrow the caches, so workers look ahead
//! and prefetch (they only do above a few thousand connections).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use vagt_schema::{ConnRecord, ConnState, Proto};
use vagt_sensor::synth::frames::{self, flags, Host, TcpSpec};
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use vagt_sensor::synth::rng::Rng;

/// Connection → packets each way.
pub type Truth = BTreeMap<(Ipv4Addr, u16, &'static str), Sent>;

const CLIENTS: u32 = 24_000;

/// What was sent on one connection: packets each way.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub orig: u64,
    pub resp: u64,
}

fn host(i: u32, base: [u8; 2]) -> Host {
    let [_, _, c, d] = i.to_be_bytes();
    Host {
        mac: [2, 0, base[0], base[1], c, d],
        ip: Ipv4Addr::new(base[0], base[1], c, d),
    }
}

/// Every client opens a TCP connection (half of them on a VLAN) and sends
/// a UDP datagram pair; all handshakes come first, then data in a seeded
/// random order, then the closes, so every connection is open at once.
pub fn write_capture(path: &std::path::Path) -> Truth {
    let mut truth = BTreeMap::new();
    let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET, 65535).expect("pcap");
    let mut buf = Vec::new();
    let mut ts = 1_700_000_000_000_000_000i64;
    let mut tick = || {
        ts += 20_000;
        ts
    };
    let server = |i: u32| host(i % 64, [192, 168]);
    let tcp = |sport: u16, dport: u16, seq: u32, ack: u32, f: u8| TcpSpec {
        sport,
        dport,
        seq,
        ack,
        flags: f,
        window: 1000,
        payload_len: if f == flags::ACK | flags::PSH { 100 } else { 0 },
        prefix: b"",
    };
    let vlan = |i: u32| i.is_multiple_of(2).then_some(100 + (i % 7) as u16);
    let port = |i: u32| 20_000 + (i % 40_000) as u16;
    for step in 0..3 {
        for i in 0..CLIENTS {
            let (c, s) = (host(i, [10, 1]), server(i));
            let (cp, sp) = (port(i), 443);
            let (f, from_client) = match step {
                0 => (tcp(cp, sp, 1000, 0, flags::SYN), true),
                1 => (tcp(sp, cp, 5000, 1001, flags::SYN | flags::ACK), false),
                _ => (tcp(cp, sp, 1001, 5001, flags::ACK), true),
            };
            let (a, b) = if from_client { (&c, &s) } else { (&s, &c) };
            frames::tcp(&mut buf, a, b, vlan(i), &f, 1);
            w.write(tick(), &buf).expect("write");
        }
    }
    let mut rng = Rng::new(0x7a67_2026);
    let mut order: Vec<u32> = (0..CLIENTS).collect();
    for k in (1..order.len()).rev() {
        order.swap(k, rng.range(0, k as u64 + 1) as usize);
    }
    for &i in &order {
        let (c, s) = (host(i, [10, 1]), server(i));
        let data = tcp(port(i), 443, 1001, 5001, flags::ACK | flags::PSH);
        frames::tcp(&mut buf, &c, &s, vlan(i), &data, 2);
        w.write(tick(), &buf).expect("write");
        frames::udp(&mut buf, &c, &s, None, port(i), 53, None, 30, 3);
        w.write(tick(), &buf).expect("write");
        frames::udp(&mut buf, &s, &c, None, 53, port(i), None, 60, 4);
        w.write(tick(), &buf).expect("write");
    }
    for &i in order.iter().rev() {
        let (c, s) = (host(i, [10, 1]), server(i));
        let (cp, sp) = (port(i), 443);
        let fin = flags::FIN | flags::ACK;
        frames::tcp(&mut buf, &c, &s, vlan(i), &tcp(cp, sp, 1101, 5001, fin), 5);
        w.write(tick(), &buf).expect("write");
        frames::tcp(&mut buf, &s, &c, vlan(i), &tcp(sp, cp, 5001, 1102, fin), 6);
        w.write(tick(), &buf).expect("write");
        frames::tcp(
            &mut buf,
            &c,
            &s,
            vlan(i),
            &tcp(cp, sp, 1102, 5002, flags::ACK),
            7,
        );
        w.write(tick(), &buf).expect("write");
        truth.insert((c.ip, cp, "tcp"), Sent { orig: 5, resp: 2 });
        truth.insert((c.ip, cp, "udp"), Sent { orig: 1, resp: 1 });
    }
    std::fs::write(path, w.into_inner()).expect("write capture");
    truth
}

/// What the records say was sent, in the same form; panics on a
/// connection recorded twice or a TCP connection not closed normally.
pub fn tally(records: &[ConnRecord]) -> Truth {
    let mut seen = BTreeMap::new();
    for r in records {
        let std::net::IpAddr::V4(ip) = r.orig_h else {
            panic!("unexpected IPv6 record {r:?}");
        };
        let proto = if r.proto == Proto::Tcp { "tcp" } else { "udp" };
        let sent = Sent {
            orig: r.orig_pkts,
            resp: r.resp_pkts,
        };
        assert!(
            seen.insert((ip, r.orig_p, proto), sent).is_none(),
            "two records for {r:?}"
        );
        if r.proto == Proto::Tcp {
            assert_eq!(r.conn_state, ConnState::Sf, "{r:?}");
        }
    }
    seen
}
