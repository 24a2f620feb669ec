//! Sensor configuration: one TOML file covers every setting, every setting
//! has a default, and command-line flags override the file.
//!
//! Unknown keys are errors, so a typo never silently falls back to a
//! default. `vagt-sensor config` prints the defaults as a starting point.

use crate::decode::offload::ChecksumMode;
use crate::decode::DecodeOptions;
use crate::flow::service::{Service, ServiceConfig};
use crate::flow::{PortSet, TableConfig, Timeouts};
use crate::site::{IpNet, Segment, Site};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub sensor: SensorSection,
    pub capture: CaptureSection,
    pub pipeline: PipelineSection,
    pub decode: DecodeSection,
    pub flow: FlowSection,
    pub services: ServicesSection,
    pub output: OutputSection,
    pub site: SiteSection,
    pub segments: Vec<SegmentSection>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensorSection {
    /// Municipality code (kommunekode) or other tenant id.
    pub municipality: String,
    /// This sensor's id within the municipality.
    pub sensor_id: String,
}

impl Default for SensorSection {
    fn default() -> Self {
        SensorSection {
            municipality: "0000".into(),
            sensor_id: "sensor-1".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureSection {
    /// Interface for `run` (flag: --interface).
    pub interface: String,
    /// How to capture: AF_PACKET rings (Linux), libpcap, or `auto`.
    pub method: CaptureMethod,
    pub snaplen: i32,
    pub promiscuous: bool,
    /// BPF filter expression; empty captures everything.
    pub bpf: String,
    /// Kernel capture buffer in MiB; with AF_PACKET, per worker ring.
    pub buffer_mib: i32,
    /// AF_PACKET: size of one ring block in KiB (a power of two, at least
    /// the page size); the kernel hands blocks over whole.
    pub block_kib: i32,
    /// AF_PACKET: a block that is not full is handed over after this many
    /// milliseconds, which bounds the latency on a quiet wire.
    pub block_timeout_ms: i32,
    /// How long a read may wait for packets before the sensor checks for
    /// shutdown and timers, in milliseconds.
    pub timeout_ms: i32,
}

impl Default for CaptureSection {
    fn default() -> Self {
        CaptureSection {
            interface: String::new(),
            snaplen: 65535,
            promiscuous: true,
            bpf: String::new(),
            method: CaptureMethod::Auto,
            buffer_mib: 64,
            block_kib: 1024,
            block_timeout_ms: 10,
            timeout_ms: 100,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    /// Worker threads; 0 picks one per CPU core.
    pub workers: usize,
    /// How packets reach workers: `auto` lets each worker read its own
    /// fanout ring, or the workers read a file together; `queued` always
    /// uses a reader thread.
    pub dispatch: crate::pipeline::Dispatch,
    /// Packets per batch handed to a worker (queued dispatch).
    pub batch_packets: usize,
    /// Batches in flight per worker (queued dispatch).
    pub queue_batches: usize,
}

impl Default for PipelineSection {
    fn default() -> Self {
        PipelineSection {
            workers: 0,
            dispatch: crate::pipeline::Dispatch::Auto,
            batch_packets: 256,
            queue_batches: 32,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeSection {
    /// `auto`, `strict` or `off`; see [`ChecksumMode`].
    pub checksums: ChecksumMode,
    pub decapsulate: bool,
    pub vxlan_ports: Vec<u16>,
    pub geneve_ports: Vec<u16>,
    pub teredo_ports: Vec<u16>,
    pub ayiya_ports: Vec<u16>,
    pub gtp_ports: Vec<u16>,
    pub gre_udp_ports: Vec<u16>,
}

impl Default for DecodeSection {
    fn default() -> Self {
        let d = DecodeOptions::default();
        DecodeSection {
            checksums: ChecksumMode::default(),
            decapsulate: d.decapsulate,
            vxlan_ports: d.vxlan_ports,
            geneve_ports: d.geneve_ports,
            teredo_ports: d.teredo_ports,
            ayiya_ports: d.ayiya_ports,
            gtp_ports: d.gtp_ports,
            gre_udp_ports: d.gre_udp_ports,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowSection {
    /// Connections tracked at most (across all workers); when reached, the
    /// connections idle the longest are written out early.
    pub max_connections: usize,
    /// Tell the same 5-tuple on different VLANs apart.
    pub vlan_in_key: bool,
    /// Tell the same 5-tuple at different tunnel depths apart.
    pub tunnel_depth_in_key: bool,
    /// Ports taken to be servers when a connection's start was missed.
    pub likely_server_ports_tcp: Vec<u16>,
    pub likely_server_ports_udp: Vec<u16>,
    pub timeouts: TimeoutSection,
}

impl Default for FlowSection {
    fn default() -> Self {
        FlowSection {
            max_connections: 1_000_000,
            vlan_in_key: true,
            tunnel_depth_in_key: true,
            likely_server_ports_tcp: crate::flow::ports::ZEEK_TCP.to_vec(),
            likely_server_ports_udp: crate::flow::ports::ZEEK_UDP.to_vec(),
            timeouts: TimeoutSection::default(),
        }
    }
}

/// Timeouts in seconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutSection {
    pub tcp_inactivity: f64,
    pub tcp_handshake_inactivity: f64,
    pub tcp_attempt: f64,
    pub tcp_close_delay: f64,
    pub udp_inactivity: f64,
    pub icmp_inactivity: f64,
    pub other_inactivity: f64,
    /// Long-lived connections write an interim record this often, per
    /// transport; 0 = never.
    pub tcp_active: f64,
    pub udp_active: f64,
    pub icmp_active: f64,
    pub other_active: f64,
}

impl Default for TimeoutSection {
    fn default() -> Self {
        let t = Timeouts::default();
        let s = |ns: i64| ns as f64 / 1e9;
        TimeoutSection {
            tcp_inactivity: s(t.tcp_inactivity),
            tcp_handshake_inactivity: s(t.tcp_handshake_inactivity),
            tcp_attempt: s(t.tcp_attempt),
            tcp_close_delay: s(t.tcp_close_delay),
            udp_inactivity: s(t.udp_inactivity),
            icmp_inactivity: s(t.icmp_inactivity),
            other_inactivity: s(t.other_inactivity),
            tcp_active: s(t.tcp_active),
            udp_active: s(t.udp_active),
            icmp_active: s(t.icmp_active),
            other_active: s(t.other_active),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServicesSection {
    pub enabled: bool,
    /// Protocols never reported, by name (e.g. ["snmp"]).
    pub disabled: Vec<String>,
}

impl Default for ServicesSection {
    fn default() -> Self {
        ServicesSection {
            enabled: true,
            disabled: vec![],
        }
    }
}

/// How live packets are captured.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureMethod {
    /// AF_PACKET where the system has it, else libpcap.
    #[default]
    Auto,
    /// Linux AF_PACKET TPACKET_V3 rings, one per worker, with fanout: no
    /// copy and no hand-over between threads.
    AfPacket,
    /// libpcap (portable; one reader thread feeds the workers).
    Libpcap,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// JSON Lines with Zeek field names.
    Json,
    /// Zeek's tab-separated conn.log.
    Zeek,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSection {
    /// File to write; "-" is standard output.
    pub path: String,
    pub format: OutputFormat,
    /// Live capture writes a stats event this often, in seconds.
    pub stats_interval: f64,
    /// Finished records reach the output at most this many seconds after
    /// they are written (they are held to write in large pieces).
    pub flush_interval: f64,
    /// Live capture: start an existing output file afresh instead of
    /// appending to it.
    pub truncate: bool,
}

impl Default for OutputSection {
    fn default() -> Self {
        OutputSection {
            path: "-".into(),
            format: OutputFormat::Json,
            stats_interval: 60.0,
            flush_interval: 1.0,
            truncate: false,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SiteSection {
    /// Local networks outside any named segment.
    pub local_networks: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SegmentSection {
    pub name: String,
    pub networks: Vec<String>,
    pub vlans: Vec<u16>,
}

/// A configuration problem, phrased for the person editing the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid:\n{message}")]
    Parse { path: String, message: String },
    #[error("invalid setting {setting}: {message}")]
    Invalid { setting: String, message: String },
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

fn invalid(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.into(),
        message: message.into(),
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            source: e,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, name: &str) -> Result<Config, ConfigError> {
        // The toml crate's message shows the line, a caret under the
        // problem and what was expected, over several lines: kept as it is.
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: name.into(),
            message: e.to_string().trim_end().to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.sensor.municipality.trim().is_empty() {
            return Err(invalid("sensor.municipality", "must not be empty"));
        }
        if self.sensor.sensor_id.trim().is_empty() {
            return Err(invalid("sensor.sensor_id", "must not be empty"));
        }
        if !(64..=262_144).contains(&self.capture.snaplen) {
            return Err(invalid("capture.snaplen", "must be between 64 and 262144"));
        }
        if self.capture.buffer_mib < 1 {
            return Err(invalid("capture.buffer_mib", "must be at least 1"));
        }
        if !(4..=65536).contains(&self.capture.block_kib)
            || !(self.capture.block_kib as u32).is_power_of_two()
        {
            return Err(invalid(
                "capture.block_kib",
                "must be a power of two between 4 and 65536",
            ));
        }
        if i64::from(self.capture.buffer_mib) * 1024 < i64::from(self.capture.block_kib) {
            return Err(invalid(
                "capture.buffer_mib",
                "must hold at least one block of capture.block_kib",
            ));
        }
        if !(1..=10_000).contains(&self.capture.block_timeout_ms) {
            return Err(invalid(
                "capture.block_timeout_ms",
                "must be between 1 and 10000",
            ));
        }
        if self.capture.timeout_ms < 1 {
            return Err(invalid("capture.timeout_ms", "must be at least 1"));
        }
        if self.pipeline.workers > 256 {
            return Err(invalid("pipeline.workers", "must be at most 256"));
        }
        if !(1..=65536).contains(&self.pipeline.batch_packets) {
            return Err(invalid(
                "pipeline.batch_packets",
                "must be between 1 and 65536",
            ));
        }
        if !(2..=4096).contains(&self.pipeline.queue_batches) {
            return Err(invalid(
                "pipeline.queue_batches",
                "must be between 2 and 4096",
            ));
        }
        if self.flow.max_connections < 1 {
            return Err(invalid("flow.max_connections", "must be at least 1"));
        }
        let t = &self.flow.timeouts;
        for (name, v) in [
            ("tcp_inactivity", t.tcp_inactivity),
            ("tcp_handshake_inactivity", t.tcp_handshake_inactivity),
            ("tcp_attempt", t.tcp_attempt),
            ("tcp_close_delay", t.tcp_close_delay),
            ("udp_inactivity", t.udp_inactivity),
            ("icmp_inactivity", t.icmp_inactivity),
            ("other_inactivity", t.other_inactivity),
            ("tcp_active", t.tcp_active),
            ("udp_active", t.udp_active),
            ("icmp_active", t.icmp_active),
            ("other_active", t.other_active),
        ] {
            if !v.is_finite() || !(0.0..=1e7).contains(&v) {
                return Err(invalid(
                    &format!("flow.timeouts.{name}"),
                    "must be a number of seconds between 0 and 10000000",
                ));
            }
        }
        for name in &self.services.disabled {
            if Service::from_name(name).is_none() {
                let known: Vec<&str> = Service::ALL.iter().map(|s| s.name()).collect();
                return Err(invalid(
                    "services.disabled",
                    format!("unknown protocol '{name}'; known: {}", known.join(", ")),
                ));
            }
        }
        let flush = self.output.flush_interval;
        if !flush.is_finite() || !(0.0..=3600.0).contains(&flush) {
            return Err(invalid(
                "output.flush_interval",
                "must be a number of seconds between 0 and 3600",
            ));
        }
        if self.output.path.is_empty() {
            return Err(invalid(
                "output.path",
                "must not be empty; use \"-\" for stdout",
            ));
        }
        self.site()?;
        Ok(())
    }

    /// The site model (segments and local networks).
    pub fn site(&self) -> Result<Site, ConfigError> {
        let parse_nets = |setting: &str, nets: &[String]| -> Result<Vec<IpNet>, ConfigError> {
            nets.iter()
                .map(|n| n.parse::<IpNet>().map_err(|e| invalid(setting, e)))
                .collect()
        };
        let mut segments = Vec::new();
        for (i, s) in self.segments.iter().enumerate() {
            if s.name.trim().is_empty() {
                return Err(invalid(&format!("segments[{i}].name"), "must not be empty"));
            }
            if s.vlans.iter().any(|v| *v == 0 || *v > 4094) {
                return Err(invalid(
                    &format!("segments[{i}].vlans"),
                    "VLAN ids are 1..=4094",
                ));
            }
            segments.push(Segment {
                name: s.name.clone(),
                nets: parse_nets(&format!("segments[{i}].networks"), &s.networks)?,
                vlans: s.vlans.clone(),
            });
        }
        Ok(Site {
            segments,
            local_nets: parse_nets("site.local_networks", &self.site.local_networks)?,
        })
    }

    pub fn decode_options(&self) -> DecodeOptions {
        let d = &self.decode;
        DecodeOptions {
            validate_checksums: d.checksums != ChecksumMode::Off,
            probe_offload: d.checksums == ChecksumMode::Auto,
            decapsulate: d.decapsulate,
            vxlan_ports: d.vxlan_ports.clone(),
            geneve_ports: d.geneve_ports.clone(),
            teredo_ports: d.teredo_ports.clone(),
            ayiya_ports: d.ayiya_ports.clone(),
            gtp_ports: d.gtp_ports.clone(),
            gre_udp_ports: d.gre_udp_ports.clone(),
        }
    }

    /// Connection-table settings for one of `workers` workers.
    pub fn table_config(&self, workers: usize) -> TableConfig {
        let t = &self.flow.timeouts;
        let ns = |s: f64| (s * 1e9) as i64;
        let disabled = self
            .services
            .disabled
            .iter()
            .filter_map(|n| Service::from_name(n))
            .fold(0u32, |acc, s| acc | s.bit());
        TableConfig {
            max_connections: (self.flow.max_connections / workers.max(1)).max(1),
            timeouts: Timeouts {
                tcp_inactivity: ns(t.tcp_inactivity),
                tcp_handshake_inactivity: ns(t.tcp_handshake_inactivity),
                tcp_attempt: ns(t.tcp_attempt),
                tcp_close_delay: ns(t.tcp_close_delay),
                udp_inactivity: ns(t.udp_inactivity),
                icmp_inactivity: ns(t.icmp_inactivity),
                other_inactivity: ns(t.other_inactivity),
                tcp_active: ns(t.tcp_active),
                udp_active: ns(t.udp_active),
                icmp_active: ns(t.icmp_active),
                other_active: ns(t.other_active),
            },
            likely_server_ports: PortSet::from_lists(
                &self.flow.likely_server_ports_tcp,
                &self.flow.likely_server_ports_udp,
            ),
            vlan_in_key: self.flow.vlan_in_key,
            tunnel_depth_in_key: self.flow.tunnel_depth_in_key,
            uid_salt: self.uid_salt(),
            services: ServiceConfig {
                enabled: self.services.enabled,
                disabled,
            },
        }
    }

    /// Salt for connection uids: uids differ between sensors but are
    /// stable across replays of the same capture.
    pub fn uid_salt(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self
            .sensor
            .municipality
            .bytes()
            .chain([0u8])
            .chain(self.sensor.sensor_id.bytes())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }

    /// Worker count, resolving 0 to the machine's cores minus one.
    /// Workers when each reads its own lane: one per core by default.
    pub fn workers(&self) -> usize {
        if self.pipeline.workers > 0 {
            return self.pipeline.workers;
        }
        cores()
    }

    /// Workers beside a reader thread: one per core less the reader's.
    pub fn workers_beside_reader(&self) -> usize {
        if self.pipeline.workers > 0 {
            return self.pipeline.workers;
        }
        cores().saturating_sub(1).max(1)
    }

    /// The commented example configuration (every default), printed by
    /// `vagt-sensor config`; the same file ships as deploy/vagt-sensor.toml.
    pub fn default_toml() -> &'static str {
        include_str!("../../deploy/vagt-sensor.toml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_documents_the_real_defaults() {
        let cfg = Config::parse(Config::default_toml(), "example").expect("example parses");
        let json = |c: &Config| serde_json::to_value(c).expect("serialise");
        assert_eq!(json(&cfg), json(&Config::default()));
    }

    #[test]
    fn typos_and_bad_values_give_clear_errors() {
        let e = Config::parse("[pipeline]\nworker = 2\n", "x.toml").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("x.toml") && msg.contains("worker"), "{msg}");

        let e = Config::parse(
            "[[segments]]\nname = \"care\"\nnetworks = [\"10.0.0.0/99\"]\n",
            "y",
        )
        .unwrap_err();
        assert!(e.to_string().contains("segments[0].networks"), "{e}");

        let e = Config::parse("[services]\ndisabled = [\"nosuch\"]\n", "z").unwrap_err();
        assert!(e.to_string().contains("unknown protocol"), "{e}");

        let e = Config::parse("[flow.timeouts]\nudp_inactivity = -1\n", "t").unwrap_err();
        assert!(
            e.to_string().contains("flow.timeouts.udp_inactivity"),
            "{e}"
        );

        let e = Config::parse("[output]\nflush_interval = -1\n", "f").unwrap_err();
        assert!(e.to_string().contains("output.flush_interval"), "{e}");

        let e = Config::parse("this is not toml", "n").unwrap_err();
        assert!(e.to_string().contains("not valid"), "{e}");
    }

    #[test]
    fn table_config_splits_the_connection_budget() {
        let cfg = Config::default();
        assert_eq!(cfg.table_config(4).max_connections, 250_000);
        assert_eq!(cfg.table_config(4).timeouts.tcp_attempt, 5_000_000_000);
    }
}
