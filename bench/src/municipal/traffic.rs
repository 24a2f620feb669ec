//! The clients' everyday traffic: town-hall and job-centre desktops
//! (domain logon with Kerberos, LDAP and SMB to the domain controllers,
//! file shares, printing, Microsoft 365, the public sector's sites and the
//! long tail of the web), care tablets (the care system, around the clock
//! in shifts), school Chromebooks (Google, on school days), library PCs
//! (opening hours) and visitors' phones on the guest Wi-Fi (a new,
//! randomised MAC each visit). Also the sensor's first records of each
//! device: its asset record and ARP binding.

use super::clock::Curve;
use super::emit::Conn;
use super::net::{Host, Role, Site, SiteKind, GUEST};
use super::rand::{normal, Rng};
use super::Day;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use vagt_schema::ConnState;

/// Seconds a guest Wi-Fi lease lasts.
const GUEST_LEASE: f64 = 3600.0;
/// TLS fingerprints (JA3, JA4) of the clients' browsers and services.
pub const JA_EDGE: (&str, &str) = (
    "773906b0efdefa24a7f2b8eb6985bf37",
    "t13d1516h2_8daaf6152771_02713d6af862",
);
pub const JA_CHROMEOS: (&str, &str) = (
    "cd08e31494f9531f560d64c695473da9",
    "t13d1517h2_8daaf6152771_b0da82dd1658",
);
pub const JA_PHONE: (&str, &str) = (
    "bc6c386f480ee97b9d9e52d472b772d8",
    "t13d2014h2_a09f3c656075_14788d8d241b",
);
pub const JA_SCHANNEL: (&str, &str) = (
    "28a2c9bd18a11de089ef85a160da29e4",
    "t12d190800_d83cc789557e_7af1ed941c26",
);

/// Purposes of the random streams (see `Day::rng`).
pub const S_HOST: u64 = 1;
pub const S_GUEST: u64 = 2;

/// An ephemeral port.
pub fn eport(rng: &mut Rng) -> u16 {
    rng.range(49_152, 65_535) as u16
}

/// Local hours at which something happens, at `per_hour` times the curve's
/// level, between `from` and `to` (thinning a Poisson process).
pub fn times(
    rng: &mut Rng,
    curve: Curve,
    weekday: u32,
    per_hour: f64,
    from: f64,
    to: f64,
) -> Vec<f64> {
    let mut out = Vec::new();
    if per_hour <= 0.0 {
        return out;
    }
    let mut h = from;
    loop {
        h += rng.exp(1.0 / per_hour);
        if h >= to {
            return out;
        }
        if rng.chance(curve.level(h % 24.0, weekday)) {
            out.push(h);
        }
    }
}

/// A DNS lookup through the domain controller (or `resolver`), answered.
pub fn lookup(
    day: &mut Day,
    rng: &mut Rng,
    seg: usize,
    client: Ipv4Addr,
    resolver: Ipv4Addr,
    ts: f64,
    site: &Site,
) {
    let id = rng.range(0, 65_536) as u16;
    day.out.dns(
        seg,
        ts,
        client,
        resolver,
        &site.name,
        1,
        0,
        vec![site.ip.to_string()],
        id,
    );
}

/// One browsing session to a site: maybe a DNS lookup, then one TLS
/// connection for the whole session (the objects of a page, and the pages
/// after it, ride on one HTTP/2 connection).
#[allow(clippy::too_many_arguments)]
pub fn browse(
    day: &mut Day,
    rng: &mut Rng,
    seg: usize,
    client: Ipv4Addr,
    resolver: Ipv4Addr,
    ts: f64,
    site: &Site,
    ja: (&str, &str),
) {
    if rng.chance(0.5) {
        lookup(day, rng, seg, client, resolver, ts - 0.02, site);
    }
    let dur = 2.0 + rng.exp(90.0);
    let rb = 2_000 + rng.exp(350_000.0) as u64;
    let ob = 900 + rng.exp(15_000.0) as u64;
    let c = Conn::tcp(ts, client, eport(rng), site.ip, 443)
        .service("ssl")
        .bytes(ob, rb)
        .dur(dur);
    let uid = day.out.conn(seg, &c);
    day.out.ssl(seg, &c, uid, &site.name, ja);
}

