//! A memory budget shared by many connections: a cap on the message data a process
//! buffers in total, whatever the number of connections.
//!
//! Each connection may hold a small [`allowance`](Budget::allowance) of buffered data
//! without touching the budget (so small messages always flow, even when the budget is
//! used up); what it holds beyond that — a large message arriving, the fragments of a
//! message gathered so far, the inflated output of a compressed one, its data waiting to
//! be written — is charged to the budget as the bytes arrive and given back as they
//! leave. A connection whose *received* data would need more than the budget has left
//! fails with 1009 ([`Error::BudgetExhausted`](crate::Error::BudgetExhausted)): new
//! large messages are refused while the process holds its budget, and nothing else is
//! at risk.
//!
//! The state of a negotiated extension — permessage-deflate's compressor and
//! decompressor — is charged too, in full (the allowance is for data only, so nothing is
//! counted twice): it is granted before it is allocated and given back when it is freed.
//! A compressor is optional: it is made only while the budget, counting it, stays within
//! half its cap (so compressors never take more than half, and cannot crowd out what
//! reading needs); otherwise that message goes out uncompressed
//! ([`skipped_encodings`](Budget::skipped_encodings)). A decompressor the budget cannot
//! hold fails the connection with 1009 like data does, since the message cannot be read
//! without it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A cap on the data buffered by all the connections that share it (a cheap handle:
/// clones share one budget). Pass it in [`Config::budget`](crate::Config).
///
/// ```
/// use wspc::{Budget, Config};
///
/// let budget = Budget::new(256 << 20);
/// let config = Config { budget: Some(budget.clone()), ..Config::default() };
/// assert_eq!(budget.used(), 0);
/// assert_eq!(budget.allowance(), Budget::DEFAULT_ALLOWANCE);
/// # drop(config);
/// ```
#[derive(Clone)]
pub struct Budget(Arc<Inner>);

struct Inner {
    limit: usize,
    allowance: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
    refusals: AtomicU64,
    skipped: AtomicU64,
}

impl Budget {
    /// Bytes each connection may buffer without charging the budget: room for a read of
    /// small messages (the tokio adapter offers 4 KiB plus 16 KiB of slack) with a margin.
    pub const DEFAULT_ALLOWANCE: usize = 32 * 1024;

    /// A budget of `limit` bytes, with the default per-connection allowance.
    pub fn new(limit: usize) -> Budget {
        Budget::with_allowance(limit, Budget::DEFAULT_ALLOWANCE)
    }

    /// A budget of `limit` bytes; each connection buffers up to `allowance` bytes
    /// without charging it.
    pub fn with_allowance(limit: usize, allowance: usize) -> Budget {
        Budget(Arc::new(Inner {
            limit,
            allowance,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refusals: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }))
    }

    /// The cap, in bytes.
    pub fn limit(&self) -> usize {
        self.0.limit
    }

    /// Bytes each connection buffers before it charges the budget.
    pub fn allowance(&self) -> usize {
        self.0.allowance
    }

    /// Bytes charged now.
    pub fn used(&self) -> usize {
        self.0.used.load(Ordering::Relaxed)
    }

    /// The most bytes ever charged at once.
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::Relaxed)
    }

    /// How many times a connection was refused (and failed with 1009) because the budget
    /// was used up: for its incoming data, or for the state to decode a message (a
    /// permessage-deflate decompressor).
    pub fn refusals(&self) -> u64 {
        self.0.refusals.load(Ordering::Relaxed)
    }

    /// How many messages went out as they were, without the negotiated extension's
    /// encoding, because the budget could not hold the state to encode them (with
    /// permessage-deflate: sent uncompressed, for want of room for a compressor).
    pub fn skipped_encodings(&self) -> u64 {
        self.0.skipped.load(Ordering::Relaxed)
    }

    /// Bytes left before the cap.
    pub fn available(&self) -> usize {
        self.0.limit.saturating_sub(self.used())
    }

    /// Charges `n` bytes if they fit under the cap; a refusal is not counted.
    fn try_take(&self, n: usize) -> bool {
        self.try_take_under(n, self.0.limit)
    }

    /// What state for encoding may bring the charge up to: half the cap. Encoding state
    /// is optional (a message can always go out as it is), so it never takes more than
    /// half the budget, and cannot crowd out what reading needs (incoming data and
    /// decoding state, which have no such fallback).
    fn encode_cap(&self) -> usize {
        self.0.limit / 2
    }

    /// Charges `n` bytes if the total stays within `limit`; a refusal is not counted.
    fn try_take_under(&self, n: usize, limit: usize) -> bool {
        let taken = self
            .0
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= limit)
            });
        match taken {
            Ok(before) => {
                self.0.peak.fetch_max(before + n, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }

    fn count_refusal(&self) {
        self.0.refusals.fetch_add(1, Ordering::Relaxed);
    }

    /// Charges `n` bytes even past the cap (data already queued by the application).
    fn force_take(&self, n: usize) {
        let before = self.0.used.fetch_add(n, Ordering::AcqRel);
        self.0
            .peak
            .fetch_max(before.saturating_add(n), Ordering::Relaxed);
    }

    fn give_back(&self, n: usize) {
        self.0.used.fetch_sub(n, Ordering::AcqRel);
    }
}

impl PartialEq for Budget {
    /// Two handles are equal when they share one budget.
    fn eq(&self, other: &Budget) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Budget {}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("limit", &self.limit())
            .field("allowance", &self.allowance())
            .field("used", &self.used())
            .finish()
    }
}

