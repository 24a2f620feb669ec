//! `vagt-bench ship`: what shipping to Kafka costs and how fast it goes.
//! The parts without a broker (pseudonymisation, the spool with fsync per
//! batch) are timed per event; then the sensor's own Kafka route carries
//! the events to a real broker and is timed until the last is
//! acknowledged.

use crate::cli::ShipArgs;
use crate::municipal::{Config, Generator};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vagt_schema::{wire, Event};
use vagt_sensor::output::kafka::{KafkaSection, KafkaSink};
use vagt_sensor::output::Sink;

/// Events from the municipal generator, day after day, until `n`.
fn events(n: usize) -> Result<Vec<Event>, String> {
    let mut gen = Generator::new(Config {
        seed: 13,
        days: 60,
        hosts: 2000,
        learning_days: 7,
    })?;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match gen.next_day() {
            Some(day) => out.extend(day),
            None => break,
        }
    }
    out.truncate(n);
    Ok(out)
}

fn spool_dir(a: &ShipArgs) -> PathBuf {
    let dir = a.spool_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("vagt-bench-spool-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn per_event(d: Duration, n: usize) -> String {
    format!("{:.0} ns/event", d.as_secs_f64() * 1e9 / n.max(1) as f64)
}

pub fn run(a: &ShipArgs) -> Result<(), String> {
    let fsync = match a.fsync.as_str() {
        "batch" => vagt_spool::FsyncPolicy::Batch,
        "interval" => vagt_spool::FsyncPolicy::Interval(Duration::from_secs(1)),
        "never" => vagt_spool::FsyncPolicy::Never,
        f => return Err(format!("--fsync {f}: use batch, interval or never")),
    };
    eprintln!("generating {} events ...", a.events);
    let clear = events(a.events)?;
    let mut evs = clear.clone();
    let n = evs.len();
    let bytes: usize = evs
        .iter()
        .map(|e| {
            let mut b = Vec::new();
            e.write_json(&mut b);
            b.len()
        })
        .sum();
    println!(
        "events: {n}, {:.0} bytes each on average (JSON)",
        bytes as f64 / n as f64
    );

    // Pseudonymisation alone.
    let key_dir = spool_dir(a).with_extension("key");
    std::fs::create_dir_all(&key_dir).map_err(|e| e.to_string())?;
    let settings = vagt_privacy::Settings {
        key_file: Some(key_dir.join("privacy.key")),
        ..vagt_privacy::Settings::default()
    };
    let mut p = vagt_privacy::Pseudonymiser::open(&settings).map_err(|e| e.to_string())?;
    let t = Instant::now();
    for e in evs.iter_mut() {
        p.apply(e);
    }
    let hmac = t.elapsed();
    println!(
        "pseudonymisation (HMAC-SHA256 tokens): {}",
        per_event(hmac, n)
    );

    // The spool alone: encode, append, commit every 1,000 with fsync.
    let dir = spool_dir(a);
    let (mut w, r, _) = vagt_spool::Spool::open(
        &dir,
        vagt_spool::SpoolConfig {
            fsync,
            max_bytes: 64 << 30,
            ..vagt_spool::SpoolConfig::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let t = Instant::now();
    for (i, e) in evs.iter().enumerate() {
        buf.clear();
        wire::payload(e, &mut buf);
        w.append(e.body.topic().rank(), &buf)
            .map_err(|e| e.to_string())?;
        if i % 1000 == 999 {
            w.commit().map_err(|e| e.to_string())?;
        }
    }
    w.commit().map_err(|e| e.to_string())?;
    let spool = t.elapsed();
    println!(
        "spool (encode, append, commit per 1,000 with fsync {}): {}",
        a.fsync,
        per_event(spool, n)
    );
    drop((w, r));
    let _ = std::fs::remove_dir_all(&dir);

    // The mock cluster lives until the end of the run.
    let mock = if a.mock {
        let m = rdkafka::mocking::MockCluster::new(3).map_err(|e| e.to_string())?;
        for t in ["alerts", "health", "assets", "app", "conn"] {
            m.create_topic(&format!("{}{t}", a.topic_prefix), 3, 3)
                .map_err(|e| e.to_string())?;
        }
        Some(m)
    } else {
        None
    };
    let brokers = match (&a.brokers, &mock) {
        (Some(b), _) => b.clone(),
        (None, Some(m)) => m.bootstrap_servers(),
        (None, None) => {
            println!("end to end: skipped (no --brokers or --mock)");
            return Ok(());
        }
    };
    // End to end, through the sensor's Kafka sink (its own thread sends).
    let dir = spool_dir(a);
    let cfg = KafkaSection {
        enabled: true,
        brokers: brokers.clone(),
        topic_prefix: a.topic_prefix.clone(),
        topics: ["alerts", "health", "assets", "app", "conn"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        spool_dir: dir.display().to_string(),
        spool_max_mib: 64 << 10,
        fsync: a.fsync.clone(),
        drain_timeout: 600.0,
        properties: a
            .properties
            .iter()
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| format!("--property {p}: write KEY=VALUE"))
            })
            .collect::<Result<_, _>>()?,
        ..KafkaSection::default()
    };
    let mut sink = KafkaSink::open(&cfg, "751", "bench")?;
    // As the sensor's Kafka route does it: a copy of each event,
    // pseudonymised, into the sink.
    let t = Instant::now();
    for e in &clear {
        let mut e = e.clone();
        p.apply(&mut e);
        sink.write(&e).map_err(|e| e.to_string())?;
    }
    let written = t.elapsed();
    sink.finish().map_err(|e| e.to_string())?;
    let total = t.elapsed();
    let s = sink.stats();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&key_dir);
    println!(
        "end to end to {brokers} (pseudonymised, spooled with fsync {}, zstd, acks=all, idempotent): \
         {} events delivered in {:.2} s: {:.0} events/s; the writer thread was busy {:.2} s ({}), \
         failed deliveries {}, resent {}",
        a.fsync,
        s.delivered,
        total.as_secs_f64(),
        s.delivered as f64 / total.as_secs_f64(),
        written.as_secs_f64(),
        per_event(written, n),
        s.failed,
        s.resent
    );
    if s.delivered < n as u64 {
        return Err(format!(
            "only {} of {n} events were delivered; do the topics {}alerts, ... exist?",
            s.delivered, a.topic_prefix
        ));
    }
    Ok(())
}
