//! The application parsers of DHCP, NTP, SNMP, Syslog and DTLS, each run over a
//! scripted conversation through `vagt_sensor::applayer::drive` (the same
//! `Session` and per-worker state a worker gives them).
//!
//! Input layout, shared by these targets: a config byte (bit 0: the
//! connection is TCP; bits 1-7 pick the client port's low bits), then
//! steps, each a two-byte header and its bytes: header byte 0 bit 7 set
//! means the bytes go to the client, bits 0-6 are seconds packet time
//! advances before the step; header byte 1 is the length (cut at the end
//! of the input).
//!
//! Invariants: no panic; at most one record per input byte plus one (every
//! record needs at least one byte that made it); every record becomes a
//! wire event whose JSON stays within a bound of the input's size.

use vagt_schema::{ConnId, Proto};
use vagt_sensor::applayer::registry::MakeParser;
use vagt_sensor::applayer::steps::{drive, Step};
use vagt_sensor::applayer::{ConnIdent, Dir, Registry};
use vagt_sensor::decode::Addr;
use vagt_sensor::flow::RecordContext;

fn steps(data: &[u8]) -> (u8, Vec<Step<'_>>) {
    let Some((&config, mut rest)) = data.split_first() else {
        return (0, Vec::new());
    };
    let mut out = Vec::new();
    let mut ts: i64 = 1_000_000_000;
    while rest.len() >= 2 {
        let (flags, len) = (rest[0], usize::from(rest[1]));
        rest = &rest[2..];
        let take = len.min(rest.len());
        ts += i64::from(flags & 0x7f) * 1_000_000_000;
        out.push(Step {
            ts,
            dir: if flags & 0x80 != 0 {
                Dir::ToClient
            } else {
                Dir::ToServer
            },
            data: &rest[..take],
        });
        rest = &rest[take..];
    }
    (config, out)
}

fn run(make: MakeParser, server_port: u16, data: &[u8]) {
    let (config, steps) = steps(data);
    let conn = ConnIdent {
        uid: "CFuzz".into(),
        id: ConnId {
            orig_h: "10.0.0.1".parse().expect("addr"),
            orig_p: 1024 + u16::from(config >> 1),
            resp_h: "10.0.0.2".parse().expect("addr"),
            resp_p: server_port,
        },
        proto: if config & 1 != 0 {
            Proto::Tcp
        } else {
            Proto::Udp
        },
        vlan: 0,
        orig: Addr::default(),
        resp: Addr::default(),
    };
    let out = drive(make, &conn, &Registry::default(), steps);
    assert!(
        out.events.len() <= data.len() + 1,
        "{} records from {} bytes",
        out.events.len(),
        data.len()
    );
    let ctx = RecordContext {
        municipality: String::new(),
        sensor: String::new(),
        site: Default::default(),
        uid_salt: 0,
    };
    let mut total = 0;
    for e in &out.events {
        let mut line = Vec::new();
        if let Some(ev) = e.to_event(&ctx) {
            ev.write_json(&mut line);
        }
        total += line.len();
    }
    // Escaping quadruples a byte at most; each record carries a few
    // hundred bytes of names and identity.
    assert!(
        total <= 4 * data.len() + 1024 * (out.events.len() + 1),
        "{total} bytes of JSON from {} input bytes",
        data.len()
    );
}

/// Target `app_dhcp`.
pub fn app_dhcp(data: &[u8]) {
    run(vagt_sensor::applayer::dhcp::make, 67, data);
}

/// Target `app_dtls`: TLS over UDP datagrams (records, fragments,
/// certificates).
pub fn app_dtls(data: &[u8]) {
    run(vagt_sensor::applayer::tls::dtls::make, 4433, data);
}

/// Target `app_ntp`.
pub fn app_ntp(data: &[u8]) {
    run(vagt_sensor::applayer::ntp::make, 123, data);
}

/// Target `app_snmp`.
pub fn app_snmp(data: &[u8]) {
    run(vagt_sensor::applayer::snmp::make, 161, data);
}

/// Target `app_syslog` (config bit 0 picks TCP framing).
pub fn app_syslog(data: &[u8]) {
    run(vagt_sensor::applayer::syslog::make, 514, data);
}
