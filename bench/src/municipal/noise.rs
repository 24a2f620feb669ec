//! Noise that looks like attacks and is not, as every municipality has it:
//! the nightly backup (the backup server pulls tens of gigabytes from the
//! file, care and database servers, tries every desktop's backup agent,
//! finding most switched off, and pushes the night's copy offsite), patch
//! Tuesday (WSUS fetches gigabytes, then every Windows client pulls its
//! share the next morning), the IT team's weekly vulnerability scan of the
//! servers and DMZ and its Friday-morning discovery sweep of the admin networks
//! from a known host in the server segment, antivirus reputation lookups
//! whose names are hashes, a user whose old password, cached by a phone or
//! mapped drive, locks their account, new PCs rolled out in the second
//! week, a replaced printer that keeps its address (its ARP binding
//! moves), and a video of the council meeting uploaded to YouTube from a
//! desktop that never uploads much. Also the allow-list the IT team would
//! write for its own tools.

use super::emit::Conn;
use super::net::{Network, Role, Srv, ADMIN, DMZ, JOBCENTER, SERVERS};
use super::traffic::{eport, JA_SCHANNEL};
use super::Day;
use vagt_schema::ConnState;

const S_BACKUP: u64 = 20;
const S_PATCH: u64 = 21;
const S_SCAN: u64 = 22;
const S_AV: u64 = 23;
const S_LOCK: u64 = 24;

/// The backup agent's port on clients (a Veeam-style agent).
pub const AGENT_PORT: u16 = 6160;

pub fn all(day: &mut Day) {
    backup(day);
    patch(day);
    vuln_scan(day);
    av_lookups(day);
    lockout(day);
    changes(day);
}

const S_CHANGE: u64 = 25;

/// One-off, legitimate changes of the second week: on day 9 IT rolls out
/// three new desktops in the job centre; on day 10 a printer is replaced
/// by one that keeps its reserved address, and the communications officer
/// uploads the council meeting's video (2.5 GB) at 14:00.
fn changes(day: &mut Day) {
    let net = day.net;
    let mut rng = day.rng(S_CHANGE, 0);
    let dc = net.hosts[net.dcs[0]].ip;
    if day.d == 9 {
        for k in 0..3 {
            let ip = net.spare_ip(JOBCENTER, 50 + k);
            let host = super::net::Host {
                ip,
                mac: super::net::mac(&mut rng, super::net::OUI_PC[0]),
                seg: JOBCENTER,
                role: Role::Desktop,
                name: format!("jc-pc-new{k}"),
                always_on: false,
                weight: 1.0,
            };
            let ts = day.t(9.0 + k as f64 * 0.3);
            day.out
                .dhcp(JOBCENTER, ts, &host, ip, dc, false, "MSFT 5.0");
            day.out
                .arp(JOBCENTER, ts + 0.5, ip, &host.mac, None, false, 1);
            day.out
                .asset(JOBCENTER, ts + 1.0, &host, ip, "Dell Inc.", "client");
            let c = Conn::tcp(ts + 30.0, ip, eport(&mut rng), dc, 88)
                .service("krb_tcp")
                .bytes(1_600, 1_500)
                .dur(0.02);
            let uid = day.out.conn(JOBCENTER, &c);
            day.out
                .kerberos(JOBCENTER, &c, uid, &format!("new{k}"), None);
            let wsus = net.hosts[net.wsus].ip;
            let c = Conn::tcp(ts + 600.0, ip, eport(&mut rng), wsus, 8530)
                .service("http")
                .bytes(2_000_000, 900_000_000)
                .dur(400.0);
            day.out.conn(JOBCENTER, &c);
        }
    }
    if day.d == 10 {
        if let Some(&p) = net.with_role(ADMIN, Role::Printer).first() {
            let old = &net.hosts[p];
            let new_mac = super::net::mac(&mut rng, super::net::OUI_PRINTER);
            let ts = day.t(10.5);
            day.out.arp(
                ADMIN,
                ts,
                old.ip,
                &new_mac,
                Some((&old.mac, PRINTER_SWAP_SILENCE)),
                true,
                1,
            );
        }
        let desktops: Vec<usize> = net
            .with_role(ADMIN, Role::Desktop)
            .into_iter()
            .filter(|&i| !net.hosts[i].always_on)
            .collect();
        if let (Some(&h), Some(s)) = (desktops.get(7), net.site("www.youtube.com")) {
            let h = &net.hosts[h];
            let bytes = 2_500_000_000;
            let c = Conn::tcp(day.t(14.0), h.ip, eport(&mut rng), s.ip, 443)
                .service("ssl")
                .bytes(bytes, bytes / 80)
                .dur(bytes as f64 / 6e6);
            let uid = day.out.conn(h.seg, &c);
            day.out.ssl(
                h.seg,
                &c,
                uid,
                "upload.youtube.com",
                super::traffic::JA_EDGE,
            );
        }
    }
}

