//! A municipal network in miniature: segments for administration, care,
//! schools, building control (OT), guest Wi-Fi and servers, with the
//! traffic each has (web, DNS, file shares, remote desktop, BACnet, Modbus,
//! NTP, ping) and one port scan from the guest network.
//!
//! Sessions start at random times (seeded) and their packets interleave in
//! time order, as on a real SPAN port. Every connection's expected Zeek
//! record (state, packets, bytes) is returned as ground truth.

use super::frames::{flags, Host};
use super::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use super::rng::Rng;
use super::session::{emit, tcp_plan, Kind, Planned, Session};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use vagt_schema::ConnState;

mod network;
mod payloads;
pub use network::segments;
use network::*;
use payloads::*;

/// The guest device that scans the file server.
pub const SCANNER: Ipv4Addr = Ipv4Addr::new(10, 50, 9, 99);

/// The expected record of one generated connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedConn {
    pub orig: (Ipv4Addr, u16),
    pub resp: (Ipv4Addr, u16),
    pub proto: u8,
    pub conn_state: ConnState,
    pub orig_pkts: u64,
    pub resp_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_ip_bytes: u64,
    /// Payload bytes (TCP/UDP payload; ICMP bytes after the ICMP header).
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub service: Option<&'static str>,
    pub segment: &'static str,
    pub vlan: u16,
}

/// What was generated.
#[derive(Clone, Debug, Default)]
pub struct GroundTruth {
    pub packets: u64,
    pub bytes: u64,
    pub connections: Vec<ExpectedConn>,
}

struct Scenario {
    rng: Rng,
    next_port: u16,
    truth: GroundTruth,
    /// ICMP connections are keyed by address pair only, so each pinging
    /// pair is used once to keep the ground truth one-to-one.
    ping_pairs: std::collections::HashSet<(Ipv4Addr, Ipv4Addr)>,
}

impl Scenario {
    fn port(&mut self) -> u16 {
        self.next_port = if self.next_port >= 60999 {
            32768
        } else {
            self.next_port + 1
        };
        self.next_port
    }

    fn client_in(&mut self, seg: usize) -> (Host, u16) {
        let s = &SEGMENTS[seg];
        let h = self.rng.range(1, u64::from(s.hosts) + 1) as u8;
        let sub = self.rng.range(1, 4) as u8;
        (host(Ipv4Addr::new(10, s.net, sub, h)), s.vlan)
    }

