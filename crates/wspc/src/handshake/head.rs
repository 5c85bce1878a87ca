//! Reading an HTTP head (request or response line plus headers) from any split of the
//! byte stream, in time linear in the bytes received: each byte is scanned for the end of
//! the head once, and the head is parsed once, when complete. (Re-parsing from the start
//! on every read is quadratic; tungstenite's CVE-2023-43669 was exactly that.)

use super::HandshakeError;

/// Finds the end of an HTTP head in a byte stream (re-exported as
/// [`http1::HeadReader`](super::http1::HeadReader), documented there).
#[derive(Debug, Default)]
pub struct HeadReader {
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for the terminator.
    scanned: usize,
    /// Length of the head once its end was found.
    head_len: Option<usize>,
}

impl HeadReader {
    /// Appends `data`; returns the head once it is complete (it ends with an empty line).
    /// Fails if more than `max` bytes arrive without the end of the head.
    pub fn feed(&mut self, data: &[u8], max: usize) -> Result<Option<&[u8]>, HandshakeError> {
        if self.head_len.is_none() {
            self.buf.extend_from_slice(data);
            let from = self.scanned.saturating_sub(3);
            if let Some(pos) = find_terminator(&self.buf[from..]) {
                let len = from + pos + 4;
                if len > max {
                    return Err(HandshakeError::HeadTooLarge { max });
                }
                self.head_len = Some(len);
            } else {
                self.scanned = self.buf.len();
                if self.buf.len() > max {
                    return Err(HandshakeError::HeadTooLarge { max });
                }
                return Ok(None);
            }
        } else {
            self.buf.extend_from_slice(data);
        }
        Ok(self.head_len.map(|len| &self.buf[..len]))
    }

    /// The bytes that arrived after the head (they belong to the WebSocket stream).
    pub fn rest(&self) -> &[u8] {
        self.head_len.map_or(&[][..], |len| &self.buf[len..])
    }
}

fn find_terminator(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_however_split() {
        let wire = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nFRAMES";
        for split in 0..wire.len() {
            let mut r = HeadReader::default();
            let first = r.feed(&wire[..split], 1024).unwrap().map(|h| h.len());
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
