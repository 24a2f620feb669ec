//! The servers' and OT's own traffic: domain controllers replicating and
//! forwarding DNS, the DMZ's visitors from the internet (the public web
//! site, partners' SFTP logins, mail, VPN), administrators' RDP through the
//! jump host and IT support's remote help to clients (which looks like
//! lateral movement and is not), and the OT segments: a SCADA master
//! polling every PLC every few seconds over Modbus/TCP or DNP3 and the
//! building-management server reading BACnet controllers, summarised per
//! 5 minutes as the sensor does, with routine setpoint writes and an
//! engineering workstation that changes a setpoint now and then.

use super::clock::Curve;
use super::emit::Conn;
use super::net::{Role, ADMIN, DMZ, HEAT, JOBCENTER, SERVERS, WATER};
use super::traffic::{eport, times, JA_PHONE};
use super::Day;
use std::net::Ipv4Addr;
use vagt_schema::OtClass;

const S_SERVERS: u64 = 10;
const S_OT: u64 = 11;

/// A public client address drawn for an inbound visitor.
fn visitor(rng: &mut super::rand::Rng) -> Ipv4Addr {
    Ipv4Addr::new(
        *rng.pick(&[2u8, 5, 31, 37, 46, 77, 80, 87, 90, 93, 94, 188]),
        rng.range(0, 256) as u8,
        rng.range(0, 256) as u8,
        rng.range(1, 255) as u8,
    )
}