/// Every night from 01:00: server shares, client agents, offsite copy.
fn backup(day: &mut Day) {
    let net = day.net;
    let mut rng = day.rng(S_BACKUP, 0);
    let b = net.hosts[net.backup].ip;
    let sources: Vec<usize> = net.by_segment[SERVERS]
        .iter()
        .copied()
        .filter(|&i| {
            matches!(
                net.hosts[i].role,
                Role::Server(Srv::File | Srv::CareApp | Srv::Generic | Srv::Dc)
            )
        })
        .collect();
    let mut t = day.t(25.0); // 01:00 the next morning, local
    let mut total = 0u64;
    for &s in &sources {
        // Incrementals on weekdays, a full copy on Saturday night.
        let gb = if day.weekday == 5 {
            60.0 + rng.unit() * 140.0
        } else {
            4.0 + rng.exp(12.0)
        };
        let bytes = (gb * 1e9) as u64;
        total += bytes;
        let dur = bytes as f64 / 90e6; // about 90 MB/s over the LAN
        let c = Conn::tcp(t, b, eport(&mut rng), net.hosts[s].ip, 445)
            .service("smb")
            .bytes(bytes / 400, bytes)
            .dur(dur);
        let uid = day.out.conn(SERVERS, &c);
        day.out.ntlm(SERVERS, &c, uid, "svc-backup", true);
        t += dur.min(1800.0) + 30.0;
    }
    // Client agents, four at a time: switched-off desktops do not answer
    // (their attempts time out after 21 s); those left on send their
    // changed files.
    let clients: Vec<usize> = [ADMIN, JOBCENTER]
        .iter()
        .flat_map(|&s| net.by_segment[s].iter().copied())
        .filter(|&i| net.hosts[i].role == Role::Desktop)
        .collect();
    let mut lanes = [day.t(25.5); 4];
    for (k, &c) in clients.iter().enumerate() {
        let h = &net.hosts[c];
        let lane = k % 4;
        let ts = lanes[lane];
        let conn = if h.always_on {
            let bytes = 20_000_000 + rng.exp(400_000_000.0) as u64;
            let dur = 30.0 + bytes as f64 / 40e6;
            lanes[lane] += dur + 2.0;
            Conn::tcp(ts, b, eport(&mut rng), h.ip, AGENT_PORT)
                .bytes(bytes / 200, bytes)
                .dur(dur)
        } else {
            lanes[lane] += 21.5;
            Conn::tcp(ts, b, eport(&mut rng), h.ip, AGENT_PORT)
                .state(ConnState::S0)
                .dur(21.0)
        };
        day.out.conn(h.seg, &conn);
    }
    // The offsite copy: the night's data, deduplicated and compressed,
    // to the provider, over TLS, in one long stream from 02:30.
    let bytes = (total as f64 * (0.2 + rng.unit() * 0.2)) as u64;
    let dur = bytes as f64 / 60e6;
    let c = Conn::tcp(day.t(26.5), b, eport(&mut rng), net.offsite, 443)
        .service("ssl")
        .bytes(bytes, bytes / 300)
        .dur(dur);
    let uid = day.out.conn(SERVERS, &c);
    day.out
        .ssl(SERVERS, &c, uid, "vault.offsite-backup.dk", JA_SCHANNEL);
}

