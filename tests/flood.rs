//! A SYN flood against a small connection table, through the whole
//! pipeline: the table stays within its cap, every connection that did not
//! fit is evicted, counted and still written, and the ordinary traffic
//! running beside the flood is tracked exactly (states, counters and the
//! recognised service), so detection keeps working while under attack.
//!
//! The capture is generated here from a fixed seed. Memory per connection
//! and the two-million-source flood are measured in `bench/` (see
//! bench/RESULTS.md); this test checks the behaviour.

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use vagt_schema::{ConnRecord, ConnState, EventBody};
use vagt_sensor::config::Config;
use vagt_sensor::synth::frames::{self, flags, Host, TcpSpec};
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use vagt_sensor::synth::rng::Rng;

/// Distinct flood sources, each sending one unanswered SYN.
const SOURCES: u32 = 60_000;
/// Ordinary HTTP sessions that run through the whole flood.
const SESSIONS: u32 = 40;
/// Connections the whole sensor may hold (split over the workers).
const CAP: usize = 2_000;
/// Time between frames.
const GAP_NS: i64 = 10_000;

fn host(ip: Ipv4Addr) -> Host {
    let o = ip.octets();
    Host {
        mac: [0x02, 0x10, o[0], o[1], o[2], o[3]],
        ip,
    }
}

/// Packets each way of one ordinary session, as sent.
#[derive(Default, Clone, Copy, Debug, PartialEq)]
struct Sent {
    orig: u64,
    resp: u64,
}

/// One HTTP session, step by step: handshake, request/response rounds,
/// then a FIN from each side.
struct Session {
    client: Host,
    server: Host,
    cport: u16,
    cseq: u32,
    sseq: u32,
    step: u32,
    rounds: u32,
    sent: Sent,
}

impl Session {
    fn steps(&self) -> u32 {
        3 + 2 * self.rounds + 3
    }

    fn done(&self) -> bool {
        self.step >= self.steps()
    }

    /// Builds the session's next frame.
    fn next(&mut self, buf: &mut Vec<u8>) {
        let s = self.step;
        self.step += 1;
        let last_round = 3 + 2 * self.rounds;
        let (from_client, fl, len, prefix): (bool, u8, usize, &'static [u8]) = match s {
            0 => (true, flags::SYN, 0, b""),
            1 => (false, flags::SYN | flags::ACK, 0, b""),
            2 => (true, flags::ACK, 0, b""),
            s if s < last_round && (s - 3) % 2 == 0 => (
                true,
                flags::ACK | flags::PSH,
                120,
                b"GET /index.html HTTP/1.1\r\nHost: intra.example\r\n\r\n",
            ),
            s if s < last_round => (
                false,
                flags::ACK | flags::PSH,
                600,
                b"HTTP/1.1 200 OK\r\nContent-Length: 540\r\n\r\n",
            ),
            s if s == last_round => (true, flags::FIN | flags::ACK, 0, b""),
            s if s == last_round + 1 => (false, flags::FIN | flags::ACK, 0, b""),
            _ => (true, flags::ACK, 0, b""),
        };
        let syn_or_fin = fl & (flags::SYN | flags::FIN) != 0;
        let (src, dst, sport, dport, seq, ack) = if from_client {
            (
                &self.client,
                &self.server,
                self.cport,
                80,
                self.cseq,
                self.sseq,
            )
        } else {
            (
                &self.server,
                &self.client,
                80,
                self.cport,
                self.sseq,
                self.cseq,
            )
        };
        let spec = TcpSpec {
            sport,
            dport,
            seq,
            ack: if fl & flags::ACK != 0 { ack } else { 0 },
            flags: fl,
            window: 64_240,
            payload_len: len,
            prefix,
        };
        frames::tcp(buf, src, dst, None, &spec, s as u16);
        let advance = len as u32 + u32::from(syn_or_fin);
        if from_client {
            self.cseq = self.cseq.wrapping_add(advance);
            self.sent.orig += 1;
        } else {
            self.sseq = self.sseq.wrapping_add(advance);
            self.sent.resp += 1;
        }
    }
}

