//! Runs "apart": the machine's ceiling for several workers on this input.
//!
//! On a shared machine, two busy cores are not twice one: the host may
//! place both on one physical core, or slow them down, and that changes
//! from minute to minute. So a ratio of two workers to one says little
//! about the sensor unless it comes with what the machine gave at the same
//! time. An apart run deals the input out evenly by flow before the clock
//! starts, then runs one complete single-worker pipeline per share, each
//! with its own writer, side by side in threads that share nothing. No
//! sensor with that many workers can beat it on this machine at this
//! moment; how close the real workers come is the sensor's own loss.

use super::run::{context, options, result_of, tracker_maker};
use super::{Input, RunResult};
use crate::cli::ReplayArgs;
use crate::rusage;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use vagt_sensor::capture::Source;
use vagt_sensor::config::Config;
use vagt_sensor::decode::LinkWalker;
use vagt_sensor::output::NullSink;
use vagt_sensor::pipeline::{self, deal::Dealer, shard, WorkerLanes};

/// One run of `pipelines` single-worker pipelines side by side, each on
/// its even share of the input.
pub fn run_apart(
    input: &Input,
    args: &ReplayArgs,
    cfg: &Config,
    pipelines: usize,
) -> Result<RunResult, String> {
    let mut walker = LinkWalker::default();
    let mut dealer = Dealer::new(pipelines);
    let shares = input.recording.partition(pipelines, |link, frame| {
        dealer.deal(shard::flow_hash(&mut walker, link, frame))
    });
    // Each pipeline gets its share of the connection cap, as each worker
    // of a sensor with that many workers does.
    let make = tracker_maker(cfg, pipelines);
    let opts = options(args, cfg, 1);
    let before = rusage::this_process();
    let started = Instant::now();
    let summaries = std::thread::scope(|scope| {
        let running: Vec<_> = shares
            .iter()
            .map(|share| {
                let (make, opts) = (&make, &opts);
                scope.spawn(move || {
                    let lane: Box<dyn Source> = Box::new(share.source(args.loops));
                    pipeline::run_lanes(
                        vec![WorkerLanes::new(vec![lane])],
                        opts,
                        make,
                        Box::new(NullSink::default()),
                        context(),
                        Arc::new(AtomicBool::new(false)),
                    )
                })
            })
            .collect();
        running
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "a pipeline of the apart run failed".to_string())
            })
            .collect::<Result<Vec<_>, String>>()
    })?;
    let wall_s = started.elapsed().as_secs_f64();
    let after = rusage::this_process();
    let mut r = result_of(
        &summaries,
        wall_s,
        after.cpu_since(&before).as_secs_f64(),
        pipelines,
    )?;
    r.peak_rss = after.max_rss;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::DispatchArg;
    use crate::replay::tests::{concurrent_input, small_args};

    /// Apart pipelines together play every packet once and write every
    /// connection once, for any number of pipelines: the even deal keeps
    /// each flow in one share.
    #[test]
    fn apart_pipelines_count_every_packet_and_connection_once() {
        let (input, conns) = concurrent_input(5, 60);
        let args = ReplayArgs {
            pps: None,
            dispatch: DispatchArg::Split,
            ..small_args()
        };
        for n in 1..=3 {
            let r = run_apart(&input, &args, &Config::default(), n).unwrap();
            assert_eq!(r.packets, 2 * input.recording.packets() as u64, "{n} apart");
            assert_eq!(r.records, 2 * conns, "{n} apart");
            assert!(r.latency_ns.is_some_and(|l| l[4] >= l[0] && l[0] > 0.0));
        }
    }
}
