//! `wspc serve`: an echo or broadcast WebSocket server on every core, with the HTML
//! console on `GET /` and Prometheus metrics on `GET /metrics`.
//!
//! One concept per file:
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | the configuration, the runtimes (threads), shutdown |
//! | `listen.rs` | listeners (`SO_REUSEPORT` per core) and the accept loop |
//! | `slots.rs` | handshake slots: connections still in the opening handshake |
//! | `conn.rs` | one connection: TLS, the request, plain HTTP or an upgrade, the log line |
//! | `peer.rs` | the peer's address and its text, rendered once for the log lines |
//! | `http.rs` | every plain-HTTP response (console, 404, 405, 503, metrics) |
//! | `echo.rs` | the echo loop |
//! | `broadcast.rs` | a broadcast subscriber's loop |
//! | `topics.rs` | topics, subscribers and the fan-out |
//! | `broker.rs` | the Redis broker joining several servers |
//! | `metrics.rs` | counters and their Prometheus text |
//! | `wake.rs` | the per-wake-up budget and the shutdown flag both loops check |
//!
//! Ctrl-C and SIGTERM stop accepting, close every WebSocket with 1001, wait for the close
//! handshakes (at most [`SHUTDOWN_WAIT`]) and return.

mod boxed;
mod broadcast;
mod broker;
mod conn;
mod echo;
mod h2;
mod http;
mod listen;
mod metrics;
mod peer;
mod slots;
mod topics;
mod wake;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use wspc_tokio::{DeflateOptions, Error as WsError, Options, ServerBuilder};

use metrics::Metrics;
use slots::Slots;
use topics::Topics;
use wake::Shutdown;

/// Longest wait for the close handshakes at shutdown (also the close timeout).
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(3);

/// Default of `--max-buffered-bytes`: 256 MiB, so that the worst case with every default
/// fits a small machine (docs/security.md adds it up).
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 256 << 20;

/// What the server does with messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Every message back to its sender.
    Echo,
    /// Every message to every client of the sender's topic (its URL path).
    Broadcast,
}

/// How the threads share the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    /// One single-threaded runtime per thread, each with its own `SO_REUSEPORT` listener
    /// (the kernel spreads connections); a connection stays on its thread.
    PerCore,
    /// One work-stealing runtime with N workers and one listener.
    WorkStealing,
}

/// Everything `wspc serve` was asked to do.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: String,
    /// Echo or broadcast.
    pub mode: Mode,
    /// Threads (at least 1).
    pub threads: usize,
    /// How the threads share the work.
    pub runtime: Runtime,
    /// PEM certificate chain (TLS).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (TLS).
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate(s): clients must show a certificate they issued (mutual TLS).
    pub tls_client_ca: Option<PathBuf>,
    /// With TLS, serve HTTP/2 too (ALPN `h2`; WebSockets over extended CONNECT).
    pub http2: bool,
    /// Subprotocols accepted, in order of preference.
    pub subprotocols: Vec<String>,
    /// Largest message (after decompression).
    pub max_message_size: usize,
    /// Largest frame.
    pub max_frame_size: usize,
    /// Most frames per message.
    pub max_fragments: u32,
    /// Most Pongs and empty non-final frames per second and between two messages.
    pub max_empty_frames: u32,
    /// Cap on the message data all connections buffer together, permessage-deflate
    /// state included ([`wspc_tokio::Budget`]).
    pub max_buffered_bytes: usize,
    /// Progress deadline of a frame or message.
    pub message_timeout: Option<Duration>,
    /// Ping after this much silence (the Pong must come within the same interval).
    pub keepalive: Option<Duration>,
    /// Close (1001) a connection that sent no message for this long.
    pub idle_timeout: Option<Duration>,
    /// Most simultaneous connections, whole process (more get HTTP 503).
    pub max_connections: usize,
    /// Most connections in the opening handshake at once (TLS and HTTP); a new one
    /// beyond it takes the slot of the oldest.
    pub max_handshakes: usize,
    /// Most connections in the opening handshake from one address (0: no limit).
    pub max_handshakes_per_ip: usize,
    /// Longest opening handshake (TLS and HTTP request).
    pub handshake_timeout: Duration,
    /// Accept permessage-deflate offers.
    pub deflate: bool,
    /// Messages queued per client in broadcast mode.
    pub broadcast_queue: usize,
    /// Broadcast mode: do not send a message back to its sender.
    pub no_echo_to_sender: bool,
    /// Broadcast mode: `redis://` or `rediss://` URL of the broker joining servers.
    pub broker: Option<String>,
    /// PEM CA certificate(s) to trust for a `rediss://` broker.
    pub broker_ca: Option<PathBuf>,
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// A TLS file could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(WsError),
    /// The broker URL is unusable.
    #[error("--broker: {0}")]
    Broker(String),
    /// The runtime or the signal handlers could not be set up.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// State shared by every thread and connection.
