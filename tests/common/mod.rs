//! Helpers shared by the integration tests: where the test corpus is, how
//! to run the sensor on a capture, and how to read Zeek logs.

#![allow(dead_code)]

pub mod app_logs;
pub mod broker;
pub mod certs;
pub mod http;
pub mod live;
pub mod many;
pub mod packets;
pub mod shipping;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use vagt_schema::{ConnRecord, Event, EventBody};
use vagt_sensor::config::Config;
use vagt_sensor::decode::offload::ChecksumMode;
use vagt_sensor::flow::service::Service;
use vagt_sensor::pipeline::Summary;

/// The shared test corpus: `$VAGT_CORPUS`, else `../shared/corpus` next
/// to the checkout. Tests that need it fail loudly when it is missing.
pub fn corpus() -> PathBuf {
    if let Ok(p) = std::env::var("VAGT_CORPUS") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [
        root.join("../shared/corpus"),
        root.join("../../shared/corpus"),
    ];
    for c in &candidates {
        if c.join("SOURCES.md").exists() {
            return c.clone();
        }
    }
    panic!(
        "test corpus not found: this test compares the sensor with ground truth from \
         real public captures (Zeek and Suricata baselines, labelled attacks, broken \
         files), kept beside the checkout and described by its SOURCES.md; set \
         VAGT_CORPUS or place it at {}",
        candidates[0].display()
    );
}

/// A folder of the system's temporary directory, removed with everything
/// in it when the test that made it ends (also when it fails).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh `vagt-NAME-PID-N` temporary folder (see [`TempDir`]).
pub fn temp_dir(name: &str) -> TempDir {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("vagt-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temporary folder");
    TempDir(dir)
}

/// Where tests may write reports (inside the target directory).
pub fn report_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-reports");
    std::fs::create_dir_all(&dir).expect("create report dir");
    dir
}

/// Replays files in-process and returns the events and the summary.
pub fn replay(cfg: &Config, files: &[PathBuf]) -> (Vec<Event>, Summary) {
    vagt_sensor::app::replay_collect(cfg, files).unwrap_or_else(|e| panic!("replay failed: {e}"))
}

/// Final (non-interim) connection records of a replay.
pub fn conns(events: &[Event]) -> Vec<ConnRecord> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Conn(c) if !c.interim => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// A Zeek TSV log: field names (normalised) and rows.
#[derive(Debug, Default)]
pub struct ZeekLog {
    pub fields: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ZeekLog {
    pub fn has(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f == field)
    }

    pub fn get<'a>(&self, row: &'a [String], field: &str) -> Option<&'a str> {
        let i = self.fields.iter().position(|f| f == field)?;
        row.get(i).map(|s| s.as_str())
    }
}

/// Maps renamed columns (scope separators, field name maps) to the
/// standard names without the "id." prefix.
fn normalise(field: &str) -> String {
    match field {
        "id.orig_h" | "id_orig_h" | "src_ip" => "orig_h".into(),
        "id.orig_p" | "id_orig_p" | "src_port" => "orig_p".into(),
        "id.resp_h" | "id_resp_h" | "dst_ip" => "resp_h".into(),
        "id.resp_p" | "id_resp_p" | "dst_port" => "resp_p".into(),
        other => other.to_string(),
    }
}