/// Writes the flood with the sessions woven through it; returns what each
/// session sent, by client address.
fn write_capture(path: &PathBuf) -> HashMap<IpAddr, Sent> {
    let mut rng = Rng::new(0x5ee_d00d);
    let victim = host(Ipv4Addr::new(172, 16, 255, 1));
    let mut sessions: Vec<Session> = (0..SESSIONS)
        .map(|i| Session {
            client: host(Ipv4Addr::new(10, 20, 0, 1 + i as u8)),
            server: host(Ipv4Addr::new(10, 30, 0, 1 + (i % 4) as u8)),
            cport: 40_000 + rng.range(0, 20_000) as u16,
            cseq: rng.next_u64() as u32,
            sseq: rng.next_u64() as u32,
            step: 0,
            rounds: rng.range(10, 30) as u32,
            sent: Sent::default(),
        })
        .collect();
    let session_frames: u32 = sessions.iter().map(Session::steps).sum();
    // Spread the session frames evenly over the flood.
    let every = (SOURCES / session_frames).max(1);

    let file = std::fs::File::create(path).expect("create capture");
    let mut w = PcapWriter::new(std::io::BufWriter::new(file), LINKTYPE_ETHERNET, 65_535)
        .expect("pcap header");
    let mut buf = Vec::new();
    let mut ts = 1_700_000_000_000_000_000i64;
    let mut turn = 0usize;
    for i in 0..SOURCES {
        let src = host(Ipv4Addr::from(0x6440_0001u32 + i));
        let spec = TcpSpec {
            sport: 1024 + (i % 60_000) as u16,
            dport: 80,
            seq: rng.next_u64() as u32,
            ack: 0,
            flags: flags::SYN,
            window: 1024,
            payload_len: 0,
            prefix: b"",
        };
        frames::tcp(&mut buf, &src, &victim, None, &spec, i as u16);
        w.write(ts, &buf).expect("write");
        ts += GAP_NS;
        if i % every == 0 {
            // The next session that still has frames to send.
            for _ in 0..sessions.len() {
                turn = (turn + 1) % sessions.len();
                if !sessions[turn].done() {
                    sessions[turn].next(&mut buf);
                    w.write(ts, &buf).expect("write");
                    ts += GAP_NS;
                    break;
                }
            }
        }
    }
    for s in sessions.iter_mut() {
        while !s.done() {
            s.next(&mut buf);
            w.write(ts, &buf).expect("write");
            ts += GAP_NS;
        }
    }
    drop(w);
    sessions
        .iter()
        .map(|s| (IpAddr::V4(s.client.ip), s.sent))
        .collect()
}

#[test]
fn syn_flood_stays_within_the_cap_and_ordinary_traffic_is_still_tracked() {
    let dir = common::temp_dir("flood");
    let pcap = dir.join("flood.pcap");
    let sent = write_capture(&pcap);

    let mut cfg = Config::default();
    cfg.pipeline.workers = 2;
    cfg.flow.max_connections = CAP;
    let (events, summary) = vagt_sensor::app::replay_collect(&cfg, std::slice::from_ref(&pcap))
        .unwrap_or_else(|e| panic!("replay failed: {e}"));
    assert!(
        summary.source_errors.is_empty(),
        "{:?}",
        summary.source_errors
    );

    let records: Vec<ConnRecord> = events
        .into_iter()
        .filter_map(|e| match e.body {
            EventBody::Conn(c) if !c.interim => Some(c),
            _ => None,
        })
        .collect();

    // The table held no more than its cap; what did not fit was evicted,
    // counted, and written all the same.
    let total = SOURCES as usize + SESSIONS as usize;
    println!(
        "flood: {} records, {} evicted, at most {} held (cap {CAP})",
        records.len(),
        summary.table.evicted,
        summary.table.peak
    );
    assert!(
        summary.table.peak <= CAP as u64,
        "peak {}",
        summary.table.peak
    );
    assert_eq!(records.len(), total, "one record per connection");
    assert!(
        summary.table.evicted >= (total - CAP) as u64,
        "only {} evicted",
        summary.table.evicted
    );

    // Every flood source: one unanswered SYN.
    let flood: Vec<&ConnRecord> = records
        .iter()
        .filter(|r| r.resp_p == 80 && r.conn_state == ConnState::S0)
        .collect();
    assert_eq!(flood.len(), SOURCES as usize);
    assert!(flood.iter().all(|r| r.orig_pkts == 1 && r.resp_pkts == 0));

    // The ordinary sessions, active all through the flood, kept their
    // places: complete, exact and recognised as HTTP.
    for (client, want) in &sent {
        let got: Vec<&ConnRecord> = records.iter().filter(|r| r.orig_h == *client).collect();
        assert_eq!(got.len(), 1, "{client}: {} records", got.len());
        let r = got[0];
        assert_eq!(
            r.conn_state,
            ConnState::Sf,
            "{client}: history {:?}",
            r.history
        );
        assert_eq!(
            (r.orig_pkts, r.resp_pkts),
            (want.orig, want.resp),
            "{client}"
        );
        assert_eq!(r.service.as_deref(), Some("http"), "{client}");
    }
}