pub(crate) struct State {
    pub(crate) config: ServeConfig,
    pub(crate) builder: ServerBuilder,
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    pub(crate) shutdown: Shutdown,
    /// Open WebSocket connections (the `--max-connections` count).
    pub(crate) open: AtomicUsize,
    /// Connection tasks alive (what shutdown waits for), and its wake-up at zero.
    tasks: AtomicUsize,
    drained: Notify,
    pub(crate) next_id: AtomicU64,
    pub(crate) slots: Slots,
    pub(crate) metrics: Metrics,
    pub(crate) topics: Topics,
    /// The `--max-buffered-bytes` budget every connection shares (read by `/metrics`).
    pub(crate) budget: wspc_tokio::Budget,
}

/// Counts a connection task as alive while it exists.
pub(crate) struct TaskGuard(pub(crate) Arc<State>);

impl TaskGuard {
    pub(crate) fn new(state: &Arc<State>) -> TaskGuard {
        state.tasks.fetch_add(1, Ordering::AcqRel);
        TaskGuard(state.clone())
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.0.tasks.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.drained.notify_waiters();
        }
    }
}

/// The options every WebSocket of this server runs with: the one place they are built.
pub(crate) fn ws_options(config: &ServeConfig, budget: &wspc_tokio::Budget) -> Options {
    let mut options = Options::new()
        .max_message_size(config.max_message_size)
        .max_frame_size(config.max_frame_size)
        .max_fragments(config.max_fragments)
        .max_empty_frames(config.max_empty_frames)
        .budget(budget.clone())
        .close_timeout(SHUTDOWN_WAIT);
    if let Some(d) = config.message_timeout {
        options = options.message_timeout(d);
    }
    if let Some(interval) = config.keepalive {
        options = options.keepalive(interval, interval);
    }
    options
}

