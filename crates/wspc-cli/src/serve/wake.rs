//! What the connection loops check on every wake-up: the shutdown flag, and the budget
//! that keeps one busy connection from starving the others.
//!
//! **Fairness.** A connection's loop handles at most [`EVENTS_PER_WAKE`] events (messages
//! received, messages queued for it) per wake-up, then yields to the other tasks of its
//! thread and carries on at the back of the queue. A client flooding small frames (or
//! Pongs, which produce no reply and so never meet backpressure) gets the same share of
//! its thread as every other client.
//!
//! **Shutdown** is a flag and a [`Notify`]: a loop registers once (its waker stays the
//! task's waker for its whole life) and afterwards reads only the flag, so no wake-up
//! takes the `Notify`'s lock, which every connection shares.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// Events one connection handles per wake-up before yielding.
pub(crate) const EVENTS_PER_WAKE: usize = 64;

/// The server is stopping.
#[derive(Debug, Default)]
pub(crate) struct Shutdown {
    flag: AtomicBool,
    notify: Notify,
}

impl Shutdown {
    /// Tells every loop to close.
    pub(crate) fn start(&self) {
        self.flag.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Whether the server is stopping.
    pub(crate) fn is_started(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// A watch for one loop: [`ShutdownWatch::poll`] on every wake-up.
    pub(crate) fn watch(&self) -> ShutdownWatch<'_> {
        ShutdownWatch {
            shutdown: self,
            notified: Box::pin(self.notify.notified()),
            registered: false,
        }
    }

    /// Resolves once the server is stopping.
    pub(crate) async fn wait(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.is_started() {
            notified.await;
        }
    }
}

/// One loop's view of [`Shutdown`].
pub(crate) struct ShutdownWatch<'a> {
    shutdown: &'a Shutdown,
    notified: Pin<Box<Notified<'a>>>,
    registered: bool,
}

impl ShutdownWatch<'_> {
    /// Whether the server is stopping; the first call registers the task's waker.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.registered {
            self.registered = true;
            if self.notified.as_mut().poll(cx) == Poll::Ready(()) {
                return true;
            }
        }
        self.shutdown.is_started()
    }
}
