//! Reading an HTTP head (request or response line plus headers) from any split of the
//! byte stream, in time linear in the bytes received: each byte is scanned for the end of
//! the head once, and the head is parsed once, when complete. (Re-parsing from the start
//! on every read is quadratic; tungstenite's CVE-2023-43669 was exactly that.)

use std::sync::LazyLock;

use bytes::{Bytes, BytesMut};
use memchr::memmem;

use super::HandshakeError;

/// The searcher for the empty line that ends a head, built once (not per read).
static END_OF_HEAD: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\r\n\r\n"));

/// Finds the end of an HTTP head in a byte stream (re-exported as
/// [`http1::HeadReader`](super::http1::HeadReader), documented there).
#[derive(Debug, Default)]
pub struct HeadReader {
    /// Bytes received and not part of the head: the head while it is incomplete, then
    /// what arrived behind it.
    buf: BytesMut,
    /// Bytes of `buf` already searched for the terminator.
    scanned: usize,
    /// The head once its end was found (header values are slices of it, no copies).
    head: Option<Bytes>,
}

impl HeadReader {
    /// Appends `data`; returns the head once it is complete (it ends with an empty line).
    /// Fails if more than `max` bytes arrive without the end of the head.
    pub fn feed(&mut self, data: &[u8], max: usize) -> Result<Option<&Bytes>, HandshakeError> {
        self.buf.extend_from_slice(data);
        if self.head.is_none() {
            let from = self.scanned.saturating_sub(3);
            match END_OF_HEAD.find(&self.buf[from..]) {
                Some(pos) => {
                    let len = from + pos + 4;
                    if len > max {
                        return Err(HandshakeError::HeadTooLarge { max });
                    }
                    self.head = Some(self.buf.split_to(len).freeze());
                }
                None => {
                    self.scanned = self.buf.len();
                    if self.buf.len() > max {
                        return Err(HandshakeError::HeadTooLarge { max });
                    }
                }
            }
        }
        Ok(self.head.as_ref())
    }

    /// The bytes that arrived after the head (they belong to the WebSocket stream).
    pub fn rest(&self) -> &[u8] {
        if self.head.is_some() { &self.buf } else { &[] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_however_split() {
        let wire = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nFRAMES";
        for split in 0..wire.len() {
            let mut r = HeadReader::default();
            let first = r.feed(&wire[..split], 1024).unwrap().map(Bytes::len);
            let head = match first {
                Some(len) => len,
                None => r.feed(&wire[split..], 1024).unwrap().unwrap().len(),
            };
            if first.is_some() {
                r.feed(&wire[split..], 1024).unwrap();
            }
            assert_eq!(head, wire.len() - 6, "split {split}");
            assert_eq!(r.rest(), b"FRAMES");
        }
    }

    #[test]
    fn byte_at_a_time_is_linear() {
        // 8000 bytes fed one at a time: each byte is scanned a bounded number of times.
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        while head.len() < 8000 {
            head.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        head.extend_from_slice(b"\r\n");
        let mut r = HeadReader::default();
        let mut done = false;
        for b in &head {
            done = r
                .feed(std::slice::from_ref(b), 16 * 1024)
                .unwrap()
                .is_some();
        }
        assert!(done);
        assert!(r.scanned <= head.len());
    }

    #[test]
    fn caps_the_head_size() {
        let mut r = HeadReader::default();
        assert!(r.feed(&[b'a'; 100], 100).unwrap().is_none());
        assert_eq!(
            r.feed(b"a", 100),
            Err(HandshakeError::HeadTooLarge { max: 100 })
        );
        let mut r = HeadReader::default();
        let long = [
            b"GET / HTTP/1.1\r\nA: ".as_slice(),
            &[b'a'; 200],
            b"\r\n\r\n",
        ]
        .concat();
        assert_eq!(
            r.feed(&long, 100),
            Err(HandshakeError::HeadTooLarge { max: 100 })
        );
    }
}