fn read(path: &PathBuf) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::ReadFile {
        path: path.clone(),
        source,
    })
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(config: ServeConfig) -> Result<(), ServeError> {
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let mut tls = wspc_tokio::ServerTls::from_pem(&read(cert)?, &read(key)?)
                .map_err(ServeError::Tls)?
                .http2(config.http2);
            if let Some(ca) = &config.tls_client_ca {
                tls = tls.client_ca_pem(&read(ca)?).map_err(ServeError::Tls)?;
            }
            Some(tls.acceptor().map_err(ServeError::Tls)?)
        }
        _ => None,
    };
    let threads = config.threads.max(1);
    let per_core = config.runtime == Runtime::PerCore;
    let listeners = listen::bind(&config.listen, if per_core { threads } else { 1 })?;
    let local = listeners[0].local_addr().map_err(ServeError::Runtime)?;
    let broker = match (&config.broker, config.mode) {
        (Some(url), Mode::Broadcast) => {
            let ca = config.broker_ca.as_ref().map(read).transpose()?;
            Some(broker::Broker::new(url, ca)?)
        }
        (Some(_), Mode::Echo) => {
            return Err(ServeError::Broker("needs --mode broadcast".into()));
        }
        _ => None,
    };
    let subprotocols: Vec<&str> = config.subprotocols.iter().map(String::as_str).collect();
    let budget = wspc_tokio::Budget::new(config.max_buffered_bytes);
    let builder = ServerBuilder::new()
        .options(ws_options(&config, &budget))
        .subprotocols(&subprotocols)
        .deflate(config.deflate.then(DeflateOptions::default))
        .handshake_timeout(config.handshake_timeout);
    let (ws, http) = if tls.is_some() {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    tracing::info!(
        "wspc {mode:?} server listening on {ws}://{local}/ (console: {http}://{local}/, metrics: {http}://{local}/metrics), {threads} thread{s} ({runtime:?}), permessage-deflate {deflate}{broker}",
        mode = config.mode,
        s = if threads == 1 { "" } else { "s" },
        runtime = config.runtime,
        deflate = if config.deflate { "on" } else { "off" },
        broker = if broker.is_some() { ", broker on" } else { "" },
    );
    let state = Arc::new(State {
        slots: Slots::new(config.max_handshakes, config.max_handshakes_per_ip),
        metrics: Metrics::new(threads + 1),
        topics: Topics::new(broker.as_ref().map(|b| b.handle())),
        builder,
        budget,
        tls,
        shutdown: Shutdown::default(),
        open: AtomicUsize::new(0),
        tasks: AtomicUsize::new(0),
        drained: Notify::new(),
        next_id: AtomicU64::new(1),
        config,
    });

    if per_core && listeners.len() > 1 {
        let mut workers = Vec::new();
        for (i, listener) in listeners.into_iter().enumerate() {
            let state = state.clone();
            let worker = std::thread::Builder::new()
                .name(format!("wspc-serve-{i}"))
                .spawn(move || -> Result<(), ServeError> {
                    metrics::set_shard(i + 1);
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(ServeError::Runtime)?;
                    rt.block_on(async move {
                        let listener = tokio::net::TcpListener::from_std(listener)
                            .map_err(ServeError::Runtime)?;
                        listen::accept_loop(&state, listener).await;
                        drain(&state).await;
                        Ok(())
                    })
                })
                .map_err(ServeError::Runtime)?;
            workers.push(worker);
        }
        // This thread: signals and the broker.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ServeError::Runtime)?;
        let result = rt.block_on(supervise(&state, broker));
        for worker in workers {
            match worker.join() {
                Ok(Err(e)) => tracing::warn!("a worker thread failed: {e}"),
                Ok(Ok(())) => {}
                Err(_) => tracing::warn!("a worker thread panicked"),
            }
        }
        result?;
    } else {
        let rt = if per_core {
            // One core: this thread is the worker, and signals and the broker run beside
            // the connections. No other thread means the process stays single-threaded,
            // and libc's socket calls skip their thread-cancellation bookkeeping (about
            // 90 instructions per echoed message, issue 13).
            metrics::set_shard(1);
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        } else {
            let counter = Arc::new(AtomicUsize::new(1));
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .on_thread_start(move || {
                    metrics::set_shard(counter.fetch_add(1, Ordering::Relaxed))
                })
                .enable_all()
                .build()
        }
        .map_err(ServeError::Runtime)?;
        let listener = listeners.into_iter().next().expect("one listener");
        rt.block_on(async {
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(ServeError::Runtime)?;
            let accept = tokio::spawn({
                let state = state.clone();
                async move { listen::accept_loop(&state, listener).await }
            });
            let result = supervise(&state, broker).await;
            let _ = accept.await;
            drain(&state).await;
            result
        })?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Runs the broker (if any) until a signal, then starts the shutdown.
async fn supervise(state: &Arc<State>, broker: Option<broker::Broker>) -> Result<(), ServeError> {
    let broker_task = broker.map(|b| tokio::spawn(b.run(state.clone())));
    let result = match shutdown_signal().await {
        Ok(name) => {
            tracing::info!("{name}: closing every connection with 1001");
            Ok(())
        }
        Err(e) => Err(ServeError::Runtime(e)),
    };
    state.shutdown.start();
    drain(state).await;
    if let Some(task) = broker_task {
        task.abort();
    }
    result
}

/// Waits (bounded) until every connection task has ended.
async fn drain(state: &State) {
    let drained = state.drained.notified();
    tokio::pin!(drained);
    drained.as_mut().enable();
    if state.tasks.load(Ordering::Acquire) == 0 {
        return;
    }
    let wait = SHUTDOWN_WAIT + Duration::from_millis(500);
    if tokio::time::timeout(wait, drained).await.is_err() {
        tracing::warn!(
            "{} connections still open after {wait:?}; exiting",
            state.tasks.load(Ordering::Acquire)
        );
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, with the signal's name.
async fn shutdown_signal() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}
