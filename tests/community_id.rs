//! Community ID v1 on every kind of connection the sensor records, checked
//! end to end (capture file in, records out) against the specification's
//! own test vectors (corelight/community-id-spec, baseline/
//! baseline_deflt.json): TCP and UDP over IPv4, ICMP echo, TCP over IPv6,
//! ICMPv6 neighbour discovery, and a protocol without ports (RSVP).

mod common;

use std::io::Write;
use std::net::IpAddr;
use vagt_sensor::config::Config;
use vagt_sensor::decode::offload::ChecksumMode;
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};

fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An IP packet (v4 or v6 by the addresses) carrying `payload` as `proto`.
/// Checksums are left zero: the test replays with checksums off.
fn ip(proto: u8, src: &str, dst: &str, payload: &[u8]) -> Vec<u8> {
    let (src, dst): (IpAddr, IpAddr) = (src.parse().expect("src"), dst.parse().expect("dst"));
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = vec![0x45, 0];
            p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
            p.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(payload);
            ether(0x0800, &p)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut p = vec![0x60, 0, 0, 0];
            p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            p.extend_from_slice(&[proto, 64]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(payload);
            ether(0x86dd, &p)
        }
        _ => panic!("mixed address families"),
    }
}

fn ports(sport: u16, dport: u16) -> Vec<u8> {
    let mut p = sport.to_be_bytes().to_vec();
    p.extend_from_slice(&dport.to_be_bytes());
    p
}

fn tcp_syn(sport: u16, dport: u16) -> Vec<u8> {
    let mut p = ports(sport, dport);
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    p
}

fn udp(sport: u16, dport: u16) -> Vec<u8> {
    let mut p = ports(sport, dport);
    p.extend_from_slice(&[0, 12, 0, 0, 1, 2, 3, 4]);
    p
}

fn icmp(kind: u8, code: u8) -> Vec<u8> {
    vec![kind, code, 0, 0, 0, 1, 0, 1, 0xaa, 0xbb]
}

#[test]
fn community_ids_match_the_specification_vectors() {
    // (frame, expected originator, Community ID from the spec's baseline)
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            ip(6, "128.232.110.120", "66.35.250.204", &tcp_syn(34855, 80)),
            "128.232.110.120",
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
        ),
        (
            ip(17, "192.168.1.52", "8.8.8.8", &udp(54585, 53)),
            "192.168.1.52",
            "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
        ),
        (
            ip(1, "192.168.0.89", "192.168.0.1", &icmp(8, 0)),
            "192.168.0.89",
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
        ),
        (
            ip(
                6,
                "2001:470:e5bf:dead:4957:2174:e82c:4887",
                "2607:f8b0:400c:c03::1a",
                &tcp_syn(63943, 25),
            ),
            "2001:470:e5bf:dead:4957:2174:e82c:4887",
            "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
        ),
        (
            ip(
                58,
                "fe80::200:86ff:fe05:80da",
                "fe80::260:97ff:fe07:69ea",
                &icmp(135, 0),
            ),
            "fe80::200:86ff:fe05:80da",
            "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
        ),
        (
            ip(46, "10.1.12.1", "10.1.12.2", &[0u8; 16]),
            "10.1.12.1",
            "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
        ),
    ];
    let dir = common::temp_dir("community-id");
    let path = dir.join("vectors.pcap");
    let file = std::fs::File::create(&path).expect("create");
    let mut w = PcapWriter::new(std::io::BufWriter::new(file), LINKTYPE_ETHERNET, 65535)
        .expect("pcap header");
    for (i, (frame, _, _)) in cases.iter().enumerate() {
        w.write(1_700_000_000_000_000_000 + i as i64 * 1_000_000, frame)
            .expect("write");
    }
    w.into_inner().flush().expect("flush");

    let mut cfg = Config::default();
    cfg.decode.checksums = ChecksumMode::Off;
    let (events, _) = common::replay(&cfg, std::slice::from_ref(&path));
    let records = common::conns(&events);
    assert_eq!(records.len(), cases.len());
    for (_, orig, expected) in &cases {
        let orig: IpAddr = orig.parse().expect("address");
        let r = records
            .iter()
            .find(|r| r.orig_h == orig)
            .unwrap_or_else(|| panic!("no record from {orig}: {records:?}"));
        assert_eq!(&r.community_id, expected, "{} from {orig}", r.proto);
    }
}
