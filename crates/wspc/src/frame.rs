//! The frame codec (RFC 6455 §5.2): opcodes and frame headers, decoded from any split of
//! the byte stream and encoded into a small fixed buffer.
//!
//! This is the codec level: it knows the wire format but none of the connection's rules
//! (who must mask, which RSV bits an extension claims, fragmentation); those live in
//! [`Connection`](crate::Connection).
//!
//! ```
//! use wspc::frame::{FrameHeader, OpCode};
//!
//! // RFC 6455 §5.7: a single-frame unmasked text message "Hello".
//! let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
//! let (header, len) = FrameHeader::parse(&wire).unwrap().unwrap();
//! assert_eq!(len, 2);
//! assert!(header.fin);
//! assert_eq!(header.opcode, OpCode::Text);
//! assert_eq!(header.payload_len, 5);
//! ```

use crate::error::ProtocolError;

/// The longest frame header: 2 bytes, an 8-byte extended length and a 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// RSV1 as it sits in the first header byte (claimed by permessage-deflate).
pub const RSV1: u8 = 0x40;
/// RSV2 as it sits in the first header byte.
pub const RSV2: u8 = 0x20;
/// RSV3 as it sits in the first header byte.
pub const RSV3: u8 = 0x10;

/// A frame opcode (§5.2). Reserved values are not representable: parsing them fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation = 0x0,
    /// 0x1: first frame of a text message.
    Text = 0x1,
    /// 0x2: first frame of a binary message.
    Binary = 0x2,
    /// 0x8: Close.
    Close = 0x8,
    /// 0x9: Ping.
    Ping = 0x9,
    /// 0xA: Pong.
    Pong = 0xA,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for the reserved values 3–7 and 0xB–0xF.
    pub const fn from_u8(value: u8) -> Option<OpCode> {
        Some(match value {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// Whether this is a control opcode (Close, Ping, Pong).
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the last frame of its message.
    pub fin: bool,
    /// The RSV bits, in place (a combination of [`RSV1`], [`RSV2`], [`RSV3`]).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Decodes a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` holds only part of a header (feed more and call again:
    /// a header is at most 14 bytes, so this stays linear), or the header and its encoded
    /// length. Fails as soon as the bytes seen so far are invalid: a reserved opcode on
    /// the first byte, a 64-bit length with its top bit set, or a length not encoded in
    /// the fewest bytes.
    #[inline]
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let Some(&b0) = buf.first() else {
            return Ok(None);
        };
        let opcode = OpCode::from_u8(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0F))?;
        let Some(&b1) = buf.get(1) else {
            return Ok(None);
        };
        let masked = b1 & 0x80 != 0;
        let (payload_len, len_bytes) = match b1 & 0x7F {
            126 => {
                let Some(ext) = buf.get(2..4) else {
                    return Ok(None);
                };
                let len = u16::from_be_bytes([ext[0], ext[1]]) as u64;
                if len < 126 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 2)
            }
            127 => {
                let Some(ext) = buf.get(2..10) else {
                    // The top bit is known as soon as the first length byte arrives.
                    if buf.get(2).is_some_and(|b| b & 0x80 != 0) {
                        return Err(ProtocolError::LengthTopBit);
                    }
                    return Ok(None);
                };
                let mut raw = [0u8; 8];
                raw.copy_from_slice(ext);
                let len = u64::from_be_bytes(raw);
                if len >> 63 != 0 {
                    return Err(ProtocolError::LengthTopBit);
                }
                if len <= u16::MAX as u64 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 8)
            }
            small => (small as u64, 0),
        };
        let mut header_len = 2 + len_bytes;
        let mask = if masked {
            let Some(key) = buf.get(header_len..header_len + 4) else {
                return Ok(None);
            };
            header_len += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        let header = FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv: b0 & 0x70,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, header_len)))
    }

    /// How many bytes [`FrameHeader::encode`] writes for this header.
    pub const fn encoded_len(&self) -> usize {
        let len_bytes = if self.payload_len < 126 {
            0
        } else if self.payload_len <= u16::MAX as u64 {
            2
        } else {
            8
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Encodes this header into `out`, using the minimal length encoding; returns the
    /// number of bytes written (2 to 14).
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (u8::from(self.fin) << 7) | (self.rsv & 0x70) | self.opcode as u8;
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut n = 2;
        if self.payload_len < 126 {
            out[1] = mask_bit | self.payload_len as u8;
        } else if self.payload_len <= u16::MAX as u64 {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
            n = 4;
        } else {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            n = 10;
        }
        if let Some(key) = self.mask {
            out[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(buf: &[u8]) -> (FrameHeader, usize) {
        FrameHeader::parse(buf).unwrap().unwrap()
    }

    #[test]
    fn rfc6455_section_5_7_examples() {
        // A single-frame unmasked text message ("Hello").
        let (h, n) = parse_all(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(
            (h.fin, h.opcode, h.mask, h.payload_len, n),
            (true, OpCode::Text, None, 5, 2)
        );
        // A single-frame masked text message ("Hello").
        let (h, n) = parse_all(&[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ]);
        assert_eq!(
            (h.mask, h.payload_len, n),
            (Some([0x37, 0xfa, 0x21, 0x3d]), 5, 6)
        );
        // A fragmented unmasked text message: "Hel" then "lo".
        let (h, _) = parse_all(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
        assert_eq!((h.fin, h.opcode), (false, OpCode::Text));
        let (h, _) = parse_all(&[0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!((h.fin, h.opcode), (true, OpCode::Continuation));
        // Unmasked Ping "Hello" and masked Pong "Hello".
        assert_eq!(
            parse_all(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
                .0
                .opcode,
            OpCode::Ping
        );
        let (h, _) = parse_all(&[
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ]);
        assert_eq!(h.opcode, OpCode::Pong);
        // 256 bytes binary message in a single unmasked frame.
        let (h, n) = parse_all(&[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!((h.opcode, h.payload_len, n), (OpCode::Binary, 256, 4));
        // 64KiB binary message in a single unmasked frame.
        let (h, n) = parse_all(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
        assert_eq!((h.payload_len, n), (65536, 10));
    }

    #[test]
    fn partial_headers_need_more() {
        let full = [0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 1, 2, 3, 4];
        for cut in 0..full.len() {
            assert_eq!(FrameHeader::parse(&full[..cut]), Ok(None), "cut at {cut}");
        }
        let (h, n) = parse_all(&full);
        assert_eq!((h.payload_len, h.mask, n), (65536, Some([1, 2, 3, 4]), 14));
    }

    #[test]
    fn reserved_opcodes_fail_on_the_first_byte() {
        for op in (3..=7).chain(0xB..=0xF) {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
    }

    #[test]
    fn length_rules() {
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7F, 0x80]),
            Err(ProtocolError::LengthTopBit)
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(ProtocolError::LengthTopBit)
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7E, 0x00, 0x7D]),
            Err(ProtocolError::NonMinimalLength)
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]),
            Err(ProtocolError::NonMinimalLength)
        );
        let (h, _) = parse_all(&[0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(h.payload_len, i64::MAX as u64);
    }

    #[test]
    fn rsv_bits_are_reported_in_place() {
        let (h, _) = parse_all(&[0xF1, 0x00]);
        assert_eq!(h.rsv, RSV1 | RSV2 | RSV3);
    }

    #[test]
    fn encode_round_trips_every_length_class() {
        for len in [0u64, 1, 125, 126, 65535, 65536, 1 << 40] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let header = FrameHeader {
                    fin: len % 2 == 0,
                    rsv: RSV1,
                    opcode: OpCode::Binary,
                    mask,
                    payload_len: len,
                };
                let mut out = [0u8; MAX_HEADER_LEN];
                let n = header.encode(&mut out);
                assert_eq!(n, header.encoded_len());
                assert_eq!(parse_all(&out[..n]), (header, n));
            }
        }
    }

    #[test]
    fn control_opcodes() {
        assert!(
            OpCode::Close.is_control() && OpCode::Ping.is_control() && OpCode::Pong.is_control()
        );
        assert!(
            !OpCode::Text.is_control()
                && !OpCode::Binary.is_control()
                && !OpCode::Continuation.is_control()
        );
    }
}
