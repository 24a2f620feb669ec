//! The writer thread: turns what workers emit (finished connections, and
//! later application records and notices) and statistics into wire events
//! and hands them to the output, off the packet path. Vectors of events go
//! back to the workers' pool once written.
//!
//! It also keeps the output's clock: records held by the sink reach their
//! destination at most one flush interval after they were written, however
//! quiet the network, and a reopen request (SIGHUP, for log rotation) is
//! answered within [`LOOK_EVERY`]. Both belong here rather than on the
//! packet path, which never waits on the output.

use crate::applayer::dhcp::Join;
use crate::arp::ArpWatch;
use crate::flow::{Emitted, RecordContext};
use crate::output::Sink;
use crossbeam_channel::RecvTimeoutError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody, Origin, SensorStats};

/// Messages to the writer thread.
pub(super) enum ToWriter {
    /// Connections and other events of a worker, in a pooled vector.
    Events(Vec<Emitted>),
    Stats(Box<SensorStats>),
    /// The input ended: stages that hold events write them
    /// (`Sink::end_of_input`), then these final statistics are written,
    /// last.
    Final(Box<SensorStats>),
}

/// How often an idle writer looks at the reopen request.
pub(super) const LOOK_EVERY: Duration = Duration::from_millis(200);

/// The writer's timing: how long records may wait in the sink, and the
/// flag that asks for the output to be reopened.
pub(super) struct Timing {
    pub flush_every: Duration,
    pub reopen: Option<Arc<AtomicBool>>,
}

/// What the writer joins across workers: ARP bindings and DHCP exchanges.
pub(super) struct Joins {
    pub arp: crate::arp::Limits,
    pub dhcp: crate::applayer::dhcp::Settings,
    /// Workers that send to the writer (the DHCP join waits for each).
    pub workers: usize,
}

/// Starts the writer; it returns how many final connection records it
/// wrote, or the first output failure.
pub(super) fn spawn(
    mut sink: Box<dyn Sink>,
    ctx: RecordContext,
    rx: crossbeam_channel::Receiver<ToWriter>,
    pool: crossbeam_channel::Sender<Vec<Emitted>>,
    timing: Timing,
    joins: Joins,
) -> std::thread::JoinHandle<Result<u64, String>> {
    std::thread::Builder::new()
        .name("vagt-writer".into())
        .spawn(move || {
            let mut written = 0u64;
            // ARP bindings are facts of a segment, judged here where every
            // worker's frames meet (`crate::arp`).
            let mut arp = ArpWatch::new(joins.arp);
            // DHCP exchanges likewise: their messages travel on several
            // connections, which several workers may read.
            let mut dhcp = Join::new(joins.dhcp, joins.workers);
            let mut joined = Vec::new();
            // The previous statistics event's (time, packets), for the rate.
            let mut rate = Rate::default();
            let mut failure: Option<String> = None;
            // When the oldest record not yet handed on must go.
            let mut due: Option<Instant> = None;
            loop {
                let wait = due
                    .map_or(LOOK_EVERY, |d| d.saturating_duration_since(Instant::now()))
                    .min(LOOK_EVERY);
                let msg = match rx.recv_timeout(wait) {
                    Ok(msg) => Some(msg),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                };
                if failure.is_some() {
                    // Keep draining so workers never block on a dead writer.
                    if let Some(ToWriter::Events(mut conns)) = msg {
                        conns.clear();
                        let _ = pool.try_send(conns);
                    }
                    continue;
                }
                if let Some(msg) = msg {
                    let mut state = State {
                        arp: &mut arp,
                        dhcp: &mut dhcp,
                        joined: &mut joined,
                        rate: &mut rate,
                    };
                    if let Err(e) = write(&mut *sink, &ctx, &mut state, msg, &pool, &mut written) {
                        failure = Some(format!("writing output failed: {e}"));
                        continue;
                    }
                    due.get_or_insert_with(|| Instant::now() + timing.flush_every);
                }
                if timing
                    .reopen
                    .as_ref()
                    .is_some_and(|r| r.swap(false, Ordering::Relaxed))
                {
                    match sink.reopen() {
                        Ok(Some(said)) => tracing::info!("SIGHUP: {said}"),
                        // A warning, so that it shows even with --quiet: a
                        // rotation that did nothing would otherwise go
                        // unnoticed.
                        Ok(None) => {
                            tracing::warn!("SIGHUP: output is not a file; nothing to reopen")
                        }
                        // The file it had stays open (reopening replaces
                        // it only on success): keep writing there rather
                        // than lose records over a failed rotation.
                        Err(e) => tracing::error!(
                            "SIGHUP: {e}; still writing to the file it had \
                             (make the path writable and send SIGHUP again)"
                        ),
                    }
                }
                if due.is_some_and(|d| Instant::now() >= d) {
                    due = None;
                    if let Err(e) = sink.flush() {
                        failure.get_or_insert(format!("writing output failed: {e}"));
                    }
                }
            }
            if let Err(e) = sink.finish() {
                failure.get_or_insert(format!("writing output failed: {e}"));
            }
            match failure {
                Some(f) => Err(f),
                None => Ok(written),
            }
        })
        .unwrap_or_else(|e| {
            let msg = format!("cannot start the output thread: {e}");
            std::thread::spawn(move || Err(msg))
        })
}

/// The previous statistics event's time and packet count.
#[derive(Default)]
struct Rate(Option<(f64, u64)>);

impl Rate {
    /// Packets per second since the previous event, and remembers this one.
    fn per_second(&mut self, ts: f64, packets: u64) -> Option<f64> {
        let before = self.0.replace((ts, packets));
        let (t0, p0) = before?;
        (ts > t0).then(|| packets.saturating_sub(p0) as f64 / (ts - t0))
    }
}

