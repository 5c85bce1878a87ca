//! Errors: what the peer did wrong, why a connection failed, why a send was refused.
//!
//! Every failure is a value naming the rule that was broken and the close code that was
//! (or will be) sent for it.

use crate::close::{CloseCode, CloseFrameError};

/// A rule of RFC 6455 (or a configured limit) that the peer broke. Each variant maps to the
/// close code the engine sends when it fails the connection for it
/// ([`ProtocolError::close_code`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// RSV1/2/3 set without an extension that claims them (§5.2).
    #[error("reserved bits {0:#04x} set without a negotiated extension")]
    ReservedBits(u8),
    /// Opcode 3–7 or 0xB–0xF (§5.2).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// A client sent an unmasked frame (§5.1).
    #[error("client frame is not masked")]
    UnmaskedFrame,
    /// A server sent a masked frame (§5.1).
    #[error("server frame is masked")]
    MaskedFrame,
    /// A control frame with more than 125 bytes of payload (§5.5).
    #[error("control frame payload of {0} bytes (at most 125)")]
    ControlFrameTooLong(u64),
    /// A control frame without FIN (§5.5).
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A continuation frame when no message was open (§5.4).
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message was open (§5.4).
    #[error("new data frame while a fragmented message is open")]
    ExpectedContinuation,
    /// A 64-bit payload length with its most significant bit set (§5.2).
    #[error("64-bit payload length has its most significant bit set")]
    LengthTopBit,
    /// A payload length not encoded in the fewest bytes (§5.2: "the minimal number of
    /// bytes MUST be used").
    #[error("payload length not minimally encoded")]
    NonMinimalLength,
    /// Text that is not valid UTF-8, detected on the byte that breaks it (§8.1).
    #[error("invalid UTF-8 in a text message")]
    InvalidUtf8,
    /// A Close frame with a 1-byte payload (§5.5.1).
    #[error("close frame payload of 1 byte")]
    CloseFrameTooShort,
    /// A Close frame with a code that may not be on the wire (§7.4).
    #[error("close code {0} is not allowed on the wire")]
    InvalidCloseCode(u16),
    /// A Close frame whose reason is not valid UTF-8 (§5.5.1).
    #[error("close reason is not valid UTF-8")]
    InvalidCloseReason,
    /// A frame longer than [`Limits::max_frame_size`](crate::Limits).
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The frame's payload length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A message longer than [`Limits::max_message_size`](crate::Limits) (after
    /// decompression, if an extension compresses it).
    #[error("message exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// The limit.
        max: u64,
    },
    /// A message in more frames than [`Limits::max_fragments`](crate::Limits).
    #[error("message in more than {max} frames")]
    TooManyFragments {
        /// The limit.
        max: u32,
    },
    /// More frames that give the application nothing (Pongs, empty non-final data
    /// frames) than [`Limits::max_empty_frames`](crate::Limits) allows in a second or
    /// between two messages.
    #[error("more than {max} empty frames in a second or between two messages")]
    TooManyEmptyFrames {
        /// The limit.
        max: u32,
    },
    /// A negotiated extension could not process the peer's data (e.g. corrupt deflate
    /// stream).
    #[error("extension {name}: {reason}")]
    Extension {
        /// The extension's name.
        name: &'static str,
        /// What went wrong.
        reason: String,
        /// The close code to send.
        code: CloseCode,
    },
}

