//! `vagt-bench cores`: how this machine's cores scale with no sensor in
//! the way. A fixed integer loop runs on one thread, then on N threads at
//! once, round after round; each round's ratio says how much N busy cores
//! give over one. Figures of the sensor's worker scaling on the same
//! machine are only as good as this.

use crate::cli::CoresArgs;
use crate::stats::{median, min_max};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The work: eight independent chains of adds and exclusive-ors, which
/// keep a core's integer units busy and touch no memory, `steps` times.
fn spin(steps: u64) -> u64 {
    let mut x = [1u64, 2, 3, 4, 5, 6, 7, 8];
    for i in 0..steps {
        x[0] = x[0].wrapping_add(i);
        x[1] ^= x[0];
        x[2] = x[2].wrapping_add(x[1]);
        x[3] ^= i;
        x[4] = x[4].wrapping_add(x[3]);
        x[5] ^= x[4];
        x[6] = x[6].wrapping_add(i);
        x[7] ^= x[6];
        // Keeps the chains apart and the loop from being folded away.
        x = black_box(x);
    }
    x.iter().fold(0, |a, b| a ^ b)
}

/// Wall time of `threads` threads each doing `steps` steps at once.
fn timed(threads: usize, steps: u64) -> Duration {
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || black_box(spin(steps)));
        }
    });
    started.elapsed()
}

/// Steps that take one thread about `ms` milliseconds.
fn calibrate(ms: u64) -> u64 {
    let mut steps = 1u64 << 16;
    loop {
        let t = timed(1, steps).as_secs_f64();
        if t >= 0.02 || steps >= 1 << 40 {
            return ((steps as f64) * (ms as f64 / 1000.0) / t.max(1e-9)).max(1.0) as u64;
        }
        steps *= 4;
    }
}

/// Throughput of `threads` threads over one: each did the same work.
pub fn ratio(threads: usize, one: Duration, many: Duration) -> f64 {
    threads as f64 * one.as_secs_f64() / many.as_secs_f64().max(1e-12)
}

/// `vagt-bench cores`.
pub fn run(args: &CoresArgs) -> Result<(), String> {
    if args.threads < 2 || args.threads > 256 {
        return Err("--threads takes 2 to 256 threads, the count to compare with one".into());
    }
    if args.rounds == 0 || args.work_ms == 0 {
        return Err("--rounds and --work-ms must be at least 1".into());
    }
    let steps = calibrate(args.work_ms);
    println!(
        "{} steps a thread (about {} ms on one); {} round(s), one thread and {} threads taking turns\n",
        steps, args.work_ms, args.rounds, args.threads
    );
    println!(
        "| round | 1 thread | {n} threads at once | {n} ÷ 1 |",
        n = args.threads
    );
    println!("|---|---|---|---|");
    let mut ratios = Vec::with_capacity(args.rounds);
    for round in 1..=args.rounds {
        // Who goes first alternates, so that a drift favours neither.
        let (one, many) = if round % 2 == 1 {
            let one = timed(1, steps);
            (one, timed(args.threads, steps))
        } else {
            let many = timed(args.threads, steps);
            (timed(1, steps), many)
        };
        let r = ratio(args.threads, one, many);
        ratios.push(r);
        println!(
            "| {round} | {:.1} ms | {:.1} ms | {r:.2}× |",
            one.as_secs_f64() * 1e3,
            many.as_secs_f64() * 1e3
        );
    }
    if let (Some(m), Some((lo, hi))) = (median(&ratios), min_max(&ratios)) {
        println!(
            "\n{n} busy cores gave {m:.2}× one (median of {} rounds, {lo:.2}× to {hi:.2}×); \
             whole cores give {n}.00×.",
            ratios.len(),
            n = args.threads
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_is_throughput_of_many_over_one() {
        let ms = Duration::from_millis;
        assert_eq!(ratio(2, ms(100), ms(100)), 2.0);
        assert_eq!(ratio(2, ms(100), ms(200)), 1.0);
        assert!((ratio(4, ms(90), ms(120)) - 3.0).abs() < 1e-9);
    }

    /// The work is real: different lengths give different results, and
    /// the same length the same one.
    #[test]
    fn the_work_is_not_folded_away() {
        assert_eq!(spin(1000), spin(1000));
        assert_ne!(spin(1000), spin(1001));
    }

    #[test]
    fn bad_counts_are_refused_with_the_range() {
        let args = |threads, rounds| CoresArgs {
            threads,
            rounds,
            work_ms: 1,
        };
        assert!(run(&args(1, 3)).is_err_and(|e| e.contains("2 to 256")));
        assert!(run(&args(2, 0)).is_err_and(|e| e.contains("at least 1")));
    }
}
