//! The injected attacks, each with its [`Label`]: scans (a fast port scan,
//! an address sweep, and a slow port scan under Zeek's thresholds), brute
//! force against SSH, RDP, Kerberos, LDAP and HTTP (and a slow Kerberos
//! spray, one guess a minute, as careful sprays go), C2 beacons (jittered),
//! DNS tunnels, night-time exfiltration from hosts whose baseline is
//! small, lateral SMB and RDP fan-out from a client, an OT write from a new
//! host, a new device, and ARP spoofing of a gateway. All fall after the
//! learning days, spread over the evaluation days, at plausible hours
//! (some by day among the office traffic, some at night).
//!
//! The plan is drawn once from the seed ([`plan`]); each day's events are
//! drawn by [`inject`] from the same plan (and written by `play`), so
//! labels and events agree.

use super::net::{
    Network, Role, ADMIN, CARE, DMZ, GUEST, HEAT, JOBCENTER, SCHOOL1, SCHOOL2, SERVERS,
};
use super::rand::{stream, Rng};
use super::{Config, Day, Label};
use std::net::{IpAddr, Ipv4Addr};

const S_ATTACK: u64 = 30;

/// What an attack does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    PortScan,
    AddressScan,
    SlowScan,
    BruteSsh,
    BruteRdp,
    BruteKerberos,
    SlowSpray,
    BruteLdap,
    BruteHttp,
    BeaconTls,
    BeaconHttp,
    TunnelTxt,
    TunnelNull,
    Exfil { gb: u64 },
    LateralSmb,
    LateralRdp,
    OtWrite,
    NewDevice,
    ArpSpoof,
}

/// One attack of the plan: who, against whom, from when to when.
pub(super) struct Attack {
    pub kind: Kind,
    pub src: Ipv4Addr,
    pub dst: Option<Ipv4Addr>,
    /// Hosts it touches besides `dst` (sweeps, fan-out).
    pub targets: Vec<Ipv4Addr>,
    pub seg: usize,
    pub start: f64,
    pub end: f64,
}

/// The attacks in the order their slots are given out.
const ORDER: [Kind; 20] = [
    Kind::PortScan,
    Kind::BruteKerberos,
    Kind::BeaconTls,
    Kind::NewDevice,
    Kind::AddressScan,
    Kind::BruteSsh,
    Kind::TunnelTxt,
    Kind::Exfil { gb: 4 },
    Kind::LateralSmb,
    Kind::OtWrite,
    Kind::BruteLdap,
    Kind::BeaconHttp,
    Kind::ArpSpoof,
    Kind::SlowScan,
    Kind::BruteRdp,
    Kind::TunnelNull,
    Kind::LateralRdp,
    Kind::BruteHttp,
    Kind::Exfil { gb: 1 },
    Kind::SlowSpray,
];

fn v4(ip: Ipv4Addr) -> IpAddr {
    IpAddr::V4(ip)
}

fn pick_host(
    rng: &mut Rng,
    net: &Network,
    seg: usize,
    role: Role,
    always_on: Option<bool>,
) -> Ipv4Addr {
    let c: Vec<usize> = net
        .with_role(seg, role)
        .into_iter()
        .filter(|&i| always_on.is_none_or(|a| net.hosts[i].always_on == a))
        .collect();
    match c.is_empty() {
        true => net.hosts[net.by_segment[seg][0]].ip,
        false => net.hosts[*rng.pick(&c)].ip,
    }
}

