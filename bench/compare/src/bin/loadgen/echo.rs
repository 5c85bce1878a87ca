//! The frames the generator sends (built and masked once) and the parser that checks
//! the server's echoes as their bytes arrive, written from RFC 6455 §5 without any
//! WebSocket crate, so that it shares no code with the servers it measures.

/// The masking key of every frame we send (any key is valid; a fixed one keeps the
/// frames pre-built).
pub const MASK: [u8; 4] = [0x5a, 0x3c, 0xa5, 0xc3];

pub const OP_CONT: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xa;

/// A masked client frame (FIN set) carrying `payload`.
pub fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.push(0x80 | opcode);
    let n = payload.len();
    if n < 126 {
        f.push(0x80 | n as u8);
    } else if n <= 0xffff {
        f.push(0x80 | 126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    f.extend_from_slice(&MASK);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i & 3]));
    f
}

/// A compressible ASCII payload (valid UTF-8, so it may go as text).
pub fn payload(size: usize) -> Vec<u8> {
    const PATTERN: &[u8] = br#"{"seq":67890,"from":"loadgen","data":[1,2,3,4],"more":false},"#;
    PATTERN.iter().copied().cycle().take(size).collect()
}

/// What the parser found in the bytes given to it.
#[derive(Debug, PartialEq)]
pub enum Found {
    /// A whole data message; `true` if it is exactly the expected echo.
    Echo(bool),
    /// A Ping with this payload, to be answered.
    Ping(Vec<u8>),
    /// The server's Close.
    Close,
}

/// Parses the server's frames (unmasked, possibly fragmented, split anywhere).
#[derive(Default)]
pub struct EchoParser {
    /// A frame header split across reads.
    head: Vec<u8>,
    /// Payload bytes left in the current frame.
    left: u64,
    /// The current frame's opcode and FIN bit.
    opcode: u8,
    fin: bool,
    /// The data message being received: its opcode, the bytes matched so far, and
    /// whether they all matched.
    message: Option<(u8, usize, bool)>,
    /// The payload of the control frame being received.
    control: Vec<u8>,
}

/// A framing error: the server broke RFC 6455.
#[derive(Debug)]
pub struct BadFrame(pub &'static str);

/// Length of the frame header at the start of `b`, if it is complete.
fn header_len(b: &[u8]) -> Option<usize> {
    let b1 = *b.get(1)?;
    let n =
        2 + match b1 & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        } + if b1 & 0x80 != 0 { 4 } else { 0 };
    (b.len() >= n).then_some(n)
}