pub fn servers(day: &mut Day) {
    let net = day.net;
    let mut rng = day.rng(S_SERVERS, 0);
    let dc0 = net.hosts[net.dcs[0]].ip;
    let dc1 = net.hosts[net.dcs[1]].ip;
    // Replication between the DCs, every 15 minutes, and DNS forwarding
    // to the resolver (cache misses, aggregated to a few lookups a minute).
    for q in 0..96 {
        let ts = day.t(f64::from(q) * 0.25 + rng.unit() * 0.01);
        let c = Conn::tcp(ts, dc0, eport(&mut rng), dc1, 389)
            .service("ldap")
            .bytes(20_000, 40_000)
            .dur(1.5);
        day.out.conn(SERVERS, &c);
    }
    for hr in times(&mut rng, Curve::Office, day.weekday, 40.0, 0.0, 24.0) {
        let site = &net.sites[rng.range(0, net.sites.len() as u64) as usize];
        let dc = if rng.chance(0.5) { dc0 } else { dc1 };
        let id = rng.range(0, 65_536) as u16;
        day.out.dns(
            SERVERS,
            day.t(hr),
            dc,
            net.resolver,
            &site.name,
            1,
            0,
            vec![site.ip.to_string()],
            id,
        );
    }
    // The public web site: citizens from all over, daytime-heavy.
    let web = net.hosts[net.web].ip;
    for hr in times(&mut rng, Curve::Guest, day.weekday, 60.0, 0.0, 24.0) {
        let c = Conn::tcp(day.t(hr), visitor(&mut rng), eport(&mut rng), web, 443)
            .service("ssl")
            .bytes(
                1_500 + rng.exp(3_000.0) as u64,
                20_000 + rng.exp(300_000.0) as u64,
            )
            .dur(rng.exp(20.0));
        let uid = day.out.conn(DMZ, &c);
        day.out.ssl(DMZ, &c, uid, "www.kommune.dk", JA_PHONE);
    }
    // Partners fetch files by SFTP (key logins that succeed).
    let sftp = net.hosts[net.sftp].ip;
    let partners = [
        Ipv4Addr::new(80, 62, 116, 9),
        Ipv4Addr::new(93, 160, 12, 40),
        Ipv4Addr::new(212, 130, 55, 3),
    ];
    for hr in times(&mut rng, Curve::Office, day.weekday, 1.5, 0.0, 24.0) {
        let p = *rng.pick(&partners);
        let c = Conn::tcp(day.t(hr), p, eport(&mut rng), sftp, 22)
            .service("ssh")
            .bytes(40_000, 3_000_000)
            .dur(20.0);
        let uid = day.out.conn(DMZ, &c);
        day.out
            .ssh(DMZ, &c, uid, "SSH-2.0-OpenSSH_8.9p1", Some(true), 1);
    }
    // Mail to the MX and remote workers' VPN tunnels.
    let mx = net.hosts[net.mail].ip;
    for hr in times(&mut rng, Curve::Office, day.weekday, 12.0, 0.0, 24.0) {
        let c = Conn::tcp(day.t(hr), visitor(&mut rng), eport(&mut rng), mx, 25)
            .service("smtp")
            .bytes(30_000, 1_000)
            .dur(2.0);
        day.out.conn(DMZ, &c);
    }
    let vpn = net.hosts[net.vpn].ip;
    for hr in times(&mut rng, Curve::Office, day.weekday, 6.0, 0.0, 24.0) {
        let c = Conn::udp(day.t(hr), visitor(&mut rng), 4500, vpn, 4500)
            .bytes(rng.exp(50_000_000.0) as u64, rng.exp(200_000_000.0) as u64)
            .dur(rng.exp(7200.0));
        day.out.conn(DMZ, &c);
    }
    // Administrators on the jump host, then RDP to a few servers each.
    let jump = net.hosts[net.jump].ip;
    let admins: Vec<usize> = net.by_segment[ADMIN]
        .iter()
        .copied()
        .filter(|&i| net.hosts[i].role == Role::Desktop)
        .take(4)
        .collect();
    let server_ips: Vec<Ipv4Addr> = net.by_segment[SERVERS]
        .iter()
        .map(|&i| net.hosts[i].ip)
        .collect();
    for &a in &admins {
        if day.weekday >= 5 || !rng.chance(0.8) {
            continue;
        }
        let start = 8.5 + rng.unit() * 5.0;
        let c = Conn::tcp(day.t(start), net.hosts[a].ip, eport(&mut rng), jump, 3389)
            .service("rdp")
            .bytes(400_000, 8_000_000)
            .dur(3_600.0);
        let uid = day.out.conn(ADMIN, &c);
        day.out.rdp(ADMIN, &c, uid, "it-admin", "encrypted");
        for k in 0..rng.range(2, 7) {
            let s = *rng.pick(&server_ips);
            let c = Conn::tcp(
                day.t(start + 0.1 + k as f64 * 0.1),
                jump,
                eport(&mut rng),
                s,
                3389,
            )
            .service("rdp")
            .bytes(200_000, 3_000_000)
            .dur(600.0);
            let uid = day.out.conn(SERVERS, &c);
            day.out.rdp(SERVERS, &c, uid, "it-admin", "encrypted");
        }
    }
    // IT support helps users: the support desk's PC opens the admin share
    // and remote assistance on 5-15 clients a working day.
    if day.weekday < 5 {
        if let Some(&support) = admins.first() {
            let sup = net.hosts[support].ip;
            let clients: Vec<usize> = [ADMIN, JOBCENTER]
                .iter()
                .flat_map(|&s| net.by_segment[s].iter().copied())
                .collect();
            for hr in times(&mut rng, Curve::Office, day.weekday, 1.5, 8.0, 16.0) {
                let target = net.hosts[*rng.pick(&clients)].ip;
                let ts = day.t(hr);
                let c = Conn::tcp(ts, sup, eport(&mut rng), target, 445)
                    .service("smb")
                    .bytes(60_000, 200_000)
                    .dur(20.0);
                let uid = day.out.conn(ADMIN, &c);
                day.out.ntlm(ADMIN, &c, uid.clone(), "it-support", true);
                day.out
                    .smb_mapping(ADMIN, &c, uid, &format!("\\\\{target}\\C$"));
                let c = Conn::tcp(ts + 30.0, sup, eport(&mut rng), target, 3389)
                    .service("rdp")
                    .bytes(300_000, 5_000_000)
                    .dur(900.0);
                let uid = day.out.conn(ADMIN, &c);
                day.out.rdp(ADMIN, &c, uid, "it-support", "encrypted");
            }
        }
    }
}

