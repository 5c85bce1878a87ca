//! Load tools for `wspc serve` at scale (docs/performance.md, "Serving at scale").
//!
//! ```sh
//! # One publisher → N subscribers of a topic (spread over one or more servers):
//! # delivered messages/s and publish→delivery latency.
//! cargo run --release -p wspc-cli --example fanout -- broadcast \
//!     --url ws://127.0.0.1:19120/t --subscribers 1000 --window 4 --duration 10s
//! # N idle connections (each echoes one 20 B message first), held for a while:
//! cargo run --release -p wspc-cli --example fanout -- idle \
//!     --url ws://127.0.0.1:19120/ --connections 10000 --hold 20s
//! ```
//!
//! `broadcast`: subscribers are spread round-robin over the `--url`s; the publisher is on
//! the first and is subscribed too, and keeps `--window` messages in flight: it sends the
//! next one when its own copy comes back (the server relays to every subscriber in the
//! same order). Every payload carries its sequence number and send time; each subscriber
//! checks it gets every message once, in order, and records the latency. One JSON line.
//!
//! `idle`: prints `ready N` on stdout once N connections are open and have echoed one
//! message (not with `--silent`), holds them for `--hold`, then closes them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use tokio::sync::Mutex;
use wspc_tokio::{ClientBuilder, MaybeTlsStream, Message, WebSocket};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One publisher, many subscribers.
    Broadcast {
        /// Server URL(s) with the topic path (repeat for several servers).
        #[arg(long, required = true)]
        url: Vec<String>,
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// Messages in flight from the publisher.
        #[arg(long, default_value_t = 4)]
        window: usize,
        /// Payload bytes (at least 16).
        #[arg(long, default_value_t = 32)]
        size: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Seconds before measuring.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Subscribers offer permessage-deflate.
        #[arg(long)]
        deflate: bool,
    },
    /// Many idle connections.
    Idle {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Seconds to hold them.
        #[arg(long, default_value_t = 20.0)]
        hold: f64,
        /// Send nothing (for a broadcast server, where an echo would reach everyone).
        #[arg(long)]
        silent: bool,
    },
}

type Ws = WebSocket<MaybeTlsStream>;

async fn open(url: &str, deflate: bool) -> Ws {
    ClientBuilder::new(url)
        .expect("a ws:// URL")
        .deflate(deflate.then(Default::default))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
        .0
}

/// Opens `n` connections to `urls` (round-robin), 100 at a time.
async fn open_many(urls: &[String], n: usize, deflate: bool) -> Vec<Ws> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let batch: Vec<_> = (i..(i + 100).min(n))
            .map(|j| {
                let url = urls[j % urls.len()].clone();
                tokio::spawn(async move { open(&url, deflate).await })
            })
            .collect();
        for task in batch {
            out.push(task.await.expect("connect task"));
        }
        i += 100;
    }
    out
}

fn main() {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match cli.command {
        Command::Broadcast {
            url,
            subscribers,
            window,
            size,
            duration,
            warmup,
            deflate,
        } => rt.block_on(broadcast(
            url,
            subscribers,
            window,
            size.max(16),
            duration,
            warmup,
            deflate,
        )),
        Command::Idle {
            url,
            connections,
            hold,
            silent,
        } => rt.block_on(idle(url, connections, hold, silent)),
    }
}

struct Stats {
    delivered: AtomicU64,
    errors: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
}