impl ProtocolError {
    /// The close code sent when the connection fails for this reason: 1007 for bad UTF-8,
    /// 1009 for size limits, 1008 for the fragment-count policy, 1002 for everything else.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCloseReason => {
                CloseCode::INVALID_PAYLOAD
            }
            ProtocolError::FrameTooLarge { .. } | ProtocolError::MessageTooLarge { .. } => {
                CloseCode::MESSAGE_TOO_BIG
            }
            ProtocolError::TooManyFragments { .. } | ProtocolError::TooManyEmptyFrames { .. } => {
                CloseCode::POLICY_VIOLATION
            }
            ProtocolError::Extension { code, .. } => *code,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }

    /// The reason sent in the Close frame: short, and free of internal detail (limits,
    /// library messages) — the peer learns which rule it broke, nothing more.
    pub fn close_reason(&self) -> &'static str {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCloseReason => "invalid UTF-8",
            ProtocolError::FrameTooLarge { .. } | ProtocolError::MessageTooLarge { .. } => {
                "message too big"
            }
            ProtocolError::TooManyFragments { .. } => "too many fragments",
            ProtocolError::TooManyEmptyFrames { .. } => "too many empty frames",
            ProtocolError::Extension { code, .. } if *code == CloseCode::INVALID_PAYLOAD => {
                "invalid compressed data"
            }
            ProtocolError::Extension { code, .. } if *code == CloseCode::SERVER_ERROR => {
                "internal error"
            }
            _ => "protocol error",
        }
    }
}

/// Why a connection failed ([`Event::Failed`](crate::Event::Failed)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol; a Close frame with
    /// [`ProtocolError::close_code`] was queued.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The peer did not answer a keepalive Ping in time; a Close frame with 1011 was queued.
    #[error("no pong within the keepalive timeout")]
    KeepaliveTimeout,
    /// The peer did not complete the close handshake in time (1006: no Close frame
    /// received).
    #[error("close handshake timed out")]
    CloseTimeout,
    /// The transport ended before the close handshake (1006).
    #[error("connection lost without a close handshake")]
    ConnectionLost,
    /// A frame or message stayed incomplete for longer than
    /// [`Config::message_timeout`](crate::Config); a Close frame with 1008 was queued.
    #[error("message not completed within the message timeout")]
    MessageTimeout,
    /// Receiving the current message would take more memory than the shared
    /// [`Budget`](crate::Budget) has left; a Close frame with 1009 was queued.
    #[error("buffer budget exhausted")]
    BudgetExhausted,
}

impl Error {
    /// The close code this failure put (or will put) on the wire, or 1006
    /// ([`CloseCode::ABORTED`]) when no Close frame was exchanged.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Error::Protocol(e) => e.close_code(),
            Error::KeepaliveTimeout => CloseCode::SERVER_ERROR,
            Error::CloseTimeout | Error::ConnectionLost => CloseCode::ABORTED,
            Error::MessageTimeout => CloseCode::POLICY_VIOLATION,
            Error::BudgetExhausted => CloseCode::MESSAGE_TOO_BIG,
        }
    }

    /// The reason that goes with [`close_code`](Error::close_code) in our Close frame:
    /// short and free of internal detail.
    pub fn close_reason(&self) -> &'static str {
        match self {
            Error::Protocol(e) => e.close_reason(),
            Error::KeepaliveTimeout => "keepalive timeout",
            Error::CloseTimeout | Error::ConnectionLost => "",
            Error::MessageTimeout => "message timeout",
            Error::BudgetExhausted => "server busy",
        }
    }
}

/// Why the engine refused something the caller asked to send.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// A Close frame was already sent, or the connection failed: no more data may be sent.
    #[error("the connection is closing or closed")]
    Closed,
    /// A Ping or Pong payload longer than 125 bytes.
    #[error("control frame payload of {0} bytes (at most 125)")]
    ControlPayloadTooLong(usize),
    /// The close code or reason cannot be sent.
    #[error(transparent)]
    Close(#[from] CloseFrameError),
    /// A whole message was sent while a fragmented one is still open.
    #[error("a fragmented message is still open")]
    MessageInProgress,
    /// A fragment of a different kind than the open message.
    #[error("fragment kind differs from the open message")]
    KindMismatch,
    /// Text fragments that are not valid UTF-8 (checked incrementally).
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// A negotiated extension failed to encode the message.
    #[error("extension failed: {0}")]
    Extension(String),
}
