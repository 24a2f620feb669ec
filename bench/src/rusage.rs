//! CPU time and peak memory from the kernel (`getrusage`): of this process
//! (all its threads) around a replay run, and of finished child processes
//! around a peer tool's run.

use std::time::Duration;

/// A snapshot of `getrusage`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident set size in bytes (of this process, or of the largest
    /// waited-for child).
    pub max_rss: u64,
}

impl Usage {
    /// CPU time spent since `earlier`.
    pub fn cpu_since(&self, earlier: &Usage) -> Duration {
        self.cpu.saturating_sub(earlier.cpu)
    }
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec.max(0) as u64) + Duration::from_micros(tv.tv_usec.max(0) as u64)
}

fn get(who: libc::c_int) -> Usage {
    // SAFETY: getrusage only writes into the struct we pass; an all-zero
    // rusage is a valid value of the type.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(who, &mut ru) };
    if rc != 0 {
        return Usage::default();
    }
    Usage {
        cpu: timeval(ru.ru_utime) + timeval(ru.ru_stime),
        // Linux reports kilobytes.
        max_rss: (ru.ru_maxrss.max(0) as u64) * 1024,
    }
}

/// This process, all threads.
pub fn this_process() -> Usage {
    get(libc::RUSAGE_SELF)
}

/// All child processes that have ended and been waited for.
pub fn children() -> Usage {
    get(libc::RUSAGE_CHILDREN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        // Works until the process has used 10 ms of CPU, however busy the
        // machine (a loaded machine gives a wall-clock loop little CPU);
        // the bound only stops a broken clock from looping forever.
        let before = this_process();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while this_process().cpu_since(&before) < Duration::from_millis(10)
            && started.elapsed() < Duration::from_secs(60)
        {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let after = this_process();
        assert!(after.cpu_since(&before) >= Duration::from_millis(10));
        assert!(after.max_rss > 1024 * 1024, "rss {}", after.max_rss);
    }
}
