//! Pacing a replay: a [`Source`] wrapper that holds each packet back until
//! its due time, so the pipeline sees traffic at a set packet rate, a set
//! bit rate, or the capture's own timing sped up or slowed down.
//!
//! Waiting is a hybrid: sleep while the due time is far away (the kernel's
//! timer slack makes sleeps overshoot by tens of microseconds), then spin on
//! the monotonic clock for the last stretch, which keeps release times
//! within a few microseconds of schedule. Packets are passed through
//! unchanged, shared backing memory included, so the path stays zero-copy;
//! only their arrival time is set to the schedule's, so the pipeline's
//! latency counts from when a packet was due, including any time it waited
//! because the pipeline had fallen behind.
//!
//! When the input can be split into lanes (one per worker, as a kernel
//! fanout would split a wire), every lane follows the same schedule from
//! the same start, so each worker takes its packets when they are due and
//! the latency measured is its own. The report is the slowest lane's.

use crate::stats::percentile;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use vagt_sensor::capture::{CaptureError, KernelStats, Next, RawPacket, Source};
use vagt_sensor::pipeline::clock_ns;

/// How fast to replay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// As fast as the pipeline takes packets.
    Top,
    /// A fixed number of packets per second.
    Pps(f64),
    /// A fixed bit rate, counting the captured frame bytes, in Mbit/s.
    Mbps(f64),
    /// The capture's own timing divided by this factor (1 = real time,
    /// 2 = twice as fast).
    Speed(f64),
}

impl Pace {
    pub fn describe(&self) -> String {
        match self {
            Pace::Top => "top speed".into(),
            Pace::Pps(r) => format!("{} packets/s", crate::stats::si(*r)),
            Pace::Mbps(m) => format!("{m} Mbit/s"),
            Pace::Speed(k) => format!("original timing x{k}"),
        }
    }
}

/// A packet later than this after its due time counts as late.
pub const ON_TIME_NS: f64 = 10_000.0;
/// Sleep only when the due time is further away than this...
const SLEEP_ABOVE_NS: f64 = 200_000.0;
/// ...and wake up this long before it, to spin the rest.
const SPIN_LAST_NS: f64 = 120_000.0;
/// In `Speed` mode, longer gaps in packet time (idle periods, the jump
/// between files) are shortened to this, so a replay never stalls for
/// hours; a jump back in time counts as no gap.
pub const MAX_GAP_NS: i64 = 1_000_000_000;

/// What a paced replay achieved, filled in when the source is dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PaceReport {
    pub packets: u64,
    /// Released more than [`ON_TIME_NS`] after their due time.
    pub late: u64,
    /// The largest delay behind schedule, in ns.
    pub max_late_ns: f64,
    /// CPU time spent spinning (part of the run's CPU time).
    pub spin: Duration,
    /// The due time of the last packet: the schedule's length.
    pub schedule_ns: f64,
    /// Median and 99th percentile of how late packets were released, in ns
    /// (over an even sample of the run's packets).
    pub late_p50_ns: f64,
    pub late_p99_ns: f64,
}

/// Lateness samples kept per run (memory reserved up front).
const SAMPLES: usize = 1 << 16;

/// An even sample of a run's lateness values in fixed memory: when full,
/// every other sample is dropped and the stride doubles.
#[derive(Debug)]
struct Sampler {
    values: Vec<f64>,
    stride: u64,
    seen: u64,
}

impl Sampler {
    fn new() -> Sampler {
        Sampler {
            values: Vec::with_capacity(SAMPLES),
            stride: 1,
            seen: 0,
        }
    }

    fn add(&mut self, v: f64) {
        if self.seen.is_multiple_of(self.stride) {
            if self.values.len() == SAMPLES {
                let mut keep = 0;
                for i in (0..SAMPLES).step_by(2) {
                    self.values[keep] = self.values[i];
                    keep += 1;
                }
                self.values.truncate(keep);
                self.stride *= 2;
            }
            if self.seen.is_multiple_of(self.stride) {
                self.values.push(v);
            }
        }
        self.seen += 1;
    }
}

/// Due times of successive packets, from the start of the replay.
#[derive(Clone, Debug)]
pub struct Schedule {
    pace: Pace,
    /// Packets per loop of the input (Speed mode bridges loops with the
    /// input's mean gap instead of the shift in packet time between loops).
    per_loop: u64,
    /// Mean gap between packets of one loop, in packet time (ns).
    mean_gap_ns: f64,
    index: u64,
    bits: f64,
    prev_ts: Option<i64>,
    due: f64,
}

impl Schedule {
    pub fn new(pace: Pace, per_loop: u64, mean_gap_ns: f64) -> Schedule {
        Schedule {
            pace,
            per_loop: per_loop.max(1),
            mean_gap_ns,
            index: 0,
            bits: 0.0,
            prev_ts: None,
            due: 0.0,
        }
    }