/// Patch Tuesday: WSUS downloads the month's updates at 19:30, and every
/// Windows client that is on pulls its share from WSUS the next morning
/// (the day after patch Tuesday), hundreds of megabytes each.
fn patch(day: &mut Day) {
    let net = day.net;
    let mut rng = day.rng(S_PATCH, 0);
    let wsus = net.hosts[net.wsus].ip;
    if day.cal.is_patch_tuesday(day.d) {
        if let Some(s) = net.site("download.windowsupdate.com") {
            for k in 0..40 {
                let bytes = 150_000_000 + rng.exp(150_000_000.0) as u64;
                let c = Conn::tcp(
                    day.t(19.5 + f64::from(k) * 0.02),
                    wsus,
                    eport(&mut rng),
                    s.ip,
                    80,
                )
                .service("http")
                .bytes(bytes / 100, bytes)
                .dur(bytes as f64 / 50e6);
                let uid = day.out.conn(SERVERS, &c);
                day.out.http(
                    SERVERS,
                    &c,
                    uid,
                    "GET",
                    &s.name,
                    "/c/msdownload/update/software/secu/2026/11/windows11.0-kb5046617-x64.cab",
                    "Microsoft BITS/7.8",
                    200,
                    None,
                );
            }
        }
    }
    if day.d > 0 && day.cal.is_patch_tuesday(day.d - 1) {
        for h in &net.hosts {
            if !h.windows() || matches!(h.role, Role::Server(_)) || !rng.chance(0.8) {
                continue;
            }
            let bytes = 300_000_000 + rng.exp(500_000_000.0) as u64;
            let ts = day.t(8.0 + rng.unit() * 4.0);
            let c = Conn::tcp(ts, h.ip, eport(&mut rng), wsus, 8530)
                .service("http")
                .bytes(bytes / 150, bytes)
                .dur(bytes as f64 / 30e6);
            let uid = day.out.conn(h.seg, &c);
            day.out.http(
                h.seg,
                &c,
                uid,
                "GET",
                "wsus01.kommune.local:8530",
                "/Content/4F/1E2B3C.cab",
                "Microsoft BITS/7.8",
                200,
                None,
            );
        }
    }
}

/// The IT team's scanner (itscan01 in the server segment): a full
/// vulnerability scan of the servers and DMZ on Wednesday nights (the
/// top 1,000 TCP ports of each, then its HTTP checks, whose user agent
/// names the tool), and every Friday morning a
/// discovery sweep of the admin networks on a few ports.
fn vuln_scan(day: &mut Day) {
    let net = day.net;
    let s = net.hosts[net.scanner].ip;
    if day.weekday == 2 {
        let mut rng = day.rng(S_SCAN, 0);
        let mut t = day.t(22.0);
        let targets: Vec<usize> = [SERVERS, DMZ]
            .iter()
            .flat_map(|&g| net.by_segment[g].iter().copied())
            .filter(|&i| net.hosts[i].ip != s)
            .collect();
        for &i in &targets {
            let h = &net.hosts[i];
            for p in 0..1000u16 {
                let port = top_port(p);
                let open = matches!(
                    port,
                    22 | 25 | 53 | 80 | 88 | 135 | 389 | 443 | 445 | 3389 | 8530
                );
                let c = if open {
                    Conn::tcp(t, s, eport(&mut rng), h.ip, port)
                        .bytes(120, 400)
                        .dur(0.05)
                } else {
                    Conn::tcp(t, s, eport(&mut rng), h.ip, port)
                        .state(ConnState::Rej)
                        .dur(0.001)
                };
                day.out.conn(h.seg, &c);
                t += 0.02 + rng.unit() * 0.03;
            }
            if h.role == Role::Server(Srv::Web) || h.role == Role::Server(Srv::Wsus) {
                for uri in [
                    "/",
                    "/admin/",
                    "/.git/config",
                    "/server-status",
                    "/cgi-bin/test.cgi",
                ] {
                    let port = if h.role == Role::Server(Srv::Web) {
                        80
                    } else {
                        8530
                    };
                    let c = Conn::tcp(t, s, eport(&mut rng), h.ip, port)
                        .service("http")
                        .bytes(300, 1_200)
                        .dur(0.05);
                    let uid = day.out.conn(h.seg, &c);
                    day.out.http(
                        h.seg,
                        &c,
                        uid,
                        "GET",
                        &h.ip.to_string(),
                        uri,
                        "Mozilla/5.0 [en] (X11, U; OpenVAS-VT 22.4.1)",
                        404,
                        None,
                    );
                    t += 0.5;
                }
            }
            t += 20.0;
        }
    }
    if day.weekday == 4 {
        let mut rng = day.rng(S_SCAN, 1);
        let mut t = day.t(6.0);
        for seg in [ADMIN, JOBCENTER] {
            for &i in &net.by_segment[seg] {
                let h = &net.hosts[i];
                for port in [22u16, 445, 3389] {
                    let st = if port == 445 {
                        ConnState::Sf
                    } else {
                        ConnState::Rej
                    };
                    let c = Conn::tcp(t, s, eport(&mut rng), h.ip, port)
                        .state(st)
                        .bytes(0, 0)
                        .dur(0.01);
                    day.out.conn(seg, &c);
                }
                t += 0.3;
            }
        }
    }
}