/// What one connection holds of a budget; given back when dropped.
#[derive(Debug, Default)]
pub(crate) struct Charge {
    budget: Option<Budget>,
    /// Bytes charged to the budget now.
    held: usize,
}

/// Why a charge could not grow.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused;

impl Charge {
    pub(crate) fn new(budget: Option<Budget>) -> Charge {
        Charge { budget, held: 0 }
    }

    /// Whether a budget applies.
    pub(crate) fn is_active(&self) -> bool {
        self.budget.is_some()
    }

    /// Whether [`update`](Self::update) with nothing received and `queued` bytes
    /// outgoing would change nothing: no budget, or nothing held and the queue within
    /// the allowance.
    #[inline]
    pub(crate) fn settled(&self, queued: usize) -> bool {
        match &self.budget {
            None => true,
            Some(b) => self.held == 0 && queued <= b.allowance(),
        }
    }

    /// Bytes `received` (the connection's incoming data) plus `queued` (its outgoing
    /// data) may grow by now: what is left of the allowance and of the budget.
    pub(crate) fn room(&self, buffered: usize) -> usize {
        match &self.budget {
            None => usize::MAX,
            Some(b) => (b.allowance() + self.held + b.available()).saturating_sub(buffered),
        }
    }

    /// Adjusts the charge to `received + queued` bytes buffered. Growth of the incoming
    /// data must fit the budget; outgoing data is charged even past the cap (the
    /// application already queued it), so that it counts against new incoming data.
    pub(crate) fn update(&mut self, received: usize, queued: usize) -> Result<(), Refused> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        let want = received
            .saturating_add(queued)
            .saturating_sub(budget.allowance());
        if want == self.held {
            return Ok(());
        }
        if want < self.held {
            budget.give_back(self.held - want);
            self.held = want;
            return Ok(());
        }
        let grow = want - self.held;
        if received <= budget.allowance() {
            // The growth is outgoing data: count it, never refuse it.
            budget.force_take(grow);
        } else if !budget.try_take(grow) {
            budget.count_refusal();
            return Err(Refused);
        }
        self.held = want;
        Ok(())
    }

    /// Gives everything back.
    pub(crate) fn clear(&mut self) {
        if let Some(budget) = &self.budget
            && self.held > 0
        {
            budget.give_back(self.held);
        }
        self.held = 0;
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.clear();
    }
}

/// What a connection's extension state is granted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateUse {
    /// Encoding a message: granted only within half the budget
    /// ([`Budget::encode_cap`]); refused, the message goes out as it is.
    Encode,
    /// Decoding a message: refused, the connection fails with 1009.
    Decode,
}

/// What one connection's extension state (a permessage-deflate compressor and
/// decompressor) holds of a budget: charged in full, outside the data allowance; granted
/// before the state is allocated, given back when it is freed or dropped.
#[derive(Debug, Default)]
pub(crate) struct StateCharge {
    budget: Option<Budget>,
    /// Bytes charged to the budget now.
    held: usize,
}

impl StateCharge {
    pub(crate) fn new(budget: Option<Budget>) -> StateCharge {
        StateCharge { budget, held: 0 }
    }

    /// Whether a budget applies.
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.budget.is_some()
    }

    /// Grants `n` more bytes if they fit under the cap, counting a refusal as a skipped
    /// encoding or a refused connection, by `why`.
    pub(crate) fn try_grow(&mut self, n: usize, why: StateUse) -> Result<(), Refused> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        if n == 0 {
            return Ok(());
        }
        let (cap, refusals) = match why {
            StateUse::Encode => (budget.encode_cap(), &budget.0.skipped),
            StateUse::Decode => (budget.limit(), &budget.0.refusals),
        };
        if !budget.try_take_under(n, cap) {
            refusals.fetch_add(1, Ordering::Relaxed);
            return Err(Refused);
        }
        self.held += n;
        Ok(())
    }

    /// Sets the charge to `n`, the bytes the state holds now: what was freed goes back;
    /// growth that was not granted first (an extension that allocates without asking) is
    /// charged even past the cap, since the memory is already in use.
    pub(crate) fn set(&mut self, n: usize) {
        let Some(budget) = &self.budget else {
            return;
        };
        if n < self.held {
            budget.give_back(self.held - n);
        } else if n > self.held {
            budget.force_take(n - self.held);
        }
        self.held = n;
    }
}

