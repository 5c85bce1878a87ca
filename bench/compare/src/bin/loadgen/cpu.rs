//! Busy shares from /proc: this process, a watched process (all its threads) and every
//! core, sampled at the start and the end of the measured window.

use std::fs;
use std::time::Instant;

/// One reading of the counters.
pub struct Sample {
    at: Instant,
    own_ns: u64,
    watched_ns: Option<u64>,
    /// Per core: (busy jiffies, total jiffies).
    cores: Vec<(u64, u64)>,
}

/// Busy shares over a window, each in 0..=1 (a process on one core: its share of that core).
pub struct Busy {
    pub own: f64,
    pub watched: Option<f64>,
    pub cores: Vec<f64>,
}

/// Nanoseconds on a CPU of every thread of `pid` ("self" for this process), from
/// /proc/PID/task/*/schedstat (first field).
fn run_ns(pid: &str) -> Option<u64> {
    let mut total = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        let text = fs::read_to_string(path).unwrap_or_default();
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// (busy, total) jiffies of every `cpuN` line of /proc/stat.
fn cores() -> Vec<(u64, u64)> {
    let text = fs::read_to_string("/proc/stat").unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            // user nice system idle iowait irq softirq steal (guest time is in user).
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            let total: u64 = v.iter().take(8).sum();
            (total - idle, total)
        })
        .collect()
}

impl Sample {
    pub fn now(watch: Option<u32>) -> Sample {
        Sample {
            at: Instant::now(),
            own_ns: run_ns("self").unwrap_or(0),
            watched_ns: watch.and_then(|p| run_ns(&p.to_string())),
            cores: cores(),
        }
    }

    /// The shares between `self` (earlier) and `later`.
    pub fn until(&self, later: &Sample) -> Busy {
        let wall = later.at.duration_since(self.at).as_nanos().max(1) as f64;
        let share = |a: u64, b: u64| b.saturating_sub(a) as f64 / wall;
        Busy {
            own: share(self.own_ns, later.own_ns),
            watched: match (self.watched_ns, later.watched_ns) {
                (Some(a), Some(b)) => Some(share(a, b)),
                _ => None,
            },
            cores: self
                .cores
                .iter()
                .zip(&later.cores)
                .map(|(&(b0, t0), &(b1, t1))| {
                    if t1 > t0 {
                        (b1 - b0) as f64 / (t1 - t0) as f64
                    } else {
                        0.0
                    }
                })
                .collect(),
        }
    }
}

impl Busy {
    /// The shares as JSON members (no braces), rounded to 0.1 %.
    pub fn json_members(&self) -> String {
        let r = |x: f64| (x * 1000.0).round() / 1000.0;
        let cores: Vec<String> = self.cores.iter().map(|&c| format!("{}", r(c))).collect();
        let watched = self
            .watched
            .map_or("null".to_string(), |w| format!("{}", r(w)));
        format!(
            "\"gen_busy\":{},\"server_busy\":{},\"cores_busy\":[{}]",
            r(self.own),
            watched,
            cores.join(",")
        )
    }
}
