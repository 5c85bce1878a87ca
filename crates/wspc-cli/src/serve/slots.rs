//! Handshake slots: a connection holds one from its accept until its WebSocket is open
//! (or its plain HTTP request is read), so connections that never finish a handshake —
//! slowloris: thousands of sockets sending a byte now and then — cannot use up
//! `--max-connections`.
//!
//! There are `--max-handshakes` slots. When all are taken, a new connection takes the
//! slot of the **oldest** pending handshake, which is closed. A legitimate client needs
//! its slot for a round trip or two; to push it out, an attacker has to open
//! `--max-handshakes` new connections within that time, while sockets that merely sit in
//! their handshake are pushed out by every newcomer. Every handshake is also bounded by
//! `--handshake-timeout`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

const PENDING: u8 = 0;
const DONE: u8 = 1;
const EVICTED: u8 = 2;

/// One pending handshake's slot state.
#[derive(Debug, Default)]
struct Entry {
    state: AtomicU8,
    evicted: Notify,
}

/// The slots of the whole process.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Slots taken.
    live: usize,
    /// Oldest first; entries already done are skipped (and compacted away).
    queue: VecDeque<Arc<Entry>>,
}

/// A slot held by one connection; released on drop.
#[derive(Debug)]
pub(crate) struct Slot<'a> {
    slots: &'a Slots,
    entry: Arc<Entry>,
}

impl Slots {
    /// `max` slots (at least one).
    pub(crate) fn new(max: usize) -> Slots {
        Slots {
            max: max.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handshakes pending now.
    pub(crate) fn pending(&self) -> usize {
        self.lock().live
    }

    /// Takes a slot; returns it and whether an older handshake was evicted for it.
    pub(crate) fn acquire(&self) -> (Slot<'_>, bool) {
        let entry = Arc::new(Entry::default());
        let mut inner = self.lock();
        let mut evicted = false;
        while inner.live >= self.max {
            let Some(oldest) = inner.queue.pop_front() else {
                break;
            };
            if oldest
                .state
                .compare_exchange(PENDING, EVICTED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                inner.live -= 1;
                oldest.evicted.notify_one();
                evicted = true;
            }
        }
        inner.live += 1;
        inner.queue.push_back(entry.clone());
        // Done entries stay queued until they reach the front; keep the queue near `live`.
        if inner.queue.len() > 2 * self.max + 64 {
            inner
                .queue
                .retain(|e| e.state.load(Ordering::Acquire) == PENDING);
        }
        drop(inner);
        (Slot { slots: self, entry }, evicted)
    }
}

impl Slot<'_> {
    /// Resolves when this handshake was evicted for a newer one.
    pub(crate) async fn evicted(&self) {
        self.entry.evicted.notified().await;
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if self
            .entry
            .state
            .compare_exchange(PENDING, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.slots.lock().live -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_oldest_pending_handshake_makes_room() {
        let slots = Slots::new(2);
        let (a, evicted) = slots.acquire();
        assert!(!evicted);
        let (b, _) = slots.acquire();
        assert_eq!(slots.pending(), 2);
        let (c, evicted) = slots.acquire();
        assert!(evicted, "a full pool evicts");
        assert_eq!(slots.pending(), 2);
        // `a` was the oldest: its eviction is signalled (even before it waits).
        tokio::time::timeout(std::time::Duration::from_secs(5), a.evicted())
            .await
            .expect("a evicted");
        drop(a); // no double release
        assert_eq!(slots.pending(), 2);
        drop(b);
        assert_eq!(slots.pending(), 1);
        let (d, evicted) = slots.acquire();
        assert!(!evicted, "room again");
        drop((c, d));
        assert_eq!(slots.pending(), 0);
    }

    #[test]
    fn finished_handshakes_do_not_pile_up() {
        let slots = Slots::new(4);
        for _ in 0..10_000 {
            let (slot, evicted) = slots.acquire();
            assert!(!evicted);
            drop(slot);
        }
        assert!(slots.lock().queue.len() <= 2 * 4 + 65);
        assert_eq!(slots.pending(), 0);
    }
}
