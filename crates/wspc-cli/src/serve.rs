//! `wspc serve`: an echo or broadcast WebSocket server, with the HTML console on `GET /`.
//!
//! One tokio `current_thread` runtime (the benchmarks pin the server to one core). Each
//! TCP connection is a task: the HTTP request is read with
//! [`ServerBuilder::read_request`]; an upgrade becomes a WebSocket, a plain `GET /` gets
//! the console page, anything else a 404.
//!
//! - **Echo** (default): every text and binary message goes back unchanged; echoes are
//!   queued with `feed` and leave together when the socket has nothing more to read, so
//!   the echoes of one read share one vectored write. A Close is answered with the same
//!   code by the engine.
//! - **Broadcast**: every message goes to every connected client (the sender included),
//!   through a bounded queue per client. A client whose queue is full (it reads slower
//!   than the others send) is closed with 1008 "too slow" instead of slowing the others
//!   down or growing memory without bound.
//!
//! Ctrl-C and SIGTERM stop accepting, close every WebSocket with 1001, wait for the close
//! handshakes (at most [`SHUTDOWN_WAIT`]) and return.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
use wspc_tokio::{
    CloseCode, CloseFrame, DeflateOptions, Error as WsError, Incoming, Message, Options, Request,
    ServerBuilder, WebSocket,
};

/// The console page, served on `GET /`.
pub const CONSOLE_HTML: &str = include_str!("console.html");

/// Default of `--max-buffered-bytes`: 256 MiB, so that the worst case with every default
/// fits a small machine (docs/security.md adds it up).
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 256 << 20;

/// Longest wait for the close handshakes at shutdown.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(3);

/// What the server does with messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Every message back to its sender.
    Echo,
    /// Every message to every connected client.
    Broadcast,
}

/// Everything `wspc serve` was asked to do.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: String,
    /// Echo or broadcast.
    pub mode: Mode,
    /// PEM certificate chain (TLS).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (TLS).
    pub tls_key: Option<PathBuf>,
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
    /// Cap on the message data all connections buffer together ([`wspc::Budget`]).
    pub max_buffered_bytes: usize,
    /// Progress deadline of a frame or message.
    pub message_timeout: Option<Duration>,
    /// Ping after this much silence (the Pong must come within the same interval).
    pub keepalive: Option<Duration>,
    /// Close (1001) a connection that sent no message for this long.
    pub idle_timeout: Option<Duration>,
    /// Most simultaneous connections (more get HTTP 503).
    pub max_connections: usize,
    /// Accept permessage-deflate offers.
    pub deflate: bool,
    /// Messages queued per client in broadcast mode.
    pub broadcast_queue: usize,
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
    /// The runtime or the signal handlers could not be set up.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(config: ServeConfig) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(serve(config))
}

/// A broadcast client: its queue and a way to tell it to close.
struct Member {
    queue: mpsc::Sender<Message>,
    close: watch::Sender<Option<(CloseCode, &'static str)>>,
}

/// State shared by every connection task.
struct State {
    config: ServeConfig,
    builder: ServerBuilder,
    shutdown: watch::Receiver<bool>,
    active: AtomicUsize,
    idle: Notify,
    next_id: AtomicU64,
    members: Mutex<HashMap<u64, Member>>,
}

/// Decrements the active count when a connection task ends.
struct Active(Arc<State>);

impl Drop for Active {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::ReadFile {
        path: path.clone(),
        source,
    })
}