    /// The due time (ns after the start) of the next packet, given its
    /// timestamp and length on the wire.
    pub fn next_due(&mut self, ts: i64, wire_len: u32) -> f64 {
        let due = match self.pace {
            Pace::Top => 0.0,
            Pace::Pps(rate) => self.index as f64 * 1e9 / rate,
            Pace::Mbps(mbps) => self.bits * 1e3 / mbps,
            Pace::Speed(k) => {
                let gap = match self.prev_ts {
                    None => 0.0,
                    Some(_) if self.index.is_multiple_of(self.per_loop) => self.mean_gap_ns,
                    Some(prev) => (ts - prev).clamp(0, MAX_GAP_NS) as f64,
                };
                self.due + gap / k
            }
        };
        self.index += 1;
        self.bits += f64::from(wire_len) * 8.0;
        self.prev_ts = Some(ts);
        self.due = due;
        due
    }
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the struct we pass.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Waits until `due_ns` after `start`; returns (ns late, CPU time spent
/// spinning). The spin is measured in thread CPU time, not wall time, so a
/// thread the scheduler preempts while it spins is not charged for it; the
/// clock reads happen while there is time to spare anyway.
fn wait_until(start: Instant, due_ns: f64) -> (f64, Duration) {
    let now = start.elapsed().as_nanos() as f64;
    if now >= due_ns {
        return (now - due_ns, Duration::ZERO);
    }
    if due_ns - now > SLEEP_ABOVE_NS {
        std::thread::sleep(Duration::from_nanos((due_ns - now - SPIN_LAST_NS) as u64));
    }
    let cpu_before = thread_cpu();
    loop {
        let now = start.elapsed().as_nanos() as f64;
        if now >= due_ns {
            return (now - due_ns, thread_cpu().saturating_sub(cpu_before));
        }
        std::hint::spin_loop();
    }
}

/// A source that releases the packets of `inner` on a schedule.
pub struct PacedSource<S: Source> {
    inner: S,
    schedule: Schedule,
    /// The start, on the monotonic clock and on the pipeline's clock;
    /// shared by all lanes of one input.
    start: Arc<OnceLock<(Instant, u64)>>,
    report: PaceReport,
    lateness: Sampler,
    out: Arc<Mutex<PaceReport>>,
}

impl<S: Source> PacedSource<S> {
    /// `out` receives the report when the source is dropped (the pipeline
    /// drops its sources when it has read them).
    pub fn new(inner: S, schedule: Schedule, out: Arc<Mutex<PaceReport>>) -> PacedSource<S> {
        PacedSource {
            inner,
            schedule,
            start: Arc::new(OnceLock::new()),
            report: PaceReport::default(),
            lateness: Sampler::new(),
            out,
        }
    }
}

impl<S: Source> Source for PacedSource<S> {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        let next = self.inner.next()?;
        if let Next::Packet(p) = next {
            // The pipeline's clock first, so that arrival times are never
            // later than the moment a packet is released.
            let (start, clock0) = *self.start.get_or_init(|| {
                let clock0 = clock_ns();
                (Instant::now(), clock0)
            });
            let due = self.schedule.next_due(p.ts, p.wire_len);
            let (late, spin) = wait_until(start, due);
            let r = &mut self.report;
            r.packets += 1;
            r.spin += spin;
            r.schedule_ns = due;
            if late > ON_TIME_NS {
                r.late += 1;
            }
            r.max_late_ns = r.max_late_ns.max(late);
            self.lateness.add(late);
            // 0 would mean "when read"; the first packet is due at 0.
            let arrival_ns = (clock0 + due as u64).max(1);
            return Ok(Next::Packet(RawPacket { arrival_ns, ..p }));
        }
        Ok(next)
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn kernel_stats(&mut self) -> Option<KernelStats> {
        self.inner.kernel_stats()
    }

    fn size_hint(&self) -> Option<u64> {
        self.inner.size_hint()
    }

    fn lanes(&self, n: usize) -> Option<Vec<Box<dyn Source>>> {
        let lanes = self.inner.lanes(n)?;
        let paced = lanes.into_iter().map(|lane| -> Box<dyn Source> {
            Box::new(PacedSource {
                inner: lane,
                schedule: self.schedule.clone(),
                start: self.start.clone(),
                report: PaceReport::default(),
                lateness: Sampler::new(),
                out: self.out.clone(),
            })
        });
        Some(paced.collect())
    }
}

impl<S: Source> Drop for PacedSource<S> {
    fn drop(&mut self) {
        if self.report.packets == 0 {
            // A source that was split into lanes and never read itself.
            return;
        }
        let v = &self.lateness.values;
        self.report.late_p50_ns = percentile(v, 0.5).unwrap_or(0.0);
        self.report.late_p99_ns = percentile(v, 0.99).unwrap_or(0.0);
        if let Ok(mut out) = self.out.lock() {
            // Lanes report in turn; the slowest one stands for the run.
            if out.packets == 0 || self.report.late_p99_ns >= out.late_p99_ns {
                *out = self.report;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vagt_sensor::capture::recording::Recording;
    use vagt_sensor::decode::LinkType;

    #[test]
    fn schedules_follow_rate_bits_and_packet_time() {
        let mut s = Schedule::new(Pace::Pps(1000.0), 10, 0.0);
        let d: Vec<f64> = (0..3).map(|_| s.next_due(0, 100)).collect();
        assert_eq!(d, vec![0.0, 1e6, 2e6]);

        // 1 Mbit/s: a 125-byte frame (1000 bits) takes 1 ms.
        let mut s = Schedule::new(Pace::Mbps(1.0), 10, 0.0);
        let d: Vec<f64> = (0..3).map(|_| s.next_due(0, 125)).collect();
        assert_eq!(d, vec![0.0, 1e6, 2e6]);

        // Twice real time; a jump back counts as no gap, a long gap is cut.
        let mut s = Schedule::new(Pace::Speed(2.0), 10, 0.0);
        let ts = [1_000, 3_000, 2_000, 2_000 + 10 * MAX_GAP_NS];
        let d: Vec<f64> = ts.iter().map(|&t| s.next_due(t, 60)).collect();
        assert_eq!(
            d,
            vec![0.0, 1000.0, 1000.0, 1000.0 + MAX_GAP_NS as f64 / 2.0]
        );

        // The second loop starts one mean gap after the first ended.
        let mut s = Schedule::new(Pace::Speed(1.0), 2, 500.0);
        let ts = [0, 1000, 1_000_002_000, 1_000_003_000];
        let d: Vec<f64> = ts.iter().map(|&t| s.next_due(t, 60)).collect();
        assert_eq!(d, vec![0.0, 1000.0, 1500.0, 2500.0]);
    }

    #[test]
    fn lateness_sample_stays_even_and_bounded() {
        let mut s = Sampler::new();
        let n = 5 * SAMPLES as u64 + 3;
        for i in 0..n {
            s.add(i as f64);
        }
        assert!(s.values.len() <= SAMPLES && s.values.len() > SAMPLES / 2);
        assert_eq!(s.stride, 8);
        // Every kept value is a multiple of the stride: an even sample.
        assert!(s
            .values
            .iter()
            .all(|v| (*v as u64).is_multiple_of(s.stride)));
        let median = percentile(&s.values, 0.5).unwrap();
        let mid = n as f64 / 2.0;
        assert!((median - mid).abs() < mid * 0.01, "{median} vs {mid}");
    }

    #[test]
    fn paced_source_is_never_early_and_passes_packets_through() {
        let frames: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 60]).collect();
        let rec = Recording::from_packets(
            frames
                .iter()
                .enumerate()
                .map(|(i, f)| (LinkType::ETHERNET, i as i64, f.as_slice())),
        );
        let out = Arc::new(Mutex::new(PaceReport::default()));
        // 20 packets at 4000/s: the last is due 4.75 ms after the first.
        let sched = Schedule::new(Pace::Pps(4000.0), 20, 1.0);
        let mut src = PacedSource::new(rec.source(1), sched, out.clone());
        let started = Instant::now();
        let mut seen = Vec::new();
        let mut arrivals = Vec::new();
        while let Ok(Next::Packet(p)) = src.next() {
            assert!(p.backing.is_some(), "backing memory is passed through");
            seen.push(p.data[0]);
            arrivals.push(p.arrival_ns);
            assert!(
                clock_ns() >= p.arrival_ns,
                "never released before it is due"
            );
        }
        // Arrival times are the schedule's: 250 µs apart.
        assert!(
            arrivals.windows(2).all(|w| w[1] - w[0] == 250_000),
            "{arrivals:?}"
        );
        let took = started.elapsed();
        drop(src);
        assert_eq!(seen, (0..20u8).collect::<Vec<_>>());
        assert!(
            took >= Duration::from_micros(4750),
            "released early: {took:?}"
        );
        let report = *out.lock().unwrap();
        assert_eq!(report.packets, 20);
        assert_eq!(report.schedule_ns, 19.0 * 250_000.0);
        assert!(report.late_p99_ns >= report.late_p50_ns);
        assert!(report.max_late_ns >= report.late_p99_ns);
        // It slept most of each 250 µs gap and spun the rest.
        assert!(
            report.spin > Duration::ZERO && report.spin < took,
            "{report:?}"
        );
    }
}