/// A site for a visit: Zipf-like over the long tail, so a few sites are
/// everyone's and most are rare.
pub fn pick_site<'a>(rng: &mut Rng, sites: &'a [&'a Site]) -> &'a Site {
    let n = sites.len() as f64;
    let u = rng.unit();
    let i = ((n + 1.0).powf(u) - 1.0) as usize;
    sites[i.min(sites.len() - 1)]
}

/// The sensor's first records of each fixed device: an asset record and
/// its ARP binding, on the day it is first active (day 0 for all but a
/// few). Gateways are announced first.
pub fn announce(day: &mut Day, announced: &mut [bool]) {
    let t0 = day.t(0.0) + 1.0;
    if day.d == 0 {
        for (s, seg) in day.net.segments.iter().enumerate() {
            day.out
                .arp(s, t0, seg.gateway, &seg.gateway_mac, None, false, 1);
        }
    }
    for (i, h) in day.net.hosts.iter().enumerate() {
        if announced[i] || h.role == Role::GuestDevice {
            continue;
        }
        announced[i] = true;
        let ts = t0 + 5.0 + (i % 3000) as f64;
        let (vendor, role) = describe(h);
        day.out.asset(h.seg, ts, h, h.ip, vendor, role);
        day.out.arp(h.seg, ts, h.ip, &h.mac, None, false, 1);
    }
}

/// Vendor and inventory role the asset records give a host.
pub fn describe(h: &Host) -> (&'static str, &'static str) {
    match h.role {
        Role::Chromebook => ("Acer Inc.", "client"),
        Role::Printer => ("Hewlett Packard", "printer"),
        Role::Plc => ("Siemens AG", "ot_controller"),
        Role::Scada => ("Dell Inc.", "server"),
        Role::EngStation => ("Dell Inc.", "engineering_workstation"),
        Role::Server(super::net::Srv::Dc) => ("VMware, Inc.", "domain_controller"),
        Role::Server(_) => ("VMware, Inc.", "server"),
        Role::GuestDevice => ("Apple, Inc.", "phone"),
        _ => ("Dell Inc.", "client"),
    }
}

/// Every client's day.
pub fn clients(day: &mut Day, guest_arp: &mut HashMap<Ipv4Addr, String>) {
    let net = day.net;
    let web: Vec<&Site> = net.sites_of(SiteKind::Web).collect();
    let public: Vec<&Site> = net.sites_of(SiteKind::Public).collect();
    let ms: Vec<&Site> = net.sites_of(SiteKind::Microsoft).collect();
    let google: Vec<&Site> = net.sites_of(SiteKind::Google).collect();
    let sites = Sites {
        web,
        public,
        ms,
        google,
    };
    for (i, h) in net.hosts.iter().enumerate() {
        let mut rng = day.rng(S_HOST, i as u64);
        match h.role {
            Role::Desktop | Role::CareTablet | Role::TeacherLaptop | Role::LibraryPc => {
                windows_client(day, &mut rng, h, &sites)
            }
            Role::Chromebook => chromebook(day, &mut rng, h, &sites),
            Role::Printer => {
                let ts = day.t(rng.range(0, 86_000) as f64 / 3600.0);
                day.out.dhcp(
                    h.seg,
                    ts,
                    h,
                    h.ip,
                    net.hosts[net.dcs[0]].ip,
                    true,
                    "HP LaserJet",
                );
            }
            _ => {}
        }
    }
    guests(day, &sites, guest_arp);
}

pub struct Sites<'a> {
    pub web: Vec<&'a Site>,
    pub public: Vec<&'a Site>,
    pub ms: Vec<&'a Site>,
    pub google: Vec<&'a Site>,
}

/// When a client is switched on today, in local hours (`None`: not today).
fn presence(day: &Day, rng: &mut Rng, h: &Host) -> Option<(f64, f64)> {
    let curve = day.net.segments[h.seg].curve;
    let weekend = day.weekday >= 5;
    let (on, off) = match curve {
        Curve::Care => {
            // Shift tablets: most are used every day by someone.
            if !rng.chance(0.85) {
                return None;
            }
            (normal(rng, 6.8, 0.4), normal(rng, 22.5, 0.8))
        }
        Curve::Library => {
            if day.weekday == 6 || (day.weekday == 5 && rng.chance(0.4)) {
                return None;
            }
            (9.8, if day.weekday == 5 { 14.1 } else { 19.1 })
        }
        Curve::School => {
            if weekend || !rng.chance(0.9) {
                return None;
            }
            (normal(rng, 7.9, 0.3), normal(rng, 15.0, 0.7))
        }
        _ => {
            if weekend {
                // A few come in at the weekend.
                if !rng.chance(0.03) {
                    return None;
                }
                (normal(rng, 10.0, 1.0), normal(rng, 13.0, 1.0))
            } else {
                // Holidays, illness, days off, meetings elsewhere.
                if !rng.chance(0.88) {
                    return None;
                }
                (normal(rng, 8.0, 0.6), normal(rng, 15.8, 0.8))
            }
        }
    };
    Some((on.clamp(0.5, 12.0), off.clamp(on + 0.5, 23.9)))
}

