//! The generated municipality's network: its segments (name, kind,
//! address range, activity curve), its hosts and what each one is (a
//! town-hall desktop, a care tablet, a Chromebook, a PLC, a domain
//! controller...), the well-known servers every client talks to, and the
//! external sites of the internet they visit. Everything is drawn once
//! from the seed; the daily traffic is drawn per day in `traffic`.

use super::clock::Curve;
use super::rand::Rng;
use std::net::Ipv4Addr;

/// One network segment, as a sensor's `[[segments]]` would name it.
#[derive(Clone, Debug)]
pub struct Segment {
    pub name: &'static str,
    /// admin, care, school, ot, guest, server or dmz.
    pub kind: &'static str,
    /// The segment is 10.`net`.0.0/16.
    pub net: u8,
    pub curve: Curve,
    pub gateway: Ipv4Addr,
    pub gateway_mac: String,
}

/// The segments, with the share of the host count each gets.
const SEGMENTS: [(&str, &str, u8, Curve, f64); 11] = [
    ("rådhus-admin", "admin", 10, Curve::Office, 0.22),
    ("jobcenter", "admin", 11, Curve::Office, 0.08),
    ("pleje", "care", 20, Curve::Care, 0.14),
    ("skole-1", "school", 30, Curve::School, 0.17),
    ("skole-2", "school", 31, Curve::School, 0.13),
    ("bibliotek", "guest", 40, Curve::Library, 0.05),
    ("gæste-wifi", "guest", 50, Curve::Guest, 0.13),
    ("vand", "ot", 60, Curve::Flat, 0.025),
    ("varme", "ot", 61, Curve::Flat, 0.025),
    ("servere", "server", 1, Curve::Flat, 0.0),
    ("dmz", "dmz", 2, Curve::Flat, 0.0),
];

/// Segment indices used by name elsewhere.
pub const ADMIN: usize = 0;
pub const JOBCENTER: usize = 1;
pub const CARE: usize = 2;
pub const SCHOOL1: usize = 3;
pub const SCHOOL2: usize = 4;
pub const LIBRARY: usize = 5;
pub const GUEST: usize = 6;
pub const WATER: usize = 7;
pub const HEAT: usize = 8;
pub const SERVERS: usize = 9;
pub const DMZ: usize = 10;

/// What a host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A Windows desktop or laptop in the domain.
    Desktop,
    /// A care worker's tablet or laptop (care system, mail).
    CareTablet,
    /// A school Chromebook (Google, not the domain).
    Chromebook,
    /// A teacher's Windows laptop in a school.
    TeacherLaptop,
    /// A public PC in the library.
    LibraryPc,
    /// A network printer.
    Printer,
    /// A visitor's phone or laptop on the guest Wi-Fi.
    GuestDevice,
    /// A PLC or outstation (Modbus, DNP3) or BACnet controller.
    Plc,
    /// The SCADA master / building-management server that polls them.
    Scada,
    /// The engineering workstation that changes setpoints now and then.
    EngStation,
    /// A server with a job of its own.
    Server(Srv),
}

/// The servers' jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Srv {
    Dc,
    File,
    Print,
    CareApp,
    Backup,
    Scanner,
    Wsus,
    Jump,
    Mail,
    Generic,
    Web,
    Sftp,
    Vpn,
}

#[derive(Clone, Debug)]
pub struct Host {
    pub ip: Ipv4Addr,
    pub mac: String,
    pub seg: usize,
    pub role: Role,
    pub name: String,
    /// Left switched on at night and at weekends.
    pub always_on: bool,
    /// How busy its user is (1 = typical).
    pub weight: f64,
}

impl Host {
    /// Whether it runs Windows in the domain (Kerberos, SMB, WSUS).
    pub fn windows(&self) -> bool {
        matches!(
            self.role,
            Role::Desktop
                | Role::CareTablet
                | Role::TeacherLaptop
                | Role::LibraryPc
                | Role::EngStation
                | Role::Scada
                | Role::Server(_)
        )
    }
}

