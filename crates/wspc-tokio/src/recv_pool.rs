//! Receive buffers kept per thread between messages.
//!
//! An idle connection holds no receive buffer (it gives it back when a read finds
//! nothing), yet allocating a fresh one for every message costs about a thousand
//! instructions (allocation, and `bytes`' promotion of the buffer to shared storage on
//! the first message taken out of it). So idle connections put their buffer here and the
//! next read on this thread — of any connection — takes one back: memory stays with the
//! connections that are receiving, and the allocation is reused.
//!
//! Only small buffers are kept (a buffer that grew for a large message is freed), and at
//! most [`MAX_POOLED`] of them per thread.

use std::cell::{Cell, RefCell};

use bytes::BytesMut;

/// Buffers kept per thread.
pub(crate) const MAX_POOLED: usize = 32;

/// Largest room a read may have asked for and its buffer still be kept.
pub(crate) const MAX_POOLED_SIZE: usize = 64 * 1024;

thread_local! {
    /// The buffer given back last: the usual round trip (one connection goes idle, one
    /// is woken) goes through this slot alone, without the list's borrow and length.
    static LAST: Cell<Option<BytesMut>> = const { Cell::new(None) };
    /// The others.
    static POOL: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// A kept buffer, if this thread has one.
#[inline]
pub(crate) fn take() -> Option<BytesMut> {
    if let Some(buf) = LAST.try_with(Cell::take).ok().flatten() {
        return Some(buf);
    }
    POOL.try_with(|p| p.borrow_mut().pop()).ok().flatten()
}

/// Keeps an empty buffer for the next read on this thread (or frees it if the pool is
/// full).
#[inline]
pub(crate) fn give(buf: BytesMut) {
    debug_assert!(buf.is_empty());
    let Ok(Some(previous)) = LAST.try_with(|slot| slot.replace(Some(buf))) else {
        return;
    };
    let _ = POOL.try_with(|p| {
        let mut pool = p.borrow_mut();
        if pool.len() < MAX_POOLED - 1 {
            pool.push(previous);
        }
    });
}

#[cfg(test)]
pub(crate) fn pooled() -> usize {
    let last = LAST.with(|slot| {
        let buf = slot.take();
        let n = usize::from(buf.is_some());
        slot.set(buf);
        n
    });
    last + POOL.with(|p| p.borrow().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_and_the_pool_is_bounded() {
        while take().is_some() {}
        let mut b = BytesMut::with_capacity(4096);
        b.extend_from_slice(b"x");
        let _ = b.split();
        give(b);
        assert_eq!(pooled(), 1);
        let again = take().expect("the buffer");
        assert!(again.capacity() > 0);
        for _ in 0..MAX_POOLED + 10 {
            give(BytesMut::with_capacity(16));
        }
        assert_eq!(pooled(), MAX_POOLED);
        while take().is_some() {}
    }
}
