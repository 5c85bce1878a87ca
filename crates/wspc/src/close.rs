//! Close codes and the payload of Close frames (RFC 6455 §5.5.1, §7.4).
//!
//! [`CloseCode`] holds the close statuses of the Windows API (`WEB_SOCKET_CLOSE_STATUS`,
//! 1000–1003, 1005–1011, 1015), the later IANA registrations 1012–1014 and the
//! application range 3000–4999. It knows which codes may appear on the wire: 1005, 1006
//! and 1015 only describe local outcomes and are never sent.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::ProtocolError;
use crate::message::Utf8Bytes;

/// The longest close reason, in bytes: a control frame carries at most 125 bytes and the
/// status code takes two of them (`WEB_SOCKET_MAX_CLOSE_REASON_LENGTH`).
pub const MAX_REASON_LEN: usize = 123;

/// A WebSocket close status code.
///
/// Any `u16` can be represented (the Windows API carries the status in a plain `USHORT`),
/// but only some may be sent: see [`CloseCode::is_sendable`].
///
/// ```
/// use wspc::CloseCode;
///
/// assert_eq!(CloseCode::SUCCESS.as_u16(), 1000);
/// assert_eq!(CloseCode::SUCCESS.name(), Some("WEB_SOCKET_SUCCESS_CLOSE_STATUS"));
/// assert!(CloseCode::from(4000).is_sendable());
/// assert!(!CloseCode::ABORTED.is_sendable()); // 1006 never goes on the wire
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: normal closure; the purpose of the connection was fulfilled.
    pub const SUCCESS: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutting down, page navigated away).
    pub const ENDPOINT_UNAVAILABLE: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: the endpoint received a type of data it cannot accept.
    pub const INVALID_DATA_TYPE: CloseCode = CloseCode(1003);
    /// 1005: a Close frame arrived without a status code. Never sent.
    pub const EMPTY: CloseCode = CloseCode(1005);
    /// 1006: the connection was lost without a Close frame. Never sent.
    pub const ABORTED: CloseCode = CloseCode(1006);
    /// 1007: a message's data was inconsistent with its type (e.g. invalid UTF-8 text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension it did not.
    pub const UNSUPPORTED_EXTENSIONS: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const SERVER_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting (IANA registration, not in the Windows enum).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (IANA registration, not in the Windows enum).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway or proxy got an invalid response upstream (IANA, not in the Windows enum).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: the TLS handshake failed. Never sent.
    pub const SECURE_HANDSHAKE_ERROR: CloseCode = CloseCode(1015);

    /// RFC 6455's name for 1000.
    pub const NORMAL: CloseCode = CloseCode::SUCCESS;
    /// RFC 6455's name for 1001.
    pub const GOING_AWAY: CloseCode = CloseCode::ENDPOINT_UNAVAILABLE;

    /// The code with this numeric value (any value; see [`CloseCode::is_sendable`]).
    pub const fn new(code: u16) -> CloseCode {
        CloseCode(code)
    }

    /// The numeric value.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The `WEB_SOCKET_CLOSE_STATUS` enumerator for this code, if the Windows API names it.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "WEB_SOCKET_SUCCESS_CLOSE_STATUS",
            1001 => "WEB_SOCKET_ENDPOINT_UNAVAILABLE_CLOSE_STATUS",
            1002 => "WEB_SOCKET_PROTOCOL_ERROR_CLOSE_STATUS",
            1003 => "WEB_SOCKET_INVALID_DATA_TYPE_CLOSE_STATUS",
            1005 => "WEB_SOCKET_EMPTY_CLOSE_STATUS",
            1006 => "WEB_SOCKET_ABORTED_CLOSE_STATUS",
            1007 => "WEB_SOCKET_INVALID_PAYLOAD_CLOSE_STATUS",
            1008 => "WEB_SOCKET_POLICY_VIOLATION_CLOSE_STATUS",
            1009 => "WEB_SOCKET_MESSAGE_TOO_BIG_CLOSE_STATUS",
            1010 => "WEB_SOCKET_UNSUPPORTED_EXTENSIONS_CLOSE_STATUS",
            1011 => "WEB_SOCKET_SERVER_ERROR_CLOSE_STATUS",
            1015 => "WEB_SOCKET_SECURE_HANDSHAKE_ERROR_CLOSE_STATUS",
            _ => return None,
        })
    }

    /// A short English description of what the code means.
    pub const fn description(self) -> &'static str {
        match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data type",
            1005 => "no status code",
            1006 => "closed without a close frame",
            1007 => "invalid payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension missing",
            1011 => "internal server error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "TLS handshake failure",
            3000..=3999 => "registered library/framework code",
            4000..=4999 => "private application code",
            _ => "reserved or invalid code",
        }
    }

    /// Whether this code may be sent in a Close frame: 1000–1003, 1007–1014 and
    /// 3000–4999. Never 1004 (reserved), 1005, 1006, 1015 (local outcomes only),
    /// anything below 1000, 1016–2999 (reserved for future standards) or 5000 and above.
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Whether a received Close frame may carry this code. The same set as
    /// [`CloseCode::is_sendable`]: anything else is a protocol error (1002).
    pub const fn is_valid_on_wire(self) -> bool {
        self.is_sendable()
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({} {})", self.0, self.description())
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.description())
    }
}