impl Drop for StateCharge {
    fn drop(&mut self) {
        self.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `settled` says `update(0, queued)` would change nothing, exactly.
    #[test]
    fn settled_agrees_with_update() {
        assert!(Charge::new(None).settled(usize::MAX));
        let budget = Budget::with_allowance(1000, 100);
        for (held_for, queued) in [(0, 0), (0, 100), (0, 101), (300, 0), (300, 50)] {
            let mut c = Charge::new(Some(budget.clone()));
            c.update(held_for, 0).unwrap();
            let settled = c.settled(queued);
            let before = (c.held, budget.used());
            c.update(0, queued).unwrap();
            assert_eq!(
                settled,
                (c.held, budget.used()) == before,
                "{held_for} {queued}"
            );
        }
    }

    #[test]
    fn charges_beyond_the_allowance_and_gives_back() {
        let budget = Budget::with_allowance(1000, 100);
        let mut a = Charge::new(Some(budget.clone()));
        let mut b = Charge::new(Some(budget.clone()));
        assert_eq!(a.update(100, 0), Ok(()));
        assert_eq!(budget.used(), 0, "within the allowance");
        assert_eq!(a.update(700, 0), Ok(()));
        assert_eq!(budget.used(), 600);
        assert_eq!(b.update(500, 0), Ok(()));
        assert_eq!(budget.used(), 1000);
        assert_eq!(b.update(501, 0), Err(Refused), "past the cap");
        assert_eq!(budget.refusals(), 1);
        assert_eq!(b.update(50, 0), Ok(()), "small data always fits");
        assert_eq!(budget.used(), 600);
        // Outgoing data is counted past the cap, then refuses incoming growth.
        assert_eq!(b.update(0, 1000), Ok(()));
        assert_eq!(budget.used(), 1500);
        assert_eq!(a.update(701, 0), Err(Refused));
        drop(b);
        assert_eq!(budget.used(), 600);
        assert_eq!(budget.peak(), 1500);
        a.clear();
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn state_is_charged_in_full_and_refusals_are_counted_by_use() {
        let budget = Budget::with_allowance(1000, 100);
        let mut data = Charge::new(Some(budget.clone()));
        let mut state = StateCharge::new(Some(budget.clone()));
        assert_eq!(
            state.try_grow(501, StateUse::Encode),
            Err(Refused),
            "past half"
        );
        assert_eq!(budget.skipped_encodings(), 1);
        assert_eq!(state.try_grow(400, StateUse::Encode), Ok(()));
        assert_eq!(budget.used(), 400, "no allowance for state");
        assert_eq!(data.update(600, 0), Ok(()));
        assert_eq!(budget.used(), 900);
        assert_eq!(state.try_grow(1, StateUse::Encode), Err(Refused));
        assert_eq!((budget.skipped_encodings(), budget.refusals()), (2, 0));
        assert_eq!(state.try_grow(101, StateUse::Decode), Err(Refused));
        assert_eq!((budget.skipped_encodings(), budget.refusals()), (2, 1));
        assert_eq!(state.try_grow(100, StateUse::Decode), Ok(()));
        assert_eq!(budget.used(), 1000);
        // Freed state goes back; state allocated without a grant is counted anyway.
        state.set(100);
        assert_eq!(budget.used(), 600);
        state.set(450);
        assert_eq!(budget.used(), 950);
        drop(state);
        assert_eq!(budget.used(), 500);
        drop(data);
        assert_eq!(budget.used(), 0);
        let mut off = StateCharge::new(None);
        assert_eq!(off.try_grow(usize::MAX, StateUse::Decode), Ok(()));
        off.set(7);
    }

    #[test]
    fn room_is_the_allowance_plus_what_is_left() {
        let budget = Budget::with_allowance(1000, 100);
        let mut a = Charge::new(Some(budget.clone()));
        assert_eq!(a.room(0), 1100);
        a.update(600, 0).unwrap();
        assert_eq!(a.room(600), 500);
        assert_eq!(Charge::new(None).room(1 << 40), usize::MAX);
    }
}
