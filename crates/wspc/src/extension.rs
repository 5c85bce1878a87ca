//! The extension seam (RFC 6455 §9): negotiate in the opening handshake, claim RSV bits,
//! transform the payload of each message.
//!
//! An extension has three parts:
//! - [`ClientExtension`]: what a client offers in `Sec-WebSocket-Extensions`, and how it
//!   checks the server's answer;
//! - [`ServerExtension`]: how a server picks among a client's offers;
//! - [`Extension`]: the negotiated codec, which the [`Connection`](crate::Connection)
//!   calls for every data message whose first frame carries the RSV bits it claims.
//!
//! The connection does everything else — framing, limits (applied to the decoded size),
//! UTF-8 validation (of the decoded text), control frames — so an extension never sees
//! the wire format. permessage-deflate (RFC 7692) is built on this seam.

use std::fmt;
use std::time::Duration;

use bytes::BytesMut;

use crate::close::CloseCode;
use crate::message::MessageKind;

/// One element of a `Sec-WebSocket-Extensions` header: an extension name and its
/// parameters, in order.
///
/// ```
/// use wspc::extension::ExtensionHeader;
///
/// let offers = ExtensionHeader::parse_list(
///     "permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\"",
/// ).unwrap();
/// assert_eq!(offers.len(), 2);
/// assert_eq!(offers[0].params, vec![("client_max_window_bits".to_string(), None)]);
/// assert_eq!(offers[1].param("server_max_window_bits"), Some(Some("10")));
/// assert_eq!(offers[1].to_string(), "permessage-deflate; server_max_window_bits=10");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionHeader {
    /// The extension token, e.g. `permessage-deflate`.
    pub name: String,
    /// Parameters: name and optional value (quoted strings already unquoted).
    pub params: Vec<(String, Option<String>)>,
}

/// A `Sec-WebSocket-Extensions` value that does not follow RFC 6455 §9.1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed Sec-WebSocket-Extensions header: {0}")]
pub struct ExtensionParseError(pub String);

impl ExtensionHeader {
    /// An element without parameters.
    pub fn new(name: impl Into<String>) -> ExtensionHeader {
        ExtensionHeader {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter (builder style).
    pub fn with_param(mut self, name: impl Into<String>, value: Option<String>) -> ExtensionHeader {
        self.params.push((name.into(), value));
        self
    }

    /// The value of the first parameter called `name`: `None` if absent, `Some(None)` if
    /// present without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// Parses a comma-separated list of elements (one header value, or several joined
    /// with `,`), following RFC 6455 §9.1: tokens, `;`-separated parameters whose values are
    /// tokens or quoted strings that unquote to tokens.
    pub fn parse_list(value: &str) -> Result<Vec<ExtensionHeader>, ExtensionParseError> {
        let mut out = Vec::new();
        let mut p = Lexer {
            s: value.as_bytes(),
            i: 0,
        };
        loop {
            p.skip_ws();
            if p.peek().is_none() {
                break;
            }
            if p.peek() == Some(b',') {
                // Empty list elements are allowed by the `#` rule.
                p.i += 1;
                continue;
            }
            let name = p
                .token()
                .ok_or_else(|| p.error("expected an extension name"))?;
            let mut element = ExtensionHeader::new(name);
            loop {
                p.skip_ws();
                match p.peek() {
                    None | Some(b',') => break,
                    Some(b';') => {
                        p.i += 1;
                        p.skip_ws();
                        let pname = p
                            .token()
                            .ok_or_else(|| p.error("expected a parameter name"))?;
                        p.skip_ws();
                        let value = if p.peek() == Some(b'=') {
                            p.i += 1;
                            p.skip_ws();
                            let v = if p.peek() == Some(b'"') {
                                p.quoted()?
                            } else {
                                p.token()
                            };
                            match v {
                                Some(v) if !v.is_empty() && v.bytes().all(is_tchar) => Some(v),
                                _ => return Err(p.error("parameter value is not a token")),
                            }
                        } else {
                            None
                        };
                        element.params.push((pname, value));
                    }
                    Some(_) => return Err(p.error("unexpected character")),
                }
            }
            out.push(element);
        }
        Ok(out)
    }

    /// Formats a list of elements as one header value.
    pub fn format_list(elements: &[ExtensionHeader]) -> String {
        elements
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for ExtensionHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            match value {
                Some(v) => write!(f, "; {name}={v}")?,
                None => write!(f, "; {name}")?,
            }
        }
        Ok(())
    }
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn quoted(&mut self) -> Result<Option<String>, ExtensionParseError> {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated quoted string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Some(String::from_utf8_lossy(&out).into_owned()));
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self
                        .peek()
                        .ok_or_else(|| self.error("unterminated escape"))?;
                    out.push(c);
                    self.i += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
    fn error(&self, what: &str) -> ExtensionParseError {
        ExtensionParseError(format!("{what} at byte {}", self.i))
    }
}

/// RFC 7230 `tchar`.
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// A negotiated extension could not process a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ExtensionError {
    /// What went wrong.
    pub reason: String,
    /// The close code the connection fails with (1002 for a protocol error, 1007 for data
    /// that cannot be decoded, 1011 for an internal failure).
    pub code: CloseCode,
}

