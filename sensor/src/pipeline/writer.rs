//! The writer thread: turns finished connections and statistics into
//! events and hands them to the sink, off the packet path. Vectors of
//! connections go back to the workers' pool once written.
//!
//! It also keeps the output's clock: records held by the sink reach their
//! destination at most one flush interval after they were written, however
//! quiet the network, and a reopen request (SIGHUP, for log rotation) is
//! answered within [`LOOK_EVERY`]. Both belong here rather than on the
//! packet path, which never waits on the output.

use crate::flow::{RecordContext, Snapshot};
use crate::output::Sink;
use crossbeam_channel::RecvTimeoutError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody, Origin, SensorStats};

/// Messages to the writer thread.
pub(super) enum ToWriter {
    Conns(Vec<Snapshot>),
    Stats(Box<SensorStats>),
}

/// How often an idle writer looks at the reopen request.
pub(super) const LOOK_EVERY: Duration = Duration::from_millis(200);

/// The writer's timing: how long records may wait in the sink, and the
/// flag that asks for the output to be reopened.
pub(super) struct Timing {
    pub flush_every: Duration,
    pub reopen: Option<Arc<AtomicBool>>,
}

/// Starts the writer; it returns how many final connection records it
/// wrote, or the first output failure.
pub(super) fn spawn(
    mut sink: Box<dyn Sink>,
    ctx: RecordContext,
    rx: crossbeam_channel::Receiver<ToWriter>,
    pool: crossbeam_channel::Sender<Vec<Snapshot>>,
    timing: Timing,
) -> std::thread::JoinHandle<Result<u64, String>> {
    std::thread::Builder::new()
        .name("vagt-writer".into())
        .spawn(move || {
            let mut written = 0u64;
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
                    if let Some(ToWriter::Conns(mut conns)) = msg {
                        conns.clear();
                        let _ = pool.try_send(conns);
                    }
                    continue;
                }
                if let Some(msg) = msg {
                    if let Err(e) = write(&mut *sink, &ctx, msg, &pool, &mut written) {
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
                        // Said even with --quiet: it answers the operator's
                        // signal, and a rotation that did nothing would
                        // otherwise go unnoticed.
                        Ok(Some(said)) => eprintln!("vagt-sensor: SIGHUP: {said}"),
                        Ok(None) => {
                            eprintln!(
                                "vagt-sensor: SIGHUP: output is not a file; nothing to reopen"
                            )
                        }
                        // The file it had stays open (reopening replaces
                        // it only on success): keep writing there rather
                        // than lose records over a failed rotation.
                        Err(e) => eprintln!(
                            "vagt-sensor: error: SIGHUP: {e}; still writing to the file it had \
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

/// Writes one message's events; vectors of connections go back to the
/// pool whatever happens.
fn write(
    sink: &mut dyn Sink,
    ctx: &RecordContext,
    msg: ToWriter,
    pool: &crossbeam_channel::Sender<Vec<Snapshot>>,
    written: &mut u64,
) -> std::io::Result<()> {
    match msg {
        ToWriter::Conns(mut conns) => {
            let mut result = Ok(());
            for c in conns.iter() {
                let ev = crate::flow::record::to_event(c, ctx);
                if let Err(e) = sink.write(&ev) {
                    result = Err(e);
                    break;
                }
                if !c.interim {
                    *written += 1;
                }
            }
            conns.clear();
            let _ = pool.try_send(conns);
            result
        }
        ToWriter::Stats(s) => {
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
