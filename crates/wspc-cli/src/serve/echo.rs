//! The echo loop: every text and binary message goes back unchanged; the engine answers
//! Pings and a Close (with the same code).
//!
//! One hand-written poll function drives the socket as a `Stream` (incoming) and a
//! `Sink` (echoes): an echo is queued as soon as the message is read and leaves with the
//! others of the same wake-up in one vectored write, when the socket has nothing more to
//! read. Nothing is created per message: the shutdown watch registers once, and the idle
//! timer (only with `--idle-timeout`) is re-armed lazily from the time of the last message
//! when it fires, never reset per message.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep};
use wspc_tokio::{CloseCode, Message, WebSocket};

use super::State;
use super::boxed::boxed;
use super::conn::{self, Ended};
use super::wake::EVENTS_PER_WAKE;

/// `--idle-timeout`: fires `timeout` after the last message.
pub(crate) struct IdleTimer {
    timeout: Duration,
    last: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl IdleTimer {
    pub(crate) fn new(timeout: Option<Duration>) -> Option<IdleTimer> {
        timeout.map(|timeout| IdleTimer {
            timeout,
            last: Instant::now(),
            sleep: Box::pin(tokio::time::sleep(timeout)),
        })
    }

    /// A message arrived.
    pub(crate) fn touch(&mut self) {
        self.last = Instant::now();
    }

    /// Whether the client has been idle for the whole timeout.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                return false;
            }
            let due = self.last + self.timeout;
            if due <= Instant::now() {
                return true;
            }
            self.sleep.as_mut().reset(due);
        }
    }
}

/// Why the loop stopped.
enum Exit {
    Ended(Ended),
    Close(&'static str),
}

/// Echoes until the connection ends.
pub(crate) async fn run<S>(state: &State, ws: &mut WebSocket<S>) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut shutdown = state.shutdown.watch();
    let mut idle = IdleTimer::new(state.config.idle_timeout);
    let mut held: Option<Message> = None;
    // The shard of the thread the connection starts on (a task that moves to another
    // thread — only with `--runtime work-stealing` — still counts correctly, atomically).
    let shard = state.metrics.shard();
    let exit = poll_fn(|cx| {
        if shutdown.poll(cx) {
            return Poll::Ready(Exit::Close("server shutting down"));
        }
        if idle.as_mut().is_some_and(|t| t.poll_expired(cx)) {
            return Poll::Ready(Exit::Close("idle timeout"));
        }
        for _ in 0..EVENTS_PER_WAKE {
            if let Some(msg) = held.take() {
                match Pin::new(&mut *ws).poll_ready(cx) {
                    Poll::Ready(Ok(())) => {
                        let len = msg.len() as u64;
                        // Fails only once a Close was received or sent; reading then
                        // completes the handshake.
                        if Pin::new(&mut *ws).start_send(msg).is_ok() {
                            shard.messages_out.fetch_add(1, Ordering::Relaxed);
                            shard.bytes_out.fetch_add(len, Ordering::Relaxed);
                        }
                    }
                    // Closing: no more echoes.
                    Poll::Ready(Err(_)) => {}
                    Poll::Pending => {
                        held = Some(msg);
                        return Poll::Pending;
                    }
                }
            }
            match Pin::new(&mut *ws).poll_next(cx) {
                Poll::Ready(Some(Ok(msg @ (Message::Text(_) | Message::Binary(_))))) => {
                    shard.messages_in.fetch_add(1, Ordering::Relaxed);
                    shard
                        .bytes_in
                        .fetch_add(msg.len() as u64, Ordering::Relaxed);
                    if let Some(t) = idle.as_mut() {
                        t.touch();
                    }
                    held = Some(msg);
                }
                Poll::Ready(Some(Ok(Message::Close(frame)))) => {
                    return Poll::Ready(Exit::Ended(Ended::Closed(frame)));
                }
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Exit::Ended(Ended::Failed(e))),
                Poll::Ready(None) => return Poll::Ready(Exit::Ended(Ended::Gone)),
                Poll::Pending => return Poll::Pending,
            }
        }
        // Budget spent: let the thread's other connections run, then carry on.
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
    match exit {
        Exit::Ended(ended) => ended,
        Exit::Close(reason) => boxed(|| conn::close(ws, CloseCode::GOING_AWAY, reason)).await,
    }
}
