//! A fixed-size log-linear latency histogram (no allocation after construction).
//!
//! Values below 32 are exact; above, each power of two is split into 16 linear
//! sub-buckets, so a reported percentile is within 1/16 (6.25 %) of the true value
//! (we report the middle of the bucket, so within about 3 %). The maximum is exact.

/// Number of exact buckets at the bottom (also the first power of two that is split).
const LINEAR: u64 = 32;
/// Sub-buckets per power of two above `LINEAR`.
const SUB: u64 = 16;
/// Buckets: 32 exact + 16 for each power of two from 2^5 to 2^63.
const BUCKETS: usize = (LINEAR + (64 - 5) * SUB) as usize;

/// Latencies in nanoseconds.
pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - u64::from(v.leading_zeros()); // >= 5
    let shift = e - 4;
    let mantissa = (v >> shift) - SUB; // 0..16
    (LINEAR + (e - 5) * SUB + mantissa) as usize
}

/// The lowest value and the width of bucket `i`.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < LINEAR {
        return (i, 1);
    }
    let e = (i - LINEAR) / SUB + 5;
    let mantissa = (i - LINEAR) % SUB;
    let shift = e - 4;
    ((SUB + mantissa) << shift, 1 << shift)
}

impl Histogram {
    /// Records one value.
    pub fn record(&mut self, v: u64) {
        self.counts[index(v)] += 1;
        self.total += 1;
        self.max = self.max.max(v);
    }

    /// Number of recorded values.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.total
    }

    /// The largest recorded value (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0.0–1.0): the middle of the bucket holding the
    /// `ceil(q × n)`-th smallest value, capped at the maximum. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (low, width) = bounds(i);
                return (low + width / 2).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        for v in [0u64, 1, 31, 32, 33, 47, 48, 63, 64, 1000, 123_456, u64::MAX] {
            let (low, width) = bounds(index(v));
            assert!(low <= v && v - low < width, "{v} in [{low}, +{width})");
        }
        let mut last = 0;
        for v in (0..100_000u64).step_by(7) {
            let i = index(v);
            assert!(i >= last);
            last = i;
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_are_within_the_bucket_precision() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v * 1000);
        }
        assert_eq!(h.len(), 10_000);
        assert_eq!(h.max(), 10_000_000);
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 / 5_000_000.0 - 1.0).abs() < 0.04, "p50 {p50}");
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 / 9_900_000.0 - 1.0).abs() < 0.04, "p99 {p99}");
        assert_eq!(h.quantile(1.0), 10_000_000);
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }
}
