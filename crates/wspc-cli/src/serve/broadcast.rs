//! A broadcast client's loop: one task reads the socket (messages are published to the
//! client's topic, and to the broker) and writes what its queue holds.
//!
//! The loop never waits on a write: messages move from the queue into the socket's write
//! buffer while it has room (1 MiB), and the socket writes whenever it can. So when the
//! queue overflows (`--broadcast-queue`; the client reads slower than the topic speaks)
//! the loop sees it on its next wake-up — the publisher wakes it — and closes the client
//! with 1008 "too slow": the Close is queued behind what is already buffered, and the
//! close timeout ([`SHUTDOWN_WAIT`](super::SHUTDOWN_WAIT)) cuts the TCP connection of a
//! client that does not read it.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use wspc_tokio::{CloseCode, CloseFrame, Message, PreparedMessage, WebSocket};

use super::State;
use super::conn::Ended;
use super::echo::IdleTimer;
use super::topics::{Subscription, topic_of};
use super::wake::EVENTS_PER_WAKE;

/// Runs client `id` subscribed to the topic of `path` until the connection ends.
pub(crate) async fn run<S>(state: &State, ws: &mut WebSocket<S>, path: &str, id: u64) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut sub = state
        .topics
        .subscribe(topic_of(path), id, state.config.broadcast_queue);
    let ended = serve(state, ws, &mut sub).await;
    state.topics.unsubscribe(&sub);
    ended
}

/// Where the loop is.
enum Phase {
    /// Reading, publishing, writing the queue.
    Open,
    /// Our Close was queued: reading until the peer's answer or the close timeout.
    Closing,
}

fn wspc_message(msg: Message) -> Option<wspc::Message> {
    match msg {
        Message::Text(t) => Some(wspc::Message::Text(t)),
        Message::Binary(b) => Some(wspc::Message::Binary(b)),
        _ => None,
    }
}

async fn serve<S>(state: &State, ws: &mut WebSocket<S>, sub: &mut Subscription) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let skip_self = state.config.no_echo_to_sender.then_some(sub.me.id);
    let broker = state.topics.broker();
    let mut shutdown = state.shutdown.watch();
    let mut idle = IdleTimer::new(state.config.idle_timeout);
    let kick = sub.me.kick.notified();
    tokio::pin!(kick);
    let mut kick_registered = false;
    let mut phase = Phase::Open;
    poll_fn(|cx| {
        let shard = state.metrics.shard();
        if let Phase::Open = phase {
            if !kick_registered {
                kick_registered = true;
                let _ = kick.as_mut().poll(cx);
            }
            let close = if sub.me.overflowed.load(Ordering::Acquire) {
                Some((CloseCode::POLICY_VIOLATION, "too slow"))
            } else if shutdown.poll(cx) {
                Some((CloseCode::GOING_AWAY, "server shutting down"))
            } else if idle.as_mut().is_some_and(|t| t.poll_expired(cx)) {
                Some((CloseCode::GOING_AWAY, "idle timeout"))
            } else {
                None
            };
            if let Some((code, reason)) = close {
                // Nothing more from the topic; the Close goes out behind what is buffered.
                sub.queue.close();
                let frame = CloseFrame::new(code, reason).ok();
                let _ = Pin::new(&mut *ws).start_send(Message::Close(frame));
                phase = Phase::Closing;
            }
        }
        let mut budget = EVENTS_PER_WAKE;
        while budget > 0 {
            let mut progressed = false;
            // What the topic sent, into the write buffer while it has room; it leaves in
            // one vectored write when the socket has nothing more to read.
            while budget > 0
                && let Phase::Open = phase
                && let Poll::Ready(Ok(())) = Pin::new(&mut *ws).poll_ready(cx)
                && let Poll::Ready(Some(message)) = sub.queue.poll_recv(cx)
            {
                budget -= 1;
                progressed = true;
                if ws.start_send_prepared(&message).is_ok() {
                    shard.messages_out.fetch_add(1, Ordering::Relaxed);
                    shard
                        .bytes_out
                        .fetch_add(message.payload().len() as u64, Ordering::Relaxed);
                }
            }
            budget = budget.saturating_sub(1);
            match Pin::new(&mut *ws).poll_next(cx) {
                Poll::Ready(Some(Ok(msg @ (Message::Text(_) | Message::Binary(_))))) => {
                    progressed = true;
                    if let Phase::Closing = phase {
                        continue;
                    }
                    shard.messages_in.fetch_add(1, Ordering::Relaxed);
                    shard
                        .bytes_in
                        .fetch_add(msg.len() as u64, Ordering::Relaxed);
                    if let Some(t) = idle.as_mut() {
                        t.touch();
                    }
                    if let Some(m) = wspc_message(msg) {
                        let shared = Arc::new(PreparedMessage::new(m));
                        if let Some(b) = broker {
                            b.publish(&sub.topic.name, &shared, &state.metrics.broker);
                        }
                        sub.topic.publish(&shared, skip_self, shard);
                    }
                }
                Poll::Ready(Some(Ok(Message::Close(frame)))) => {
                    return Poll::Ready(Ended::Closed(frame));
                }
                Poll::Ready(Some(Ok(_))) => progressed = true,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Ended::Failed(e)),
                Poll::Ready(None) => return Poll::Ready(Ended::Gone),
                Poll::Pending => {}
            }
            if !progressed {
                return Poll::Pending;
            }
        }
        // Budget spent: let the thread's other connections run, then carry on.
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