/// A Windows client: boot and logon, the working day, and (left on) the
/// night's update and time beacons.
fn windows_client(day: &mut Day, rng: &mut Rng, h: &Host, sites: &Sites) {
    let net = day.net;
    let seg = h.seg;
    let curve = net.segments[seg].curve;
    let dc = net.hosts[net.dcs[rng.range(0, 2) as usize]].ip;
    let pres = presence(day, rng, h);
    if let Some((on, off)) = pres {
        let ts = day.t(on);
        day.out
            .dhcp(seg, ts, h, h.ip, net.hosts[net.dcs[0]].ip, true, "MSFT 5.0");
        logon(day, rng, h, dc, ts + 20.0);
        // The working day: browsing, mail, the care system, files, print.
        let rate = match h.role {
            Role::CareTablet => 3.0,
            Role::LibraryPc => 6.0,
            _ => 7.0,
        } * h.weight;
        for hr in times(rng, curve, day.weekday, rate, on, off) {
            let ts = day.t(hr);
            let r = rng.unit();
            let site = if r < 0.35 {
                pick_site(rng, &sites.ms)
            } else if r < 0.5 {
                pick_site(rng, &sites.public)
            } else {
                pick_site(rng, &sites.web)
            };
            browse(day, rng, seg, h.ip, dc, ts, site, JA_EDGE);
        }
        if h.role == Role::CareTablet {
            let app = net.hosts[net.care_app].ip;
            for hr in times(rng, curve, day.weekday, 5.0 * h.weight, on, off) {
                let c = Conn::tcp(day.t(hr), h.ip, eport(rng), app, 443)
                    .service("ssl")
                    .bytes(
                        2_000 + rng.exp(20_000.0) as u64,
                        10_000 + rng.exp(150_000.0) as u64,
                    )
                    .dur(5.0 + rng.exp(120.0));
                let uid = day.out.conn(seg, &c);
                day.out.ssl(seg, &c, uid, "omsorg01.kommune.local", JA_EDGE);
            }
        }
        if h.role != Role::LibraryPc {
            // File shares through the day.
            let fs = net.hosts[net.files[(h.ip.octets()[3] % 2) as usize]].ip;
            for hr in times(rng, curve, day.weekday, 0.6 * h.weight, on, off) {
                let c = Conn::tcp(day.t(hr), h.ip, eport(rng), fs, 445)
                    .service("smb")
                    .bytes(rng.exp(400_000.0) as u64, rng.exp(2_000_000.0) as u64)
                    .dur(rng.exp(300.0));
                day.out.conn(seg, &c);
            }
            // Printing.
            let ps = net.hosts[net.print].ip;
            for hr in times(rng, curve, day.weekday, 0.25, on, off) {
                let c = Conn::tcp(day.t(hr), h.ip, eport(rng), ps, 445)
                    .service("smb")
                    .bytes(50_000 + rng.exp(2_000_000.0) as u64, 3_000)
                    .dur(3.0);
                day.out.conn(seg, &c);
            }
        }
    }
    // Update, telemetry and time beacons, whenever the machine is on.
    let (from, to) = if h.always_on {
        (0.0, 24.0)
    } else if let Some(p) = pres {
        p
    } else {
        return;
    };
    beacons(day, rng, h, dc, from, to);
}