/// The OT segments' polling, summarised per 5 minutes.
pub fn ot(day: &mut Day) {
    let net = day.net;
    for seg in [WATER, HEAT] {
        let mut rng = day.rng(S_OT, seg as u64);
        let Some(&master) = net.by_segment[seg]
            .iter()
            .find(|&&i| net.hosts[i].role == Role::Scada)
        else {
            continue;
        };
        let m = net.hosts[master].ip;
        let plcs: Vec<usize> = net.with_role(seg, Role::Plc);
        for (k, &p) in plcs.iter().enumerate() {
            let plc = net.hosts[p].ip;
            // Water: Modbus and DNP3 outstations; heating: Modbus and BACnet.
            let (proto, port, read) = match (seg, k % 2) {
                (WATER, 1) => ("dnp3", 20_000, "READ"),
                (HEAT, 1) => ("bacnet", 47_808, "readProperty"),
                _ => ("modbus", 502, "READ_HOLDING_REGISTERS"),
            };
            let poll = 2.0 + (k % 4) as f64; // seconds between polls
                                             // The master reconnects every hour; one conn record each.
            for hour in 0..24 {
                let t0 = day.t(f64::from(hour)) + (k as f64) * 0.37;
                let mut c = if proto == "bacnet" {
                    Conn::udp(t0, m, 47_808, plc, port).service("bacnet")
                } else {
                    Conn::tcp(t0, m, eport(&mut rng), plc, port).service(proto)
                };
                let per_hour = (3600.0 / poll) as u64;
                c = c.bytes(per_hour * 12, per_hour * 25).dur(3_590.0);
                let uid = day.out.conn(seg, &c);
                for q in 0..12 {
                    let first = t0 + f64::from(q) * 300.0;
                    let n = (300.0 / poll) as u64;
                    day.out.ot_summary(
                        seg,
                        &c,
                        uid.clone(),
                        proto,
                        read,
                        Some(OtClass::Read),
                        true,
                        first,
                        first + 299.0,
                        n,
                    );
                    day.out.ot_summary(
                        seg,
                        &c,
                        uid.clone(),
                        proto,
                        "RESPONSE",
                        None,
                        false,
                        first + 0.01,
                        first + 299.01,
                        n,
                    );
                }
                // Routine setpoint writes from the master to a third of
                // the Modbus controllers (learnt in the first week).
                if proto == "modbus" && k % 3 == 0 && rng.chance(0.08) {
                    let ts = t0 + rng.unit() * 3_500.0;
                    day.out
                        .modbus(seg, &c, uid, ts, "WRITE_SINGLE_REGISTER", OtClass::Write);
                } else if proto == "dnp3" && rng.chance(0.04) {
                    // Pumps started and stopped by the master's schedule.
                    let ts = t0 + rng.unit() * 3_500.0;
                    day.out.dnp3(seg, &c, uid, ts, "OPERATE", OtClass::Control);
                }
            }
        }
        // The engineering workstation: reads now and then on working days,
        // and changes setpoints on a few controllers on some visits, not
        // always the same ones (a controller it never wrote to before is
        // a first write for the detector, as it would be in life).
        let Some(&eng) = net.by_segment[seg]
            .iter()
            .find(|&&i| net.hosts[i].role == Role::EngStation)
        else {
            continue;
        };
        if day.weekday >= 5 || !rng.chance(0.4) || plcs.is_empty() {
            continue;
        }
        let e = net.hosts[eng].ip;
        let visit = 9.0 + rng.unit() * 5.0;
        for j in 0..3 {
            // Mostly the first few Modbus controllers; one in ten days,
            // one further down the list.
            let idx = if j == 2 && rng.chance(0.3) {
                rng.range(0, plcs.len() as u64) as usize
            } else {
                (2 * j) % plcs.len()
            };
            let plc = net.hosts[plcs[idx]].ip;
            if idx % 2 == 1 {
                continue;
            }
            let ts = day.t(visit + j as f64 * 0.2);
            let c = Conn::tcp(ts, e, eport(&mut rng), plc, 502)
                .service("modbus")
                .bytes(2_000, 4_000)
                .dur(300.0);
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
                ts + 290.0,
                40,
            );
            if rng.chance(0.5) {
                day.out.modbus(
                    seg,
                    &c,
                    uid,
                    ts + 120.0,
                    "WRITE_SINGLE_REGISTER",
                    OtClass::Write,
                );
            }
        }
    }
}