/// Reads a conn.log baseline: full logs with a `#fields` line, or the
/// `zeek-cut -m` form whose first line names the columns.
pub fn read_zeek_log(path: &Path) -> ZeekLog {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut log = ZeekLog::default();
    for line in text.lines() {
        if line.starts_with("###") || line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("#fields\t") {
            log.fields = rest.split('\t').map(normalise).collect();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let cols: Vec<String> = line.split('\t').map(|s| s.to_string()).collect();
        if log.fields.is_empty() {
            log.fields = cols.iter().map(|c| normalise(c)).collect();
        } else {
            log.rows.push(cols);
        }
    }
    log
}

/// The value of a metric field of a sensor record, as Zeek would print it.
pub fn sensor_field(c: &ConnRecord, field: &str) -> Option<String> {
    Some(match field {
        "orig_h" => c.orig_h.to_string(),
        "orig_p" => c.orig_p.to_string(),
        "resp_h" => c.resp_h.to_string(),
        "resp_p" => c.resp_p.to_string(),
        "proto" => c.proto.to_string(),
        "orig_pkts" => c.orig_pkts.to_string(),
        "resp_pkts" => c.resp_pkts.to_string(),
        "orig_ip_bytes" => c.orig_ip_bytes.to_string(),
        "resp_ip_bytes" => c.resp_ip_bytes.to_string(),
        "conn_state" => c.conn_state.to_string(),
        "history" => c.history.clone().unwrap_or_else(|| "-".into()),
        "orig_bytes" => c.orig_bytes.map_or("-".into(), |v| v.to_string()),
        "resp_bytes" => c.resp_bytes.map_or("-".into(), |v| v.to_string()),
        "service" => c.service.clone().unwrap_or_else(|| "-".into()),
        // Zeek prints intervals with six decimals.
        "duration" => c.duration.map_or("-".into(), |d| format!("{d:.6}")),
        "missed_bytes" => c.missed_bytes.to_string(),
        "tunnel_parents" => {
            if c.tunnel_parents.is_empty() {
                "-".into()
            } else {
                c.tunnel_parents.join(",")
            }
        }
        "uid" => c.uid.clone(),
        _ => return None,
    })
}

/// Compares a Zeek value and a sensor value, treating addresses by value.
pub fn same_value(field: &str, zeek: &str, ours: &str) -> bool {
    if field == "orig_h" || field == "resp_h" {
        match (zeek.parse::<IpAddr>(), ours.parse::<IpAddr>()) {
            (Ok(a), Ok(b)) => return a == b,
            _ => return zeek == ours,
        }
    }
    zeek == ours
}

/// Reads the flags and loaded scripts out of a corpus `zeek-command.txt`.
#[derive(Debug, Default)]
pub struct ZeekCommand {
    pub ignore_checksums: bool,
    pub bare: bool,
    pub loads: Vec<String>,
    /// `redef NAME=VALUE` given with `-e` on the command line.
    pub redefs: Vec<(String, String)>,
}

pub fn read_zeek_command(path: &Path) -> ZeekCommand {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut cmd = ZeekCommand::default();
    for line in text.lines() {
        if line.contains("@TEST-EXEC:") && line.contains("zeek ") {
            let words: Vec<&str> = line.split_whitespace().collect();
            for w in &words {
                let (c, b) = short_flags(w);
                cmd.ignore_checksums |= c;
                cmd.bare |= b;
            }
            for part in line.split("redef ").skip(1) {
                let stmt = part.split([';', '\'']).next().unwrap_or_default();
                if let Some((name, value)) = stmt.split_once('=') {
                    cmd.redefs
                        .push((name.trim().to_string(), value.trim().to_string()));
                }
            }
            for w in words {
                if w.starts_with("base/") || w.starts_with("policy/") {
                    cmd.loads.push(w.to_string());
                }
            }
        }
        // A script from another test's folder (`%DIR/events.zeek`), which
        // the notes describe as "it loads base/protocols/<name>".
        if line.contains("%DIR/") {
            if let Some(rest) = line.split("it loads ").nth(1) {
                cmd.loads.extend(
                    rest.split_whitespace()
                        .next()
                        .filter(|w| w.starts_with("base/") || w.starts_with("policy/"))
                        .map(str::to_string),
                );
            }
        }
        if let Some(rest) = line.split("the test script loads:").nth(1) {
            cmd.loads
                .extend(rest.split(',').map(|s| s.trim().to_string()));
        }
    }
    cmd
}

/// Whether a command-line word sets `-C` (ignore checksums) and `-b`
/// (bare mode). Short flags combine (`-Cr`, `-br`); letters after one that
/// takes an argument belong to the argument (`-OZAM` is `-O ZAM`).
fn short_flags(word: &str) -> (bool, bool) {
    let Some(letters) = word.strip_prefix('-') else {
        return (false, false);
    };
    if letters.starts_with('-') || !letters.chars().all(|ch| ch.is_ascii_alphabetic()) {
        return (false, false);
    }
    let (mut c, mut b) = (false, false);
    for ch in letters.chars() {
        match ch {
            'C' => c = true,
            'b' => b = true,
            // Zeek's options that take a value.
            'r' | 'O' | 'w' | 'e' | 'f' | 'i' | 'p' | 's' | 't' | 'x' | 'X' | 'U' | 'G' | 'F'
            | 'o' | 'P' | 'W' => break,
            _ => {}
        }
    }
    (c, b)
}

/// The likely-server ports Zeek has in bare mode with these scripts loaded.
pub fn bare_mode_ports(loads: &[String]) -> (Vec<u16>, Vec<u16>) {
    let table: HashMap<&str, (&[u16], &[u16])> = HashMap::from([
        ("dns", (&[53u16][..], &[53u16, 137, 5353, 5355][..])),
        (
            "http",
            (&[80u16, 81, 631, 1080, 3128, 8000, 8080, 8888][..], &[][..]),
        ),
        ("ftp", (&[21u16, 2811][..], &[][..])),
        ("ssh", (&[22u16][..], &[][..])),
        (
            "ssl",
            (
                &[443u16, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223][..],
                &[][..],
            ),
        ),
        ("ntp", (&[][..], &[123u16][..])),
        ("dhcp", (&[][..], &[67u16][..])),
        ("pop3", (&[110u16][..], &[][..])),
        ("irc", (&[6666u16, 6667, 6668, 6669][..], &[][..])),
        ("krb", (&[88u16][..], &[88u16][..])),
        ("modbus", (&[502u16][..], &[][..])),
        ("dnp3", (&[20000u16][..], &[20000u16][..])),
        ("smtp", (&[25u16, 587][..], &[][..])),
        ("quic", (&[][..], &[443u16][..])),
        ("redis", (&[6379u16][..], &[][..])),
        ("syslog", (&[][..], &[514u16][..])),
        ("snmp", (&[][..], &[161u16, 162][..])),
        ("imap", (&[143u16][..], &[][..])),
        (
            "tunnels",
            (&[][..], &[2123u16, 2152, 3544, 4789, 5072, 6081][..]),
        ),
    ]);
    let mut tcp = Vec::new();
    let mut udp = Vec::new();
    for l in loads {
        for (name, (t, u)) in &table {
            let proto = format!("base/protocols/{name}");
            let fw = format!("base/frameworks/{name}");
            if l.starts_with(&proto) || l.starts_with(&fw) {
                tcp.extend_from_slice(t);
                udp.extend_from_slice(u);
            }
        }
    }
    (tcp, udp)
}

/// A sensor configuration that runs like the Zeek invocation described.
pub fn config_for(cmd: &ZeekCommand) -> Config {
    let mut cfg = Config::default();
    cfg.pipeline.workers = 1;
    cfg.decode.checksums = if cmd.ignore_checksums {
        ChecksumMode::Off
    } else {
        ChecksumMode::Strict
    };
    // Zeek options that Vagt has as settings.
    for (name, value) in &cmd.redefs {
        let dhcp = &mut cfg.app.dhcp;
        match name.as_str() {
            "DHCP::max_uids_per_log_entry" => {
                dhcp.max_uids_per_log_entry = value.parse().unwrap_or(dhcp.max_uids_per_log_entry)
            }
            "DHCP::max_msg_types_per_log_entry" => {
                dhcp.max_msg_types_per_log_entry =
                    value.parse().unwrap_or(dhcp.max_msg_types_per_log_entry)
            }
            _ => {}
        }
    }
    // Everything else stays at Vagt's defaults (VLAN in the key, interim
    // records on); only what the Zeek command line changes is mirrored.
    if cmd.bare {
        let (tcp, udp) = bare_mode_ports(&cmd.loads);
        cfg.flow.likely_server_ports_tcp = tcp;
        cfg.flow.likely_server_ports_udp = udp;
        // In bare mode Zeek attaches an analyzer only where the protocol's
        // script registered its ports and signatures, so a protocol whose
        // script is not loaded never shows up in `service`.
        cfg.services.disabled = Service::ALL
            .iter()
            .map(|s| s.name())
            .filter(|name| {
                // Zeek's syslog script registers its TCP analyzer too, its
                // FTP script names the data connections, and its SSL
                // scripts carry the DTLS analyzer's signature.
                let base: &str = match *name {
                    "syslog_tcp" => "syslog",
                    "ftp-data" => "ftp",
                    "dtls" => "ssl",
                    _ => name,
                };
                let script = format!("base/protocols/{base}");
                // Zeek's WebSocket script loads the HTTP script, whose
                // upgrade handling it builds on.
                let implied = *name == "http"
                    && cmd
                        .loads
                        .iter()
                        .any(|l| l.starts_with("base/protocols/websocket"));
                // A protocol's policy scripts load its base script.
                let policy = format!("policy/protocols/{name}/");
                // Zeek's DCE/RPC scripts live under `dce-rpc`.
                let dce_rpc = *name == "dce_rpc"
                    && cmd
                        .loads
                        .iter()
                        .any(|l| l.starts_with("base/protocols/dce-rpc"));
                // `@load protocols/<name>/...` names the same policy script.
                let short = format!("protocols/{name}/");
                !implied
                    && !dce_rpc
                    && !cmd.loads.iter().any(|l| {
                        l.starts_with(&script) || l.starts_with(&policy) || l.starts_with(&short)
                    })
            })
            .map(str::to_string)
            .collect();
    }
    cfg
}

/// The capture file in a corpus test folder.
pub fn trace_in(dir: &Path) -> Option<PathBuf> {
    ["trace.pcap", "trace.pcapng"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
}
