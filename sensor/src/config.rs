//! Sensor configuration: one TOML file covers every setting, every setting
//! has a default, and command-line flags override the file.
//!
//! Unknown keys are errors, so a typo never silently falls back to a
//! default. `vagt-sensor config` prints the defaults as a starting point.
//!
//! Each part's settings type lives with its module (`capture::settings`,
//! `decode::settings`, `flow::settings`, `pipeline::settings`,
//! `output::settings`, `site`); this file composes them, checks what
//! types alone cannot, and turns them into each part's runtime options.

pub use crate::applayer::AppSettings;
pub use crate::assets::AssetsSection;
pub use crate::capture::{CaptureMethod, CaptureSection};
use crate::decode::offload::ChecksumMode;
use crate::decode::DecodeOptions;
pub use crate::decode::DecodeSection;
use crate::flow::service::{Service, ServiceConfig};
pub use crate::flow::{FlowSection, ServicesSection, TimeoutSection};
use crate::flow::{PortSet, TableConfig, Timeouts};
pub use crate::output::{OutputFormat, OutputSection};
pub use crate::pipeline::PipelineSection;
use crate::site::{IpNet, Segment, Site};
pub use crate::site::{SegmentSection, SiteSection};
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
    pub app: AppSettings,
    pub output: OutputSection,
    pub kafka: crate::output::kafka::KafkaSection,
    pub metrics: crate::output::metrics::MetricsSection,
    pub privacy: vagt_privacy::Settings,
    pub assets: AssetsSection,
    pub arp: crate::arp::ArpSection,
    pub analysis: crate::analysis::AnalysisSection,
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
            ("dns_session", t.dns_session),
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
        if let Some(name) = self.app.unknown_names().first() {
            let known: Vec<&str> = Service::ALL.iter().map(|s| s.name()).collect();
            return Err(invalid(
                "app.disabled",
                format!("unknown protocol '{name}'; known: {}", known.join(", ")),
            ));
        }
        if self.app.max_held_per_stream == 0 || self.app.reassembly_memory == 0 {
            return Err(invalid(
                "app",
                "max_held_per_stream and reassembly_memory must be above 0 bytes",
            ));
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
        if !(1..=16_777_216).contains(&self.assets.max_assets) {
            return Err(invalid(
                "assets.max_assets",
                "must be between 1 and 16777216",
            ));
        }
        self.arp.validate().map_err(|(k, m)| invalid(k, m))?;
        if self.kafka.enabled {
            let m = self.sensor.municipality.trim();
            if !(3..=4).contains(&m.len()) || !m.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(
                    "sensor.municipality",
                    format!(
                        "'{m}' is not a kommunekode; the centre keys every event by it, \
                         so give the 3-digit code, e.g. 751 (0751 is accepted)"
                    ),
                ));
            }
            self.kafka.validate().map_err(|(k, m)| invalid(&k, m))?;
        }
        self.privacy
            .validate()
            .map_err(|e| invalid("privacy", e.to_string()))?;
        self.site()?;
        Ok(())
    }

    /// The `[privacy]` settings as used: the key and journal in
    /// /var/lib/vagt unless set, and the site's local networks and
    /// segments counted as internal beside `[privacy] internal`.
    pub fn privacy_settings(&self) -> vagt_privacy::Settings {
        let mut p = self.privacy.clone();
        let dir = std::path::Path::new("/var/lib/vagt");
        if p.key_file.is_none() {
            p.key_file = Some(dir.join("privacy.key"));
        }
        if p.journal.is_none() {
            p.journal = p.key_file.as_ref().map(|k| k.with_extension("journal"));
        }
        let nets = self
            .site
            .local_networks
            .iter()
            .chain(self.segments.iter().flat_map(|s| s.networks.iter()));
        for n in nets {
            if let Ok(net) = n.parse::<vagt_privacy::Net>() {
                if !p.internal.contains(&net) {
                    p.internal.push(net);
                }
            }
        }
        p
    }

    /// The site model (segments and local networks).
    /// Names of the segments whose alerts rank higher (care, OT).
    pub fn segment_kinds(&self) -> std::collections::BTreeMap<String, String> {
        self.segments
            .iter()
            .filter(|s| !s.kind.is_empty())
            .map(|s| (s.name.clone(), s.kind.clone()))
            .collect()
    }

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
            if !s.kind.is_empty() && !crate::site::KINDS.contains(&s.kind.as_str()) {
                return Err(invalid(
                    &format!("segments[{i}].kind"),
                    format!(
                        "\"{}\" is no segment kind; use one of {}",
                        s.kind,
                        crate::site::KINDS.join(", ")
                    ),
                ));
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
        let dns_analysed = self.services.enabled && disabled & Service::Dns.bit() == 0;
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
                // The DNS analyzer's timer comes with DNS analysis.
                dns_session: if dns_analysed { ns(t.dns_session) } else { 0 },
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
            app: crate::applayer::Registry::new(&AppSettings {
                // Each worker gets its share of the reassembly memory.
                reassembly_memory: (self.app.reassembly_memory / workers.max(1)).max(1),
                ..self.app.clone()
            }),
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
