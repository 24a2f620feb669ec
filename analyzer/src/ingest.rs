//! Ingest: a Kafka consumer in a consumer group (instances with the same
//! group share the partitions) that validates each message, stores a
//! batch in one transaction, and only then commits the offsets. A crash
//! between the two makes the next owner of the partition read the batch
//! again, and the store drops what it already holds by (municipality,
//! sensor, seq): nothing lost, nothing twice.
//!
//! A message that is not a valid event goes whole to the dead-letter topic
//! with the reason in a header, and is counted; it never stops ingest. A
//! store that fails keeps the batch and tries again, so nothing is
//! committed that was not stored.

use crate::config::KafkaSection;
use crate::store::{now, Incoming, Store};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vagt_schema::WireEvent;

/// Ingest counters, shown by `/api/v1/status`.
#[derive(Default)]
pub struct IngestStats {
    pub received: AtomicU64,
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub dead_letters: AtomicU64,
    pub store_errors: AtomicU64,
    pub last_error: Mutex<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestFigures {
    pub received: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub dead_letters: u64,
    pub store_errors: u64,
    pub last_error: String,
}

impl IngestStats {
    pub fn figures(&self) -> IngestFigures {
        IngestFigures {
            received: self.received.load(Ordering::Relaxed),
            stored: self.stored.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            dead_letters: self.dead_letters.load(Ordering::Relaxed),
            store_errors: self.store_errors.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
        }
    }

    fn error(&self, e: String) {
        tracing::warn!("{e}");
        if let Ok(mut l) = self.last_error.lock() {
            *l = e;
        }
    }
}

/// Longest municipality or sensor name accepted.
const MAX_NAME: usize = 64;

/// Checks one message and makes it an event to store, or says why not.
pub fn validate(key: Option<&[u8]>, payload: &[u8]) -> Result<Incoming, String> {
    #[derive(serde::Deserialize)]
    struct Tag<'a> {
        #[serde(borrow)]
        event_type: std::borrow::Cow<'a, str>,
    }
    let tag: Tag = serde_json::from_slice(payload).map_err(|e| format!("not an event: {e}"))?;
    let w: WireEvent =
        serde_json::from_slice(payload).map_err(|e| format!("not a valid event: {e}"))?;
    let o = &w.event.origin;
    for (what, v) in [("municipality", &o.municipality), ("sensor", &o.sensor)] {
        if v.is_empty() || v.len() > MAX_NAME || v.chars().any(|c| c.is_control()) {
            return Err(format!("bad {what} {v:?}"));
        }
    }
    if o.segment.len() > MAX_NAME {
        return Err("segment name too long".into());
    }
    if w.seq == 0 || w.seq > i64::MAX as u64 {
        return Err(format!("bad sequence number {}", w.seq));
    }
    let t = w.event.body.time();
    if !t.is_finite() {
        return Err("event time is not a number".into());
    }
    // The key names the sending sensor; an event claiming another
    // municipality than its key is not stored under that municipality.
    if let Some(k) = key {
        let want = format!("{}/{}", o.municipality, o.sensor);
        if k != want.as_bytes() {
            return Err(format!(
                "key {:?} does not match the event's municipality/sensor {want:?}",
                String::from_utf8_lossy(k)
            ));
        }
    }
    let json = serde_json::to_string(&w.event).map_err(|e| format!("cannot store: {e}"))?;
    Ok(Incoming {
        seq: w.seq,
        event_type: tag.event_type.into_owned(),
        event: w.event,
        json,
        received: now(),
    })
}

pub struct Ingest {
    consumer: BaseConsumer,
    dead: Option<(BaseProducer, String)>,
    store: Store,
    batch: usize,
    stats: Arc<IngestStats>,
    rt: tokio::runtime::Handle,
}

