//! [`Message`]: what the socket yields and takes.

use bytes::Bytes;
use wspc::{CloseFrame, Utf8Bytes};

/// One WebSocket message as the socket yields and takes it.
///
/// Text is always valid UTF-8 ([`Utf8Bytes`]); payloads are reference-counted
/// [`Bytes`], so a received message is handed out without a copy.
///
/// ```
/// use wspc_tokio::Message;
///
/// let m = Message::text("hello");
/// assert_eq!(m.as_text(), Some("hello"));
/// assert!(Message::binary(vec![1, 2, 3]).is_binary());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A Ping (received only with [`Options::deliver_pings`](crate::Options::deliver_pings);
    /// sending one asks the peer for a Pong). At most 125 bytes.
    Ping(Bytes),
    /// A Pong (received: the answer to a Ping; sending one unsolicited is allowed). At most
    /// 125 bytes.
    Pong(Bytes),
    /// A Close frame. Received: the peer's close code and reason (`None` when its Close
    /// carried no code), handed out once the close handshake is complete. Sent: starts
    /// the close handshake (`None` sends a Close without a code).
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<String>) -> Message {
        Message::Text(Utf8Bytes::from(s.into()))
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Message {
        Message::Binary(b.into())
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// Whether this is a Close.
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// The payload bytes (the encoded close payload for a Close).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b,
            Message::Close(Some(f)) => f.reason.as_bytes(),
            Message::Close(None) => &[],
        }
    }

    /// The payload, as shared bytes.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Message::Text(t) => t.into_bytes(),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b,
            Message::Close(Some(f)) => f.encode(),
            Message::Close(None) => Bytes::new(),
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

impl From<wspc::Message> for Message {
    fn from(m: wspc::Message) -> Self {
        match m {
            wspc::Message::Text(t) => Message::Text(t),
            wspc::Message::Binary(b) => Message::Binary(b),
        }
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::text(s)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Message::Text(Utf8Bytes::from(s))
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(Bytes::from(b))
    }
}