/// The memory of an extension's own state (for permessage-deflate: its compressor and
/// decompressor), which the connection charges to its [`Budget`](crate::Budget), if it
/// has one ([`Extension::state_memory`]).
///
/// ```
/// use wspc::extension::StateMemory;
///
/// let mut memory = StateMemory::default();
/// memory.to_decode = 40 * 1024; // a decoder would be made for the next message
/// assert_eq!(memory.held, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StateMemory {
    /// Bytes of state held now.
    pub held: usize,
    /// Bytes that encoding the next message would allocate (0 while that state exists).
    pub to_encode: usize,
    /// Bytes that decoding the next message would allocate (0 while that state exists).
    pub to_decode: usize,
}

/// A negotiated extension acting on one connection's data messages.
///
/// Receiving: for each data message whose first frame has RSV bits set, the connection
/// calls [`begin_decode`](Extension::begin_decode); if the extension takes the message, the
/// unmasked payload of all its frames is passed to [`decode`](Extension::decode) and the
/// end of the message to [`finish_decode`](Extension::finish_decode). Output is bounded by
/// `max_out` on every call, which is how the message-size limit applies to the decoded
/// size without the extension knowing it.
///
/// Sending: [`begin_encode`](Extension::begin_encode) decides per message whether to
/// transform it and which RSV bits its first frame carries; [`encode`](Extension::encode)
/// transforms each fragment.
/// Extensions are `Any`, so a caller can reach the concrete codec behind a
/// `&dyn Extension` (as [`Connection::deflate`](crate::Connection::deflate) does).
pub trait Extension: std::any::Any + Send + fmt::Debug {
    /// The extension's registered name.
    fn name(&self) -> &'static str;

    /// The RSV bits this extension may set (a combination of [`RSV1`](crate::frame::RSV1),
    /// [`RSV2`](crate::frame::RSV2), [`RSV3`](crate::frame::RSV3)). Frames with other RSV
    /// bits fail the connection with 1002.
    fn rsv_bits(&self) -> u8;

    /// A data message begins whose first frame has `rsv` bits set (non-zero, a subset of
    /// [`rsv_bits`](Extension::rsv_bits)). Returns `Ok(())` if this extension decodes it.
    fn begin_decode(&mut self, rsv: u8) -> Result<(), ExtensionError>;