impl Ingest {
    pub fn new(
        cfg: &KafkaSection,
        store: Store,
        stats: Arc<IngestStats>,
        rt: tokio::runtime::Handle,
    ) -> anyhow::Result<Ingest> {
        let mut cc = ClientConfig::new();
        cc.set("bootstrap.servers", &cfg.brokers)
            .set("group.id", &cfg.group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000");
        for (k, v) in &cfg.properties {
            cc.set(k, v);
        }
        let consumer: BaseConsumer = cc
            .create()
            .map_err(|e| anyhow::anyhow!("cannot set up the Kafka consumer ([kafka]): {e}"))?;
        let topics: Vec<String> = cfg
            .topics
            .iter()
            .map(|t| format!("{}{t}", cfg.topic_prefix))
            .collect();
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(|e| anyhow::anyhow!("cannot subscribe to {names:?}: {e}"))?;
        let dead = if cfg.dead_letter_topic.is_empty() {
            None
        } else {
            let mut pc = ClientConfig::new();
            pc.set("bootstrap.servers", &cfg.brokers);
            for (k, v) in &cfg.properties {
                pc.set(k, v);
            }
            let p: BaseProducer = pc
                .create()
                .map_err(|e| anyhow::anyhow!("cannot set up the dead-letter producer: {e}"))?;
            Some((p, cfg.dead_letter_topic.clone()))
        };
        Ok(Ingest {
            consumer,
            dead,
            store,
            batch: cfg.batch,
            stats,
            rt,
        })
    }

    /// Runs until `stop` is set; what was polled but not stored is not
    /// committed and is read again by whoever owns the partition next.
    /// One batch is stored while the next is read and validated, so the
    /// store's writer and the consumer each keep a core busy; offsets are
    /// committed per batch, after its write, never ahead of it.
    pub fn run(self, stop: Arc<AtomicBool>) {
        let mut writing: Option<Writing> = None;
        while !stop.load(Ordering::Relaxed) {
            let next = self.read();
            if let Some(w) = writing.take() {
                if !self.finish(w, &stop) {
                    return;
                }
            }
            if !next.offsets.is_empty() {
                writing = Some(self.write(next));
            }
        }
        if let Some(w) = writing.take() {
            self.finish(w, &stop);
        }
    }

    /// Polls until a batch is full or 200 ms have passed.
    fn read(&self) -> Batch {
        let mut b = Batch {
            events: Vec::with_capacity(self.batch),
            offsets: HashMap::new(),
        };
        let started = Instant::now();
        while b.events.len() < self.batch && started.elapsed() < Duration::from_millis(200) {
            let Some(r) = self.consumer.poll(Duration::from_millis(50)) else {
                continue;
            };
            let m = match r {
                Ok(m) => m,
                Err(e) => {
                    self.stats.error(format!("kafka: {e}"));
                    continue;
                }
            };
            self.stats.received.fetch_add(1, Ordering::Relaxed);
            // A dead letter's offset is committed with its batch too.
            let next = b
                .offsets
                .entry((m.topic().to_string(), m.partition()))
                .or_insert(m.offset());
            *next = (*next).max(m.offset());
            let payload = m.payload().unwrap_or_default();
            match validate(m.key(), payload) {
                Ok(e) => b.events.push(e),
                Err(why) => dead_letter(&self.dead, &self.stats, m.topic(), m.key(), payload, &why),
            }
        }
        b
    }

    fn write(&self, b: Batch) -> Writing {
        let (store, stats) = (self.store.clone(), self.stats.clone());
        self.rt.spawn(async move {
            let r = store.write(&b.events).await;
            // Counted as soon as stored, not when the next read is done.
            if let Ok(n) = &r {
                stats.stored.fetch_add(n.stored, Ordering::Relaxed);
                stats.duplicates.fetch_add(n.duplicates, Ordering::Relaxed);
            }
            (b, r.map(|_| ()))
        })
    }

    /// Waits for a batch's write, trying again while the store fails, then
    /// commits its offsets. False when ingest has to stop.
    fn finish(&self, mut w: Writing, stop: &AtomicBool) -> bool {
        loop {
            let (b, r) = match self.rt.block_on(w) {
                Ok(done) => done,
                Err(e) => {
                    // Nothing was committed: the batch is read again by
                    // the next owner of its partitions.
                    self.stats
                        .error(format!("store: the write failed ({e}); ingest stops"));
                    return false;
                }
            };
            match r {
                Ok(()) => {
                    self.commit(&b);
                    return true;
                }
                Err(e) => {
                    self.stats.store_errors.fetch_add(1, Ordering::Relaxed);
                    self.stats.error(format!("store: {e}; trying again"));
                    if stop.load(Ordering::Relaxed) {
                        return false;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                    w = self.write(b);
                }
            }
        }
    }

    /// Commits the offsets after a stored batch: the next one of each of
    /// its partitions.
    fn commit(&self, b: &Batch) {
        if let Some((p, _)) = &self.dead {
            let _ = p.flush(Duration::from_secs(10));
        }
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), last) in &b.offsets {
            if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(last + 1)) {
                self.stats
                    .error(format!("kafka: cannot commit {topic}/{partition}: {e}"));
            }
        }
        if let Err(e) = self.consumer.commit(&tpl, CommitMode::Sync) {
            // Not fatal: the next commit covers these offsets, and a
            // re-read batch is dropped as duplicates.
            self.stats
                .error(format!("kafka: cannot commit offsets: {e}"));
        }
    }
}

/// What one read took from Kafka: its events, and the last offset read of
/// each (topic, partition).
struct Batch {
    events: Vec<Incoming>,
    offsets: HashMap<(String, i32), i64>,
}

type Writing = tokio::task::JoinHandle<(Batch, anyhow::Result<()>)>;

fn dead_letter(
    dead: &Option<(BaseProducer, String)>,
    stats: &IngestStats,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
    why: &str,
) {
    stats.dead_letters.fetch_add(1, Ordering::Relaxed);
    stats.error(format!("dead letter from {topic}: {why}"));
    if let Some((p, dlt)) = dead {
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "vagt-error",
                value: Some(why),
            })
            .insert(Header {
                key: "vagt-topic",
                value: Some(topic),
            });
        let mut rec = BaseRecord::<[u8], [u8]>::to(dlt)
            .payload(payload)
            .headers(headers);
        if let Some(k) = key {
            rec = rec.key(k);
        }
        if let Err((e, _)) = p.send(rec) {
            stats.error(format!("cannot write to the dead-letter topic {dlt}: {e}"));
        }
        p.poll(Duration::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_messages_are_refused_with_a_reason() {
        for (payload, want) in [
            (&b"not json"[..], "not an event"),
            (b"{\"event_type\":\"alert\"}", "not a valid event"),
            (b"\xff\xfe", "not an event"),
        ] {
            let e = validate(None, payload).err().unwrap();
            assert!(e.contains(want), "{e}");
        }
        let ok = br#"{"seq":3,"send_time":1,"event_time":1,"schema_version":1,"municipality":"0751","sensor":"s1","segment":"admin","event_type":"stats","ts":1,"packets":0,"bytes":0,"decoded":{},"decode_errors":{},"drops":{},"connections":0,"connections_evicted":0,"connections_active":0}"#;
        let e = validate(Some(b"0751/s1"), ok);
        assert!(e.is_ok(), "{:?}", e.err());
        let e = validate(Some(b"0101/s1"), ok).err().unwrap();
        assert!(e.contains("does not match"), "{e}");
        let zero = String::from_utf8_lossy(ok).replace("\"seq\":3", "\"seq\":0");
        assert!(validate(None, zero.as_bytes()).is_err());
    }
}
