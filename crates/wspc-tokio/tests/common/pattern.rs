//! A long deterministic byte pattern, produced and checked without holding it: an
//! `AsyncRead` of `len` bytes and a checker for pieces of it.

#![allow(dead_code)]

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Length of the repeating block (a prime, so block and fragment boundaries drift).
const BLOCK: usize = 65_521;

fn block() -> &'static [u8] {
    static BLOCK_BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BLOCK_BYTES.get_or_init(|| {
        let mut x = 0x9e37_79b9u32;
        (0..BLOCK)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    })
}

/// `len` bytes of the pattern.
pub struct PatternReader {
    pos: u64,
    len: u64,
}

impl PatternReader {
    pub fn new(len: u64) -> Self {
        PatternReader { pos: 0, len }
    }
}

impl AsyncRead for PatternReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let block = block();
        while buf.remaining() > 0 && self.pos < self.len {
            let at = (self.pos % BLOCK as u64) as usize;
            let n = (BLOCK - at)
                .min(buf.remaining())
                .min((self.len - self.pos) as usize);
            buf.put_slice(&block[at..at + n]);
            self.pos += n as u64;
        }
        Poll::Ready(Ok(()))
    }
}

/// Checks consecutive pieces against the pattern.
#[derive(Default)]
pub struct PatternCheck {
    pub pos: u64,
}

impl PatternCheck {
    /// Whether `piece` is the pattern's next bytes.
    pub fn check(&mut self, mut piece: &[u8]) -> bool {
        let block = block();
        while !piece.is_empty() {
            let at = (self.pos % BLOCK as u64) as usize;
            let n = (BLOCK - at).min(piece.len());
            if piece[..n] != block[at..at + n] {
                return false;
            }
            piece = &piece[n..];
            self.pos += n as u64;
        }
        true
    }
}
