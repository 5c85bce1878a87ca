//! Futures put on the heap in place.
//!
//! `Box::pin(future)` makes the future on the stack and copies it whole into the heap.
//! An async fn's future is as large as its largest state (`wspc serve`'s handshake about
//! 5 KB) though it starts out holding only its arguments, so the copy is mostly of bytes
//! not written yet. Made after its box is allocated, straight into it, the future is made
//! where it stays: 840 fewer instructions per `wspc serve` handshake (callgrind, issue
//! 13). The future is made by a closure called after the allocation: a future made
//! before it (as an argument) is copied again.

use std::pin::Pin;

/// The future `make` makes, pinned in a box of its own (as `Box::pin(make())`, without
/// the copy).
#[inline(always)]
pub(crate) fn boxed<F>(make: impl FnOnce() -> F) -> Pin<Box<F>> {
    Box::into_pin(Box::write(Box::new_uninit(), make()))
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    use super::*;

    #[test]
    fn a_boxed_future_runs_to_its_output() {
        let big = [7u8; 4096];
        let mut future = boxed(|| async move {
            std::future::ready(()).await;
            big.iter().map(|&b| u32::from(b)).sum::<u32>()
        });
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(7 * 4096));
    }
}