    /// Decodes the next piece of the message's payload, appending at most `max_out` bytes
    /// to `out` (which it may grow; `max_out` may be 0). Returns how many bytes of `input`
    /// were consumed: all of them, unless decoding them yields more than `max_out` bytes —
    /// then the rest waits for a call with more room (streaming), or the message is over
    /// its size limit. Input that yields no output must be consumed even with no room.
    fn decode(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<usize, ExtensionError>;

    /// The message's last frame has been decoded: flush what is left, appending at most
    /// `max_out` bytes. Returns `true` when the message is complete, `false` if more output
    /// is pending than `max_out` allowed (call again with room, or the message is over its
    /// limit).
    fn finish_decode(&mut self, out: &mut BytesMut, max_out: usize)
    -> Result<bool, ExtensionError>;

    /// An outgoing data message begins. `size_hint` is its length when sent whole, `None`
    /// when sent in fragments. Returns the RSV bits for its first frame if this extension
    /// transforms it, `None` to send it as it is.
    fn begin_encode(&mut self, kind: MessageKind, size_hint: Option<usize>) -> Option<u8>;

    /// Encodes the next fragment of a message `begin_encode` took, appending to `out`;
    /// `fin` marks the last one.
    fn encode(&mut self, input: &[u8], fin: bool, out: &mut BytesMut)
    -> Result<(), ExtensionError>;

    /// The memory this extension's state takes, for the connection's
    /// [`Budget`](crate::Budget). With a budget, the connection
    /// - grants [`to_encode`](StateMemory::to_encode) bytes before it encodes a message
    ///   [`begin_encode`](Extension::begin_encode) took; if the budget cannot hold them,
    ///   the message goes out as it is (RSV bits clear) and
    ///   [`encode`](Extension::encode) is not called for it — so `begin_encode` must not
    ///   change state;
    /// - grants [`to_decode`](StateMemory::to_decode) bytes before
    ///   [`begin_decode`](Extension::begin_decode); if the budget cannot hold them, the
    ///   connection fails with 1009 (the message cannot be read without its state);
    /// - after each call that may allocate or free state (encoding, decoding the end of a
    ///   message, [`park`](Extension::park)), charges [`held`](StateMemory::held) —
    ///   which should then be within what was granted.
    ///
    /// The default: no state worth counting.
    fn state_memory(&self) -> StateMemory {
        StateMemory::default()
    }

    /// The agreed element of `Sec-WebSocket-Extensions`, as the server answered it: the
    /// negotiated parameters, for display and diagnostics.
    fn negotiated(&self) -> ExtensionHeader {
        ExtensionHeader::new(self.name())
    }

    /// How long the connection may go without a message this extension encoded or
    /// decoded before [`park`](Extension::park) is called. `None` (the default): never.
    fn park_after(&self) -> Option<Duration> {
        None
    }

    /// No message went through this extension for
    /// [`park_after`](Extension::park_after): release memory that can be rebuilt, without
    /// changing what goes on the wire or how the peer's messages decode. Called from
    /// [`Connection::handle_timeout`](crate::Connection::handle_timeout), and only
    /// between messages (never while one is being received, or sent in fragments).
    fn park(&mut self) {}

    /// The connection will neither encode nor decode another message (its close
    /// handshake is complete, or it failed): free the state. Default: nothing.
    fn release(&mut self) {}

    /// Encodes a whole message that many connections send
    /// ([`Connection::send_prepared`](crate::Connection::send_prepared)). An extension that
    /// can encode it independently of this connection's state returns the encoding cached
    /// in the message's [`PreparedCache`](crate::PreparedCache) (made by whichever
    /// connection asks first), so every connection with the same parameters sends the same
    /// bytes. Returns the RSV bits and the payload to send, or `None` to send the message
    /// as it is.
    ///
    /// The default encodes the message for this connection alone, as
    /// [`Connection::send`](crate::Connection::send) does.
    fn encode_prepared(
        &mut self,
        message: &crate::PreparedMessage,
    ) -> Result<Option<(u8, bytes::Bytes)>, ExtensionError> {
        let payload = message.payload();
        let Some(rsv) = self.begin_encode(message.kind(), Some(payload.len())) else {
            return Ok(None);
        };
        let mut out = BytesMut::with_capacity(payload.len() / 2 + 16);
        self.encode(payload, true, &mut out)?;
        Ok(Some((rsv, out.freeze())))
    }
}

/// The client side of negotiation: what to offer and how to accept the answer.
pub trait ClientExtension: Send + Sync + fmt::Debug {
    /// The extension's registered name (matched case-insensitively in the response).
    fn name(&self) -> &'static str;

    /// The elements to offer, most preferred first.
    fn offers(&self) -> Vec<ExtensionHeader>;

    /// The server selected this extension with `response`. Checks that it answers one of
    /// the offers (parameters known, not repeated, values valid) and builds the codec; an
    /// `Err` fails the handshake with its text.
    fn accept(&self, response: &ExtensionHeader) -> Result<Box<dyn Extension>, String>;
}

/// The server side of negotiation.
pub trait ServerExtension: Send + Sync + fmt::Debug {
    /// The extension's registered name (matched case-insensitively in the request).
    fn name(&self) -> &'static str;

    /// The client's offers of this extension, in its order of preference. Returns the
    /// element to answer with and the codec for the first offer this server accepts, or
    /// `None` to decline them all (the connection proceeds without the extension).
    fn negotiate(
        &self,
        offers: &[ExtensionHeader],
    ) -> Option<(ExtensionHeader, Box<dyn Extension>)>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc_grammar() {
        let list = ExtensionHeader::parse_list("foo, bar; baz=2;qux , x;y=\"tok\"").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0], ExtensionHeader::new("foo"));
        assert_eq!(
            list[1].params,
            vec![("baz".into(), Some("2".into())), ("qux".into(), None)]
        );
        assert_eq!(list[2].param("y"), Some(Some("tok")));
        assert_eq!(ExtensionHeader::parse_list("").unwrap(), vec![]);
        assert_eq!(
            ExtensionHeader::parse_list(" , a ,").unwrap(),
            vec![ExtensionHeader::new("a")]
        );
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "a;",
            "a; =1",
            "a;b=",
            "a;b=\"unterminated",
            "a;b=\"two words\"",
            "a b",
            "=a",
            "a;b=\"\"",
            "a;b=c d",
        ] {
            assert!(
                ExtensionHeader::parse_list(bad).is_err(),
                "{bad:?} should fail"
            );
        }
    }

    #[test]
    fn formats_back() {
        let e =
            ExtensionHeader::new("permessage-deflate").with_param("client_max_window_bits", None);
        assert_eq!(
            ExtensionHeader::format_list(&[e.clone(), e]),
            "permessage-deflate; client_max_window_bits, permessage-deflate; client_max_window_bits"
        );
    }
}