/// Kerberos and LDAP to a domain controller, the logon scripts and home
/// drive over SMB; now and then a mistyped password or two first.
fn logon(day: &mut Day, rng: &mut Rng, h: &Host, dc: Ipv4Addr, ts: f64) {
    let seg = h.seg;
    let user = format!(
        "u{:05}",
        (u32::from(h.ip.octets()[2]) << 8) | u32::from(h.ip.octets()[3])
    );
    let typos = if rng.chance(0.05) { rng.range(1, 4) } else { 0 };
    let mut t = ts;
    for _ in 0..typos {
        let c = Conn::tcp(t, h.ip, eport(rng), dc, 88)
            .service("krb_tcp")
            .bytes(250, 180)
            .dur(0.01);
        let uid = day.out.conn(seg, &c);
        day.out.kerberos(seg, &c, uid, &user, Some(24));
        t += 4.0 + rng.exp(6.0);
    }
    for _ in 0..2 {
        let c = Conn::tcp(t, h.ip, eport(rng), dc, 88)
            .service("krb_tcp")
            .bytes(1_600, 1_500)
            .dur(0.02);
        let uid = day.out.conn(seg, &c);
        day.out.kerberos(seg, &c, uid, &user, None);
        t += 0.3;
    }
    let c = Conn::tcp(t, h.ip, eport(rng), dc, 389)
        .service("ldap")
        .bytes(3_000, 12_000)
        .dur(0.4);
    day.out.conn(seg, &c);
    let c = Conn::tcp(t + 1.0, h.ip, eport(rng), dc, 445)
        .service("smb")
        .bytes(8_000, 90_000)
        .dur(2.0);
    let uid = day.out.conn(seg, &c);
    day.out
        .smb_mapping(seg, &c, uid, "\\\\kommune.local\\SYSVOL");
}

/// Windows' scheduled chatter: telemetry hourly, Defender every two hours,
/// time from the DC hourly, and the daily update check with WSUS; each
/// on its own timer with jitter, as real ones run.
fn beacons(day: &mut Day, rng: &mut Rng, h: &Host, dc: Ipv4Addr, from: f64, to: f64) {
    let net = day.net;
    let seg = h.seg;
    let telemetry = net.site("settings-win.data.microsoft.com");
    let defender = net.site("wdcp.microsoft.com");
    let mut t = from + rng.unit();
    while t < to {
        if let Some(s) = telemetry {
            let c = Conn::tcp(day.t(t), h.ip, eport(rng), s.ip, 443)
                .service("ssl")
                .bytes(4_000, 6_000)
                .dur(0.8);
            let uid = day.out.conn(seg, &c);
            day.out.ssl(seg, &c, uid, &s.name, JA_SCHANNEL);
        }
        let n = Conn::udp(day.t(t + 0.1), h.ip, 123, dc, 123).service("ntp");
        day.out.conn(seg, &n);
        if rng.chance(0.5) {
            if let Some(s) = defender {
                let c = Conn::tcp(day.t(t + 0.3), h.ip, eport(rng), s.ip, 443)
                    .service("ssl")
                    .bytes(3_000, 2_500)
                    .dur(0.5);
                let uid = day.out.conn(seg, &c);
                day.out.ssl(seg, &c, uid, &s.name, JA_SCHANNEL);
            }
        }
        t += 1.0 + (rng.unit() - 0.5) * 0.2;
    }
    // The daily WSUS scan (plain HTTP on 8530).
    let wsus = net.hosts[net.wsus].ip;
    let c = Conn::tcp(
        day.t(from + rng.unit() * (to - from)),
        h.ip,
        eport(rng),
        wsus,
        8530,
    )
    .service("http")
    .bytes(20_000, 60_000)
    .dur(3.0);
    let uid = day.out.conn(seg, &c);
    day.out.http(
        seg,
        &c,
        uid,
        "POST",
        "wsus01.kommune.local:8530",
        "/ClientWebService/client.asmx",
        "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.71",
        200,
        None,
    );
    // Half-lease DHCP renewal of machines left on.
    if h.always_on && to - from > 20.0 {
        let ts = day.t(from + 12.0 + rng.unit());
        day.out
            .dhcp(seg, ts, h, h.ip, net.hosts[net.dcs[0]].ip, true, "MSFT 5.0");
    }
}