/// The plan: every attack with its label, from the seed.
fn attacks(net: &Network, cal: &super::clock::Calendar, cfg: &Config) -> Vec<Attack> {
    let mut rng = stream(cfg.seed, u64::MAX - 1, S_ATTACK, 0);
    let l = cfg.learning_days;
    let eval = cfg.days - l;
    let ip = |i: usize| net.hosts[i].ip;
    let mut out = Vec::new();
    for (slot, &kind) in ORDER.iter().enumerate() {
        let d = l + (slot as u32 % eval);
        let at = |h: f64| cal.at(d, h);
        let a = match kind {
            Kind::PortScan => {
                let t = at(10.2 + rng.unit());
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, ADMIN, Role::Desktop, None),
                    dst: Some(ip(net.files[0])),
                    targets: vec![],
                    seg: ADMIN,
                    start: t,
                    end: t + 60.0,
                }
            }
            Kind::AddressScan => {
                let t = at(13.0 + rng.unit());
                let targets = (1..=254)
                    .map(|k| Ipv4Addr::new(10, net.segments[SCHOOL1].net, 1, k))
                    .collect();
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, SCHOOL2, Role::TeacherLaptop, None),
                    dst: None,
                    targets,
                    seg: SCHOOL2,
                    start: t,
                    end: t + 200.0,
                }
            }
            Kind::SlowScan => {
                let t = at(9.5 + rng.unit());
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, JOBCENTER, Role::Desktop, None),
                    dst: Some(ip(net.by_segment[SERVERS][12])),
                    targets: vec![],
                    seg: JOBCENTER,
                    start: t,
                    end: t + 120.0 * 60.0,
                }
            }
            Kind::BruteSsh => {
                let t = at(2.0 + rng.unit());
                Attack {
                    kind,
                    src: Ipv4Addr::new(203, 0, 113, 45),
                    dst: Some(ip(net.sftp)),
                    targets: vec![],
                    seg: DMZ,
                    start: t,
                    end: t + 1500.0,
                }
            }
            Kind::BruteRdp => {
                let t = at(20.0 + rng.unit());
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, CARE, Role::CareTablet, None),
                    dst: Some(ip(net.jump)),
                    targets: vec![],
                    seg: CARE,
                    start: t,
                    end: t + 1200.0,
                }
            }
            Kind::BruteKerberos => {
                let t = at(11.0 + rng.unit());
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, JOBCENTER, Role::Desktop, None),
                    dst: Some(ip(net.dcs[0])),
                    targets: vec![],
                    seg: JOBCENTER,
                    start: t,
                    end: t + 900.0,
                }
            }
            Kind::SlowSpray => {
                let t = at(8.0 + rng.unit());
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, CARE, Role::CareTablet, None),
                    dst: Some(ip(net.dcs[1])),
                    targets: vec![],
                    seg: CARE,
                    start: t,
                    end: t + 180.0 * 60.0,
                }
            }
            Kind::BruteLdap => {
                let t = at(14.0 + rng.unit());
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, SCHOOL1, Role::TeacherLaptop, None),
                    dst: Some(ip(net.dcs[1])),
                    targets: vec![],
                    seg: SCHOOL1,
                    start: t,
                    end: t + 600.0,
                }
            }
            Kind::BruteHttp => {
                let t = at(23.0 + rng.unit() * 0.5);
                Attack {
                    kind,
                    src: Ipv4Addr::new(198, 51, 100, 23),
                    dst: Some(ip(net.web)),
                    targets: vec![],
                    seg: DMZ,
                    start: t,
                    end: t + 900.0,
                }
            }
            Kind::BeaconTls => {
                let t = at(10.0 + rng.unit());
                let last = (d + 3).min(cfg.days);
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, ADMIN, Role::Desktop, Some(true)),
                    dst: Some(Ipv4Addr::new(45, 147, 229, 18)),
                    targets: vec![],
                    seg: ADMIN,
                    start: t,
                    end: cal.midnight(last) - 60.0,
                }
            }
            Kind::BeaconHttp => {
                let t = at(7.5 + rng.unit());
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, CARE, Role::CareTablet, None),
                    dst: Some(Ipv4Addr::new(203, 0, 113, 80)),
                    targets: vec![],
                    seg: CARE,
                    start: t,
                    end: t + 8.0 * 3600.0,
                }
            }
            Kind::TunnelTxt => {
                let t = at(15.0 + rng.unit());
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, CARE, Role::CareTablet, None),
                    dst: None,
                    targets: vec![],
                    seg: CARE,
                    start: t,
                    end: t + 2400.0,
                }
            }
            Kind::TunnelNull => {
                let t = at(16.0 + rng.unit());
                Attack {
                    kind,
                    src: Ipv4Addr::new(10, net.segments[GUEST].net, 250, 77),
                    dst: None,
                    targets: vec![],
                    seg: GUEST,
                    start: t,
                    end: t + 1200.0,
                }
            }
            Kind::Exfil { gb } => {
                let t = at(3.0 + rng.unit() * 0.2);
                let (seg, role) = if gb > 2 {
                    (JOBCENTER, Role::Desktop)
                } else {
                    (CARE, Role::CareTablet)
                };
                let dur = gb as f64 * 1e9 / 2.5e6;
                Attack {
                    kind,
                    src: pick_host(&mut rng, net, seg, role, Some(true)),
                    dst: Some(Ipv4Addr::new(185, 199, 50, 12 + gb as u8)),
                    targets: vec![],
                    seg,
                    start: t,
                    end: t + dur,
                }
            }
            Kind::LateralSmb | Kind::LateralRdp => {
                let t = at(12.5 + rng.unit() * 2.0);
                let src = pick_host(&mut rng, net, ADMIN, Role::Desktop, None);
                let pool: Vec<Ipv4Addr> = if kind == Kind::LateralSmb {
                    [ADMIN, JOBCENTER]
                        .iter()
                        .flat_map(|&s| net.by_segment[s].iter())
                        .map(|&i| net.hosts[i].ip)
                        .filter(|&a| a != src)
                        .collect()
                } else {
                    net.by_segment[SERVERS]
                        .iter()
                        .map(|&i| net.hosts[i].ip)
                        .collect()
                };
                let n = if kind == Kind::LateralSmb { 40 } else { 12 };
                let targets = (0..n).map(|_| *rng.pick(&pool)).collect();
                Attack {
                    kind,
                    src,
                    dst: None,
                    targets,
                    seg: ADMIN,
                    start: t,
                    end: t + 900.0,
                }
            }
            Kind::OtWrite => {
                let t = at(19.5 + rng.unit() * 0.5);
                let plcs: Vec<Ipv4Addr> = net
                    .with_role(HEAT, Role::Plc)
                    .into_iter()
                    .filter(|i| i % 2 == 0)
                    .map(&ip)
                    .take(3)
                    .collect();
                Attack {
                    kind,
                    src: net.spare_ip(HEAT, 0),
                    dst: plcs.first().copied(),
                    targets: plcs,
                    seg: HEAT,
                    start: t,
                    end: t + 600.0,
                }
            }
            Kind::NewDevice => {
                let t = at(7.0 + rng.unit());
                Attack {
                    kind,
                    src: net.spare_ip(ADMIN, 0),
                    dst: None,
                    targets: vec![],
                    seg: ADMIN,
                    start: t,
                    end: t + 3600.0,
                }
            }
            Kind::ArpSpoof => {
                let t = at(13.0 + rng.unit());
                let attacker = pick_host(&mut rng, net, SCHOOL1, Role::TeacherLaptop, None);
                Attack {
                    kind,
                    src: net.segments[SCHOOL1].gateway,
                    dst: Some(attacker),
                    targets: vec![],
                    seg: SCHOOL1,
                    start: t,
                    end: t + 1200.0,
                }
            }
        };
        out.push(a);
    }
    out
}