async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(
            wspc_tokio::tls_acceptor_from_pem(&read(cert)?, &read(key)?)
                .map_err(ServeError::Tls)?,
        ),
        _ => None,
    };
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
    let local = listener.local_addr().map_err(ServeError::Runtime)?;
    let (ws, http) = if tls.is_some() {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    tracing::info!(
        "wspc {mode:?} server listening on {ws}://{local}/ (console: {http}://{local}/), permessage-deflate {}",
        if config.deflate { "on" } else { "off" },
        mode = config.mode,
    );

    let mut options = Options::new()
        .max_message_size(config.max_message_size)
        .max_frame_size(config.max_frame_size)
        .max_fragments(config.max_fragments)
        .max_empty_frames(config.max_empty_frames)
        .budget(wspc_tokio::Budget::new(config.max_buffered_bytes))
        .close_timeout(SHUTDOWN_WAIT);
    if let Some(d) = config.message_timeout {
        options = options.message_timeout(d);
    }
    if let Some(interval) = config.keepalive {
        options = options.keepalive(interval, interval);
    }
    let builder = ServerBuilder::new()
        .options(options)
        .deflate(config.deflate.then(DeflateOptions::default))
        .handshake_timeout(Duration::from_secs(10));
    let (stop, shutdown) = watch::channel(false);
    let state = Arc::new(State {
        config,
        builder,
        shutdown,
        active: AtomicUsize::new(0),
        idle: Notify::new(),
        next_id: AtomicU64::new(1),
        members: Mutex::new(HashMap::new()),
    });

    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off a little.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let id = state.next_id.fetch_add(1, Ordering::Relaxed);
                let over = state.active.fetch_add(1, Ordering::AcqRel) >= state.config.max_connections;
                let guard = Active(state.clone());
                let tls = tls.clone();
                tokio::spawn(async move {
                    let state = guard.0.clone();
                    if over {
                        tracing::warn!(id, %peer, "refused: --max-connections reached");
                        Box::pin(refuse(tcp)).await;
                        return;
                    }
                    // Everything but the plain echo/broadcast loop is boxed (here and in
                    // `connection`): a task keeps room for the largest future it may run,
                    // so an unboxed TLS or handshake future would stay in every idle
                    // connection's memory (16 KB per connection before, issue 8).
                    match tls {
                        None => connection(&state, tcp, peer, id).await,
                        Some(acceptor) => Box::pin(async move {
                            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
                            match handshake.await {
                                Ok(Ok(stream)) => connection(&state, stream, peer, id).await,
                                Ok(Err(e)) => tracing::info!(id, %peer, "TLS handshake failed: {e}"),
                                Err(_) => tracing::info!(id, %peer, "TLS handshake timed out"),
                            }
                        })
                        .await,
                    }
                    drop(guard);
                });
            }
            r = &mut signal => {
                match r {
                    Ok(name) => tracing::info!("{name}: closing every connection with 1001"),
                    Err(e) => return Err(ServeError::Runtime(e)),
                }
                break;
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let idle = state.idle.notified();
    tokio::pin!(idle);
    idle.as_mut().enable();
    if state.active.load(Ordering::Acquire) > 0 {
        let wait = SHUTDOWN_WAIT + Duration::from_millis(500);
        if tokio::time::timeout(wait, idle).await.is_err() {
            tracing::warn!(
                "{} connections still open after {wait:?}; exiting",
                state.active.load(Ordering::Acquire)
            );
        }
    }
    tracing::info!("stopped");
    Ok(())
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

/// Answers 503 without reading the request, then drains what the client sends for a
/// moment (closing with unread input would reset the connection and could destroy the
/// response before the client reads it).
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let body = "too many connections\n";
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while stream.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    })
    .await;
}

/// Answers a plain HTTP request: the console on `GET /`, 404 elsewhere.
async fn http<S: AsyncWrite + Unpin>(request: &Request, mut stream: S) -> u16 {
    let method = request.method().as_str();
    let path = request.path();
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/" | "/index.html") => {
            ("200 OK", "text/html; charset=utf-8", CONSOLE_HTML)
        }
        (_, "/" | "/index.html") => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "method not allowed\n",
        ),
        _ => ("404 Not Found", "text/plain; charset=utf-8", "not found\n"),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        response.extend_from_slice(body.as_bytes());
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        stream.write_all(&response).await?;
        stream.shutdown().await
    })
    .await;
    status[..3].parse().unwrap_or(500)
}

/// How a WebSocket ended, for the log.
enum Ended {
    /// The close handshake completed; the peer's Close.
    Closed(Option<CloseFrame>),
    /// The connection failed.
    Failed(WsError),
    /// The transport ended after the close (nothing more to report).
    Gone,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Closed(Some(frame)) if frame.reason.is_empty() => {
                write!(f, "closed {}", frame.code.as_u16())
            }
            Ended::Closed(Some(frame)) => {
                write!(
                    f,
                    "closed {} {:?}",
                    frame.code.as_u16(),
                    frame.reason.as_str()
                )
            }
            Ended::Closed(None) => write!(f, "closed (no code)"),
            Ended::Failed(e) => write!(f, "failed: {e}"),
            Ended::Gone => write!(f, "closed"),
        }
    }
}

async fn connection<S>(state: &Arc<State>, stream: S, peer: SocketAddr, id: u64)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The handshake runs in its own boxed future, so that its state is freed once the
    // socket is open: the task then holds only the socket and the echo loop.
    let Some(ws) = Box::pin(handshake(state, stream, peer, id)).await else {
        return;
    };
    let ended = match state.config.mode {
        Mode::Echo => echo(state, ws).await,
        Mode::Broadcast => Box::pin(broadcast(state, ws, id)).await,
    };
    match &ended {
        Ended::Failed(_) => tracing::info!(id, %peer, "{ended}"),
        _ => tracing::info!(id, %peer, "{ended}"),
    }
}

/// Reads the request: answers plain HTTP, or upgrades to a WebSocket.
async fn handshake<S>(
    state: &Arc<State>,
    stream: S,
    peer: SocketAddr,
    id: u64,
) -> Option<WebSocket<S>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let pending = match state.builder.read_request(stream).await {
        Ok(Incoming::WebSocket(pending)) => pending,
        Ok(Incoming::Http { request, stream }) => {
            let status = http(&request, stream).await;
            tracing::info!(id, %peer, "HTTP {} {} -> {status}", request.method(), request.path());
            return None;
        }
        Err(e) => {
            tracing::debug!(id, %peer, "bad request: {e}");
            return None;
        }
    };
    let subprotocol = pending
        .request()
        .select_subprotocol(&state.config.subprotocols)
        .map(String::from);
    let path = pending.request().path().to_string();
    let ws = match pending.accept(subprotocol.as_deref()).await {
        Ok(ws) => ws,
        Err(e) => {
            tracing::info!(id, %peer, "upgrade failed: {e}");
            return None;
        }
    };
    tracing::info!(
        id,
        %peer,
        path,
        subprotocol = subprotocol.as_deref().unwrap_or("-"),
        deflate = ws.deflate().is_some(),
        "open"
    );
    Some(ws)
}

