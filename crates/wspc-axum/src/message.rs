//! [`Message`] and its parts, in the shapes of `axum::extract::ws`.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

/// Valid UTF-8 in reference-counted bytes: the payload of a text message.
///
/// ```
/// use wspc_axum::Utf8Bytes;
///
/// let text = Utf8Bytes::from("hello");
/// assert_eq!(text.as_str(), "hello");
/// assert_eq!(text, "hello");
/// assert!(Utf8Bytes::try_from(vec![0xff]).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Utf8Bytes(pub(crate) wspc_tokio::Utf8Bytes);

impl Utf8Bytes {
    /// Text from a static string, without a copy.
    pub const fn from_static(s: &'static str) -> Utf8Bytes {
        Utf8Bytes(wspc_tokio::Utf8Bytes::from_static(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = std::str::Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        // axum's error type is std's; the engine's check runs once more on success.
        std::str::from_utf8(&bytes)?;
        Ok(Utf8Bytes(
            wspc_tokio::Utf8Bytes::try_from(bytes).unwrap_or_default(),
        ))
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = std::str::Utf8Error;

    fn try_from(v: Vec<u8>) -> Result<Self, Self::Error> {
        Utf8Bytes::try_from(Bytes::from(v))
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(s.into())
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(s.into())
    }
}

impl From<&String> for Utf8Bytes {
    fn from(s: &String) -> Self {
        Utf8Bytes(s.as_str().into())
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Bytes {
        text.0.into()
    }
}

impl<T> PartialEq<T> for Utf8Bytes
where
    for<'a> &'a str: PartialEq<T>,
{
    fn eq(&self, other: &T) -> bool {
        self.as_str() == *other
    }
}

/// A close code (as in axum, a plain `u16`; named values in [`close_code`]).
pub type CloseCode = u16;

/// The code and reason of a Close frame.
#[derive(Debug, Clone, Eq, PartialEq)]
pub struct CloseFrame {
    /// The close code.
    pub code: CloseCode,
    /// The reason (at most 123 bytes).
    pub reason: Utf8Bytes,
}

/// A WebSocket message.
///
/// ```
/// use wspc_axum::Message;
///
/// let m = Message::text("hi");
/// assert_eq!(m.to_text().unwrap(), "hi");
/// assert_eq!(Message::binary(vec![1, 2]).into_data(), vec![1u8, 2]);
/// ```
#[derive(Debug, Eq, PartialEq, Clone)]
pub enum Message {
    /// A text message.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A Ping (answered automatically; sending one asks for a Pong). At most 125 bytes.
    Ping(Bytes),
    /// A Pong. At most 125 bytes.
    Pong(Bytes),
    /// A Close frame: received, the peer's (handed out once the close handshake is
    /// complete); sent, starts the close handshake.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text<S: Into<Utf8Bytes>>(string: S) -> Message {
        Message::Text(string.into())
    }

    /// A binary message.
    pub fn binary<B: Into<Bytes>>(bin: B) -> Message {
        Message::Binary(bin.into())
    }

    /// The payload as bytes (a Close's reason).
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(text) => text.into(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(None) => Bytes::new(),
            Message::Close(Some(frame)) => frame.reason.into(),
        }
    }

    /// The payload as text, if it is UTF-8.
    pub fn into_text(self) -> Result<Utf8Bytes, axum::Error> {
        match self {
            Message::Text(text) => Ok(text),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => {
                Utf8Bytes::try_from(data).map_err(axum::Error::new)
            }
            Message::Close(None) => Ok(Utf8Bytes::default()),
            Message::Close(Some(frame)) => Ok(frame.reason),
        }
    }

    /// The payload as `&str`, if it is UTF-8.
    pub fn to_text(&self) -> Result<&str, axum::Error> {
        match self {
            Message::Text(text) => Ok(text.as_str()),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => {
                std::str::from_utf8(data).map_err(axum::Error::new)
            }
            Message::Close(None) => Ok(""),
            Message::Close(Some(frame)) => Ok(frame.reason.as_str()),
        }
    }

    pub(crate) fn into_wspc(self) -> wspc_tokio::Message {
        match self {
            Message::Text(text) => wspc_tokio::Message::Text(text.0),
            Message::Binary(data) => wspc_tokio::Message::Binary(data),
            Message::Ping(data) => wspc_tokio::Message::Ping(data),
            Message::Pong(data) => wspc_tokio::Message::Pong(data),
            Message::Close(frame) => {
                wspc_tokio::Message::Close(frame.map(|f| wspc_tokio::CloseFrame {
                    code: wspc_tokio::CloseCode::new(f.code),
                    reason: f.reason.0,
                }))
            }
        }
    }

    pub(crate) fn from_wspc(message: wspc_tokio::Message) -> Message {
        match message {
            wspc_tokio::Message::Text(text) => Message::Text(Utf8Bytes(text)),
            wspc_tokio::Message::Binary(data) => Message::Binary(data),
            wspc_tokio::Message::Ping(data) => Message::Ping(data),
            wspc_tokio::Message::Pong(data) => Message::Pong(data),
            wspc_tokio::Message::Close(frame) => Message::Close(frame.map(|f| CloseFrame {
                code: f.code.as_u16(),
                reason: Utf8Bytes(f.reason),
            })),
        }
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::text(s)
    }
}

impl<'s> From<&'s str> for Message {
    fn from(s: &'s str) -> Self {
        Message::text(s)
    }
}

impl<'b> From<&'b [u8]> for Message {
    fn from(data: &'b [u8]) -> Self {
        Message::binary(Bytes::copy_from_slice(data))
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Message::binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::binary(data)
    }
}

impl From<Message> for Vec<u8> {
    fn from(msg: Message) -> Self {
        msg.into_data().to_vec()
    }
}

/// Named close codes (RFC 6455 §7.4.1 and the IANA registry), as in axum.
pub mod close_code {
    /// 1000: normal closure.
    pub const NORMAL: u16 = 1000;
    /// 1001: going away (server shutting down, page navigated away).
    pub const AWAY: u16 = 1001;
    /// 1002: protocol error.
    pub const PROTOCOL: u16 = 1002;
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED: u16 = 1003;
    /// 1005: no status code was present (never sent).
    pub const STATUS: u16 = 1005;
    /// 1006: closed abnormally, without a Close frame (never sent).
    pub const ABNORMAL: u16 = 1006;
    /// 1007: data inconsistent with the message type (invalid UTF-8 in text).
    pub const INVALID: u16 = 1007;
    /// 1008: a policy was violated.
    pub const POLICY: u16 = 1008;
    /// 1009: a message too big to process.
    pub const SIZE: u16 = 1009;
    /// 1010: the client expected an extension the server did not negotiate.
    pub const EXTENSION: u16 = 1010;
    /// 1011: an unexpected condition on the server.
    pub const ERROR: u16 = 1011;
    /// 1012: the service is restarting.
    pub const RESTART: u16 = 1012;
    /// 1013: try again later.
    pub const AGAIN: u16 = 1013;
}
