//! The writer thread: turns finished connections and statistics into
//! events and hands them to the sink, off the packet path. Vectors of
//! connections go back to the workers' pool once written.

use crate::flow::{RecordContext, Snapshot};
use crate::output::Sink;
use vagt_schema::{Event, EventBody, Origin, SensorStats};

/// Messages to the writer thread.
pub(super) enum ToWriter {
    Conns(Vec<Snapshot>),
    Stats(Box<SensorStats>),
}

/// Starts the writer; it returns how many final connection records it
/// wrote, or the first output failure.
pub(super) fn spawn(
    mut sink: Box<dyn Sink>,
    ctx: RecordContext,
    rx: crossbeam_channel::Receiver<ToWriter>,
    pool: crossbeam_channel::Sender<Vec<Snapshot>>,
) -> std::thread::JoinHandle<Result<u64, String>> {
    std::thread::Builder::new()
        .name("vagt-writer".into())
        .spawn(move || {
            let mut written = 0u64;
            let mut failure: Option<String> = None;
            for msg in rx {
                if failure.is_some() {
                    // Keep draining so workers never block on a dead writer.
                    continue;
                }
                match msg {
                    ToWriter::Conns(mut conns) => {
                        for c in conns.iter() {
                            let ev = crate::flow::record::to_event(c, &ctx);
                            if let Err(e) = sink.write(&ev) {
                                failure = Some(format!("writing output failed: {e}"));
                                break;
                            }
                            if !c.interim {
                                written += 1;
                            }
                        }
                        conns.clear();
                        let _ = pool.try_send(conns);
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
                        if let Err(e) = sink.write(&ev) {
                            failure = Some(format!("writing output failed: {e}"));
                        }
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