/// What an external site is for, which decides who visits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteKind {
    /// Microsoft 365: mail, Teams, SharePoint, sign-in.
    Microsoft,
    /// Google Workspace for Education, YouTube.
    Google,
    /// Danish public-sector services (borger.dk, KOMBIT, KMD...).
    Public,
    /// Everything else people browse.
    Web,
    /// Update and telemetry services polled on a schedule.
    Update,
}

#[derive(Clone, Debug)]
pub struct Site {
    pub name: String,
    pub ip: Ipv4Addr,
    pub kind: SiteKind,
}

/// The whole network.
pub struct Network {
    pub segments: Vec<Segment>,
    pub hosts: Vec<Host>,
    /// Host indices by segment.
    pub by_segment: Vec<Vec<usize>>,
    pub dcs: Vec<usize>,
    pub files: Vec<usize>,
    pub print: usize,
    pub care_app: usize,
    pub backup: usize,
    pub scanner: usize,
    pub wsus: usize,
    pub jump: usize,
    pub mail: usize,
    pub web: usize,
    pub sftp: usize,
    pub vpn: usize,
    pub sites: Vec<Site>,
    /// The offsite backup provider the backup server copies to nightly.
    pub offsite: Ipv4Addr,
    /// The public resolvers the DCs forward to.
    pub resolver: Ipv4Addr,
}

const NAMED_SITES: &[(&str, SiteKind)] = &[
    ("login.microsoftonline.com", SiteKind::Microsoft),
    ("outlook.office365.com", SiteKind::Microsoft),
    ("teams.microsoft.com", SiteKind::Microsoft),
    ("kommune.sharepoint.com", SiteKind::Microsoft),
    ("www.office.com", SiteKind::Microsoft),
    ("classroom.google.com", SiteKind::Google),
    ("docs.google.com", SiteKind::Google),
    ("www.google.com", SiteKind::Google),
    ("www.youtube.com", SiteKind::Google),
    ("fonts.googleapis.com", SiteKind::Google),
    ("accounts.google.com", SiteKind::Google),
    ("www.borger.dk", SiteKind::Public),
    ("www.skat.dk", SiteKind::Public),
    ("www.sundhed.dk", SiteKind::Public),
    ("www.kombit.dk", SiteKind::Public),
    ("mitid.dk", SiteKind::Public),
    ("www.kl.dk", SiteKind::Public),
    ("www.dr.dk", SiteKind::Web),
    ("nyheder.tv2.dk", SiteKind::Web),
    ("politiken.dk", SiteKind::Web),
    ("www.dmi.dk", SiteKind::Web),
    ("www.rejseplanen.dk", SiteKind::Web),
    ("download.windowsupdate.com", SiteKind::Update),
    ("wdcp.microsoft.com", SiteKind::Update),
    ("settings-win.data.microsoft.com", SiteKind::Update),
    ("update.googleapis.com", SiteKind::Update),
    ("ctldl.windowsupdate.com", SiteKind::Update),
];

const WORDS: &[&str] = &[
    "nord", "syd", "by", "hus", "have", "bog", "mad", "rejse", "bolig", "sport", "musik", "film",
    "data", "net", "shop", "info", "avis", "radio", "kultur", "sundhed", "skole", "cykel", "bil",
    "tech", "cloud", "media", "news", "store", "world", "online",
];

/// A public-looking address for a name, stable for the name.
fn public_ip(rng: &mut Rng) -> Ipv4Addr {
    const FIRST: [u8; 12] = [13, 20, 23, 34, 40, 52, 104, 142, 151, 185, 195, 212];
    Ipv4Addr::new(
        *rng.pick(&FIRST),
        rng.range(1, 255) as u8,
        rng.range(0, 256) as u8,
        rng.range(1, 255) as u8,
    )
}

/// A MAC address with a locally administered bit clear, from the rng.
pub fn mac(rng: &mut Rng, oui: [u8; 3]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        oui[0],
        oui[1],
        oui[2],
        rng.range(0, 256),
        rng.range(0, 256),
        rng.range(0, 256)
    )
}

