//! The analyzer's TOML configuration: where the store is, which brokers
//! to read, where the API listens, how long each kind of data is kept, and
//! where the correlation rules are. Every field has a default, so
//! `vagt-analyzer serve` runs with no file at all (SQLite store beside it,
//! broker on localhost). `deploy/vagt-analyzer.toml` documents each one.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub analyzer: AnalyzerSection,
    pub store: StoreSection,
    pub kafka: KafkaSection,
    pub api: ApiSection,
    pub retention: RetentionSection,
    pub correlation: CorrelationSection,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyzerSection {
    /// This instance's name in the audit and deletion logs; "" means the
    /// host name and process id.
    pub instance: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSection {
    /// `sqlite://FILE` (embedded, the default) or
    /// `postgres://USER@HOST/DB` (several instances share it).
    pub url: String,
    pub max_connections: u32,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            url: "sqlite://vagt-analyzer.db".into(),
            max_connections: 8,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaSection {
    /// Off: serve the API and correlate what is stored, ingest nothing.
    pub enabled: bool,
    pub brokers: String,
    /// Instances with the same group share the partitions.
    pub group: String,
    /// As the sensors' `[kafka] topic_prefix`.
    pub topic_prefix: String,
    pub topics: Vec<String>,
    /// Where a message that is not a valid event goes, whole, with the
    /// reason in a header; "" drops it (still counted).
    pub dead_letter_topic: String,
    /// Most events stored per transaction (a batch also ends after 200 ms
    /// of reading, so a quiet stream is stored at once). Big batches
    /// share each index page they touch among more events: 5,000 -> 20,000
    /// took ingest into a store of 10 M events from 18,600 to 20,200
    /// events/s.
    pub batch: usize,
    /// Any librdkafka property (TLS, SASL, ...), passed through.
    pub properties: std::collections::BTreeMap<String, String>,
}

impl Default for KafkaSection {
    fn default() -> Self {
        KafkaSection {
            enabled: true,
            brokers: "localhost:9092".into(),
            group: "vagt-analyzer".into(),
            topic_prefix: "vagt.".into(),
            topics: vec!["alerts".into(), "health".into(), "assets".into()],
            dead_letter_topic: "vagt.dead-letter".into(),
            batch: 20_000,
            properties: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSection {
    pub listen: String,
    /// PEM files; both set turns TLS on.
    pub tls_cert: String,
    pub tls_key: String,
    /// Request bodies larger than this are refused (413).
    pub max_body_bytes: usize,
}

impl Default for ApiSection {
    fn default() -> Self {
        ApiSection {
            listen: "127.0.0.1:8470".into(),
            tls_cert: String::new(),
            tls_key: String::new(),
            max_body_bytes: 64 * 1024,
        }
    }
}

/// Days each kind of data is kept; 0 keeps it for ever.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSection {
    pub alerts_days: f64,
    pub events_days: f64,
    pub assets_days: f64,
    pub health_days: f64,
    pub correlations_days: f64,
    pub incidents_days: f64,
    pub audit_days: f64,
    /// How often retention runs.
    pub interval_minutes: f64,
}

impl Default for RetentionSection {
    fn default() -> Self {
        RetentionSection {
            alerts_days: 395.0,
            events_days: 90.0,
            assets_days: 395.0,
            health_days: 30.0,
            correlations_days: 730.0,
            incidents_days: 1825.0,
            audit_days: 1825.0,
            interval_minutes: 60.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorrelationSection {
    /// The rules file (see rules/analyzer/correlation.toml); "" uses the built-in
    /// copy of it.
    pub rules: PathBuf,
    pub interval_seconds: f64,
}

impl Default for CorrelationSection {
    fn default() -> Self {
        CorrelationSection {
            rules: PathBuf::new(),
            interval_seconds: 10.0,
        }
    }
}

impl Config {
    /// Reads the file, or the defaults when `path` is None.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the config {}: {e}", path.display()))?;
        let cfg: Config =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> anyhow::Result<()> {
        let u = &self.store.url;
        if !(u.starts_with("sqlite:") || u.starts_with("postgres:") || u.starts_with("postgresql:"))
        {
            anyhow::bail!("[store] url must start with sqlite:// or postgres://, not {u:?}");
        }
        if self.kafka.enabled && self.kafka.brokers.trim().is_empty() {
            anyhow::bail!(
                "[kafka] brokers is empty; name them (host:port, ...) or set enabled = false"
            );
        }
        if self.kafka.batch == 0 {
            anyhow::bail!("[kafka] batch must be at least 1");
        }
        if self.api.tls_cert.is_empty() != self.api.tls_key.is_empty() {
            anyhow::bail!("[api] TLS needs both tls_cert and tls_key");
        }
        if self.correlation.interval_seconds <= 0.0 || self.retention.interval_minutes <= 0.0 {
            anyhow::bail!("intervals must be positive");
        }
        Ok(())
    }

    pub fn instance(&self) -> String {
        if !self.analyzer.instance.is_empty() {
            return self.analyzer.instance.clone();
        }
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// deploy/vagt-analyzer.toml documents the defaults: it must say what
    /// the code does.
    #[test]
    fn the_documented_config_is_the_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/vagt-analyzer.toml");
        let cfg = Config::load(Some(&path)).unwrap();
        let as_json = |c: &Config| serde_json::to_value(c).unwrap();
        assert_eq!(as_json(&cfg), as_json(&Config::default()));
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("vagt-acfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (text, want) in [
            ("[store]\nurl = \"mysql://x\"", "sqlite:// or postgres://"),
            ("[api]\ntls_cert = \"c.pem\"", "both tls_cert and tls_key"),
            ("[kafka]\nbatch = 0", "batch"),
            ("[kafak]\n", "unknown field"),
        ] {
            let p = dir.join("c.toml");
            std::fs::write(&p, text).unwrap();
            let e = Config::load(Some(&p)).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
