//! The Kafka sink: what the writer thread calls. Each event of a switched-on
//! topic is encoded and appended to the spool; a batch is committed (and
//! fsynced, per the policy) every `batch_events` events and at every flush
//! tick. The service thread does the sending. Nothing here waits on the
//! network, and a spool that cannot take an event counts it as lost by
//! topic instead of failing the sensor.

use super::service::Service;
use super::{KafkaSection, Shared};
use crate::output::Sink;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vagt_schema::{wire, Event, EventBody, ShippingStats, Topic};
use vagt_spool::{FsyncPolicy, SpoolConfig, SpoolWriter};

pub struct KafkaSink {
    spool: SpoolWriter,
    shared: Arc<Shared>,
    /// Switched-on topics, by rank.
    on: [bool; 5],
    buf: Vec<u8>,
    /// Events appended since the last commit, by topic rank: lost if the
    /// commit fails.
    uncommitted: [u64; 5],
    batch: usize,
    /// Events the spool could not take, by topic rank.
    refused: [u64; 5],
    drain: Duration,
    service: Option<JoinHandle<()>>,
}

impl KafkaSink {
    /// Opens the spool and starts the service. Fails on what would make
    /// shipping impossible (bad settings, TLS files librdkafka rejects, a
    /// spool directory that cannot be written); an unreachable broker is
    /// not among them: events wait in the spool.
    pub fn open(cfg: &KafkaSection, municipality: &str, sensor: &str) -> Result<Self, String> {
        cfg.validate()
            .map_err(|(k, m)| format!("invalid setting {k}: {m}"))?;
        let properties = cfg.client_properties()?;
        let dir = cfg.spool_dir();
        let spool_cfg = SpoolConfig {
            max_bytes: cfg.spool_max_mib.saturating_mul(1 << 20),
            max_age: Duration::from_secs_f64(cfg.spool_max_age_days * 86_400.0),
            fsync: match cfg.fsync.as_str() {
                "never" => FsyncPolicy::Never,
                "interval" => FsyncPolicy::Interval(Duration::from_secs(1)),
                _ => FsyncPolicy::Batch,
            },
            ..SpoolConfig::default()
        };
        let (spool, reader, report) = vagt_spool::Spool::open(&dir, spool_cfg).map_err(|e| {
            format!(
                "cannot open the Kafka spool at {}: {e} (set [kafka] spool_dir to a \
                 writable directory on a disk with room)",
                dir.display()
            )
        })?;
        for w in &report.warnings {
            tracing::warn!(spool = %dir.display(), "spool {}: {w}", dir.display());
        }
        let shared = Arc::new(Shared::default());
        let topics = cfg.topics()?;
        let mut on = [false; 5];
        for t in topics {
            on[usize::from(t.rank())] = true;
        }
        let service = Service::new(
            reader,
            properties,
            &cfg.topic_prefix,
            wire::key(municipality, sensor),
            shared.clone(),
        )?;
        let handle = std::thread::Builder::new()
            .name("vagt-kafka".into())
            .spawn(move || service.run())
            .map_err(|e| format!("cannot start the Kafka thread: {e}"))?;
        Ok(KafkaSink {
            spool,
            shared,
            on,
            buf: Vec::with_capacity(2048),
            uncommitted: [0; 5],
            batch: cfg.batch_events,
            refused: [0; 5],
            drain: Duration::from_secs_f64(cfg.drain_timeout),
            service: Some(handle),
        })
    }

    fn commit(&mut self) {
        if self.uncommitted.iter().all(|&n| n == 0) {
            return;
        }
        let started = std::time::Instant::now();
        let done = self.spool.commit();
        self.shared.commit.observe(started.elapsed().as_secs_f64());
        if let Err(e) = done {
            for (r, u) in self.refused.iter_mut().zip(self.uncommitted) {
                *r += u;
            }
            self.shared.warn_loss(&format!("spool: events lost: {e}"));
        }
        self.uncommitted = [0; 5];
    }

    /// The shipping figures for the health event.
    pub fn stats(&self) -> ShippingStats {
        let s = self.spool.stats();
        let mut dropped = std::collections::BTreeMap::new();
        for t in Topic::ALL {
            let i = usize::from(t.rank());
            let n = s.dropped_class(t.rank()).records + self.refused[i] + self.shared.dropped(t);
            if n > 0 {
                dropped.insert(t.name().to_string(), n);
            }
        }
        ShippingStats {
            spool_records: s.pending_records,
            spool_bytes: s.pending_bytes,
            spool_oldest_age: s.oldest_pending_age_s.unwrap_or(0) as f64,
            appended: s.appended,
            delivered: self.shared.delivered.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
            resent: self.shared.resent.load(Ordering::Relaxed),
            dropped,
            corrupt: s.corrupt_records,
            delivery_lag: self.shared.lag_ms.load(Ordering::Relaxed) as f64 / 1000.0,
            connected: self.shared.connected.load(Ordering::Relaxed),
            last_error: self.shared.last_error(),
            delivery_seconds: Some(self.shared.delivery.snapshot()),
            commit_seconds: Some(self.shared.commit.snapshot()),
        }
    }
}

