//! The Kafka service: a thread that reads the spool in order, hands each
//! record to librdkafka, and releases it from the spool once the broker
//! acknowledged it and everything before it.
//!
//! A failed delivery, whatever the error, is sent again from the spool:
//! the service drops its producer with everything it still holds, goes
//! back to the oldest event not acknowledged and sends from there with a
//! new producer (go-back-N), so a
//! sensor's events reach the topic in sequence order after any failure,
//! at the cost of sending again what followed the failure (counted as
//! `resent`; consumers drop second copies by sensor and sequence number).
//! A broker stopped gracefully answers in-flight requests with an error
//! librdkafka does not retry; a broker down for hours makes messages time
//! out in librdkafka: both end up here, and the producer is replaced.

use super::Shared;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vagt_schema::{wire, Topic};
use vagt_spool::{Record, SpoolReader};

/// At most this many messages wait for the broker's answer; the rest wait
/// in the spool, not in memory.
const MAX_IN_FLIGHT: usize = 20_000;

/// Answers from librdkafka, collected by its callbacks (which run inside
/// `poll` on the service's own thread).
struct Context {
    answers: Mutex<Vec<(u64, Option<KafkaError>)>>,
    shared: Arc<Shared>,
}

impl ClientContext for Context {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        use rdkafka::config::RDKafkaLogLevel as L;
        if matches!(level, L::Emerg | L::Alert | L::Critical | L::Error) {
            self.shared.warn(&format!("kafka {fac}: {message}"));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.shared.connected.store(false, Ordering::Relaxed);
        self.shared.warn(&format!("kafka: {error}: {reason}"));
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let err = match result {
            Ok(_) => None,
            Err((e, _)) => Some(e.clone()),
        };
        if let Ok(mut a) = self.answers.lock() {
            a.push((seq as u64, err));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Delivered,
    Failed,
}

struct Flight {
    seq: u64,
    time_ms: u64,
    state: State,
}

pub struct Service {
    reader: SpoolReader,
    properties: BTreeMap<String, String>,
    producer: BaseProducer<Context>,
    /// Topic names by rank, prefix included.
    topics: Vec<String>,
    key: String,
    in_flight: VecDeque<Flight>,
    /// A record librdkafka's queue had no room for, sent first next time.
    held: Option<Record>,
    message: Vec<u8>,
    shared: Arc<Shared>,
}

/// Builds a producer; the error names what is wrong in the settings.
fn producer(
    properties: &BTreeMap<String, String>,
    shared: &Arc<Shared>,
) -> Result<BaseProducer<Context>, String> {
    let mut cfg = ClientConfig::new();
    for (k, v) in properties {
        cfg.set(k, v);
    }
    cfg.create_with_context(Context {
        answers: Mutex::new(Vec::new()),
        shared: shared.clone(),
    })
    .map_err(|e| format!("cannot set up the Kafka producer: {e}"))
}

impl Service {
    pub fn new(
        reader: SpoolReader,
        properties: BTreeMap<String, String>,
        prefix: &str,
        key: String,
        shared: Arc<Shared>,
    ) -> Result<Service, String> {
        let producer = producer(&properties, &shared)?;
        Ok(Service {
            reader,
            properties,
            producer,
            topics: Topic::ALL
                .iter()
                .map(|t| format!("{prefix}{}", t.name()))
                .collect(),
            key,
            in_flight: VecDeque::new(),
            held: None,
            message: Vec::with_capacity(2048),
            shared,
        })
    }

    /// Runs until told to stop and either everything was delivered or the
    /// drain deadline passed; what is left stays in the spool.
    pub fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let stop_at = self.shared.stop_at();
            if self.send() {
                self.producer.poll(Duration::ZERO);
            } else {
                self.producer.poll(Duration::from_millis(20));
            }
            if self.settle() {
                self.go_back();
                self.pause(backoff, stop_at);
                backoff = (backoff * 2).min(Duration::from_secs(5));
            } else if !self.in_flight.is_empty() {
                backoff = Duration::from_millis(100);
            }
            if let Some(at) = stop_at {
                let drained = self.in_flight.is_empty() && self.held.is_none() && {
                    // Nothing left to read either.
                    match self.reader.next() {
                        Some(r) => {
                            self.held = Some(r);
                            false
                        }
                        None => true,
                    }
                };
                if drained || Instant::now() >= at {
                    break;
                }
            }
        }
        if let Err(e) = self.reader.sync_cursor() {
            self.shared.warn(&format!("spool: {e}"));
        }
    }

