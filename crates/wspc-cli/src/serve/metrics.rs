//! Counters and gauges, and their Prometheus text (`GET /metrics`).
//!
//! Counters are kept per thread (one cache-line-aligned shard each, relaxed atomics) and
//! added up when scraped, so counting a message costs an uncontended add. Labels are
//! bounded: close codes 1000–1015 by value and the application ranges as `3xxx`/`4xxx`;
//! per-topic subscriber counts for the [`TOPICS_SHOWN`] largest topics only, the rest
//! summed.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use wspc_tokio::CloseCode;

use super::State;

/// Topics listed by name in `wspc_topic_subscribers`.
pub(crate) const TOPICS_SHOWN: usize = 20;

thread_local! {
    static SHARD: Cell<usize> = const { Cell::new(0) };
}

/// Counts this thread's events in shard `i` (0: threads that are not workers).
pub(crate) fn set_shard(i: usize) {
    SHARD.with(|s| s.set(i));
}

/// Close-code slots: 1000..=1015, then 3xxx, 4xxx, other, none (no code / reset).
const CODE_SLOTS: usize = 20;

/// One thread's counters.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Shard {
    pub(crate) connections_total: AtomicU64,
    /// Open WebSockets on this thread (a gauge: up and down).
    pub(crate) connections_open: AtomicI64,
    pub(crate) messages_in: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) messages_out: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) http_responses: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) handshakes_evicted: AtomicU64,
    pub(crate) handshakes_failed: AtomicU64,
    pub(crate) handshakes_refused: AtomicU64,
    pub(crate) slow_consumers: AtomicU64,
    closes: [AtomicU64; CODE_SLOTS],
}

impl Shard {
    /// Counts a close with `code` (`None`: no close code — a reset or a failure).
    pub(crate) fn close(&self, code: Option<CloseCode>) {
        let slot = match code.map(|c| c.as_u16()) {
            Some(c @ 1000..=1015) => (c - 1000) as usize,
            Some(3000..=3999) => 16,
            Some(4000..=4999) => 17,
            Some(_) => 18,
            None => 19,
        };
        self.closes[slot].fetch_add(1, Ordering::Relaxed);
    }
}

/// Broker state and counters (one broker per process).
#[derive(Default)]
pub(crate) struct BrokerMetrics {
    pub(crate) up: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) published: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) received: AtomicU64,
}

/// Every counter of the process.
pub(crate) struct Metrics {
    shards: Box<[Shard]>,
    pub(crate) broker: BrokerMetrics,
}

impl Metrics {
    /// Metrics with `shards` per-thread shards.
    pub(crate) fn new(shards: usize) -> Metrics {
        Metrics {
            shards: (0..shards.max(1)).map(|_| Shard::default()).collect(),
            broker: BrokerMetrics::default(),
        }
    }

    /// This thread's shard.
    pub(crate) fn shard(&self) -> &Shard {
        let i = SHARD.with(|s| s.get());
        &self.shards[i % self.shards.len()]
    }

