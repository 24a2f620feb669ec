//! Writing a batch of ingested events in one transaction: each event once
//! (a second copy of (municipality, sensor, seq) is dropped by the primary
//! key), and for the new ones what they feed: alerts and their
//! indicators, the inventory, each sensor's latest health. Multi-row
//! statements keep SQLite above the ingest target.

use super::Store;
use crate::indicators;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};
use std::collections::HashSet;
use vagt_schema::{Event, EventBody};

/// One validated message.
pub struct Incoming {
    pub topic: String,
    pub seq: u64,
    pub event: Event,
    /// Its `event_type` tag.
    pub event_type: String,
    /// The event's JSON, as stored.
    pub json: String,
    pub received: f64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub stored: u64,
    pub duplicates: u64,
}

/// Rows per statement: 9 parameters each stays far below either
/// database's parameter limit.
const CHUNK: usize = 200;

type Q<'q> = Query<'q, Any, AnyArguments<'q>>;

fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

fn seq_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

impl Store {
    pub async fn write(&self, batch: &[Incoming]) -> anyhow::Result<Written> {
        let mut tx = self.pool.begin().await?;
        let mut new: HashSet<(&str, &str, i64)> = HashSet::new();
        for chunk in batch.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO events (municipality, sensor, seq, topic, event_type, segment, \
                 event_time, received, body) VALUES {} ON CONFLICT DO NOTHING \
                 RETURNING municipality, sensor, seq",
                placeholders(chunk.len(), 9)
            );
            let mut q: Q = sqlx::query(&sql);
            for e in chunk {
                let o = &e.event.origin;
                q = q
                    .bind(o.municipality.as_str())
                    .bind(o.sensor.as_str())
                    .bind(seq_i64(e.seq))
                    .bind(e.topic.as_str())
                    .bind(e.event_type.as_str())
                    .bind(o.segment.as_str())
                    .bind(e.event.body.time())
                    .bind(e.received)
                    .bind(e.json.as_str());
            }
            for row in q.fetch_all(&mut *tx).await? {
                let m: String = row.try_get(0)?;
                let s: String = row.try_get(1)?;
                let n: i64 = row.try_get(2)?;
                if let Some(e) = chunk.iter().find(|e| {
                    seq_i64(e.seq) == n
                        && e.event.origin.municipality == m
                        && e.event.origin.sensor == s
                }) {
                    new.insert((
                        e.event.origin.municipality.as_str(),
                        e.event.origin.sensor.as_str(),
                        n,
                    ));
                }
            }
        }
        let fresh: Vec<&Incoming> = batch
            .iter()
            .filter(|e| {
                new.remove(&(
                    e.event.origin.municipality.as_str(),
                    e.event.origin.sensor.as_str(),
                    seq_i64(e.seq),
                ))
            })
            .collect();
        let alerts: Vec<&Incoming> = fresh
            .iter()
            .copied()
            .filter(|e| matches!(e.event.body, EventBody::Alert(_)))
            .collect();
        for chunk in alerts.chunks(CHUNK / 2) {
            insert_alerts(&mut tx, chunk).await?;
        }
        for e in &fresh {
            match &e.event.body {
                EventBody::Asset(a) => {
                    let o = &e.event.origin;
                    sqlx::query(
                        "INSERT INTO assets (municipality, sensor, segment, asset_key, role, \
                         first_seen, last_seen, seq, body) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) \
                         ON CONFLICT (municipality, sensor, segment, asset_key) DO UPDATE SET \
                         role = excluded.role, last_seen = excluded.last_seen, \
                         seq = excluded.seq, body = excluded.body WHERE excluded.seq > assets.seq",
                    )
                    .bind(o.municipality.as_str())
                    .bind(o.sensor.as_str())
                    .bind(o.segment.as_str())
                    .bind(a.key.as_str())
                    .bind(a.role.clone().unwrap_or_default())
                    .bind(a.first_seen)
                    .bind(a.last_seen)
                    .bind(seq_i64(e.seq))
                    .bind(e.json.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                EventBody::Stats(s) => {
                    let o = &e.event.origin;
                    sqlx::query(
                        "INSERT INTO sensors (municipality, sensor, last_received, \
                         last_event_time, seq, stats, previous) VALUES ($1,$2,$3,$4,$5,$6,'{}') \
                         ON CONFLICT (municipality, sensor) DO UPDATE SET \
                         previous = sensors.stats, stats = excluded.stats, seq = excluded.seq, \
                         last_event_time = excluded.last_event_time, \
                         last_received = excluded.last_received WHERE excluded.seq > sensors.seq",
                    )
                    .bind(o.municipality.as_str())
                    .bind(o.sensor.as_str())
                    .bind(e.received)
                    .bind(s.ts)
                    .bind(seq_i64(e.seq))
                    .bind(e.json.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                _ => {}
            }
        }
        // Any event shows the sensor is alive, health report or not.
        let mut seen: Vec<(&str, &str, f64)> = Vec::new();
        for e in batch {
            let o = &e.event.origin;
            match seen
                .iter_mut()
                .find(|s| s.0 == o.municipality && s.1 == o.sensor)
            {
                Some(s) => s.2 = s.2.max(e.received),
                None => seen.push((&o.municipality, &o.sensor, e.received)),
            }
        }
        for (m, s, t) in seen {
            sqlx::query(
                "INSERT INTO sensors (municipality, sensor, last_received, last_event_time, seq, \
                 stats, previous) VALUES ($1,$2,$3,0,0,'{}','{}') \
                 ON CONFLICT (municipality, sensor) DO UPDATE SET last_received = \
                 CASE WHEN excluded.last_received > sensors.last_received \
                 THEN excluded.last_received ELSE sensors.last_received END",
            )
            .bind(m)
            .bind(s)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let stored = fresh.len() as u64;
        Ok(Written {
            stored,
            duplicates: batch.len() as u64 - stored,
        })
    }
}

async fn insert_alerts(
    tx: &mut sqlx::Transaction<'_, Any>,
    chunk: &[&Incoming],
) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO alerts (municipality, sensor, seq, segment, alert_id, ts, detector, kind, \
         severity, severity_rank, score, technique, src, dst, subject, message, count, received) \
         VALUES {} ON CONFLICT DO NOTHING",
        placeholders(chunk.len(), 18)
    );
    let mut q: Q = sqlx::query(&sql);
    let mut inds = Vec::new();
    for e in chunk {
        let EventBody::Alert(a) = &e.event.body else {
            continue;
        };
        let o = &e.event.origin;
        q = q
            .bind(o.municipality.as_str())
            .bind(o.sensor.as_str())
            .bind(seq_i64(e.seq))
            .bind(o.segment.as_str())
            .bind(a.id.as_str())
            .bind(a.ts)
            .bind(a.detector.as_str())
            .bind(a.kind.as_str())
            .bind(a.severity.as_str())
            .bind(a.severity as i32)
            .bind(i32::from(a.score))
            .bind(a.technique.as_str())
            .bind(a.src.to_string())
            .bind(a.dst.map(|d| d.to_string()).unwrap_or_default())
            .bind(a.subject.clone().unwrap_or_default())
            .bind(a.message.as_str())
            .bind(i64::try_from(a.count).unwrap_or(i64::MAX))
            .bind(e.received);
        for (kind, value) in indicators::of_alert(a) {
            inds.push((*e, kind, value, a.ts, a.detector.as_str()));
        }
    }
    q.execute(&mut **tx).await?;
    for part in inds.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO indicators (municipality, sensor, seq, kind, value, ts, detector) \
             VALUES {} ON CONFLICT DO NOTHING",
            placeholders(part.len(), 7)
        );
        let mut q: Q = sqlx::query(&sql);
        for (e, kind, value, ts, det) in part {
            q = q
                .bind(e.event.origin.municipality.as_str())
                .bind(e.event.origin.sensor.as_str())
                .bind(seq_i64(e.seq))
                .bind(*kind)
                .bind(value.clone())
                .bind(*ts)
                .bind(*det);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