    /// Sends what the spool holds while there is room; `true` if it sent.
    fn send(&mut self) -> bool {
        let mut sent = false;
        while self.in_flight.len() < MAX_IN_FLIGHT {
            let Some(rec) = self.held.take().or_else(|| self.reader.next()) else {
                break;
            };
            let Some(topic) = Topic::from_rank(rec.class).map(|t| &self.topics[t.rank() as usize])
            else {
                // A class this version does not know: not ours to send.
                self.shared.note_dropped(None, 1);
                continue;
            };
            wire::frame(rec.seq, now(), &rec.payload, &mut self.message);
            let record = BaseRecord::with_opaque_to(topic, rec.seq as usize)
                .key(&self.key)
                .payload(&self.message);
            match self.producer.send(record) {
                Ok(()) => {
                    self.in_flight.push_back(Flight {
                        seq: rec.seq,
                        time_ms: rec.time_ms,
                        state: State::Waiting,
                    });
                    sent = true;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    self.held = Some(rec);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), _)) => {
                    // It can never be delivered; count it as lost rather
                    // than hold up every event behind it.
                    self.shared.note_dropped(Topic::from_rank(rec.class), 1);
                    self.in_flight.push_back(Flight {
                        seq: rec.seq,
                        time_ms: rec.time_ms,
                        state: State::Delivered,
                    });
                }
                Err((e, _)) => {
                    self.shared.warn(&format!("kafka: cannot send: {e}"));
                    self.held = Some(rec);
                    break;
                }
            }
        }
        sent
    }

    /// Takes the broker's answers: releases what was delivered in order,
    /// and says whether a delivery failed.
    fn settle(&mut self) -> bool {
        let mut failed = false;
        let answers = match self.producer.context().answers.lock() {
            Ok(mut a) => std::mem::take(&mut *a),
            Err(_) => Vec::new(),
        };
        for (seq, err) in answers {
            let Ok(i) = self.in_flight.binary_search_by_key(&seq, |f| f.seq) else {
                continue;
            };
            self.in_flight[i].state = match err {
                None => {
                    self.shared.connected.store(true, Ordering::Relaxed);
                    State::Delivered
                }
                Some(e) => {
                    self.shared.failed.fetch_add(1, Ordering::Relaxed);
                    failed = true;
                    self.shared
                        .warn(&format!("kafka: delivery failed, sending again: {e}"));
                    State::Failed
                }
            };
        }
        let mut released = None;
        let at = now();
        while let Some(f) = self.in_flight.front() {
            if f.state != State::Delivered {
                break;
            }
            released = Some((f.seq, f.time_ms));
            self.shared
                .delivery
                .observe((at - f.time_ms as f64 / 1000.0).max(0.0));
            self.in_flight.pop_front();
            self.shared.delivered.fetch_add(1, Ordering::Relaxed);
        }
        if let Some((seq, time_ms)) = released {
            let lag = (at - time_ms as f64 / 1000.0).max(0.0);
            self.shared
                .lag_ms
                .store((lag * 1000.0) as u64, Ordering::Relaxed);
            if let Err(e) = self.reader.ack(seq) {
                self.shared
                    .warn(&format!("spool: cannot release delivered events: {e}"));
            }
        }
        failed
    }

    /// Sends again from the oldest event not yet acknowledged, with a new
    /// producer, as soon as one delivery failed. The old producer is
    /// dropped at once (which purges what it still holds): kept alive, it
    /// would bump its epoch after timed-out messages and send the rest
    /// under the new epoch when the broker returns. That is valid Kafka,
    /// but a broker that lost (or never kept) the producer's state refuses
    /// it (tansu 0.6 even stops serving). A new producer id with fresh
    /// sequence numbers is accepted everywhere, and what the old producer
    /// delivered unseen arrives twice, which the consumer drops by
    /// (sensor, sequence).
    fn go_back(&mut self) {
        // Delivered events at the front were released by `settle`, so the
        // front is the oldest event still open.
        let Some(from) = self.in_flight.front().map(|f| f.seq) else {
            return;
        };
        let again = self
            .in_flight
            .iter()
            .filter(|f| f.state == State::Delivered)
            .count();
        self.shared
            .resent
            .fetch_add(again as u64, Ordering::Relaxed);
        self.in_flight.clear();
        self.held = None;
        self.reader.rewind(from);
        if let Some((code, why)) = self.producer.client().fatal_error() {
            self.shared.warn(&format!(
                "kafka: producer failed for good ({code:?}: {why})"
            ));
        }
        match producer(&self.properties, &self.shared) {
            Ok(p) => self.producer = p,
            Err(e) => self.shared.warn(&e),
        }
    }

    /// Waits before sending again, unless the sensor is stopping.
    fn pause(&mut self, d: Duration, stop_at: Option<Instant>) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if stop_at.is_some_and(|at| Instant::now() >= at) {
                return;
            }
            self.producer.poll(Duration::from_millis(20));
        }
    }
}

/// Wall-clock seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