impl Sink for KafkaSink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        let topic = event.body.topic();
        let rank = usize::from(topic.rank());
        if !self.on[rank] {
            return Ok(());
        }
        self.buf.clear();
        if matches!(event.body, EventBody::Stats(_)) {
            // The health event carries the shipping figures of the moment.
            let mut e = event.clone();
            if let EventBody::Stats(st) = &mut e.body {
                st.shipping = Some(self.stats());
            }
            wire::payload(&e, &mut self.buf);
        } else {
            wire::payload(event, &mut self.buf);
        }
        match self.spool.append(topic.rank(), &self.buf) {
            Ok(_) => {
                self.uncommitted[rank] += 1;
                if self.uncommitted.iter().sum::<u64>() >= self.batch as u64 {
                    self.commit();
                }
            }
            Err(e) => {
                self.refused[rank] += 1;
                self.shared.warn_loss(&format!("spool: events lost: {e}"));
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.commit();
        // On a quiet network too, records past their age go.
        if let Err(e) = self.spool.enforce_bounds() {
            self.shared.warn(&format!("spool: {e}"));
        }
        Ok(())
    }

    fn end_of_input(&mut self) -> io::Result<()> {
        self.commit();
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.commit();
        self.shared.stop(Instant::now() + self.drain);
        if let Some(h) = self.service.take() {
            let _ = h.join();
        }
        let s = self.stats();
        if !s.dropped.is_empty() {
            let by: Vec<String> = s.dropped.iter().map(|(t, n)| format!("{n} {t}")).collect();
            tracing::warn!(
                lost = s.dropped.values().sum::<u64>(),
                "events lost before reaching Kafka: {} (the spool's bounds \
                 or a full disk; see the health event)",
                by.join(", ")
            );
        }
        if s.spool_records > 0 {
            tracing::warn!(
                spool_records = s.spool_records,
                "{} events wait in the Kafka spool and are sent on the next start{}",
                s.spool_records,
                s.last_error
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            );
        }
        Ok(())
    }
}

impl Drop for KafkaSink {
    fn drop(&mut self) {
        if self.service.is_some() {
            // Dropped without finish (an error elsewhere): stop at once;
            // what was committed stays in the spool.
            self.commit();
            self.shared.stop(Instant::now());
            if let Some(h) = self.service.take() {
                let _ = h.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::mocking::MockCluster;
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    use rdkafka::Message;
    use vagt_schema::{Origin, SensorStats, WireEvent};

    fn health(n: u64) -> Event {
        Event::new(
            Origin {
                municipality: "751".into(),
                sensor: "s1".into(),
                segment: "care".into(),
            },
            EventBody::Stats(SensorStats {
                ts: 1_700_000_000.0 + n as f64,
                packets: n,
                ..SensorStats::default()
            }),
        )
    }

    /// Produce requests answered with an error librdkafka does not retry
    /// (as a broker stopping gracefully answers) are sent again from the
    /// spool: every event arrives, in order.
    #[test]
    fn failed_deliveries_are_sent_again_from_the_spool() {
        let mock = MockCluster::new(1).expect("mock cluster");
        mock.create_topic("t.health", 1, 1).expect("topic");
        mock.request_errors(
            RDKafkaApiKey::Produce,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN; 3],
        );
        let dir = std::env::temp_dir().join(format!("vagt-kafka-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = KafkaSection {
            enabled: true,
            brokers: mock.bootstrap_servers(),
            topic_prefix: "t.".into(),
            topics: vec!["health".into()],
            spool_dir: dir.display().to_string(),
            batch_events: 50,
            ..KafkaSection::default()
        };
        let mut sink = KafkaSink::open(&cfg, "751", "s1").expect("open");
        for n in 1..=500 {
            sink.write(&health(n)).expect("write");
        }
        sink.finish().expect("finish");
        let s = sink.stats();
        assert_eq!(s.delivered, 500);
        assert!(s.failed >= 1, "{s:?}");
        assert_eq!(s.spool_records, 0);

        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", mock.bootstrap_servers())
            .set("group.id", "test")
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        let mut tpl = rdkafka::TopicPartitionList::new();
        tpl.add_partition_offset("t.health", 0, rdkafka::Offset::Beginning)
            .expect("partition");
        consumer.assign(&tpl).expect("assign");
        let mut first = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while seen.len() < 500 && std::time::Instant::now() < deadline {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                let w: WireEvent =
                    serde_json::from_slice(m.payload().unwrap_or_default()).expect("a message");
                assert_eq!(m.key(), Some(&b"751/s1"[..]));
                if seen.insert(w.seq) {
                    first.push(w.seq);
                }
            }
        }
        assert_eq!(first, (1..=500).collect::<Vec<u64>>());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
