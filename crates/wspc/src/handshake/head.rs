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

/// Room [`HeadReader::read_buf`] makes for one read: a usual request head fits at once,
/// a larger one grows the buffer read by read (up to the head size cap).
const READ_CHUNK: usize = 1024;

impl HeadReader {
    /// Appends `data`; returns the head once it is complete (it ends with an empty line).
    /// Fails if more than `max` bytes arrive without the end of the head.
    pub fn feed(&mut self, data: &[u8], max: usize) -> Result<Option<&Bytes>, HandshakeError> {
        self.buf.extend_from_slice(data);
        self.received(max)
    }

    /// The buffer to read into, for a reader that fills buffers itself (such as tokio's
    /// `AsyncReadExt::read_buf`) instead of handing bytes to [`feed`](Self::feed): append
    /// what arrives, then call [`received`](Self::received). It has room for at least one
    /// byte and at most 1 KiB more than it holds, never more than one byte past `max`
    /// (the buffer grows with the bytes received, not to the cap at once).
    ///
    /// ```
    /// use bytes::BufMut;
    /// use wspc::handshake::http1::HeadReader;
    ///
    /// let mut reader = HeadReader::default();
    /// reader.read_buf(8192).put_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    /// assert!(reader.received(8192).unwrap().is_some());
    /// ```
    pub fn read_buf(&mut self, max: usize) -> &mut BytesMut {
        let room = max.saturating_add(1).saturating_sub(self.buf.len());
        self.buf.reserve(room.clamp(1, READ_CHUNK));
        &mut self.buf
    }

    /// [`feed`](Self::feed) for bytes already appended to [`read_buf`](Self::read_buf):
    /// scans them; returns the head once it is complete.
    pub fn received(&mut self, max: usize) -> Result<Option<&Bytes>, HandshakeError> {
        if self.head.is_none() {
            // (`min`: the buffer may have been cut by its user; no panic.)
            let from = self.scanned.saturating_sub(3).min(self.buf.len());
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

    /// The head, once it is complete.
    pub fn head(&self) -> Option<&Bytes> {
        self.head.as_ref()
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
    fn reads_into_its_buffer() {
        let wire = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nFRAMES";
        for split in 0..wire.len() {
            let mut r = HeadReader::default();
            let mut len = None;
            for part in [&wire[..split], &wire[split..]] {
                let buf = r.read_buf(1024);
                assert!(buf.capacity() - buf.len() >= 1);
                buf.extend_from_slice(part);
                len = len.or(r.received(1024).unwrap().map(Bytes::len));
            }
            assert_eq!(len, Some(wire.len() - 6), "split {split}");
            assert_eq!(r.rest(), b"FRAMES");
        }
        // Room follows what arrived: 1 KiB at most, a byte past the cap at most.
        let mut r = HeadReader::default();
        assert!(r.read_buf(100).capacity() <= 1024);
        r.read_buf(100).extend_from_slice(&[b'a'; 101]);
        assert_eq!(
            r.received(100),
            Err(HandshakeError::HeadTooLarge { max: 100 })
        );
        // A buffer cut by its user does not make the scan panic.
        let mut r = HeadReader::default();
        r.read_buf(100).extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert!(r.received(100).unwrap().is_none());
        r.read_buf(100).clear();
        assert!(r.received(100).unwrap().is_none());
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
