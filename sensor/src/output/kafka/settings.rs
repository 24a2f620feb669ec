//! The Kafka output's settings (`[kafka]`): brokers, topics, security,
//! the spool, and librdkafka properties passed through as they are.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use vagt_schema::Topic;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSection {
    /// Ship events to Kafka.
    pub enabled: bool,
    /// Bootstrap brokers, comma-separated `host:port`.
    pub brokers: String,
    /// Put in front of every topic name: `vagt.alerts`, `vagt.health`, ...
    pub topic_prefix: String,
    /// Topics to send: alerts, health, assets, and, for centres that want
    /// them, app (application records, segment metrics) and conn.
    pub topics: Vec<String>,
    /// zstd, lz4, gzip, snappy or none.
    pub compression: String,
    /// plaintext, ssl, sasl_plaintext or sasl_ssl.
    pub security_protocol: String,
    /// TLS: the CA that signed the brokers' certificates, and this
    /// sensor's certificate and key for mutual TLS (PEM files).
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    /// SASL: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN; the password is read
    /// from `sasl_password_file` (first line), so it stays out of the
    /// config file.
    pub sasl_mechanism: String,
    pub sasl_username: String,
    pub sasl_password_file: String,
    /// The write-ahead spool: "" is /var/lib/vagt/spool.
    pub spool_dir: String,
    /// The spool's bounds: past them it drops connection records first,
    /// then application records, assets, health and alerts last, oldest
    /// first, and says so in the health topic.
    pub spool_max_mib: u64,
    pub spool_max_age_days: f64,
    /// When the spool reaches the disk: "batch" (fsync every batch, the
    /// default), "interval" (fsync at most once a second) or "never"
    /// (leave it to the kernel).
    pub fsync: String,
    /// Events per spool batch; a batch is also closed at every flush
    /// interval of `[output]`.
    pub batch_events: usize,
    /// Seconds between health events (the `stats` event on the health
    /// topic).
    pub health_interval: f64,
    /// When the input ends or the sensor stops, wait this many seconds
    /// for outstanding deliveries; what is left stays in the spool and is
    /// sent on the next start.
    pub drain_timeout: f64,
    /// Any librdkafka property, e.g. `"linger.ms" = "50"`; these win over
    /// the settings above.
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaSection {
    fn default() -> Self {
        KafkaSection {
            enabled: false,
            brokers: "localhost:9092".into(),
            topic_prefix: "vagt.".into(),
            topics: vec!["alerts".into(), "health".into(), "assets".into()],
            compression: "zstd".into(),
            security_protocol: "plaintext".into(),
            ca_file: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            sasl_mechanism: String::new(),
            sasl_username: String::new(),
            sasl_password_file: String::new(),
            spool_dir: String::new(),
            spool_max_mib: 1024,
            spool_max_age_days: 7.0,
            fsync: "batch".into(),
            batch_events: 1000,
            health_interval: 30.0,
            drain_timeout: 30.0,
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaSection {
    /// The topics switched on, as the schema names them.
    pub fn topics(&self) -> Result<Vec<Topic>, String> {
        self.topics
            .iter()
            .map(|t| {
                Topic::ALL
                    .into_iter()
                    .find(|k| k.name() == t)
                    .ok_or_else(|| {
                        format!("unknown topic '{t}'; known: alerts, health, assets, app, conn")
                    })
            })
            .collect()
    }

    pub fn spool_dir(&self) -> PathBuf {
        if self.spool_dir.is_empty() {
            PathBuf::from("/var/lib/vagt/spool")
        } else {
            PathBuf::from(&self.spool_dir)
        }
    }

    /// Checks what types alone cannot; the message names the setting.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((format!("kafka.{k}"), m));
        if self.brokers.trim().is_empty() {
            return bad("brokers", "must name at least one broker, host:port".into());
        }
        if let Err(m) = self.topics() {
            return bad("topics", m);
        }
        if !["zstd", "lz4", "gzip", "snappy", "none"].contains(&self.compression.as_str()) {
            return bad(
                "compression",
                format!(
                    "'{}': use zstd, lz4, gzip, snappy or none",
                    self.compression
                ),
            );
        }
        let proto = self.security_protocol.as_str();
        if !["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].contains(&proto) {
            return bad(
                "security_protocol",
                format!("'{proto}': use plaintext, ssl, sasl_plaintext or sasl_ssl"),
            );
        }
        let sasl = proto.starts_with("sasl");
        if sasl {
            if !["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"].contains(&self.sasl_mechanism.as_str())
            {
                return bad(
                    "sasl_mechanism",
                    format!(
                        "'{}': with {proto} use SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN",
                        self.sasl_mechanism
                    ),
                );
            }
            if self.sasl_username.is_empty() || self.sasl_password_file.is_empty() {
                return bad(
                    "sasl_username",
                    format!("{proto} needs sasl_username and sasl_password_file"),
                );
            }
        } else if !self.sasl_mechanism.is_empty() {
            return bad(
                "sasl_mechanism",
                format!("is set but security_protocol is {proto}; use sasl_ssl or sasl_plaintext"),
            );
        }
        for (k, f) in [
            ("ca_file", &self.ca_file),
            ("cert_file", &self.cert_file),
            ("key_file", &self.key_file),
            ("sasl_password_file", &self.sasl_password_file),
        ] {
            if !f.is_empty() {
                if let Err(e) = std::fs::metadata(f) {
                    return bad(k, format!("cannot read {f}: {e}"));
                }
            }
        }
        if self.cert_file.is_empty() != self.key_file.is_empty() {
            return bad(
                "cert_file",
                "mutual TLS needs both cert_file and key_file".into(),
            );
        }
        if !["batch", "interval", "never"].contains(&self.fsync.as_str()) {
            return bad(
                "fsync",
                format!("'{}': use batch, interval or never", self.fsync),
            );
        }
        if self.spool_max_mib < 1 {
            return bad("spool_max_mib", "must be at least 1".into());
        }
        for (k, v, hi) in [
            ("spool_max_age_days", self.spool_max_age_days, 3650.0),
            ("health_interval", self.health_interval, 86_400.0),
            ("drain_timeout", self.drain_timeout, 86_400.0),
        ] {
            if !v.is_finite() || !(0.0..=hi).contains(&v) {
                return bad(k, format!("must be a number between 0 and {hi}"));
            }
        }
        if self.health_interval < 1.0 {
            return bad("health_interval", "must be at least 1 second".into());
        }
        if !(1..=1_000_000).contains(&self.batch_events) {
            return bad("batch_events", "must be between 1 and 1000000".into());
        }
        Ok(())
    }

    /// The librdkafka properties: safe delivery (idempotence, acks from
    /// every replica), compression, security, then the passthrough.
    pub fn client_properties(&self) -> Result<BTreeMap<String, String>, String> {
        let mut p = BTreeMap::new();
        let mut set = |k: &str, v: &str| {
            p.insert(k.to_string(), v.to_string());
        };
        set("bootstrap.servers", &self.brokers);
        set("enable.idempotence", "true");
        set("acks", "all");
        set("compression.type", &self.compression);
        set("linger.ms", "20");
        // A message the broker does not take within a minute comes back
        // as failed and is sent again from the spool: the spool, not
        // librdkafka's memory, holds what an outage leaves behind.
        set("message.timeout.ms", "60000");
        set("reconnect.backoff.ms", "100");
        set("reconnect.backoff.max.ms", "5000");
        set("socket.keepalive.enable", "true");
        set("security.protocol", &self.security_protocol);
        if !self.ca_file.is_empty() {
            set("ssl.ca.location", &self.ca_file);
        }
        if !self.cert_file.is_empty() {
            set("ssl.certificate.location", &self.cert_file);
            set("ssl.key.location", &self.key_file);
        }
        if self.security_protocol.starts_with("sasl") {
            let password = std::fs::read_to_string(&self.sasl_password_file)
                .map_err(|e| format!("cannot read {}: {e}", self.sasl_password_file))?;
            let password = password.lines().next().unwrap_or("").trim_end();
            if password.is_empty() {
                return Err(format!(
                    "{} is empty: put the SASL password on its first line",
                    self.sasl_password_file
                ));
            }
            set("sasl.mechanisms", &self.sasl_mechanism);
            set("sasl.username", &self.sasl_username);
            set("sasl.password", password);
        }
        for (k, v) in &self.properties {
            p.insert(k.clone(), v.clone());
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_safe() {
        let k = KafkaSection::default();
        assert_eq!(k.validate(), Ok(()));
        let p = k.client_properties().expect("properties");
        assert_eq!(p["enable.idempotence"], "true");
        assert_eq!(p["acks"], "all");
        assert_eq!(p["compression.type"], "zstd");
    }

    #[test]
    fn bad_settings_name_the_setting_and_the_fix() {
        let mut k = KafkaSection {
            topics: vec!["alert".into()],
            ..KafkaSection::default()
        };
        let (s, m) = k.validate().expect_err("unknown topic");
        assert_eq!(s, "kafka.topics");
        assert!(m.contains("alerts, health"), "{m}");
        k.topics = vec!["alerts".into()];
        k.security_protocol = "sasl_ssl".into();
        k.sasl_mechanism = "GSSAPI".into();
        let (s, m) = k.validate().expect_err("unsupported mechanism");
        assert_eq!(s, "kafka.sasl_mechanism");
        assert!(m.contains("SCRAM-SHA-512"), "{m}");
        k.security_protocol = "ssl".into();
        k.sasl_mechanism.clear();
        k.ca_file = "/nonexistent/ca.pem".into();
        let (s, m) = k.validate().expect_err("missing CA");
        assert_eq!(s, "kafka.ca_file");
        assert!(m.contains("/nonexistent/ca.pem"), "{m}");
    }
}