/// Nmap's order of its top ports, approximately: the well-known ones
/// first, then the rest of the low range.
fn top_port(i: u16) -> u16 {
    const TOP: [u16; 20] = [
        80, 23, 443, 21, 22, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995,
        993, 5900,
    ];
    match TOP.get(usize::from(i)) {
        Some(&p) => p,
        None => 1000 + i,
    }
}

/// Seconds the replaced printer had been silent (unplugged the evening
/// before) when the new one took its address.
const PRINTER_SWAP_SILENCE: f64 = 14.0 * 3600.0;

/// Antivirus reputation lookups: the file servers' antivirus asks a DNS
/// service about files by their hash (as Sophos' sophosxl.net does), in
/// bursts while people save files.
fn av_lookups(day: &mut Day) {
    let net = day.net;
    for (k, &f) in net.files.iter().enumerate() {
        let mut rng = day.rng(S_AV, k as u64);
        let ip = net.hosts[f].ip;
        let dc = net.hosts[net.dcs[0]].ip;
        for hr in super::traffic::times(
            &mut rng,
            super::clock::Curve::Office,
            day.weekday,
            3.0,
            0.0,
            24.0,
        ) {
            let burst = 2 + rng.range(0, 12);
            for j in 0..burst {
                let hash: String = (0..40)
                    .map(|_| char::from(b"0123456789abcdef"[rng.range(0, 16) as usize]))
                    .collect();
                let name = format!("{hash}.3.f.sxl.sophosxl.net");
                let id = rng.range(0, 65_536) as u16;
                day.out.dns(
                    SERVERS,
                    day.t(hr) + j as f64 * 7.0,
                    ip,
                    dc,
                    &name,
                    1,
                    0,
                    vec!["127.0.0.1".into()],
                    id,
                );
            }
        }
    }
}

/// Once a week a user changed their password and a phone or mapped drive
/// keeps the old one: failures every half minute until the account locks
/// after 10 (the KDC then answers "revoked"), for about an hour.
fn lockout(day: &mut Day) {
    let net = day.net;
    if day.weekday != 1 {
        return;
    }
    let mut rng = day.rng(S_LOCK, 0);
    let desktops = net.with_role(ADMIN, Role::Desktop);
    if desktops.is_empty() {
        return;
    }
    let h = &net.hosts[*rng.pick(&desktops)];
    let dc = net.hosts[net.dcs[0]].ip;
    let mut t = day.t(9.0 + rng.unit() * 4.0);
    for n in 0..100 {
        let c = Conn::tcp(t, h.ip, eport(&mut rng), dc, 88)
            .service("krb_tcp")
            .bytes(250, 180)
            .dur(0.01);
        let uid = day.out.conn(h.seg, &c);
        day.out.kerberos(
            h.seg,
            &c,
            uid,
            "u-oldpw",
            Some(if n < 10 { 24 } else { 18 }),
        );
        t += 25.0 + rng.unit() * 15.0;
    }
}

/// The allow-list the IT team would write for its own tools.
pub fn allow_toml(net: &Network) -> String {
    let scanner = net.hosts[net.scanner].ip;
    let backup = net.hosts[net.backup].ip;
    let files: Vec<String> = net
        .files
        .iter()
        .map(|&i| net.hosts[i].ip.to_string())
        .collect();
    let mut s = String::from(
        "# Suggested allow-list for the generated municipality (vagt-bench detect\n\
         # --write-allow): the IT team's own tools, as the municipality would\n\
         # write them in its rules folder. Put it beside the built-in rules.\n\n",
    );
    s.push_str(&format!(
        "[[allow]]\ncomment = \"IT's vulnerability scanner (Greenbone): weekly scan of servere and dmz, Friday discovery sweep of the admin networks\"\nsrc = \"{scanner}\"\n\n"
    ));
    s.push_str(&format!(
        "[[allow]]\ncomment = \"Backup server: nightly backup of servers and desktop agents (port {AGENT_PORT}), offsite copy\"\nsrc = \"{backup}\"\n\n"
    ));
    s.push_str(&format!(
        "[[allow]]\ncomment = \"Antivirus reputation lookups by file hash from the file servers ({})\"\ndetector = \"dns_tunnel\"\nsubject = \"*.sophosxl.net\"\n",
        files.join(", ")
    ));
    s
}
