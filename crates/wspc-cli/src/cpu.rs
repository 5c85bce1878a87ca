//! How busy the CPUs were during `wspc bench`'s measured window: this process, a watched
//! process (the server under test) and every core, read from Linux's /proc (elsewhere
//! the shares are simply absent).
//!
//! A load generator that is itself near 100 % busy measures its own limit, not the
//! server's: the shares say which one was the bottleneck.

use std::fs;
use std::time::Instant;

/// One reading of the counters.
pub struct CpuSample {
    at: Instant,
    own_ns: Option<u64>,
    watched_ns: Option<u64>,
    /// Per core: (busy jiffies, all jiffies).
    cores: Vec<(u64, u64)>,
}

/// Busy shares over a window, in 0..=1 (a process's share is of one core).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuBusy {
    /// This process (the load generator).
    pub own: Option<f64>,
    /// The watched process, all its threads.
    pub watched: Option<f64>,
    /// Every core, whoever ran on it.
    pub cores: Vec<f64>,
}

/// Nanoseconds on a CPU of every thread of `pid` (`"self"`: this process): the first
/// field of /proc/PID/task/TID/schedstat.
fn run_ns(pid: &str) -> Option<u64> {
    let mut total = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let text = fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// (busy, all) jiffies of each `cpuN` line of /proc/stat.
fn core_jiffies(stat: &str) -> Vec<(u64, u64)> {
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            // user nice system idle iowait irq softirq steal (guest time is inside user).
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .take(8)
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            let all: u64 = v.iter().sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            (all - idle.min(all), all)
        })
        .collect()
}

impl CpuSample {
    /// Reads the counters now (`watch`: the process whose share is wanted).
    pub fn now(watch: Option<u32>) -> CpuSample {
        CpuSample {
            at: Instant::now(),
            own_ns: run_ns("self"),
            watched_ns: watch.and_then(|p| run_ns(&p.to_string())),
            cores: core_jiffies(&fs::read_to_string("/proc/stat").unwrap_or_default()),
        }
    }

    /// The shares from this sample to a later one.
    pub fn until(&self, later: &CpuSample) -> CpuBusy {
        let wall = later.at.duration_since(self.at).as_nanos().max(1) as f64;
        let share = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?) as f64 / wall);
        CpuBusy {
            own: share(self.own_ns, later.own_ns),
            watched: share(self.watched_ns, later.watched_ns),
            cores: self
                .cores
                .iter()
                .zip(&later.cores)
                .map(|(&(b0, a0), &(b1, a1))| {
                    if a1 > a0 {
                        b1.saturating_sub(b0) as f64 / (a1 - a0) as f64
                    } else {
                        0.0
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_lines_become_busy_and_total_jiffies() {
        let stat = "cpu  10 0 10 80 0 0 0 0 0 0\n\
                    cpu0 5 1 4 30 10 0 0 0 0 0\n\
                    cpu1 1 0 1 8 0 0 0 0 0 0\n\
                    intr 12345\n";
        assert_eq!(core_jiffies(stat), vec![(10, 50), (2, 10)]);
    }

    #[test]
    fn this_process_shows_its_own_work() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let me = std::process::id();
        let before = CpuSample::now(Some(me));
        let first = before.own_ns.expect("schedstat on Linux");
        // Spin until 20 ms of CPU time were used (bounded by wall time).
        let start = Instant::now();
        let mut x = 0u64;
        while run_ns("self").unwrap_or(0) < first + 20_000_000 {
            assert!(start.elapsed().as_secs() < 60, "no CPU time in 60 s");
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let busy = before.until(&CpuSample::now(Some(me)));
        assert!(busy.own.is_some_and(|s| s > 0.0), "{busy:?}");
        assert!(busy.watched.is_some_and(|s| s > 0.0), "{busy:?}");
        assert!(
            !busy.cores.is_empty() && busy.cores.iter().any(|&c| c > 0.0),
            "{busy:?}"
        );
    }
}