/// The status code and reason carried by a Close frame.
///
/// A Close frame without payload is represented with [`CloseCode::EMPTY`] (1005) and an
/// empty reason; [`CloseFrame::encode`] turns that back into an empty payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code (1005 when the frame carried none).
    pub code: CloseCode,
    /// The reason, valid UTF-8, at most [`MAX_REASON_LEN`] bytes.
    pub reason: Utf8Bytes,
}

/// Why a close code and reason cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloseFrameError {
    /// The code is one that never goes on the wire (1004–1006, 1015, <1000, 1016–2999, ≥5000).
    #[error("close code {0} may not be sent")]
    UnsendableCode(u16),
    /// The reason is longer than 123 bytes.
    #[error("close reason is {0} bytes; at most 123 are allowed")]
    ReasonTooLong(usize),
    /// 1005 (no status) cannot carry a reason: an empty Close frame has no room for one.
    #[error("a close without status code (1005) cannot carry a reason")]
    ReasonWithoutCode,
}

impl CloseFrame {
    /// A Close frame with `code` and `reason`, checked for sending: the code must be
    /// sendable (or 1005, which means "no status": an empty Close frame) and the reason at
    /// most 123 bytes.
    pub fn new(
        code: CloseCode,
        reason: impl Into<Utf8Bytes>,
    ) -> Result<CloseFrame, CloseFrameError> {
        let reason = reason.into();
        if code == CloseCode::EMPTY {
            if !reason.is_empty() {
                return Err(CloseFrameError::ReasonWithoutCode);
            }
        } else if !code.is_sendable() {
            return Err(CloseFrameError::UnsendableCode(code.as_u16()));
        }
        if reason.len() > MAX_REASON_LEN {
            return Err(CloseFrameError::ReasonTooLong(reason.len()));
        }
        Ok(CloseFrame { code, reason })
    }

    /// An empty Close frame (reported to the peer as 1005, "no status").
    pub fn empty() -> CloseFrame {
        CloseFrame {
            code: CloseCode::EMPTY,
            reason: Utf8Bytes::new(),
        }
    }

    /// The payload bytes of this Close frame: nothing for 1005, else the big-endian code
    /// followed by the reason.
    pub fn encode(&self) -> Bytes {
        if self.code == CloseCode::EMPTY {
            return Bytes::new();
        }
        let mut out = BytesMut::with_capacity(2 + self.reason.len());
        out.put_u16(self.code.as_u16());
        out.put_slice(self.reason.as_bytes());
        out.freeze()
    }

