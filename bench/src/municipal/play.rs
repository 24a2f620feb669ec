//! The events of each injected attack (the plan is in `attacks`). Attacks
//! are written as the sensor would see them, with no more noise than real
//! tools make: nmap's refused and unanswered probes, Hydra's sessions with
//! the outcome the sensor can infer, a spray of Kerberos pre-auth
//! failures, jittered beacons, base32 names under one domain, one long
//! upload, SMB admin shares and RDP opened one host after the other.

use super::attacks::{Attack, Kind};
use super::emit::Conn;
use super::net::{mac, Host, Role, ADMIN, HEAT, OUI_PC};
use super::rand::Rng;
use super::traffic::{eport, JA_EDGE};
use super::Day;
use std::net::Ipv4Addr;
use vagt_schema::{ConnState, OtClass};

/// A Go-built implant's TLS fingerprint (not a browser's).
const JA_IMPLANT: (&str, &str) = (
    "51c64c77e60f3980eea90869b68c58a8",
    "t13d190900_9dc949149365_97f8aa674fd9",
);

pub fn run(day: &mut Day, rng: &mut Rng, a: &Attack, from: f64, to: f64) {
    let single = a.start >= from && a.start < to;
    let seg = a.seg;
    let dst = a.dst.unwrap_or(Ipv4Addr::UNSPECIFIED);
    match a.kind {
        Kind::PortScan if single => {
            // nmap -sS, top 1,000 ports: closed ports refuse, filtered
            // ones stay silent, a few are open.
            let mut t = a.start;
            for p in 0..1000u16 {
                let port = if p < 10 {
                    [21, 22, 80, 135, 139, 443, 445, 3389, 5985, 8080][usize::from(p)]
                } else {
                    1000 + p * 7
                };
                let st = match port {
                    135 | 139 | 445 | 5985 => ConnState::Rsto,
                    _ if rng.chance(0.15) => ConnState::S0,
                    _ => ConnState::Rej,
                };
                let c = Conn::tcp(t, a.src, eport(rng), dst, port)
                    .state(st)
                    .bytes(0, 0)
                    .dur(0.001);
                day.out.conn(seg, &c);
                t += (a.end - a.start) / 1000.0;
            }
        }
        Kind::AddressScan if single => {
            let step = (a.end - a.start) / a.targets.len().max(1) as f64;
            for (k, &h) in a.targets.iter().enumerate() {
                let alive = day.net.segment_of(h).is_some_and(|s| {
                    day.net.by_segment[s]
                        .iter()
                        .any(|&i| day.net.hosts[i].ip == h)
                });
                let st = if alive && rng.chance(0.3) {
                    ConnState::Rej
                } else {
                    ConnState::S0
                };
                let c = Conn::tcp(a.start + k as f64 * step, a.src, eport(rng), h, 445)
                    .state(st)
                    .dur(if st == ConnState::S0 { 3.0 } else { 0.001 });
                day.out.conn(seg, &c);
            }
        }
        Kind::SlowScan if single => {
            for k in 0..120u16 {
                let c = Conn::tcp(
                    a.start + f64::from(k) * 60.0 + rng.unit() * 10.0,
                    a.src,
                    eport(rng),
                    dst,
                    1 + k * 13,
                )
                .state(ConnState::Rej)
                .dur(0.001);
                day.out.conn(seg, &c);
            }
        }
        Kind::BruteSsh if single => {
            let n = 300;
            for k in 0..n {
                let ts = a.start + (a.end - a.start) * f64::from(k) / f64::from(n);
                let c = Conn::tcp(ts, a.src, eport(rng), dst, 22)
                    .service("ssh")
                    .bytes(2_200, 2_800)
                    .dur(3.0 + rng.unit() * 2.0);
                let uid = day.out.conn(seg, &c);
                // The sensor often cannot tell the outcome; when it can, it
                // counts the attempts of each session (Hydra: up to 4).
                let success = if rng.chance(0.5) { None } else { Some(false) };
                day.out.ssh(
                    seg,
                    &c,
                    uid,
                    "SSH-2.0-libssh_0.9.6",
                    success,
                    rng.range(1, 5),
                );
            }
        }
        Kind::BruteRdp if single => {
            for k in 0..150 {
                let ts = a.start + (a.end - a.start) * f64::from(k) / 150.0;
                let c = Conn::tcp(ts, a.src, eport(rng), dst, 3389)
                    .service("rdp")
                    .bytes(3_500, 4_000)
                    .dur(1.5)
                    .state(ConnState::Rsto);
                let uid = day.out.conn(seg, &c);
                day.out.rdp(seg, &c, uid, "administrator", "encrypted");
            }
        }
        Kind::BruteKerberos if single => {
            // A spray: 250 accounts, one guess each, a few unknown names.
            for k in 0..250 {
                let ts = a.start + (a.end - a.start) * f64::from(k) / 250.0;
                let c = Conn::tcp(ts, a.src, eport(rng), dst, 88)
                    .service("krb_tcp")
                    .bytes(260, 190)
                    .dur(0.01);
                let uid = day.out.conn(seg, &c);
                let err = if rng.chance(0.1) { 6 } else { 24 };
                day.out.kerberos(
                    seg,
                    &c,
                    uid,
                    &format!("u{:05}", rng.range(0, 3000)),
                    Some(err),
                );
            }
        }
        Kind::SlowSpray if single => {
            // Low and slow, as sprays avoid lockouts and thresholds.
            for k in 0..180 {
                let ts = a.start + f64::from(k) * 60.0 + rng.unit() * 20.0;
                let c = Conn::tcp(ts, a.src, eport(rng), dst, 88)
                    .service("krb_tcp")
                    .bytes(260, 190)
                    .dur(0.01);
                let uid = day.out.conn(seg, &c);
                let user = format!("u{:05}", rng.range(0, 3000));
                day.out.kerberos(seg, &c, uid, &user, Some(24));
            }
        }
        Kind::BruteLdap if single => {
            for k in 0..150 {
                let ts = a.start + (a.end - a.start) * f64::from(k) / 150.0;
                let c = Conn::tcp(ts, a.src, eport(rng), dst, 389)
                    .service("ldap")
                    .bytes(120, 80)
                    .dur(0.02);
                let uid = day.out.conn(seg, &c);
                day.out.ldap_bind(seg, &c, uid, "administrator", false, 1);
            }
        }
        Kind::BruteHttp if single => {
            for k in 0..200 {
                let ts = a.start + (a.end - a.start) * f64::from(k) / 200.0;
                let c = Conn::tcp(ts, a.src, eport(rng), dst, 80)
                    .service("http")
                    .bytes(400, 600)
                    .dur(0.1);
                let uid = day.out.conn(seg, &c);
                let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
                day.out.http(
                    seg,
                    &c,
                    uid,
                    "GET",
                    "www.kommune.dk",
                    "/intranet/",
                    ua,
                    401,
                    Some("admin"),
                );
            }
        }
        Kind::BeaconTls => {
            // Every 300 s +-20% while the host is on (it always is), with a
            // DNS lookup when the answer's TTL (an hour) runs out.
            let mut t = a.start;
            let mut next_dns = t;
            while t < a.end.min(to) {
                if t >= from {
                    if t >= next_dns {
                        let id = rng.range(0, 65_536) as u16;
                        let dc = day.net.hosts[day.net.dcs[0]].ip;
                        day.out.dns(
                            seg,
                            t - 0.05,
                            a.src,
                            dc,
                            "cdn.telemetry-sync.com",
                            1,
                            0,
                            vec![dst.to_string()],
                            id,
                        );
                        next_dns = t + 3600.0;
                    }
                    let c = Conn::tcp(t, a.src, eport(rng), dst, 443)
                        .service("ssl")
                        .bytes(600 + rng.range(0, 200), 300 + rng.range(0, 2000))
                        .dur(0.4);
                    let uid = day.out.conn(seg, &c);
                    day.out
                        .ssl(seg, &c, uid, "cdn.telemetry-sync.com", JA_IMPLANT);
                }
                t += 300.0 * (0.8 + 0.4 * rng.unit());
            }
        }
        Kind::BeaconHttp if single => {
            let mut t = a.start;
            while t < a.end {
                let c = Conn::tcp(t, a.src, eport(rng), dst, 80)
                    .service("http")
                    .bytes(350, 200 + rng.range(0, 300))
                    .dur(0.2);
                let uid = day.out.conn(seg, &c);
                let ua = "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko";
                day.out.http(
                    seg,
                    &c,
                    uid,
                    "GET",
                    &dst.to_string(),
                    "/api/v1/status",
                    ua,
                    200,
                    None,
                );
                t += 60.0 * (0.5 + rng.unit());
            }
        }
        Kind::TunnelTxt if single => {
            let dc = day.net.hosts[day.net.dcs[1]].ip;
            let n = 400;
            for k in 0..n {
                let label: String = (0..56)
                    .map(|_| {
                        char::from(b"abcdefghijklmnopqrstuvwxyz234567"[rng.range(0, 32) as usize])
                    })
                    .collect();
                let name = format!("{}.{}.t.sync-cdn-edge.net", &label[..28], &label[28..]);
                let ts = a.start + (a.end - a.start) * f64::from(k) / f64::from(n);
                let id = rng.range(0, 65_536) as u16;
                day.out.dns(
                    seg,
                    ts,
                    a.src,
                    dc,
                    &name,
                    16,
                    0,
                    vec!["TXT 60 bWVzc2FnZQ".into()],
                    id,
                );
            }
        }
        Kind::TunnelNull if single => {
            // A visitor's laptop joins the guest Wi-Fi, then tunnels.
            let host = Host {
                ip: a.src,
                mac: mac(rng, [0x3a, 0x11, 0x7c]),
                seg,
                role: Role::GuestDevice,
                name: "kali".into(),
                always_on: false,
                weight: 1.0,
            };
            let gw = day.net.segments[seg].gateway;
            day.out.dhcp(
                seg,
                a.start,
                &host,
                a.src,
                gw,
                false,
                "dhcpcd-10.0.6:Linux-6.6.9-amd64:x86_64:GenuineIntel",
            );
            day.out
                .arp(seg, a.start + 1.0, a.src, &host.mac, None, false, 1);
            day.out.asset(
                seg,
                a.start + 2.0,
                &host,
                a.src,
                "(randomised MAC)",
                "client",
            );
            let resolver = day.net.resolver;
            for k in 0..200 {
                let label: String = (0..30)
                    .map(|_| {
                        char::from(
                            b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.range(0, 36) as usize],
                        )
                    })
                    .collect();
                let ts = a.start + 300.0 + (a.end - a.start - 300.0) * f64::from(k) / 200.0;
                let id = rng.range(0, 65_536) as u16;
                day.out.dns(
                    seg,
                    ts,
                    a.src,
                    resolver,
                    &format!("0{label}.i.tun-io.org"),
                    10,
                    0,
                    vec!["NULL".into()],
                    id,
                );
            }
        }
        Kind::Exfil { gb } if single => {
            // One long upload, as rclone or a browser upload does it.
            let bytes = gb * 1_000_000_000;
            let c = Conn::tcp(a.start, a.src, eport(rng), dst, 443)
                .service("ssl")
                .bytes(bytes, bytes / 60)
                .dur(a.end - a.start);
            let uid = day.out.conn(seg, &c);
            day.out.ssl(seg, &c, uid, "u.storage-share.net", JA_EDGE);
        }
        Kind::LateralSmb if single => {
            let step = (a.end - a.start) / a.targets.len().max(1) as f64;
            for (k, &h) in a.targets.iter().enumerate() {
                let ts = a.start + k as f64 * step;
                let tseg = day.net.segment_of(h).unwrap_or(ADMIN);
                if rng.chance(0.2) {
                    let c = Conn::tcp(ts, a.src, eport(rng), h, 445)
                        .state(ConnState::S0)
                        .dur(3.0);
                    day.out.conn(tseg, &c);
                    continue;
                }
                let c = Conn::tcp(ts, a.src, eport(rng), h, 445)
                    .service("smb")
                    .bytes(350_000, 40_000)
                    .dur(4.0);
                let uid = day.out.conn(tseg, &c);
                day.out.ntlm(tseg, &c, uid.clone(), "svc-print", true);
                day.out
                    .smb_mapping(tseg, &c, uid, &format!("\\\\{h}\\ADMIN$"));
            }
        }
        Kind::LateralRdp if single => {
            let step = (a.end - a.start) / a.targets.len().max(1) as f64;
            for (k, &h) in a.targets.iter().enumerate() {
                let c = Conn::tcp(a.start + k as f64 * step, a.src, eport(rng), h, 3389)
                    .service("rdp")
                    .bytes(150_000, 900_000)
                    .dur(40.0);
                let uid = day.out.conn(super::net::SERVERS, &c);
                day.out
                    .rdp(super::net::SERVERS, &c, uid, "svc-print", "encrypted");
            }
        }
        Kind::OtWrite if single => {
            let host = Host {
                ip: a.src,
                mac: mac(rng, OUI_PC[1]),
                seg: HEAT,
                role: Role::EngStation,
                name: "DESKTOP-7KQ2M1".into(),
                always_on: false,
                weight: 1.0,
            };
            let gw = day.net.segments[HEAT].gateway;
            day.out
                .dhcp(seg, a.start, &host, a.src, gw, false, "MSFT 5.0");
            day.out
                .arp(seg, a.start + 1.0, a.src, &host.mac, None, false, 1);
            day.out.asset(
                seg,
                a.start + 2.0,
                &host,
                a.src,
                "Hewlett Packard",
                "client",
            );
            for (k, &plc) in a.targets.iter().enumerate() {
                let ts = a.start + 120.0 + k as f64 * 150.0;
                let c = Conn::tcp(ts, a.src, eport(rng), plc, 502)
                    .service("modbus")
                    .bytes(1_200, 1_600)
                    .dur(60.0);
                let uid = day.out.conn(seg, &c);
                day.out.ot_summary(
                    seg,
                    &c,
                    uid.clone(),
                    "modbus",
                    "READ_HOLDING_REGISTERS",
                    Some(OtClass::Read),
                    true,
                    ts,
                    ts + 20.0,
                    12,
                );
                day.out.modbus(
                    seg,
                    &c,
                    uid,
                    ts + 30.0,
                    "WRITE_MULTIPLE_REGISTERS",
                    OtClass::Write,
                );
            }
        }
        Kind::NewDevice if single => {
            let host = Host {
                ip: a.src,
                mac: mac(rng, [0xdc, 0xa6, 0x32]),
                seg: ADMIN,
                role: Role::Desktop,
                name: "raspberrypi".into(),
                always_on: true,
                weight: 1.0,
            };
            let dc = day.net.hosts[day.net.dcs[0]].ip;
            day.out.dhcp(
                seg,
                a.start,
                &host,
                a.src,
                dc,
                false,
                "dhcpcd-9.4.1:Linux-6.6.20+rpt-rpi-v8:aarch64:BCM2835",
            );
            day.out
                .arp(seg, a.start + 0.5, a.src, &host.mac, None, false, 1);
            day.out.asset(
                seg,
                a.start + 1.0,
                &host,
                a.src,
                "Raspberry Pi Trading Ltd",
                "client",
            );
            // It calls home over SSH now and then.
            let mut t = a.start + 60.0;
            while t < a.end {
                let c = Conn::tcp(t, a.src, eport(rng), Ipv4Addr::new(203, 0, 113, 9), 443)
                    .service("ssl")
                    .bytes(5_000, 4_000)
                    .dur(30.0);
                let uid = day.out.conn(seg, &c);
                day.out
                    .ssl(seg, &c, uid, "relay.rpi-connect.example", JA_IMPLANT);
                t += 600.0 + rng.unit() * 300.0;
            }
        }
        Kind::ArpSpoof if single => {
            // The laptop claims the gateway's address; the gateway's own
            // announcements take it back now and then, and it claims it
            // again (bettercap's arp.spoof).
            let gw_mac = day.net.segments[seg].gateway_mac.clone();
            let attacker_mac = day
                .net
                .hosts
                .iter()
                .find(|h| h.ip == dst)
                .map(|h| h.mac.clone())
                .unwrap_or_else(|| "02:00:00:00:00:01".into());
            let mut t = a.start;
            // The gateway announced itself just before (it answers ARP
            // all day); then each takes the address back in turn.
            let mut gw_said = a.start - 20.0 - rng.unit() * 40.0;
            while t < a.end {
                day.out.arp(
                    seg,
                    t,
                    a.src,
                    &attacker_mac,
                    Some((&gw_mac, t - gw_said)),
                    true,
                    2,
                );
                gw_said = t + 90.0 + rng.unit() * 60.0;
                day.out.arp(
                    seg,
                    gw_said,
                    a.src,
                    &gw_mac,
                    Some((&attacker_mac, gw_said - t)),
                    true,
                    1,
                );
                t += 240.0;
            }
        }
        _ => {}
    }
}
