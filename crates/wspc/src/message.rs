//! What the engine hands out and takes in: messages, streamed chunks and events.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

use crate::close::CloseFrame;
use crate::error::Error;

/// Bytes that are valid UTF-8: the payload of a text message, or a close reason.
///
/// Cheap to clone (it is a [`Bytes`]); the engine hands out text messages as slices of its
/// receive buffer, without a copy.
///
/// ```
/// use wspc::Utf8Bytes;
///
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Utf8Bytes(Bytes);

/// The bytes given to [`Utf8Bytes::try_from`] are not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8")]
pub struct InvalidUtf8;

impl Utf8Bytes {
    /// An empty string.
    pub const fn new() -> Utf8Bytes {
        Utf8Bytes(Bytes::new())
    }

    /// A string from static memory, without a copy.
    pub const fn from_static(s: &'static str) -> Utf8Bytes {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }

    /// Wraps bytes the caller has already validated (crate-internal: the receive path
    /// validates incrementally as bytes arrive).
    pub(crate) fn from_validated(bytes: Bytes) -> Utf8Bytes {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Utf8Bytes(bytes)
    }

    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        // The bytes were validated when this value was built; `basic::from_utf8` re-checks
        // them at SIMD speed so that the engine needs no `unsafe`.
        simdutf8::basic::from_utf8(&self.0).expect("Utf8Bytes holds validated UTF-8")
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Gives up the UTF-8 guarantee and returns the bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = InvalidUtf8;
    fn try_from(bytes: Bytes) -> Result<Self, InvalidUtf8> {
        match simdutf8::basic::from_utf8(&bytes) {
            Ok(_) => Ok(Utf8Bytes(bytes)),
            Err(_) => Err(InvalidUtf8),
        }
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = InvalidUtf8;
    fn try_from(bytes: Vec<u8>) -> Result<Self, InvalidUtf8> {
        Utf8Bytes::try_from(Bytes::from(bytes))
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s.into_bytes()))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<&String> for Utf8Bytes {
    fn from(s: &String) -> Self {
        Utf8Bytes::from(s.as_str())
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(s: Utf8Bytes) -> Self {
        s.0
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text or binary: the two kinds of data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A text message (opcode 1): UTF-8.
    Text,
    /// A binary message (opcode 2).
    Binary,
}

/// A whole data message.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message, validated UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Message {
        Message::Binary(data.into())
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text(_) => MessageKind::Text,
            Message::Binary(_) => MessageKind::Binary,
        }
    }

    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// The payload, without a copy.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(t) => t.into_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOW: usize = 64;
        match self {
            Message::Text(t) if t.len() <= SHOW => write!(f, "Text({:?})", t.as_str()),
            Message::Text(t) => write!(f, "Text({} bytes)", t.len()),
            Message::Binary(b) if b.len() <= SHOW => write!(f, "Binary({b:?})"),
            Message::Binary(b) => write!(f, "Binary({} bytes)", b.len()),
        }
    }
}

impl From<Utf8Bytes> for Message {
    fn from(t: Utf8Bytes) -> Self {
        Message::Text(t)
    }
}

impl From<String> for Message {
    fn from(t: String) -> Self {
        Message::Text(t.into())
    }
}

impl From<&str> for Message {
    fn from(t: &str) -> Self {
        Message::Text(t.into())
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(b.into())
    }
}

/// A piece of a data message, handed out in streaming mode
/// ([`Config::streaming`](crate::Config::streaming)) as soon as its bytes have arrived.
///
/// The pieces of one message concatenate to its payload. Text is validated as it arrives
/// (unless validation is disabled), but a piece may end in the middle of a UTF-8 sequence;
/// the whole message is valid UTF-8 when the last piece (`fin`) has been handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The kind of message this piece belongs to.
    pub kind: MessageKind,
    /// The bytes.
    pub data: Bytes,
    /// Whether this is the first piece of the message.
    pub first: bool,
    /// Whether this is the last piece of the message.
    pub fin: bool,
}

/// Something that happened on the connection, handed out by
/// [`Connection::poll_event`](crate::Connection::poll_event).
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A whole message arrived (the default delivery).
    Message(Message),
    /// A piece of a message arrived (streaming mode).
    Chunk(Chunk),
    /// A Ping arrived. Only handed out when [`Config::deliver_pings`](crate::Config) is set;
    /// the Pong is queued automatically unless [`Config::auto_pong`](crate::Config) is off.
    Ping(Bytes),
    /// A Pong arrived (an answer to our Ping, or an unsolicited heartbeat).
    Pong(Bytes),
    /// The peer's Close frame arrived: its code (1005 when it carried none) and reason.
    /// If the peer started the close, the engine has queued the same code in reply (unless
    /// [`Config::auto_close_reply`](crate::Config) is off); the caller may choose another
    /// with [`Connection::close`](crate::Connection::close) before it is written.
    Close(CloseFrame),
    /// The connection failed: the peer broke the protocol, a limit was exceeded, a timer ran
    /// out, or the transport ended without a close handshake. [`Error::close_code`] tells
    /// which code was (or will be) sent, 1006 if none. This is the last event.
    Failed(Error),
}