    /// Parses a received Close frame's (unmasked) payload: empty means 1005; one byte,
    /// a code that may not be on the wire, or a reason that is not UTF-8 is an error.
    pub fn parse(payload: Bytes) -> Result<CloseFrame, ProtocolError> {
        match payload.len() {
            0 => Ok(CloseFrame::empty()),
            1 => Err(ProtocolError::CloseFrameTooShort),
            _ => {
                let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
                if !code.is_valid_on_wire() {
                    return Err(ProtocolError::InvalidCloseCode(code.as_u16()));
                }
                let reason = Utf8Bytes::try_from(payload.slice(2..))
                    .map_err(|_| ProtocolError::InvalidCloseReason)?;
                Ok(CloseFrame { code, reason })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_follow_rfc_and_windows() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode(code).is_sendable(), expected, "code {code}");
        }
        for never in [1004, 1005, 1006, 1015, 999, 1016, 2999, 5000] {
            assert!(!CloseCode(never).is_sendable(), "{never}");
        }
    }

    #[test]
    fn windows_names() {
        let named: Vec<u16> = (0..=u16::MAX)
            .filter(|c| CloseCode(*c).name().is_some())
            .collect();
        assert_eq!(
            named,
            vec![
                1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1015
            ]
        );
        assert_eq!(
            CloseCode::SECURE_HANDSHAKE_ERROR.name(),
            Some("WEB_SOCKET_SECURE_HANDSHAKE_ERROR_CLOSE_STATUS")
        );
        assert_eq!(CloseCode::NORMAL, CloseCode::SUCCESS);
        assert_eq!(CloseCode::GOING_AWAY.as_u16(), 1001);
    }

    #[test]
    fn new_checks_code_and_reason() {
        assert!(CloseFrame::new(CloseCode::SUCCESS, "bye").is_ok());
        assert_eq!(
            CloseFrame::new(CloseCode::ABORTED, ""),
            Err(CloseFrameError::UnsendableCode(1006))
        );
        assert_eq!(
            CloseFrame::new(CloseCode(1004), ""),
            Err(CloseFrameError::UnsendableCode(1004))
        );
        assert_eq!(
            CloseFrame::new(CloseCode(1015), ""),
            Err(CloseFrameError::UnsendableCode(1015))
        );
        assert_eq!(
            CloseFrame::new(CloseCode::EMPTY, "x"),
            Err(CloseFrameError::ReasonWithoutCode)
        );
        assert!(CloseFrame::new(CloseCode::EMPTY, "").is_ok());
        let r123 = "a".repeat(123);
        assert!(CloseFrame::new(CloseCode::SUCCESS, r123.as_str()).is_ok());
        let r124 = "a".repeat(124);
        assert_eq!(
            CloseFrame::new(CloseCode::SUCCESS, r124.as_str()),
            Err(CloseFrameError::ReasonTooLong(124))
        );
    }

    #[test]
    fn encode_and_parse_round_trip() {
        let frame = CloseFrame::new(CloseCode::SUCCESS, "bye").unwrap();
        assert_eq!(&frame.encode()[..], b"\x03\xe8bye");
        assert_eq!(CloseFrame::parse(frame.encode()).unwrap(), frame);
        assert_eq!(CloseFrame::empty().encode().len(), 0);
        assert_eq!(
            CloseFrame::parse(Bytes::new()).unwrap().code,
            CloseCode::EMPTY
        );
    }

    #[test]
    fn parse_rejects_bad_payloads() {
        assert_eq!(
            CloseFrame::parse(Bytes::from_static(b"\x03")),
            Err(ProtocolError::CloseFrameTooShort)
        );
        for code in [999u16, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            let payload = Bytes::copy_from_slice(&code.to_be_bytes());
            assert_eq!(
                CloseFrame::parse(payload),
                Err(ProtocolError::InvalidCloseCode(code))
            );
        }
        let bad = Bytes::from_static(b"\x03\xe8\xce\xba\xed\xa0\x80");
        assert_eq!(
            CloseFrame::parse(bad),
            Err(ProtocolError::InvalidCloseReason)
        );
        assert_eq!(
            ProtocolError::InvalidCloseReason.close_code(),
            CloseCode::INVALID_PAYLOAD
        );
        assert_eq!(
            ProtocolError::InvalidCloseCode(5000).close_code(),
            CloseCode::PROTOCOL_ERROR
        );
    }
}