/// The labels of the plan (an OT write from a new host is also a new
/// device, so it has two).
pub fn plan(net: &Network, cal: &super::clock::Calendar, cfg: &Config) -> Vec<Label> {
    let mut labels = Vec::new();
    for a in attacks(net, cal, cfg) {
        let seg = net.segments[a.seg].name.to_string();
        let mut label = |detector, kind, what: &str| {
            labels.push(Label {
                detector,
                kind,
                src: v4(a.src),
                dst: a.dst.map(v4),
                segment: seg.clone(),
                start: a.start,
                end: a.end,
                what: what.to_string(),
            });
        };
        match a.kind {
            Kind::PortScan => label(
                "scan",
                Some("port_scan"),
                "port scan of 1,000 ports of a file server",
            ),
            Kind::AddressScan => label(
                "scan",
                Some("address_scan"),
                "sweep of a school /24 on 445/tcp",
            ),
            Kind::SlowScan => label(
                "scan",
                Some("port_scan"),
                "slow port scan: 120 ports, one a minute",
            ),
            Kind::BruteSsh => label(
                "bruteforce",
                Some("ssh"),
                "SSH password guessing from the internet",
            ),
            Kind::BruteRdp => label(
                "bruteforce",
                Some("rdp"),
                "RDP password guessing against the jump host",
            ),
            Kind::BruteKerberos => label(
                "bruteforce",
                Some("kerberos"),
                "Kerberos password spray, 250 accounts",
            ),
            Kind::SlowSpray => label(
                "bruteforce",
                Some("kerberos"),
                "slow Kerberos spray: 180 accounts, one a minute",
            ),
            Kind::BruteLdap => label("bruteforce", Some("ldap"), "LDAP simple-bind guessing"),
            Kind::BruteHttp => label(
                "bruteforce",
                Some("http"),
                "HTTP basic-auth guessing on the web site",
            ),
            Kind::BeaconTls => label("beacon", None, "C2 over TLS every 300 s +-20%, 3 days"),
            Kind::BeaconHttp => label("beacon", None, "C2 over HTTP every 60 s +-50%, 8 hours"),
            Kind::TunnelTxt => label(
                "dns_tunnel",
                Some("encoded_names"),
                "DNS tunnel, base32 names, TXT",
            ),
            Kind::TunnelNull => label("dns_tunnel", None, "iodine-style NULL queries from a guest"),
            Kind::Exfil { gb } => label(
                "volume",
                None,
                &format!("{gb} GB upload to one address at 03:00"),
            ),
            Kind::LateralSmb => label(
                "lateral",
                Some("smb"),
                "SMB admin-share fan-out to 40 clients",
            ),
            Kind::LateralRdp => label("lateral", Some("rdp"), "RDP fan-out to 12 servers"),
            Kind::OtWrite => {
                label("ot_change", Some("write"), "Modbus writes from a new host");
                label("new_rare", None, "a new host in the OT segment");
            }
            Kind::NewDevice => label("new_rare", None, "a Raspberry Pi appears in the town hall"),
            Kind::ArpSpoof => label(
                "spoofing",
                None,
                "the gateway's address moves to a laptop's MAC",
            ),
        }
    }
    labels
}

/// Writes today's part of every attack.
pub fn inject(day: &mut Day, _labels: &[Label], cfg: &Config) {
    let from = day.t(0.0);
    let to = day.cal.midnight(day.d + 1);
    for (k, a) in attacks(day.net, day.cal, cfg).into_iter().enumerate() {
        if a.end < from || a.start >= to {
            continue;
        }
        let mut rng = day.rng(S_ATTACK, k as u64);
        super::play::run(day, &mut rng, &a, from, to);
    }
}