async fn broadcast(
    urls: Vec<String>,
    n: usize,
    window: usize,
    size: usize,
    duration: f64,
    warmup: f64,
    deflate: bool,
) {
    let base = Instant::now();
    let subs = open_many(&urls, n, deflate).await;
    let mut publisher = open(&urls[0], false).await;
    // Let every server (and the broker) register the subscriptions.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stats = Arc::new(Stats {
        delivered: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        latencies_us: Mutex::new(Vec::new()),
    });
    let measure_from = Instant::now() + Duration::from_secs_f64(warmup);
    let measure_to = measure_from + Duration::from_secs_f64(duration);
    let from_ns = (measure_from - base).as_nanos() as u64;
    let to_ns = (measure_to - base).as_nanos() as u64;
    let mut tasks = Vec::new();
    for mut ws in subs {
        let stats = stats.clone();
        tasks.push(tokio::spawn(async move {
            let mut next = 0u64;
            let mut lat = Vec::new();
            let mut delivered = 0;
            while let Some(Ok(m)) = ws.recv().await {
                let Message::Binary(b) = m else { continue };
                if b.len() < 16 {
                    continue;
                }
                let seq = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
                let sent = u64::from_le_bytes(b[8..16].try_into().unwrap_or_default());
                if seq == u64::MAX {
                    break;
                }
                if seq != next {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                }
                next = seq + 1;
                if sent >= from_ns && sent < to_ns {
                    let now = base.elapsed().as_nanos() as u64;
                    lat.push(((now - sent) / 1000).min(u32::MAX as u64) as u32);
                    delivered += 1;
                }
            }
            stats.delivered.fetch_add(delivered, Ordering::Relaxed);
            stats.latencies_us.lock().await.extend(lat);
            let _ = ws.close(wspc_tokio::CloseCode::NORMAL, "").await;
        }));
    }
    let mut payload = vec![b'x'; size];
    let mut seq = 0u64;
    let mut in_flight = 0usize;
    let mut sent_measured = 0u64;
    while Instant::now() < measure_to {
        while in_flight < window {
            let sent = base.elapsed().as_nanos() as u64;
            payload[..8].copy_from_slice(&seq.to_le_bytes());
            payload[8..16].copy_from_slice(&sent.to_le_bytes());
            if sent >= from_ns && sent < to_ns {
                sent_measured += 1;
            }
            publisher
                .feed(Message::binary(payload.clone()))
                .await
                .expect("publish");
            seq += 1;
            in_flight += 1;
        }
        publisher.flush().await.expect("flush");
        match tokio::time::timeout(Duration::from_secs(60), publisher.recv()).await {
            Ok(Some(Ok(Message::Binary(_)))) => in_flight -= 1,
            Ok(Some(Ok(_))) => {}
            other => panic!("publisher: {other:?}"),
        }
    }
    // The end marker, then wait for every subscriber.
    payload[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    publisher
        .send(Message::binary(payload.clone()))
        .await
        .expect("publish");
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        for t in tasks {
            let _ = t.await;
        }
    })
    .await;
    if waited.is_err() {
        stats.errors.fetch_add(1, Ordering::Relaxed);
    }
    let mut lat = std::mem::take(&mut *stats.latencies_us.lock().await);
    lat.sort_unstable();
    let q = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let delivered = stats.delivered.load(Ordering::Relaxed);
    let expected = sent_measured * n as u64;
    println!(
        "{}",
        serde_json::json!({
            "subscribers": n,
            "servers": urls.len(),
            "window": window,
            "size": size,
            "deflate": deflate,
            "duration_s": duration,
            "published_per_sec": sent_measured as f64 / duration,
            "delivered_per_sec": delivered as f64 / duration,
            "delivered": delivered,
            "expected": expected,
            "p50_us": q(0.50),
            "p99_us": q(0.99),
            "max_us": lat.last().copied().unwrap_or(0),
            "errors": stats.errors.load(Ordering::Relaxed),
        })
    );
}

async fn idle(url: String, n: usize, hold: f64, silent: bool) {
    let mut conns = open_many(std::slice::from_ref(&url), n, false).await;
    for ws in conns.iter_mut().filter(|_| !silent) {
        ws.send(Message::binary(vec![7u8; 20])).await.expect("send");
    }
    for ws in conns.iter_mut().filter(|_| !silent) {
        match ws.recv().await {
            Some(Ok(Message::Binary(_))) => {}
            other => panic!("no echo: {other:?}"),
        }
    }
    println!("ready {}", conns.len());
    tokio::time::sleep(Duration::from_secs_f64(hold)).await;
    for mut ws in conns {
        let _ = ws.close(wspc_tokio::CloseCode::NORMAL, "").await;
    }
}