/// OUIs per kind of device (Dell, HP, Lenovo; Acer Chromebook; Siemens,
/// Schneider; Apple and randomised MACs on guest phones).
pub const OUI_PC: [[u8; 3]; 3] = [[0xd8, 0x9e, 0xf3], [0x3c, 0x52, 0x82], [0x54, 0xe1, 0xad]];
pub const OUI_CHROMEBOOK: [u8; 3] = [0x00, 0x1a, 0xa0];
pub const OUI_OT: [[u8; 3]; 2] = [[0x00, 0x1b, 0x1b], [0x00, 0x80, 0xf4]];
pub const OUI_PRINTER: [u8; 3] = [0x00, 0x1b, 0xa9];
pub const OUI_SERVER: [u8; 3] = [0x00, 0x50, 0x56];
pub const OUI_GATEWAY: [u8; 3] = [0x00, 0x1b, 0x54];

impl Network {
    /// The network for `hosts` hosts (at least about 100), drawn from `rng`.
    pub fn new(rng: &mut Rng, hosts: usize) -> Network {
        let segments: Vec<Segment> = SEGMENTS
            .iter()
            .map(|&(name, kind, net, curve, _)| Segment {
                name,
                kind,
                net,
                curve,
                gateway: Ipv4Addr::new(10, net, 0, 1),
                gateway_mac: mac(rng, OUI_GATEWAY),
            })
            .collect();
        let mut net = Network {
            segments,
            hosts: Vec::with_capacity(hosts),
            by_segment: vec![Vec::new(); SEGMENTS.len()],
            dcs: Vec::new(),
            files: Vec::new(),
            print: 0,
            care_app: 0,
            backup: 0,
            scanner: 0,
            wsus: 0,
            jump: 0,
            mail: 0,
            web: 0,
            sftp: 0,
            vpn: 0,
            sites: Vec::new(),
            offsite: Ipv4Addr::new(185, 21, 94, 17),
            resolver: Ipv4Addr::new(193, 162, 153, 164),
        };
        // Servers first, so that their addresses are the low ones.
        let servers: [(Srv, &str); 14] = [
            (Srv::Dc, "dc01"),
            (Srv::Dc, "dc02"),
            (Srv::File, "fil01"),
            (Srv::File, "fil02"),
            (Srv::Print, "print01"),
            (Srv::CareApp, "omsorg01"),
            (Srv::Backup, "backup01"),
            (Srv::Scanner, "itscan01"),
            (Srv::Wsus, "wsus01"),
            (Srv::Jump, "jump01"),
            (Srv::Mail, "relay01"),
            (Srv::Generic, "sql01"),
            (Srv::Generic, "esdh01"),
            (Srv::Generic, "app01"),
        ];
        for (srv, name) in servers {
            let i = net.add(rng, SERVERS, Role::Server(srv), name.to_string(), true);
            match srv {
                Srv::Dc => net.dcs.push(i),
                Srv::File => net.files.push(i),
                Srv::Print => net.print = i,
                Srv::CareApp => net.care_app = i,
                Srv::Backup => net.backup = i,
                Srv::Scanner => net.scanner = i,
                Srv::Wsus => net.wsus = i,
                Srv::Jump => net.jump = i,
                _ => {}
            }
        }
        for (srv, name) in [
            (Srv::Web, "www"),
            (Srv::Sftp, "sftp"),
            (Srv::Vpn, "vpn"),
            (Srv::Mail, "mx01"),
        ] {
            let i = net.add(rng, DMZ, Role::Server(srv), name.to_string(), true);
            match srv {
                Srv::Web => net.web = i,
                Srv::Sftp => net.sftp = i,
                Srv::Vpn => net.vpn = i,
                _ => net.mail = i,
            }
        }
        let rest = hosts.saturating_sub(net.hosts.len());
        let shares: f64 = SEGMENTS.iter().map(|s| s.4).sum();
        let counts: Vec<usize> = SEGMENTS
            .iter()
            .map(|s| ((rest as f64) * s.4 / shares).floor() as usize)
            .collect();
        // Rounding leftovers go to the town hall, so the count is exact.
        let leftover = rest - counts.iter().sum::<usize>();
        for (seg, &(name, _, _, _, _)) in SEGMENTS.iter().enumerate() {
            let n = counts[seg] + if seg == ADMIN { leftover } else { 0 };
            for k in 0..n {
                let (role, always_on) = match seg {
                    ADMIN | JOBCENTER if k % 40 == 0 => (Role::Printer, true),
                    ADMIN | JOBCENTER => (Role::Desktop, rng.chance(0.3)),
                    CARE if k % 50 == 0 => (Role::Printer, true),
                    CARE => (Role::CareTablet, rng.chance(0.5)),
                    SCHOOL1 | SCHOOL2 if k % 60 == 0 => (Role::Printer, true),
                    SCHOOL1 | SCHOOL2 if k % 8 == 1 => (Role::TeacherLaptop, rng.chance(0.1)),
                    SCHOOL1 | SCHOOL2 => (Role::Chromebook, false),
                    LIBRARY => (Role::LibraryPc, false),
                    GUEST => (Role::GuestDevice, false),
                    WATER | HEAT if k == 0 => (Role::Scada, true),
                    WATER | HEAT if k == 1 => (Role::EngStation, false),
                    WATER | HEAT => (Role::Plc, true),
                    _ => (Role::Desktop, false),
                };
                let host_name = format!("{}-{k:04}", short(name));
                net.add(rng, seg, role, host_name, always_on);
            }
        }
        for &(name, kind) in NAMED_SITES {
            let ip = public_ip(rng);
            net.sites.push(Site {
                name: name.to_string(),
                ip,
                kind,
            });
        }
        // The long tail of the web: a few hundred sites of made-up names.
        for i in 0..400 {
            let a = rng.pick(WORDS);
            let b = rng.pick(WORDS);
            let tld = if rng.chance(0.6) { "dk" } else { "com" };
            let ip = public_ip(rng);
            net.sites.push(Site {
                name: format!("www.{a}{b}{i}.{tld}"),
                ip,
                kind: SiteKind::Web,
            });
        }
        net
    }