    fn sum(&self, f: impl Fn(&Shard) -> u64) -> u64 {
        self.shards.iter().map(f).sum()
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counter(out: &mut String, m: &Metrics, name: &str, help: &str, f: impl Fn(&Shard) -> u64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {}", m.sum(f));
}

/// Escapes a label value (Prometheus text format: `\`, `"` and newlines).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The Prometheus text of every metric.
pub(crate) fn render(state: &State) -> String {
    let m = &state.metrics;
    let mut out = String::with_capacity(4096);
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);

    header(
        &mut out,
        "wspc_connections_open",
        "gauge",
        "Open WebSocket connections.",
    );
    let open: i64 = m
        .shards
        .iter()
        .map(|s| s.connections_open.load(Ordering::Relaxed))
        .sum();
    let _ = writeln!(out, "wspc_connections_open {}", open.max(0));
    header(
        &mut out,
        "wspc_thread_connections_open",
        "gauge",
        "Open WebSocket connections per worker thread.",
    );
    for (i, s) in m.shards.iter().enumerate().skip(1) {
        let n = s.connections_open.load(Ordering::Relaxed).max(0);
        let _ = writeln!(
            out,
            "wspc_thread_connections_open{{thread=\"{}\"}} {n}",
            i - 1
        );
    }
    counter(
        &mut out,
        m,
        "wspc_connections_total",
        "WebSocket connections opened.",
        |s| get(&s.connections_total),
    );
    header(
        &mut out,
        "wspc_handshakes_pending",
        "gauge",
        "Connections in the opening handshake.",
    );
    let _ = writeln!(out, "wspc_handshakes_pending {}", state.slots.pending());
    counter(
        &mut out,
        m,
        "wspc_handshakes_evicted_total",
        "Handshakes closed to make room for a newer one (--max-handshakes).",
        |s| get(&s.handshakes_evicted),
    );
    counter(
        &mut out,
        m,
        "wspc_handshakes_refused_total",
        "Connections closed at once: their address had --max-handshakes-per-ip pending.",
        |s| get(&s.handshakes_refused),
    );
    counter(
        &mut out,
        m,
        "wspc_handshakes_failed_total",
        "Handshakes that timed out or failed.",
        |s| get(&s.handshakes_failed),
    );
    counter(
        &mut out,
        m,
        "wspc_http_responses_total",
        "Plain HTTP responses (console, metrics, 404, 405).",
        |s| get(&s.http_responses),
    );
    counter(
        &mut out,
        m,
        "wspc_refused_total",
        "Connections refused with 503 (--max-connections).",
        |s| get(&s.refused),
    );
    let budget = &state.budget;
    for (name, help, value) in [
        (
            "wspc_buffered_bytes",
            "Message data and permessage-deflate state charged to --max-buffered-bytes now.",
            budget.used() as u64,
        ),
        (
            "wspc_buffered_bytes_peak",
            "The most ever charged to --max-buffered-bytes at once.",
            budget.peak() as u64,
        ),
        (
            "wspc_buffered_bytes_limit",
            "The cap on buffered message data and codec state (--max-buffered-bytes).",
            budget.limit() as u64,
        ),
    ] {
        header(&mut out, name, "gauge", help);
        let _ = writeln!(out, "{name} {value}");
    }
    for (name, help, value) in [
        (
            "wspc_budget_refusals_total",
            "Connections failed with 1009 \"server busy\": their data or decompressor did not fit the budget.",
            budget.refusals(),
        ),
        (
            "wspc_uncompressed_for_budget_total",
            "Messages sent uncompressed because no compressor fitted in half the budget.",
            budget.skipped_encodings(),
        ),
    ] {
        header(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {value}");
    }
    counter(
        &mut out,
        m,
        "wspc_messages_received_total",
        "Text and binary messages received.",
        |s| get(&s.messages_in),
    );
    counter(
        &mut out,
        m,
        "wspc_received_bytes_total",
        "Payload bytes of the messages received.",
        |s| get(&s.bytes_in),
    );
    counter(
        &mut out,
        m,
        "wspc_messages_sent_total",
        "Text and binary messages queued for sending.",
        |s| get(&s.messages_out),
    );
    counter(
        &mut out,
        m,
        "wspc_sent_bytes_total",
        "Payload bytes of the messages queued for sending.",
        |s| get(&s.bytes_out),
    );
    counter(
        &mut out,
        m,
        "wspc_slow_consumers_total",
        "Broadcast clients closed with 1008 because their queue overflowed.",
        |s| get(&s.slow_consumers),
    );

    header(
        &mut out,
        "wspc_closes_total",
        "counter",
        "Closed WebSocket connections by close code (none: no Close, a reset or a failure).",
    );
    for slot in 0..CODE_SLOTS {
        let n = m.sum(|s| get(&s.closes[slot]));
        if n == 0 {
            continue;
        }
        let code = match slot {
            0..=15 => (1000 + slot).to_string(),
            16 => "3xxx".into(),
            17 => "4xxx".into(),
            18 => "other".into(),
            _ => "none".into(),
        };
        let _ = writeln!(out, "wspc_closes_total{{code=\"{code}\"}} {n}");
    }

    let b = &m.broker;
    if state.topics.has_broker() {
        header(
            &mut out,
            "wspc_broker_up",
            "gauge",
            "1 while connected to the broker.",
        );
        let _ = writeln!(out, "wspc_broker_up {}", get(&b.up));
        for (name, help, v) in [
            (
                "wspc_broker_reconnects_total",
                "Connections to the broker lost and retried.",
                &b.reconnects,
            ),
            (
                "wspc_broker_published_total",
                "Messages published to the broker.",
                &b.published,
            ),
            (
                "wspc_broker_publish_dropped_total",
                "Messages not published because the broker was unreachable (remote subscribers missed them).",
                &b.dropped,
            ),
            (
                "wspc_broker_received_total",
                "Messages from other servers delivered here.",
                &b.received,
            ),
        ] {
            header(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {}", get(v));
        }
    }

    let (topics, shown, others) = state.topics.largest(TOPICS_SHOWN);
    header(
        &mut out,
        "wspc_topics",
        "gauge",
        "Topics with at least one subscriber here.",
    );
    let _ = writeln!(out, "wspc_topics {topics}");
    header(
        &mut out,
        "wspc_topic_subscribers",
        "gauge",
        "Subscribers of the largest topics (topic \"/\" is the default).",
    );
    for (name, n) in shown {
        let label = if name.is_empty() {
            "/".to_string()
        } else {
            escape(&name)
        };
        let _ = writeln!(out, "wspc_topic_subscribers{{topic=\"{label}\"}} {n}");
    }
    header(
        &mut out,
        "wspc_topic_subscribers_other",
        "gauge",
        "Subscribers of the topics not listed by name.",
    );
    let _ = writeln!(out, "wspc_topic_subscribers_other {others}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_fall_into_bounded_slots() {
        let shard = Shard::default();
        for code in [1000u16, 1000, 1008, 3001, 4999, 2999] {
            shard.close(Some(CloseCode::from(code)));
        }
        shard.close(None);
        let n = |i: usize| shard.closes[i].load(Ordering::Relaxed);
        assert_eq!((n(0), n(8), n(16), n(17), n(18), n(19)), (2, 1, 1, 1, 1, 1));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
