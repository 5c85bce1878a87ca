//! Text of bounded length on the stack, for the log's hot path: a value formatted once
//! before it is escaped and written (`log.rs`), a peer's address rendered once per
//! connection (`serve/peer.rs`).

use std::fmt;

/// Up to `N` bytes of text; a write that does not fit is an error and leaves the text
/// as it was.
#[derive(Clone, Copy)]
pub(crate) struct StackText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    pub(crate) const fn new() -> Self {
        StackText {
            bytes: [0; N],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `str`s and ASCII digits were copied in: this never fails.
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }

    /// Appends `n` in decimal (without `fmt`'s machinery).
    #[inline]
    pub(crate) fn push_decimal(&mut self, n: u32) -> fmt::Result {
        let mut digits = [0u8; 20];
        self.push(decimal(n.into(), &mut digits))
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) -> fmt::Result {
        let end = self.len + bytes.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// The decimal digits of `n`, written at the end of `out` (a `u64` has at most 20),
/// without `fmt`'s machinery.
#[inline]
pub(crate) fn decimal(mut n: u64, out: &mut [u8; 20]) -> &[u8] {
    let mut start = out.len();
    loop {
        start -= 1;
        out[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &out[start..]
}

impl<const N: usize> fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn holds_what_fits_and_refuses_the_rest() {
        let mut t = StackText::<9>::new();
        assert_eq!(t.as_str(), "");
        t.write_str("é:").unwrap();
        t.push_decimal(0).unwrap();
        t.push_decimal(4_000).unwrap();
        assert_eq!(t.as_str(), "é:04000");
        assert!(t.write_str("ab").is_err());
        assert!(t.push_decimal(u32::MAX).is_err());
        assert_eq!(t.as_str(), "é:04000");
        t.write_str("!").unwrap();
        assert_eq!(t.as_str(), "é:04000!");
        let mut wide = StackText::<10>::new();
        wide.push_decimal(u32::MAX).unwrap();
        assert_eq!(wide.as_str(), "4294967295");
        let mut out = [0; 20];
        assert_eq!(decimal(u64::MAX, &mut out), b"18446744073709551615");
        assert_eq!(decimal(0, &mut out), b"0");
    }
}