/// A flood as the analysis stage sees it: one failed connection record
/// from each of two million sources, and among them one real scanner.
#[test]
fn analysis_state_stays_within_its_caps_under_a_two_million_source_flood() {
    use vagt_detect::Analysis;
    use vagt_schema::{Event, Origin, Proto};
    let rules = vagt_sensor::analysis::built_in().expect("built-in rules");
    let mut a = Analysis::new(rules, "flood");
    let origin = Origin {
        municipality: "0101".into(),
        sensor: "s1".into(),
        segment: "servers".into(),
    };
    let victim: IpAddr = Ipv4Addr::new(10, 20, 0, 80).into();
    let scanner: IpAddr = Ipv4Addr::new(203, 0, 113, 7).into();
    let record = |i: u32, src: IpAddr, port: u16, t: f64| ConnRecord {
        ts: t,
        uid: format!("F{i}"),
        orig_h: src,
        orig_p: 40_000,
        resp_h: victim,
        resp_p: port,
        proto: Proto::Tcp,
        service: None,
        duration: None,
        orig_bytes: Some(0),
        resp_bytes: Some(0),
        conn_state: ConnState::S0,
        local_orig: Some(false),
        local_resp: Some(true),
        missed_bytes: 0,
        history: Some("S".into()),
        orig_pkts: 1,
        orig_ip_bytes: 40,
        resp_pkts: 0,
        resp_ip_bytes: 0,
        tunnel_parents: Vec::new(),
        ip_proto: 6,
        vlan: None,
        inner_vlan: None,
        third_vlan: None,
        orig_l2_addr: None,
        resp_l2_addr: None,
        community_id: String::new(),
        orig_link_bytes: 54,
        resp_link_bytes: 0,
        tunnel_depth: 0,
        interim: false,
        end_reason: None,
    };
    let mut out = Vec::new();
    let mut alerts = Vec::new();
    let t0 = 1_767_596_400.0;
    let mut peak = 0;
    for i in 0..2_000_000u32 {
        let t = t0 + f64::from(i) * 0.0005;
        let src = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + i));
        a.observe(
            &Event::new(origin.clone(), EventBody::Conn(record(i, src, 80, t))),
            &mut out,
        );
        // The scanner probes 100 ports, one every 5,000 flood records.
        if i % 5_000 == 0 && i / 5_000 < 100 {
            let port = 1 + (i / 5_000) as u16;
            let ev = Event::new(origin.clone(), EventBody::Conn(record(i, scanner, port, t)));
            a.observe(&ev, &mut out);
        }
        if i % 100_000 == 0 {
            peak = peak.max(a.tracked().entries);
        }
        alerts.extend(out.drain(..).filter_map(|e| match e.body {
            EventBody::Alert(x) => Some(x),
            _ => None,
        }));
    }
    let tracked = a.tracked();
    assert!(
        peak <= tracked.cap && tracked.entries <= tracked.cap,
        "{tracked:?} peak {peak}"
    );
    assert!(
        tracked.evicted > 0,
        "a flood past the caps is counted: {tracked:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|x| x.detector == "scan" && x.src == scanner && x.kind == "port_scan"),
        "the scanner is still found: {:?}",
        alerts
            .iter()
            .map(|x| (&x.detector, &x.kind, x.src))
            .take(5)
            .collect::<Vec<_>>()
    );
}