impl EchoParser {
    /// Consumes `data`; calls `found` for each complete message or control frame.
    /// `expected` is the payload every echo must carry, with opcode `opcode`.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        opcode: u8,
        expected: &[u8],
        found: &mut impl FnMut(Found),
    ) -> Result<(), BadFrame> {
        while !data.is_empty() {
            if self.left > 0 {
                let take = self.left.min(data.len() as u64) as usize;
                self.payload(&data[..take], expected);
                self.left -= take as u64;
                data = &data[take..];
                if self.left == 0 {
                    self.end_frame(opcode, expected, found);
                }
                continue;
            }
            // A new header: from `data` directly, or completing a split one.
            let (head, used) = if self.head.is_empty() {
                match header_len(data) {
                    Some(n) => (&data[..n], n),
                    None => {
                        self.head.extend_from_slice(data);
                        return Ok(());
                    }
                }
            } else {
                let before = self.head.len();
                let add = (14 - before).min(data.len());
                self.head.extend_from_slice(&data[..add]);
                match header_len(&self.head) {
                    Some(n) => {
                        self.head.truncate(n);
                        (&self.head[..], n - before)
                    }
                    None => return Ok(()),
                }
            };
            let (b0, b1) = (head[0], head[1]);
            if b1 & 0x80 != 0 {
                return Err(BadFrame("the server masked a frame"));
            }
            if b0 & 0x70 != 0 {
                return Err(BadFrame("RSV bits set without an extension"));
            }
            let len = match b1 & 0x7f {
                126 => u16::from_be_bytes([head[2], head[3]]) as u64,
                127 => u64::from_be_bytes(head[2..10].try_into().expect("8 bytes")),
                n => n as u64,
            };
            self.opcode = b0 & 0x0f;
            self.fin = b0 & 0x80 != 0;
            self.head.clear();
            data = &data[used..];
            self.start_frame(len)?;
            if len == 0 {
                self.end_frame(opcode, expected, found);
            }
        }
        Ok(())
    }

    fn start_frame(&mut self, len: u64) -> Result<(), BadFrame> {
        match self.opcode {
            OP_CLOSE | OP_PING | OP_PONG => {
                if len > 125 || !self.fin {
                    return Err(BadFrame("invalid control frame"));
                }
                self.control.clear();
            }
            OP_CONT if self.message.is_none() => {
                return Err(BadFrame("continuation without a message"));
            }
            OP_CONT => {}
            OP_TEXT | OP_BINARY if self.message.is_some() => {
                return Err(BadFrame("new message inside a fragmented one"));
            }
            OP_TEXT | OP_BINARY => self.message = Some((self.opcode, 0, true)),
            _ => return Err(BadFrame("reserved opcode")),
        }
        self.left = len;
        Ok(())
    }

    fn payload(&mut self, bytes: &[u8], expected: &[u8]) {
        if self.opcode >= OP_CLOSE {
            self.control.extend_from_slice(bytes);
        } else if let Some((_, at, ok)) = &mut self.message {
            let end = *at + bytes.len();
            *ok = *ok && end <= expected.len() && expected[*at..end] == *bytes;
            *at = end;
        }
    }

    fn end_frame(&mut self, opcode: u8, expected: &[u8], found: &mut impl FnMut(Found)) {
        match self.opcode {
            OP_PING => found(Found::Ping(std::mem::take(&mut self.control))),
            OP_PONG => {}
            OP_CLOSE => found(Found::Close),
            _ if self.fin => {
                if let Some((op, at, ok)) = self.message.take() {
                    found(Found::Echo(ok && op == opcode && at == expected.len()));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![b0];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n if n <= 0xffff => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    fn parse(bytes: &[u8], expected: &[u8], split: usize) -> Vec<Found> {
        let mut p = EchoParser::default();
        let mut out = Vec::new();
        for chunk in bytes.chunks(split) {
            p.feed(chunk, OP_BINARY, expected, &mut |f| out.push(f))
                .unwrap();
        }
        out
    }

    #[test]
    fn masked_frames_unmask_to_the_payload() {
        for n in [0, 5, 125, 126, 65535, 65536] {
            let p = payload(n);
            let f = masked_frame(OP_BINARY, &p);
            let h = header_len(&f).unwrap();
            assert_eq!(f.len(), h + n);
            let back: Vec<u8> = f[h..]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ MASK[i & 3])
                .collect();
            assert_eq!(back, p);
        }
    }

    #[test]
    fn echoes_are_checked_across_any_split() {
        for n in [0usize, 20, 300, 70_000] {
            let p = payload(n);
            let mut bad = p.clone();
            if let Some(b) = bad.last_mut() {
                *b ^= 1;
            }
            let half = n / 2;
            let stream = [
                server_frame(0x82, &p),
                server_frame(0x82, &bad),
                server_frame(0x81, &p),
                server_frame(0x02, &p[..half]),
                server_frame(0x89, b"hi"),
                server_frame(0x80, &p[half..]),
                server_frame(0x82, &p),
                server_frame(0x88, &[0x03, 0xe8]),
            ]
            .concat();
            for split in [1, 3, 1000, stream.len()] {
                assert_eq!(
                    parse(&stream, &p, split),
                    vec![
                        Found::Echo(true),
                        Found::Echo(n == 0),
                        Found::Echo(false),
                        Found::Ping(b"hi".to_vec()),
                        Found::Echo(true),
                        Found::Echo(true),
                        Found::Close,
                    ],
                    "size {n} split {split}"
                );
            }
        }
    }

    #[test]
    fn protocol_errors_are_reported() {
        let mut p = EchoParser::default();
        assert!(
            p.feed(&[0x82, 0x81, 1, 2, 3, 4, 5], OP_BINARY, b"x", &mut |_| {})
                .is_err()
        );
        let mut p = EchoParser::default();
        assert!(p.feed(&[0x80, 0x00], OP_BINARY, b"", &mut |_| {}).is_err());
        let mut p = EchoParser::default();
        assert!(p.feed(&[0x09, 0x00], OP_BINARY, b"", &mut |_| {}).is_err());
    }
}
