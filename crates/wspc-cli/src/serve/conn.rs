//! One connection: the `--max-connections` cap, a handshake slot, TLS, the HTTP request
//! (plain HTTP answered, an upgrade accepted), then the echo or broadcast loop and the
//! one log line that says how it ended.
//!
//! Every stage runs in a boxed future: a task keeps room for the largest future it may
//! run, so an unboxed TLS or handshake future would stay in every idle connection's
//! memory (16 KB per connection before, issue 8). The loop is boxed too, so the task's
//! own future stays small: tokio copies it whole when it spawns the task and when the
//! task ends (about 1,400 instructions per connection when the loop was inline, issue 13).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wspc_tokio::{Accept, CloseCode, CloseFrame, Error as WsError, Incoming, WebSocket};

use super::boxed::boxed;
use super::peer::Peer;
use super::{Mode, State, TaskGuard, broadcast, echo, h2, http};

/// How a WebSocket ended, for the log.
pub(crate) enum Ended {
    /// The close handshake completed; the peer's Close.
    Closed(Option<CloseFrame>),
    /// The connection failed.
    Failed(WsError),
    /// The transport ended after the close (nothing more to report).
    Gone,
}

impl Ended {
    /// The close code to count.
    fn code(&self) -> Option<CloseCode> {
        match self {
            Ended::Closed(Some(frame)) => Some(frame.code),
            Ended::Closed(None) => Some(CloseCode::EMPTY),
            Ended::Failed(e) => e.close_code(),
            Ended::Gone => None,
        }
    }
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

/// Sends our Close and waits for the handshake to complete.
pub(crate) async fn close<S>(ws: &mut WebSocket<S>, code: CloseCode, reason: &str) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match ws.close(code, reason).await {
        Ok(frame) => Ended::Closed(frame),
        Err(WsError::Closed) => Ended::Gone,
        Err(e) => Ended::Failed(e),
    }
}

/// Serves one accepted TCP connection to its end.
pub(crate) async fn serve(state: Arc<State>, tcp: TcpStream, addr: SocketAddr) {
    let _task = TaskGuard::new(&state);
    let peer = Peer::new(addr);
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    if state.open.load(Ordering::Acquire) >= state.config.max_connections {
        tracing::warn!(id, %peer, "refused: --max-connections reached");
        state
            .metrics
            .shard()
            .refused
            .fetch_add(1, Ordering::Relaxed);
        boxed(|| http::refuse(tcp)).await;
        return;
    }
    match state.tls.clone() {
        None => connection(&state, tcp, peer, id).await,
        Some(acceptor) => {
            let state = &state;
            boxed(|| async move {
                let Some((slot, _)) = state.slots.acquire(peer.ip()) else {
                    state
                        .metrics
                        .shard()
                        .handshakes_refused
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(id, %peer, "refused: --max-handshakes-per-ip reached");
                    return;
                };
                let handshake =
                    tokio::time::timeout(state.config.handshake_timeout, acceptor.accept(tcp));
                let stream = tokio::select! {
                    biased;
                    r = handshake => r,
                    _ = slot.evicted() => {
                        state.metrics.shard().handshakes_evicted.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(id, %peer, "TLS handshake evicted (--max-handshakes)");
                        return;
                    }
                };
                drop(slot);
                match stream {
                    Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(b"h2") => {
                        h2::connection(state, stream, peer, id).await
                    }
                    Ok(Ok(stream)) => connection(state, stream, peer, id).await,
                    Ok(Err(e)) => {
                        state
                            .metrics
                            .shard()
                            .handshakes_failed
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::info!(id, %peer, "TLS handshake failed: {e}")
                    }
                    Err(_) => {
                        state
                            .metrics
                            .shard()
                            .handshakes_failed
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::info!(id, %peer, "TLS handshake timed out")
                    }
                }
            })
            .await
        }
    }
}

/// A WebSocket that passed the handshake, counted in `--max-connections` until dropped.
pub(crate) struct Open<'a, S> {
    state: &'a State,
    ws: WebSocket<S>,
    path: String,
}

impl<S> Drop for Open<'_, S> {
    fn drop(&mut self) {
        self.state.open.fetch_sub(1, Ordering::AcqRel);
        self.state
            .metrics
            .shard()
            .connections_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

async fn connection<S>(state: &Arc<State>, stream: S, peer: Peer, id: u64)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(open) = boxed(|| handshake(state, stream, peer, id)).await else {
        return;
    };
    boxed(|| run(state, open, &peer, id)).await;
}