    fn add(
        &mut self,
        rng: &mut Rng,
        seg: usize,
        role: Role,
        name: String,
        always_on: bool,
    ) -> usize {
        let k = self.by_segment[seg].len();
        let ip = Ipv4Addr::new(
            10,
            self.segments[seg].net,
            1 + (k / 250) as u8,
            10 + (k % 250) as u8,
        );
        let oui = match role {
            Role::Chromebook => OUI_CHROMEBOOK,
            Role::Plc | Role::Scada => *rng.pick(&OUI_OT),
            Role::Printer => OUI_PRINTER,
            Role::Server(_) => OUI_SERVER,
            _ => *rng.pick(&OUI_PC),
        };
        // Most users are light; a few are heavy (log-normal-ish).
        let weight = (0.4 + rng.exp(0.6)).min(4.0);
        let i = self.hosts.len();
        self.hosts.push(Host {
            ip,
            mac: mac(rng, oui),
            seg,
            role,
            name,
            always_on,
            weight,
        });
        self.by_segment[seg].push(i);
        i
    }

    /// Sites of one kind.
    pub fn sites_of(&self, kind: SiteKind) -> impl Iterator<Item = &Site> {
        self.sites.iter().filter(move |s| s.kind == kind)
    }

    pub fn site(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.name == name)
    }

    /// The segment an address is in, by its second octet.
    pub fn segment_of(&self, ip: Ipv4Addr) -> Option<usize> {
        let o = ip.octets();
        if o[0] != 10 {
            return None;
        }
        self.segments.iter().position(|s| s.net == o[1])
    }

    /// The next free address in a segment (for devices that appear later).
    pub fn spare_ip(&self, seg: usize, n: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, self.segments[seg].net, 200, 10 + (n % 240) as u8)
    }

    /// Host indices of a segment with a given role.
    pub fn with_role(&self, seg: usize, role: Role) -> Vec<usize> {
        self.by_segment[seg]
            .iter()
            .copied()
            .filter(|&i| self.hosts[i].role == role)
            .collect()
    }
}

/// A host-name prefix for a segment.
fn short(segment: &str) -> &'static str {
    match segment {
        "rådhus-admin" => "rh-pc",
        "jobcenter" => "jc-pc",
        "pleje" => "pl-tab",
        "skole-1" => "s1-cb",
        "skole-2" => "s2-cb",
        "bibliotek" => "bib-pc",
        "gæste-wifi" => "guest",
        "vand" => "vand-ot",
        "varme" => "varme-ot",
        _ => "host",
    }
}