    fn internet(&mut self) -> Host {
        let nets: [[u8; 2]; 5] = [[185, 107], [93, 184], [151, 101], [20, 190], [104, 16]];
        let n = *self.rng.pick(&nets);
        host(Ipv4Addr::new(
            n[0],
            n[1],
            self.rng.range(0, 256) as u8,
            self.rng.range(1, 255) as u8,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp_session(
        &mut self,
        client: (Host, u16),
        server: Host,
        sport: u16,
        plan: Vec<Planned>,
        prefix: &'static [u8],
        service: Option<&'static str>,
        segment: &'static str,
        state: ConnState,
    ) -> Session {
        let cport = self.port();
        let mut e = ExpectedConn {
            orig: (client.0.ip, cport),
            resp: (server.ip, sport),
            proto: 6,
            conn_state: state,
            orig_pkts: 0,
            resp_pkts: 0,
            orig_ip_bytes: 0,
            resp_ip_bytes: 0,
            orig_bytes: 0,
            resp_bytes: 0,
            service,
            segment,
            vlan: client.1,
        };
        for p in &plan {
            let ip = 40 + u64::from(p.payload);
            if p.from_client {
                e.orig_pkts += 1;
                e.orig_ip_bytes += ip;
                e.orig_bytes += u64::from(p.payload);
            } else {
                e.resp_pkts += 1;
                e.resp_ip_bytes += ip;
                e.resp_bytes += u64::from(p.payload);
            }
        }
        self.truth.connections.push(e);
        Session {
            kind: Kind::Tcp,
            client: client.0,
            server,
            cport,
            sport,
            vlan: client.1,
            plan,
            next: 0,
            client_seq: self.rng.next_u64() as u32,
            server_seq: self.rng.next_u64() as u32,
            udp_payload: b"",
            prefix,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn udp_session(
        &mut self,
        client: (Host, u16),
        server: Host,
        sport: u16,
        request: &'static [u8],
        reply_len: u32,
        service: Option<&'static str>,
        segment: &'static str,
        rtt: i64,
    ) -> Session {
        let cport = self.port();
        let q = request.len() as u64;
        self.truth.connections.push(ExpectedConn {
            orig: (client.0.ip, cport),
            resp: (server.ip, sport),
            proto: 17,
            conn_state: ConnState::Sf,
            orig_pkts: 1,
            resp_pkts: 1,
            orig_ip_bytes: 28 + q,
            resp_ip_bytes: 28 + u64::from(reply_len),
            orig_bytes: q,
            resp_bytes: u64::from(reply_len),
            service,
            segment,
            vlan: client.1,
        });
        Session {
            kind: Kind::Udp,
            client: client.0,
            server,
            cport,
            sport,
            vlan: client.1,
            plan: vec![
                Planned {
                    from_client: true,
                    flags: 0,
                    payload: q as u32,
                    gap: 0,
                },
                Planned {
                    from_client: false,
                    flags: 0,
                    payload: reply_len,
                    gap: rtt,
                },
            ],
            next: 0,
            client_seq: 0,
            server_seq: 0,
            udp_payload: request,
            prefix: b"",
        }
    }

    fn ping(&mut self, client: (Host, u16), server: Host, segment: &'static str) -> Session {
        let ident = self.port();
        let count = 4u64;
        self.truth.connections.push(ExpectedConn {
            orig: (client.0.ip, 8),
            resp: (server.ip, 0),
            proto: 1,
            conn_state: ConnState::Oth,
            orig_pkts: count,
            resp_pkts: count,
            orig_ip_bytes: count * 84,
            resp_ip_bytes: count * 84,
            orig_bytes: count * 56,
            resp_bytes: count * 56,
            service: None,
            segment,
            vlan: client.1,
        });
        let mut plan = Vec::new();
        for i in 0..count {
            let gap = if i == 0 { 0 } else { 1_000_000_000 };
            plan.push(Planned {
                from_client: true,
                flags: 0,
                payload: 56,
                gap,
            });
            plan.push(Planned {
                from_client: false,
                flags: 0,
                payload: 56,
                gap: 2_000_000,
            });
        }
        Session {
            kind: Kind::Ping,
            client: client.0,
            server,
            cport: ident,
            sport: 0,
            vlan: client.1,
            plan,
            next: 0,
            client_seq: 0,
            server_seq: 0,
            udp_payload: b"",
            prefix: b"",
        }
    }

    /// A new session of a random kind.
    fn random_session(&mut self) -> Session {
        let r = self.rng.unit();
        let rtt_lan = self.rng.range(150_000, 900_000) as i64;
        let rtt_wan = self.rng.range(8_000_000, 45_000_000) as i64;
        if r < 0.30 {
            // Schools, guests and admin browse the web over TLS.
            let seg = *self.rng.pick(&[1usize, 3, 3, 5]);
            let c = self.client_in(seg);
            let srv = self.internet();
            let plan = tcp_plan(&mut self.rng, (1, 4), (200, 1400), (1000, 60_000), rtt_wan);
            self.tcp_session(
                c,
                srv,
                443,
                plan,
                TLS_HELLO,
                Some("ssl"),
                SEGMENTS[seg].name,
                ConnState::Sf,
            )
        } else if r < 0.40 {
            // Care staff use the patient record system (EPJ) over TLS.
            let c = self.client_in(2);
            let plan = tcp_plan(&mut self.rng, (1, 6), (300, 1200), (2000, 30_000), rtt_lan);
            let epj = host(EPJ);
            self.tcp_session(
                c,
                epj,
                443,
                plan,
                TLS_HELLO,
                Some("ssl"),
                "care",
                ConnState::Sf,
            )
        } else if r < 0.62 {
            let seg = *self.rng.pick(&[1usize, 2, 3, 5]);
            let c = self.client_in(seg);
            self.udp_session(
                c,
                host(RESOLVER),
                53,
                DNS_QUERY,
                120,
                Some("dns"),
                SEGMENTS[seg].name,
                rtt_lan,
            )
        } else if r < 0.70 {
            let c = self.client_in(1);
            let plan = tcp_plan(&mut self.rng, (1, 2), (80, 400), (3000, 40_000), rtt_lan);
            self.tcp_session(
                c,
                host(INTRANET),
                80,
                plan,
                HTTP_GET,
                Some("http"),
                "admin",
                ConnState::Sf,
            )
        } else if r < 0.78 {
            let seg = *self.rng.pick(&[1usize, 2]);
            let c = self.client_in(seg);
            let plan = tcp_plan(&mut self.rng, (2, 6), (100, 2000), (500, 80_000), rtt_lan);
            self.tcp_session(
                c,
                host(FILE_SERVER),
                445,
                plan,
                SMB_NEGOTIATE,
                Some("smb"),
                SEGMENTS[seg].name,
                ConnState::Sf,
            )
        } else if r < 0.85 {
            let ctrl = host(Ipv4Addr::new(10, 40, 1, self.rng.range(1, 13) as u8));
            self.udp_session(
                (host(BMS), 40),
                ctrl,
                47808,
                BACNET_READ,
                24,
                Some("bacnet"),
                "ot",
                rtt_lan,
            )
        } else if r < 0.90 {
            let plc = host(Ipv4Addr::new(10, 40, 2, self.rng.range(1, 5) as u8));
            let plan = tcp_plan(&mut self.rng, (3, 10), (12, 12), (9, 30), rtt_lan);
            self.tcp_session(
                (host(BMS), 40),
                plc,
                502,
                plan,
                MODBUS_READ,
                Some("modbus"),
                "ot",
                ConnState::Sf,
            )
        } else if r < 0.94 {
            let seg = *self.rng.pick(&[1usize, 2, 3]);
            let c = self.client_in(seg);
            self.udp_session(
                c,
                host(TIME_SERVER),
                123,
                NTP_REQUEST,
                48,
                Some("ntp"),
                SEGMENTS[seg].name,
                rtt_lan,
            )
        } else if r < 0.97 {
            let c = self.client_in(1);
            let plan = tcp_plan(&mut self.rng, (5, 20), (50, 300), (500, 8000), rtt_lan);
            self.tcp_session(
                c,
                host(JUMP_HOST),
                3389,
                plan,
                RDP_REQUEST,
                Some("rdp"),
                "admin",
                ConnState::Sf,
            )
        } else {
            let seg = *self.rng.pick(&[1usize, 4]);
            let c = self.client_in(seg);
            let target = host(Ipv4Addr::new(10, 0, 0, self.rng.range(1, 80) as u8));
            if self.ping_pairs.insert((c.0.ip, target.ip)) {
                self.ping(c, target, SEGMENTS[seg].name)
            } else {
                self.udp_session(
                    c,
                    host(RESOLVER),
                    53,
                    DNS_QUERY,
                    120,
                    Some("dns"),
                    SEGMENTS[seg].name,
                    rtt_lan,
                )
            }
        }
    }

    /// A SYN scan of the file server from one guest device: open ports
    /// answer SYN-ACK and the scanner resets; closed ports reject.
    fn scan_sessions(&mut self, start: i64) -> Vec<(i64, Session)> {
        let scanner = (host(SCANNER), 50u16);
        let target = host(FILE_SERVER);
        let open = [22u16, 80, 139, 443, 445];
        let mut out = Vec::new();
        for (i, port) in (1u16..=200).enumerate() {
            let t = start + i as i64 * 3_000_000;
            let is_open = open.contains(&port);
            let plan = if is_open {
                vec![
                    Planned {
                        from_client: true,
                        flags: flags::SYN,
                        payload: 0,
                        gap: 0,
                    },
                    Planned {
                        from_client: false,
                        flags: flags::SYN | flags::ACK,
                        payload: 0,
                        gap: 300_000,
                    },
                    Planned {
                        from_client: true,
                        flags: flags::RST,
                        payload: 0,
                        gap: 50_000,
                    },
                ]
            } else {
                vec![
                    Planned {
                        from_client: true,
                        flags: flags::SYN,
                        payload: 0,
                        gap: 0,
                    },
                    Planned {
                        from_client: false,
                        flags: flags::RST | flags::ACK,
                        payload: 0,
                        gap: 200_000,
                    },
                ]
            };
            let state = if is_open {
                ConnState::Rsto
            } else {
                ConnState::Rej
            };
            let s = self.tcp_session(scanner, target, port, plan, b"", None, "guest", state);
            out.push((t, s));
        }
        out
    }
}

/// Generates about `target_packets` packets into `w`.
pub fn generate<W: Write>(w: W, seed: u64, target_packets: u64) -> io::Result<GroundTruth> {
    let mut out = PcapWriter::new(w, LINKTYPE_ETHERNET, 65535)?;
    let mut sc = Scenario {
        rng: Rng::new(seed),
        next_port: 40000,
        truth: GroundTruth::default(),
        ping_pairs: Default::default(),
    };
    // Tuesday 4 November 2025, 08:00:00 UTC.
    let start: i64 = 1_762_243_200 * 1_000_000_000;
    let mut sessions: Vec<Option<Session>> = Vec::new();
    let mut heap: BinaryHeap<Reverse<(i64, u64, usize)>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut planned = 0u64;
    let mut next_arrival = start;
    let mut buf = Vec::with_capacity(1600);
    let mut ip_id: u16 = 1;
    let schedule = |heap: &mut BinaryHeap<Reverse<(i64, u64, usize)>>,
                    order: &mut u64,
                    t: i64,
                    slot: usize| {
        *order += 1;
        heap.push(Reverse((t, *order, slot)));
    };
    // The scan starts a third of the way into the capture, whatever its
    // size, so that every capture the demo makes shows it.
    let scan_after = target_packets / 3;
    let mut scan_added = false;

    loop {
        // Start new sessions until enough packets are planned.
        while planned < target_packets
            && heap
                .peek()
                .is_none_or(|Reverse((t, _, _))| next_arrival <= *t)
        {
            if !scan_added && planned >= scan_after {
                scan_added = true;
                for (t, s) in sc.scan_sessions(next_arrival) {
                    planned += s.plan.len() as u64;
                    sessions.push(Some(s));
                    schedule(&mut heap, &mut order, t, sessions.len() - 1);
                }
            }
            let s = sc.random_session();
            planned += s.plan.len() as u64;
            sessions.push(Some(s));
            schedule(&mut heap, &mut order, next_arrival, sessions.len() - 1);
            next_arrival += sc.rng.exp(4_000_000.0) as i64 + 1;
        }
        let Some(Reverse((t, _, slot))) = heap.pop() else {
            break;
        };
        let Some(session) = sessions[slot].as_mut() else {
            continue;
        };
        if emit(session, &mut buf, ip_id) {
            ip_id = ip_id.wrapping_add(1);
            out.write(t, &buf)?;
            sc.truth.packets += 1;
            sc.truth.bytes += buf.len() as u64;
            match session.plan.get(session.next) {
                Some(next) => schedule(&mut heap, &mut order, t + next.gap.max(1), slot),
                None => sessions[slot] = None,
            }
        } else {
            sessions[slot] = None;
        }
    }
    out.into_inner().flush()?;
    Ok(sc.truth)
}

/// Writes the scenario to a pcap file.
pub fn write_pcap(path: &Path, seed: u64, target_packets: u64) -> io::Result<GroundTruth> {
    let f = std::fs::File::create(path)?;
    generate(BufWriter::new(f), seed, target_packets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_reaches_the_target() {
        let mut a = Vec::new();
        let ta = generate(&mut a, 7, 5000).unwrap();
        let mut b = Vec::new();
        let tb = generate(&mut b, 7, 5000).unwrap();
        assert_eq!(a, b);
        assert_eq!(ta.connections, tb.connections);
        assert!(ta.packets >= 5000, "{}", ta.packets);
        let sum: u64 = ta
            .connections
            .iter()
            .map(|c| c.orig_pkts + c.resp_pkts)
            .sum();
        assert_eq!(sum, ta.packets, "ground truth covers every packet");
        let mut c = Vec::new();
        generate(&mut c, 8, 5000).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn every_capture_holds_the_port_scan() {
        for target in [2_000, 100_000] {
            let truth = generate(std::io::sink(), 2025, target).unwrap();
            let scanner = SCANNER;
            let probes = truth
                .connections
                .iter()
                .filter(|c| c.orig.0 == scanner)
                .count();
            assert_eq!(probes, 200, "scan probes in a {target}-packet capture");
        }
    }
}
