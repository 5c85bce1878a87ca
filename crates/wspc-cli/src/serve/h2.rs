//! HTTP/2 connections (ALPN `h2` on the TLS port): every stream is a request — a
//! WebSocket over an extended CONNECT (RFC 8441), which runs the same echo or broadcast
//! loop as an HTTP/1.1 one, or a plain request answered like on HTTP/1.1 (console,
//! metrics, 404). Several WebSockets share one connection, one stream each, each counted
//! in `--max-connections`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncRead, AsyncWrite};
use wspc_tokio::Accept;
use wspc_tokio::h2::{H2Incoming, serve_connection_until};

use super::conn::{admit, opened, run};
use super::peer::Peer;
use super::{State, TaskGuard, http};

/// Serves one HTTP/2 connection (`id`) to its end.
pub(crate) async fn connection<S>(state: &Arc<State>, io: S, peer: Peer, id: u64)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tracing::debug!(id, %peer, "HTTP/2 connection");
    let streams = state.clone();
    let handler = move |incoming| {
        let state = streams.clone();
        async move { stream(state, incoming, peer, id).await }
    };
    let shutdown = state.shutdown.wait();
    let served = serve_connection_until(io, state.builder.clone(), handler, shutdown).await;
    if let Err(e) = served {
        tracing::debug!(id, %peer, "HTTP/2 connection ended: {e}");
    }
}

/// One stream of connection `id`.
async fn stream(state: Arc<State>, incoming: H2Incoming, peer: Peer, id: u64) {
    let _task = TaskGuard::new(&state);
    match incoming {
        H2Incoming::WebSocket(pending) => {
            if state.shutdown.is_started() || !admit(&state, peer, id) {
                let _ = pending.reject(http::unavailable());
                return;
            }
            let path = pending.request().uri().path().to_string();
            let accepted = pending.accept(Accept::default());
            let stream_id = accepted.as_ref().map_or(0, |ws| ws.get_ref().stream_id());
            tracing::debug!(id, %peer, stream = stream_id, "extended CONNECT");
            let http = format!("2 (stream {stream_id})");
            if let Some(open) = opened(&state, accepted, path, peer, id, &http) {
                run(&state, open, &peer, id).await;
            }
        }
        H2Incoming::Http { request, respond } => {
            let mut response = http::route(&request, &state);
            if request.method() == "HEAD" {
                response.body_mut().clear();
            }
            let status = response.status().as_u16();
            let _ = respond.send(response);
            state
                .metrics
                .shard()
                .http_responses
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(id, %peer, "HTTP/2 {} {} -> {status}", request.method(), request.uri().path());
        }
        _ => {}
    }
}