/// What the writer keeps between messages.
struct State<'a> {
    arp: &'a mut ArpWatch,
    dhcp: &'a mut Join,
    /// What the DHCP join completed, reused.
    joined: &'a mut Vec<Emitted>,
    rate: &'a mut Rate,
}

/// Writes the records the DHCP join completed, leaving `events` empty
/// for the next time even when the output fails.
fn write_all(
    sink: &mut dyn Sink,
    ctx: &RecordContext,
    events: &mut Vec<Emitted>,
) -> std::io::Result<()> {
    let mut result = Ok(());
    for e in events.drain(..) {
        if result.is_ok() {
            if let Some(ev) = e.to_event(ctx) {
                result = sink.write(&ev);
            }
        }
    }
    result
}

/// Writes one message's events; vectors of connections go back to the
/// pool whatever happens.
fn write(
    sink: &mut dyn Sink,
    ctx: &RecordContext,
    state: &mut State<'_>,
    msg: ToWriter,
    pool: &crossbeam_channel::Sender<Vec<Emitted>>,
    written: &mut u64,
) -> std::io::Result<()> {
    match msg {
        ToWriter::Events(mut events) => {
            let mut result = Ok(());
            for e in events.iter() {
                match e {
                    Emitted::Arp(a) => {
                        if let Err(err) = state.arp.observe(a, ctx, |ev| sink.write(ev)) {
                            result = Err(err);
                            break;
                        }
                    }
                    Emitted::Dhcp(_) | Emitted::Clock { .. } => {
                        state.dhcp.take(e, state.joined);
                        if let Err(err) = write_all(sink, ctx, state.joined) {
                            result = Err(err);
                            break;
                        }
                    }
                    e => {
                        let Some(ev) = e.to_event(ctx) else {
                            continue;
                        };
                        if let Err(err) = sink.write(&ev) {
                            result = Err(err);
                            break;
                        }
                        if e.conn().is_some_and(|c| !c.interim) {
                            *written += 1;
                        }
                    }
                }
            }
            events.clear();
            let _ = pool.try_send(events);
            result
        }
        ToWriter::Final(s) => {
            // Exchanges still open are written before the stages that
            // hold events hear that the input ended.
            state.dhcp.finish(state.joined);
            write_all(sink, ctx, state.joined)?;
            sink.end_of_input()?;
            write(sink, ctx, state, ToWriter::Stats(s), pool, written)
        }
        ToWriter::Stats(mut s) => {
            s.arp = state.arp.stats();
            s.packets_per_second = state.rate.per_second(s.ts, s.packets);
            let ev = Event::new(
                Origin {
                    municipality: ctx.municipality.clone(),
                    sensor: ctx.sensor.clone(),
                    segment: crate::site::UNASSIGNED.into(),
                },
                EventBody::Stats(*s),
            );
            sink.write(&ev)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Emit;
    use crate::output::memory::MemorySink;

    /// An event kind the workers do not make yet (an application record,
    /// a notice): it must reach the output through the same channel.
    #[derive(Debug)]
    struct Note(u64);

    impl Emit for Note {
        fn to_event(&self, ctx: &RecordContext) -> Event {
            let stats = SensorStats {
                packets: self.0,
                ..SensorStats::default()
            };
            Event::new(
                Origin {
                    municipality: ctx.municipality.clone(),
                    sensor: ctx.sensor.clone(),
                    segment: "unassigned".into(),
                },
                EventBody::Stats(stats),
            )
        }
    }

    #[test]
    fn the_packet_rate_is_taken_between_statistics_events() {
        let mut r = Rate::default();
        assert_eq!(r.per_second(100.0, 1_000), None, "no rate from one event");
        assert_eq!(r.per_second(130.0, 31_000), Some(1_000.0));
        // A clock that did not move gives no rate rather than infinity.
        assert_eq!(r.per_second(130.0, 32_000), None);
        assert_eq!(r.per_second(131.0, 32_500), Some(500.0));
    }

    #[test]
    fn events_of_other_kinds_travel_with_the_connections() {
        let sink = MemorySink::new();
        let (tx, rx) = crossbeam_channel::bounded(4);
        let (pool_tx, pool_rx) = crossbeam_channel::bounded(4);
        let ctx = RecordContext {
            municipality: "0751".into(),
            sensor: "s".into(),
            site: Default::default(),
            uid_salt: 0,
        };
        let timing = Timing {
            flush_every: Duration::from_millis(10),
            reopen: None,
        };
        let writer = spawn(
            Box::new(sink.clone()),
            ctx,
            rx,
            pool_tx,
            timing,
            Joins {
                arp: crate::arp::Limits::default(),
                dhcp: crate::applayer::dhcp::Settings::default(),
                workers: 1,
            },
        );
        let batch = vec![
            Emitted::Other(Box::new(Note(7))),
            Emitted::Other(Box::new(Note(8))),
        ];
        tx.send(ToWriter::Events(batch)).expect("send");
        drop(tx);
        let written = writer
            .join()
            .expect("writer thread")
            .expect("no output failure");
        assert_eq!(written, 0, "no connection among them");
        let events = sink.take();
        let packets: Vec<u64> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Stats(s) => Some(s.packets),
                _ => None,
            })
            .collect();
        assert_eq!(packets, vec![7, 8]);
        assert_eq!(events[0].origin.municipality, "0751");
        // The vector went back to the workers' pool, emptied.
        assert!(pool_rx.try_recv().is_ok_and(|v| v.is_empty()));
    }
}