/// Resolves once the server is shutting down (or the state is gone).
async fn until_shutdown(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Resolves with the close a broadcast client was asked to do.
async fn until_close_request(
    rx: &mut watch::Receiver<Option<(CloseCode, &'static str)>>,
) -> (CloseCode, &'static str) {
    match rx.wait_for(|c| c.is_some()).await {
        Ok(close) => close.unwrap_or((CloseCode::GOING_AWAY, "")),
        Err(_) => (CloseCode::GOING_AWAY, ""),
    }
}

/// The instant the idle timer fires, if there is one.
fn idle_deadline(state: &State) -> Option<Instant> {
    state.config.idle_timeout.map(|d| Instant::now() + d)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Sends our Close and waits for the handshake to complete.
async fn close<S>(mut ws: WebSocket<S>, code: CloseCode, reason: &str) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match ws.close(code, reason).await {
        Ok(frame) => Ended::Closed(frame),
        Err(WsError::Closed) => Ended::Gone,
        Err(e) => Ended::Failed(e),
    }
}

/// What one turn of the echo loop decided.
enum Step {
    /// Go on; `true` when a message arrived (the idle timer restarts).
    Next(bool),
    /// The connection is over.
    End(Ended),
    /// Close it with 1001 and this reason.
    Close(&'static str),
}

async fn echo<S>(state: &State, mut ws: WebSocket<S>) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut shutdown = state.shutdown.clone();
    let mut deadline = idle_deadline(state);
    loop {
        // recv and feed are both safe to drop part-way (their state is in the socket).
        let step = async {
            match ws.recv().await {
                Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                    // Queued, written with whatever else is ready (recv writes it when
                    // there is nothing more to read). Fails only once a Close was
                    // received or sent; recv then completes the handshake.
                    let _ = ws.feed(msg).await;
                    Step::Next(true)
                }
                Some(Ok(Message::Close(frame))) => Step::End(Ended::Closed(frame)),
                Some(Ok(_)) => Step::Next(false),
                Some(Err(e)) => Step::End(Ended::Failed(e)),
                None => Step::End(Ended::Gone),
            }
        };
        let step = tokio::select! {
            step = step => step,
            _ = until_shutdown(&mut shutdown) => Step::Close("server shutting down"),
            _ = sleep_until(deadline) => Step::Close("idle timeout"),
        };
        match step {
            Step::Next(true) => deadline = idle_deadline(state),
            Step::Next(false) => {}
            Step::End(ended) => return ended,
            Step::Close(reason) => return Box::pin(close(ws, CloseCode::GOING_AWAY, reason)).await,
        }
    }
}

/// Sends `msg` to every broadcast member; members whose queue is full are told to close.
fn publish(state: &State, msg: &Message) {
    let mut members = state.members.lock().unwrap_or_else(|p| p.into_inner());
    members.retain(|id, member| match member.queue.try_send(msg.clone()) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::warn!(
                id,
                "broadcast queue full: closing the slow client with 1008"
            );
            let _ = member
                .close
                .send(Some((CloseCode::POLICY_VIOLATION, "too slow")));
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    });
}

async fn broadcast<S>(state: &Arc<State>, ws: WebSocket<S>, id: u64) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, mut writer) = ws.split();
    let (queue, mut rx) = mpsc::channel::<Message>(state.config.broadcast_queue.max(1));
    let (close_tx, mut close_rx) = watch::channel(None);
    state
        .members
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            id,
            Member {
                queue,
                close: close_tx.clone(),
            },
        );
    let mut shutdown = state.shutdown.clone();
    let writer_task = tokio::spawn(async move {
        let close = loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(msg) => if writer.send(msg).await.is_err() { return },
                    // Removed from the members: the reader is done.
                    None => return,
                },
                close = until_close_request(&mut close_rx) => break close,
                _ = until_shutdown(&mut shutdown) => break (CloseCode::GOING_AWAY, "server shutting down"),
            }
        };
        // The reader half sees the peer's answer and completes the handshake.
        let _ = writer.close(close.0, close.1).await;
    });

    let mut deadline = idle_deadline(state);
    let ended = loop {
        tokio::select! {
            msg = reader.recv() => match msg {
                Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                    deadline = idle_deadline(state);
                    publish(state, &msg);
                }
                Some(Ok(Message::Close(frame))) => break Ended::Closed(frame),
                Some(Ok(_)) => {}
                Some(Err(e)) => break Ended::Failed(e),
                None => break Ended::Gone,
            },
            _ = sleep_until(deadline) => {
                let _ = close_tx.send(Some((CloseCode::GOING_AWAY, "idle timeout")));
                deadline = None;
            }
        }
    };
    state
        .members
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    let _ = tokio::time::timeout(SHUTDOWN_WAIT, writer_task).await;
    ended
}
