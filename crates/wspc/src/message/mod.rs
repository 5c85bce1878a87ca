//! What the engine hands out and takes in: messages, streamed chunks and events.

mod utf8_bytes;

use std::fmt;

use bytes::Bytes;

use crate::close::CloseFrame;
use crate::error::Error;

pub use utf8_bytes::{InvalidUtf8, Utf8Bytes};

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
/// ([`Config::delivery`](crate::Config::delivery)) as soon as its bytes have arrived.
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
