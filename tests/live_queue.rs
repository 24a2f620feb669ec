//! Live capture never blocks and never queues without bound: when the
//! workers cannot keep up (here because the output stalls, as a full disk
//! or a hung pipe would make it), packets that find their worker's queue
//! full are dropped and counted, and every packet read is either tracked
//! or counted as dropped.

mod common;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody};
use vagt_sensor::capture::recording::Recording;
use vagt_sensor::capture::{CaptureError, Next, Source};
use vagt_sensor::config::Config;
use vagt_sensor::decode::LinkType;
use vagt_sensor::flow::{RecordContext, Tracker};
use vagt_sensor::output::Sink;
use vagt_sensor::pipeline::{self, Dispatch, Mode, PipelineOptions};
use vagt_sensor::synth::frames::{self, Host};

const PACKETS: u16 = 60_000;

/// A source that says when it has handed out its last packet.
struct Announcing<S> {
    inner: S,
    done: Arc<AtomicBool>,
}

impl<S: Source> Source for Announcing<S> {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        let n = self.inner.next()?;
        if matches!(n, Next::End) {
            self.done.store(true, Ordering::Release);
        }
        Ok(n)
    }

    fn name(&self) -> &str {
        "announcing"
    }
}

/// A sink that stalls until the input has been read to its end.
struct Stalled {
    until: Arc<AtomicBool>,
    events: Arc<std::sync::Mutex<Vec<Event>>>,
}

impl Sink for Stalled {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        let start = Instant::now();
        while !self.until.load(Ordering::Acquire) {
            if start.elapsed() > Duration::from_secs(60) {
                return Err(io::Error::other("the input never ended"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Ok(mut v) = self.events.lock() {
            v.push(event.clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_blocking() {
    // Every packet opens a connection of its own; with room for 16, each
    // new one evicts an old one, so the worker keeps handing records to
    // the stalled output.
    let a = Host {
        mac: [2, 0, 0, 0, 0, 1],
        ip: [10, 0, 0, 1].into(),
    };
    let b = Host {
        mac: [2, 0, 0, 0, 0, 2],
        ip: [10, 0, 0, 2].into(),
    };
    let mut frames_in = Vec::new();
    for i in 0..PACKETS {
        let mut f = Vec::new();
        frames::udp(&mut f, &a, &b, None, i, 53, None, 10, i);
        frames_in.push(f);
    }
    let rec = Recording::from_packets(frames_in.iter().enumerate().map(|(i, f)| {
        (
            LinkType::ETHERNET,
            1_700_000_000_000_000_000 + i as i64,
            f.as_slice(),
        )
    }));
    let done = Arc::new(AtomicBool::new(false));
    let source = Announcing {
        inner: rec.source(1),
        done: done.clone(),
    };
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Stalled {
        until: done,
        events: events.clone(),
    };
    let mut cfg = Config::default();
    cfg.flow.max_connections = 16;
    let decode = cfg.decode_options();
    let table = cfg.table_config(1);
    let make = move |_id: usize| Tracker::new(decode.clone(), table.clone());
    let opts = PipelineOptions {
        workers: 1,
        batch_packets: 16,
        queue_batches: 2,
        mode: Mode::Live,
        stats_interval: None,
        progress: false,
        latency: false,
        dispatch: Dispatch::Queued,
        flush_interval: Duration::from_secs(1),
        reopen: None,
        arp: cfg.arp.limits(),
        dhcp: cfg.app.dhcp,
    };
    let ctx = RecordContext {
        municipality: "0000".into(),
        sensor: "test".into(),
        site: Default::default(),
        uid_salt: 0,
    };
    let summary = pipeline::run(
        vec![Box::new(source)],
        &opts,
        &make,
        Box::new(sink),
        ctx,
        Arc::new(AtomicBool::new(false)),
    );
    assert_eq!(summary.output_error, None);
    assert_eq!(summary.packets, u64::from(PACKETS), "every packet was read");
    assert!(
        summary.queue_drops > 0,
        "the stalled output made the queue overflow"
    );
    // Nothing vanished: a packet was tracked (one connection each) or dropped.
    assert_eq!(
        summary.table.created + summary.queue_drops,
        u64::from(PACKETS)
    );
    let events = events.lock().map(|v| v.clone()).unwrap_or_default();
    let conns = events
        .iter()
        .filter(|e| matches!(e.body, EventBody::Conn(_)))
        .count() as u64;
    assert_eq!(
        conns, summary.table.created,
        "every tracked connection was written"
    );
    let stats = events
        .iter()
        .find_map(|e| match &e.body {
            EventBody::Stats(s) => Some(s.clone()),
            _ => None,
        })
        .expect("stats event");
    assert_eq!(stats.drops.get("queue_full"), Some(&summary.queue_drops));
    eprintln!(
        "{} packets: {} tracked, {} dropped at the full queue",
        PACKETS, summary.table.created, summary.queue_drops
    );
}