/// A Chromebook's school day: Google all day, the web a little.
fn chromebook(day: &mut Day, rng: &mut Rng, h: &Host, sites: &Sites) {
    let Some((on, off)) = presence(day, rng, h) else {
        return;
    };
    let net = day.net;
    let dc = net.hosts[net.dcs[0]].ip;
    day.out.dhcp(
        h.seg,
        day.t(on),
        h,
        h.ip,
        dc,
        true,
        "dhcpcd-9.4.1:Linux-5.15:x86_64:GenuineIntel",
    );
    for hr in times(rng, Curve::School, day.weekday, 8.0 * h.weight, on, off) {
        let site = if rng.chance(0.75) {
            pick_site(rng, &sites.google)
        } else {
            pick_site(rng, &sites.web)
        };
        browse(day, rng, h.seg, h.ip, dc, day.t(hr), site, JA_CHROMEOS);
    }
    if let Some(s) = net.site("update.googleapis.com") {
        let mut t = on + rng.unit() * 2.0;
        while t < off {
            let c = Conn::tcp(day.t(t), h.ip, eport(rng), s.ip, 443)
                .service("ssl")
                .bytes(2_000, 3_000)
                .dur(0.5);
            let uid = day.out.conn(h.seg, &c);
            day.out.ssl(h.seg, &c, uid, &s.name, JA_CHROMEOS);
            t += 5.0 + rng.unit() * 0.5;
        }
    }
}

/// Visitors on the guest Wi-Fi: each visit is a new device to the sensor
/// (phones randomise their MAC per network and day), so each gets a full
/// DHCP exchange, an asset record and an ARP binding, often for an address
/// another visitor's MAC held before.
fn guests(day: &mut Day, sites: &Sites, guest_arp: &mut HashMap<Ipv4Addr, String>) {
    let net = day.net;
    let pool = net.by_segment[GUEST].len().max(1);
    let visits = if day.weekday < 5 { pool } else { pool / 4 };
    let resolver = net.resolver;
    let gw = net.segments[GUEST].gateway;
    for v in 0..visits {
        let mut rng = day.rng(S_GUEST, v as u64);
        let start = 7.5 + rng.unit() * 12.0;
        if !rng.chance(Curve::Guest.level(start, day.weekday).max(0.05)) {
            continue;
        }
        let stay = 0.2 + rng.exp(1.5);
        let ip = Ipv4Addr::new(
            10,
            net.segments[GUEST].net,
            100 + (v / 250) as u8 % 100,
            10 + (v % 240) as u8,
        );
        // Randomised MACs are locally administered (second bit set).
        let oui = [
            0x02 | (rng.range(0, 64) as u8) << 2,
            rng.range(0, 256) as u8,
            rng.range(0, 256) as u8,
        ];
        let mac = super::net::mac(&mut rng, oui);
        let host = Host {
            ip,
            mac: mac.clone(),
            seg: GUEST,
            role: Role::GuestDevice,
            name: if rng.chance(0.5) {
                format!("iPhone-{}", rng.range(1, 99))
            } else {
                "android-phone".to_string()
            },
            always_on: false,
            weight: 1.0,
        };
        let ts = day.t(start);
        day.out
            .dhcp(GUEST, ts, &host, ip, gw, false, "android-dhcp-14");
        let previous = guest_arp.insert(ip, mac.clone());
        day.out.arp(
            GUEST,
            ts + 0.5,
            ip,
            &mac,
            // A guest's address is handed on once its lease ran out
            // (an hour) after the phone left.
            previous
                .as_deref()
                .filter(|p| *p != mac)
                .map(|p| (p, GUEST_LEASE)),
            false,
            1,
        );
        day.out
            .asset(GUEST, ts + 1.0, &host, ip, "(randomised MAC)", "phone");
        for hr in times(
            &mut rng,
            Curve::Flat,
            day.weekday,
            5.0,
            start,
            (start + stay).min(23.9),
        ) {
            let site = if rng.chance(0.4) {
                pick_site(&mut rng, &sites.google)
            } else {
                pick_site(&mut rng, &sites.web)
            };
            browse(
                day,
                &mut rng,
                GUEST,
                ip,
                resolver,
                day.t(hr),
                site,
                JA_PHONE,
            );
        }
        // Phones try a few things that are not there (captive-portal
        // checks, a printer they remember): the odd failed connection.
        if rng.chance(0.2) {
            let c = Conn::tcp(
                ts + 3.0,
                ip,
                eport(&mut rng),
                Ipv4Addr::new(192, 168, 1, 1),
                80,
            )
            .state(ConnState::S0)
            .dur(3.0);
            day.out.conn(GUEST, &c);
        }
    }
}