/// Runs an open WebSocket's echo or broadcast loop and logs how it ended.
pub(crate) async fn run<S>(state: &Arc<State>, mut open: Open<'_, S>, peer: &Peer, id: u64)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ended = match state.config.mode {
        Mode::Echo => echo::run(state, &mut open.ws).await,
        Mode::Broadcast => boxed(|| broadcast::run(state, &mut open.ws, &open.path, id)).await,
    };
    let shard = state.metrics.shard();
    shard.close(ended.code());
    tracing::info!(id, %peer, "{ended}");
}

/// Reads the request in a handshake slot: answers plain HTTP, or upgrades to a
/// WebSocket (503 when `--max-connections` are open).
async fn handshake<'a, S>(
    state: &'a Arc<State>,
    stream: S,
    peer: Peer,
    id: u64,
) -> Option<Open<'a, S>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some((slot, _)) = state.slots.acquire(peer.ip()) else {
        state
            .metrics
            .shard()
            .handshakes_refused
            .fetch_add(1, Ordering::Relaxed);
        tracing::debug!(id, %peer, "refused: --max-handshakes-per-ip reached");
        return None;
    };
    // The request first: it is what usually completes (and no random start is drawn).
    let read = tokio::select! {
        biased;
        r = state.builder.read_request(stream) => r,
        _ = slot.evicted() => {
            state.metrics.shard().handshakes_evicted.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(id, %peer, "handshake evicted (--max-handshakes)");
            return None;
        }
    };
    drop(slot);
    let pending = match read {
        Ok(Incoming::WebSocket(pending)) => pending,
        Ok(Incoming::Http {
            request,
            mut stream,
        }) => {
            let response = http::route(&request, state);
            let status = response.status().as_u16();
            http::write(&mut stream, response, request.method() == "HEAD").await;
            state
                .metrics
                .shard()
                .http_responses
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(id, %peer, "HTTP {} {} -> {status}", request.method(), request.uri().path());
            return None;
        }
        Err(e) => {
            state
                .metrics
                .shard()
                .handshakes_failed
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(id, %peer, "bad request: {e}");
            return None;
        }
    };
    if !admit(state, peer, id) {
        let _ = pending.reject(http::unavailable()).await;
        return None;
    }
    let path = pending.uri().path().to_string();
    let accepted = pending.accept(Accept::default()).await;
    opened(state, accepted, path, peer, id, "1.1")
}

/// Counts a WebSocket about to be accepted in `--max-connections`; `false` (counted and
/// logged as refused) when they are all taken.
pub(crate) fn admit(state: &State, peer: Peer, id: u64) -> bool {
    if state.open.fetch_add(1, Ordering::AcqRel) >= state.config.max_connections {
        state.open.fetch_sub(1, Ordering::AcqRel);
        state
            .metrics
            .shard()
            .refused
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(id, %peer, "refused: --max-connections reached");
        return false;
    }
    state
        .metrics
        .shard()
        .connections_open
        .fetch_add(1, Ordering::Relaxed);
    true
}

/// An admitted WebSocket's accept went through (its guard and the "open" log line, with
/// the HTTP version it runs over) or failed (un-admitted, counted).
pub(crate) fn opened<'a, S>(
    state: &'a State,
    accepted: Result<WebSocket<S>, WsError>,
    path: String,
    peer: Peer,
    id: u64,
    http: &str,
) -> Option<Open<'a, S>> {
    let shard = state.metrics.shard();
    let ws = match accepted {
        Ok(ws) => ws,
        Err(e) => {
            state.open.fetch_sub(1, Ordering::AcqRel);
            shard.connections_open.fetch_sub(1, Ordering::Relaxed);
            shard.handshakes_failed.fetch_add(1, Ordering::Relaxed);
            tracing::info!(id, %peer, "upgrade failed: {e}");
            return None;
        }
    };
    shard.connections_total.fetch_add(1, Ordering::Relaxed);
    tracing::info!(
        id,
        %peer,
        path,
        http,
        subprotocol = ws.subprotocol().unwrap_or("-"),
        deflate = ws.deflate().is_some(),
        "open"
    );
    Some(Open { state, ws, path })
}
