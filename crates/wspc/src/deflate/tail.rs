//! The last bytes of a stream, kept so that a parked codec's successor can continue the
//! LZ77 context: what was compressed (the next compressor's dictionary), or what was
//! inflated (the next decompressor's window).

use std::collections::VecDeque;

/// The last `keep` bytes pushed. Its buffer grows with what was pushed (doubling, so the
/// copying stays amortised O(1) per byte) up to exactly `keep` bytes — a ring: once full,
/// pushing never moves what stays — and holds only what is kept after
/// [`shrink`](Tail::shrink).
#[derive(Debug, Default)]
pub(super) struct Tail {
    bytes: VecDeque<u8>,
    keep: usize,
}

impl Tail {
    /// A tail of the last `keep` bytes (0: keeps nothing).
    pub(super) fn new(keep: usize) -> Tail {
        Tail {
            bytes: VecDeque::new(),
            keep,
        }
    }

    /// Whether this tail keeps anything at all.
    #[inline]
    pub(super) fn is_enabled(&self) -> bool {
        self.keep > 0
    }

    /// Appends `input`, dropping what falls out of the last `keep` bytes.
    pub(super) fn push(&mut self, input: &[u8]) {
        if self.keep == 0 || input.is_empty() {
            return;
        }
        let input = &input[input.len().saturating_sub(self.keep)..];
        let want = (self.bytes.len() + input.len()).min(self.keep);
        if self.bytes.capacity() < want {
            let target = want.max(2 * self.bytes.capacity()).min(self.keep);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        let excess = (self.bytes.len() + input.len()).saturating_sub(self.keep);
        self.bytes.drain(..excess);
        self.bytes.extend(input);
    }

    /// The bytes kept, oldest first, in one slice.
    pub(super) fn as_slice(&mut self) -> &[u8] {
        self.bytes.make_contiguous()
    }

    /// Whether nothing is kept.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes allocated for it.
    #[inline]
    pub(super) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Frees the room not used by what is kept.
    pub(super) fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// Forgets everything (the stream starts over) and frees the buffer.
    pub(super) fn clear(&mut self) {
        self.bytes = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_bytes_in_exactly_their_room() {
        let mut t = Tail::new(8);
        t.push(b"abc");
        assert_eq!(t.as_slice(), b"abc");
        assert_eq!(t.capacity(), 3, "grows with what was pushed");
        t.push(b"d");
        assert_eq!(t.capacity(), 6, "doubling");
        t.push(b"efgh");
        t.push(b"ij");
        assert_eq!(t.as_slice(), b"cdefghij");
        t.push(b"0123456789");
        assert_eq!(t.as_slice(), b"23456789");
        for i in 0..100u8 {
            t.push(&[i]);
        }
        assert_eq!(t.as_slice(), [92, 93, 94, 95, 96, 97, 98, 99]);
        assert_eq!(t.capacity(), 8, "never more than its room");
        let mut small = Tail::new(8);
        small.push(b"xy");
        small.shrink();
        assert!(small.capacity() < 8);
        small.push(b"z");
        assert_eq!(small.as_slice(), b"xyz");
        small.clear();
        assert!(small.is_empty() && small.capacity() == 0);
        let mut off = Tail::new(0);
        off.push(b"nothing");
        assert!(!off.is_enabled() && off.is_empty() && off.capacity() == 0);
    }
}
