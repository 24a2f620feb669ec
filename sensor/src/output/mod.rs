//! Outputs: where events go, shaped as Vector shapes them. The writer
//! thread hands every event to one [`Sink`]: a [`Fanout`] of routes, each
//! an optional chain of [`Transform`]s (pseudonymisation, in a later issue)
//! in front of a sink. A file sink ([`sink::LineSink`]) is an encoder
//! (`encode`: JSON Lines, Zeek TSV) apart from its destination (`lines`:
//! a file or standard output, whole lines only, appended to unless told to
//! start afresh). Later sinks (Kafka) plug in as further routes.

pub mod encode;
pub mod kafka;
pub mod lines;
pub mod memory;
pub mod metrics;
pub mod settings;
pub mod sink;

pub use lines::Existing;
use lines::Lines;
pub use settings::{OutputFormat, OutputSection};
use std::io;
use vagt_schema::Event;

/// A destination for events.
pub trait Sink: Send {
    fn write(&mut self, event: &Event) -> io::Result<()>;
    /// Flushes and closes; called once at the end.
    fn finish(&mut self) -> io::Result<()>;
    /// Hands the complete records held so far to the destination now; the
    /// writer thread calls it on a timer, so that what is finished does
    /// not wait in memory on a quiet network.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Opens the destination's path again, for log rotation (SIGHUP); says
    /// what it did, `None` where there is nothing to reopen.
    fn reopen(&mut self) -> io::Result<Option<String>> {
        Ok(None)
    }
    /// The input ended (before the final statistics are written): a stage
    /// that holds events back writes them now, and tells the sink behind
    /// it.
    fn end_of_input(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A sink that only counts, for benchmarks of the packet path.
#[derive(Default)]
pub struct NullSink {
    pub events: u64,
}

impl Sink for NullSink {
    fn write(&mut self, _event: &Event) -> io::Result<()> {
        self.events += 1;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A step in front of a sink that may change or drop events.
pub trait Transform: Send {
    /// The event to pass on, changed or not; `None` drops it for this route.
    fn apply(&mut self, event: Event) -> Option<Event>;
}

/// Transforms in front of one sink.
pub struct Route {
    pub transforms: Vec<Box<dyn Transform>>,
    pub sink: Box<dyn Sink>,
}

impl Route {
    /// A sink that gets every event as it is.
    pub fn plain(sink: Box<dyn Sink>) -> Route {
        Route {
            transforms: Vec::new(),
            sink,
        }
    }

    fn write(&mut self, event: &Event) -> io::Result<()> {
        if self.transforms.is_empty() {
            return self.sink.write(event);
        }
        // Only routes that change events pay for a copy.
        let mut e = Some(event.clone());
        for t in &mut self.transforms {
            e = e.and_then(|e| t.apply(e));
        }
        match e {
            Some(e) => self.sink.write(&e),
            None => Ok(()),
        }
    }
}

/// Several sinks at once: every event goes down every route. A route that
/// fails does not keep the others from their events; the first failure is
/// reported.
pub struct Fanout {
    routes: Vec<Route>,
}

impl Fanout {
    pub fn new(routes: Vec<Route>) -> Fanout {
        Fanout { routes }
    }

    fn each(&mut self, mut f: impl FnMut(&mut Route) -> io::Result<()>) -> io::Result<()> {
        let mut first = Ok(());
        for r in &mut self.routes {
            if let Err(e) = f(r) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

impl Sink for Fanout {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        self.each(|r| r.write(event))
    }

    fn finish(&mut self) -> io::Result<()> {
        self.each(|r| r.sink.finish())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.each(|r| r.sink.flush())
    }

    fn reopen(&mut self) -> io::Result<Option<String>> {
        let mut said = Vec::new();
        self.each(|r| {
            if let Some(s) = r.sink.reopen()? {
                said.push(s);
            }
            Ok(())
        })?;
        Ok((!said.is_empty()).then(|| said.join("; ")))
    }
}

/// Opens the configured sink; `path` "-" is standard output. An existing
/// file is appended to or started afresh as `existing` says; a repair made
/// to it (an incomplete last line cut off) is reported on standard error.
pub fn open(path: &str, format: OutputFormat, existing: Existing) -> io::Result<Box<dyn Sink>> {
    let w = if path == "-" {
        Lines::stdout()
    } else {
        let (w, repair) = Lines::file(path, existing)?;
        if let Some(r) = repair {
            tracing::warn!("{r}");
        }
        w
    };
    let sink: Box<dyn Sink> = match format {
        OutputFormat::Json => Box::new(sink::LineSink::new(encode::JsonEncoder, w)),
        OutputFormat::Zeek => Box::new(sink::LineSink::new(encode::ZeekEncoder::default(), w)),
    };
    Ok(Box::new(Fanout::new(vec![Route::plain(sink)])))
}

/// Replaces internal identities by keyed pseudonyms (vagt-privacy).
struct Pseudonymise(vagt_privacy::Pseudonymiser);

impl Transform for Pseudonymise {
    fn apply(&mut self, mut event: Event) -> Option<Event> {
        self.0.apply(&mut event);
        Some(event)
    }
}

/// Adds the routes beside the local output: Kafka when `[kafka]` is on
/// (pseudonymised by `[privacy]`, spooled, shipped), and the Prometheus
/// metrics when `[metrics] listen` is set and the sensor runs live.
pub fn ship(
    cfg: &crate::config::Config,
    local: Box<dyn Sink>,
    live: bool,
) -> Result<Box<dyn Sink>, String> {
    let privacy = cfg.privacy_settings();
    let pseudonymise = || -> Result<Vec<Box<dyn Transform>>, String> {
        let p = vagt_privacy::Pseudonymiser::open(&privacy)
            .map_err(|e| format!("pseudonymisation ([privacy]): {e}"))?;
        Ok(vec![Box::new(Pseudonymise(p))])
    };
    let mut routes = vec![if privacy.local {
        Route {
            transforms: pseudonymise()?,
            sink: local,
        }
    } else {
        Route::plain(local)
    }];
    #[cfg(not(feature = "kafka"))]
    if cfg.kafka.enabled {
        return Err(
            "[kafka] enabled = true, but this vagt-sensor was built without \
                    Kafka (cargo feature `kafka`); rebuild with default features"
                .into(),
        );
    }
    #[cfg(feature = "kafka")]
    if cfg.kafka.enabled {
        let kafka = kafka::KafkaSink::open(
            &cfg.kafka,
            cfg.sensor.municipality.trim(),
            cfg.sensor.sensor_id.trim(),
        )?;
        routes.push(Route {
            transforms: pseudonymise()?,
            sink: Box::new(kafka),
        });
    }
    if live && !cfg.metrics.listen.is_empty() {
        let m = metrics::MetricsSink::serve(&cfg.metrics.listen)?;
        routes.push(Route::plain(Box::new(m)));
    }
    if routes.len() == 1 && routes[0].transforms.is_empty() {
        // Only the local output: no second fan-out around the first.
        if let Some(r) = routes.pop() {
            return Ok(r.sink);
        }
    }
    Ok(Box::new(Fanout::new(routes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use memory::MemorySink;
    use vagt_schema::{EventBody, Origin, SensorStats};

    fn stats(packets: u64, segment: &str) -> Event {
        Event::new(
            Origin {
                municipality: "0751".into(),
                sensor: "s".into(),
                segment: segment.into(),
            },
            EventBody::Stats(SensorStats {
                packets,
                ..SensorStats::default()
            }),
        )
    }

    /// Keeps only the care segment's events and renames the segment, as a
    /// stand-in for what pseudonymisation will do to one route.
    struct CareOnly;

    impl Transform for CareOnly {
        fn apply(&mut self, mut event: Event) -> Option<Event> {
            (event.origin.segment == "care").then(|| {
                event.origin.segment = "pleje".into();
                event
            })
        }
    }

    #[test]
    fn every_route_gets_every_event_through_its_own_transforms() {
        let (plain, changed) = (MemorySink::new(), MemorySink::new());
        let mut out = Fanout::new(vec![
            Route::plain(Box::new(plain.clone())),
            Route {
                transforms: vec![Box::new(CareOnly)],
                sink: Box::new(changed.clone()),
            },
        ]);
        for (n, seg) in [(1, "admin"), (2, "care"), (3, "school")] {
            out.write(&stats(n, seg)).expect("write");
        }
        out.finish().expect("finish");
        let segs = |v: Vec<Event>| v.into_iter().map(|e| e.origin.segment).collect::<Vec<_>>();
        assert_eq!(segs(plain.take()), ["admin", "care", "school"]);
        assert_eq!(segs(changed.take()), ["pleje"]);
    }
}
