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
//!
//! With `--max-handshakes-per-ip N`, a connection from an address that already has N
//! pending handshakes is closed at once: an attacker on one address then holds at most N
//! slots and cannot push out the handshakes of other addresses.

use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use atomic_waker::AtomicWaker;

const PENDING: u8 = 0;
const DONE: u8 = 1;
const EVICTED: u8 = 2;

/// One pending handshake's slot state.
///
/// Its one waiter (the handshake) is woken through an `AtomicWaker`: a `Notify` cost
/// about 450 instructions a handshake for its waiter list (issue 13), which one waiter
/// does not need.
#[derive(Debug)]
struct Entry {
    state: AtomicU8,
    evicted: AtomicWaker,
    ip: IpAddr,
}

impl Entry {
    fn is_evicted(&self) -> bool {
        self.state.load(Ordering::Acquire) == EVICTED
    }
}

/// The slots of the whole process.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    /// Pending handshakes per address (0: no limit).
    per_ip: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Slots taken.
    live: usize,
    /// Oldest first; entries already done are skipped (and compacted away).
    queue: VecDeque<Arc<Entry>>,
    /// Pending handshakes per address (kept only with a per-address limit).
    by_ip: HashMap<IpAddr, usize>,
}

impl Inner {
    fn release_ip(&mut self, ip: IpAddr) {
        if let Some(n) = self.by_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.by_ip.remove(&ip);
            }
        }
    }
}

/// A slot held by one connection; released on drop.
#[derive(Debug)]
pub(crate) struct Slot<'a> {
    slots: &'a Slots,
    entry: Arc<Entry>,
}

impl Slots {
    /// `max` slots (at least one), at most `per_ip` per address (0: no limit).
    pub(crate) fn new(max: usize, per_ip: usize) -> Slots {
        Slots {
            max: max.max(1),
            per_ip,
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

    /// Takes a slot for a connection from `ip`; returns it and whether an older handshake
    /// was evicted for it, or `None` when `ip` has its limit of pending handshakes.
    pub(crate) fn acquire(&self, ip: IpAddr) -> Option<(Slot<'_>, bool)> {
        let entry = Arc::new(Entry {
            state: AtomicU8::new(PENDING),
            evicted: AtomicWaker::new(),
            ip,
        });
        let mut inner = self.lock();
        if self.per_ip > 0 {
            let n = inner.by_ip.entry(ip).or_insert(0);
            if *n >= self.per_ip {
                return None;
            }
            *n += 1;
        }
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
                if self.per_ip > 0 {
                    inner.release_ip(oldest.ip);
                }
                oldest.evicted.wake();
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
        Some((Slot { slots: self, entry }, evicted))
    }
}

impl Slot<'_> {
    /// Resolves when this handshake was evicted for a newer one (at once if it was
    /// already).
    pub(crate) fn evicted(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(|cx| {
            if self.entry.is_evicted() {
                return Poll::Ready(());
            }
            self.entry.evicted.register(cx.waker());
            // Evicted between the check and the registration: its wake found no waker.
            if self.entry.is_evicted() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
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
            let mut inner = self.slots.lock();
            inner.live -= 1;
            if self.slots.per_ip > 0 {
                inner.release_ip(self.entry.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn the_oldest_pending_handshake_makes_room() {
        let slots = Slots::new(2, 0);
        let (a, evicted) = slots.acquire(HOME).unwrap();
        assert!(!evicted);
        let (b, _) = slots.acquire(HOME).unwrap();
        assert_eq!(slots.pending(), 2);
        let (c, evicted) = slots.acquire(HOME).unwrap();
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
        let (d, evicted) = slots.acquire(HOME).unwrap();
        assert!(!evicted, "room again");
        drop((c, d));
        assert_eq!(slots.pending(), 0);
    }

    #[tokio::test]
    async fn a_waiting_handshake_is_woken_when_evicted() {
        let slots = Arc::new(Slots::new(1, 0));
        let (woken_tx, woken_rx) = tokio::sync::oneshot::channel();
        let (waiting_tx, waiting_rx) = tokio::sync::oneshot::channel();
        let waiter = {
            let slots = slots.clone();
            tokio::spawn(async move {
                let (a, _) = slots.acquire(HOME).unwrap();
                let evicted = a.evicted();
                let mut evicted = std::pin::pin!(evicted);
                // Registered (pending) before the eviction happens.
                assert!(poll_once(evicted.as_mut()).await.is_pending());
                let _ = waiting_tx.send(());
                evicted.await;
                let _ = woken_tx.send(());
            })
        };
        waiting_rx.await.unwrap();
        let (_b, evicted) = slots.acquire(HOME).unwrap();
        assert!(evicted);
        tokio::time::timeout(std::time::Duration::from_secs(5), woken_rx)
            .await
            .expect("woken")
            .unwrap();
        waiter.await.unwrap();
    }

    /// Polls `f` once.
    async fn poll_once<F: Future + Unpin>(mut f: F) -> Poll<F::Output> {
        poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut f).poll(cx))).await
    }

    #[test]
    fn finished_handshakes_do_not_pile_up() {
        let slots = Slots::new(4, 0);
        for _ in 0..10_000 {
            let (slot, evicted) = slots.acquire(HOME).unwrap();
            assert!(!evicted);
            drop(slot);
        }
        assert!(slots.lock().queue.len() <= 2 * 4 + 65);
        assert_eq!(slots.pending(), 0);
    }

    #[test]
    fn one_address_cannot_take_more_than_its_share() {
        let other = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
        let slots = Slots::new(3, 2);
        let (a, _) = slots.acquire(other).unwrap();
        let (b, _) = slots.acquire(other).unwrap();
        assert!(slots.acquire(other).is_none(), "its limit");
        let (c, evicted) = slots.acquire(HOME).unwrap();
        assert!(!evicted);
        // Full: the next handshake evicts the oldest (`a`), which gives `other` a place.
        let (d, evicted) = slots.acquire(HOME).unwrap();
        assert!(evicted);
        assert!(slots.acquire(HOME).is_none(), "HOME has its 2");
        let (f, evicted) = slots.acquire(other).unwrap();
        assert!(evicted, "b evicted");
        assert_eq!(slots.pending(), 3);
        drop((a, b, c, d, f));
        assert_eq!(slots.pending(), 0);
        assert!(slots.lock().by_ip.is_empty());
    }
}
