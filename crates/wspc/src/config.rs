//! Policies of a connection, with documented defaults.

use std::time::Duration;

use crate::budget::Budget;
use crate::limits::Limits;

/// How received data messages are handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Whole messages ([`Event::Message`](crate::Event::Message)); a message made of one
    /// frame is a slice of the receive buffer, without a copy. The default.
    #[default]
    Messages,
    /// Pieces of messages ([`Event::Chunk`](crate::Event::Chunk)) as soon as their bytes
    /// arrive, each at most `max_chunk` bytes (at least 1), so huge messages never have to
    /// be buffered.
    Chunks {
        /// Largest piece handed out.
        max_chunk: usize,
    },
}

/// Keepalive: send a Ping when the peer has been silent for `interval`, and fail the
/// connection with 1011 if no Pong arrives within `timeout` of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    /// Silence after which a Ping is sent.
    pub interval: Duration,
    /// Time the peer has to answer it.
    pub timeout: Duration,
}

/// The policies and limits of a [`Connection`](crate::Connection).
///
/// ```
/// use std::time::Duration;
/// use wspc::{Config, Delivery, Keepalive};
///
/// let config = Config {
///     delivery: Delivery::Chunks { max_chunk: 64 * 1024 },
///     keepalive: Some(Keepalive { interval: Duration::from_secs(30), timeout: Duration::from_secs(10) }),
///     ..Config::default()
/// };
/// assert!(config.auto_pong);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Limits against abuse.
    pub limits: Limits,
    /// Whole messages or streamed pieces. Default: whole messages.
    pub delivery: Delivery,
    /// Validate text as UTF-8 (fail fast, close 1007). Default `true`. Turning it off
    /// (the Windows `DISABLE_UTF8_VERIFICATION` property) only has effect with
    /// [`Delivery::Chunks`]: a whole [`Message::Text`](crate::Message::Text) always
    /// holds valid UTF-8, so in message mode text is still validated.
    pub validate_utf8: bool,
    /// Answer every Ping with a Pong carrying the same payload. Default `true`.
    pub auto_pong: bool,
    /// Hand out received Pings as [`Event::Ping`](crate::Event::Ping). Default `false`.
    pub deliver_pings: bool,
    /// Answer the peer's Close with a Close carrying the same code. Default `true`. With
    /// `false` (the Windows component's behaviour) the caller sends the reply itself.
    pub auto_close_reply: bool,
    /// How long to wait for the peer's Close after sending ours, and (client) for the
    /// server to close the transport after the close handshake. Default 5 s.
    pub close_timeout: Duration,
    /// Keepalive pings. Default: none.
    pub keepalive: Option<Keepalive>,
    /// Server: accept unmasked frames from the client (the Windows
    /// `DISABLE_MASKING` property on a server handle). Default `false`: they fail with 1002.
    pub accept_unmasked_frames: bool,
    /// Client: mask with an all-zero key (MASK bit set, payload unchanged: the Windows
    /// `DISABLE_MASKING` property on a client handle). Default `false`: a fresh random key
    /// per frame. Only for peers that are trusted not to be confused by it.
    pub zero_mask_key: bool,
    /// Keep every outgoing frame a separate entry in the transmit queue, so that a driver
    /// can take them one at a time with [`Connection::pop_frame`](crate::Connection::pop_frame)
    /// (the Windows component model accounts for each frame). Default `false`: frames
    /// are packed for vectored writes.
    pub framed_transmit: bool,
    /// Client: close the transport as soon as the close handshake is over, instead of
    /// waiting for the server to close it first (RFC 6455 §7.1.1 asks the server to go
    /// first so that TCP's TIME_WAIT stays on its side). Default `false`; the HTTP/2 form
    /// of the handshake ([`ClientHandshake::extended_connect`](crate::ClientHandshake::extended_connect))
    /// turns it on: a stream's END_STREAM leaves no TIME_WAIT behind, and a server may
    /// wait for the client's before ending its own.
    pub client_closes_transport: bool,
    /// A cap on the data buffered by every connection that shares it, and on the state
    /// of their extensions (permessage-deflate's compressors and decompressors; see
    /// [`Budget`]). Default: none (each connection is bounded by its [`Limits`] only).
    pub budget: Option<Budget>,
    /// Progress deadline: a frame or message whose first byte arrived this long ago and
    /// that is still incomplete fails the connection with 1008
    /// ([`Error::MessageTimeout`](crate::Error::MessageTimeout)), so that a peer cannot
    /// hold buffers by sending slowly. Measured with the time given to
    /// [`Connection::handle_timeout`](crate::Connection::handle_timeout). Default: none.
    pub message_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            delivery: Delivery::Messages,
            validate_utf8: true,
            auto_pong: true,
            deliver_pings: false,
            auto_close_reply: true,
            close_timeout: Duration::from_secs(5),
            keepalive: None,
            accept_unmasked_frames: false,
            zero_mask_key: false,
            framed_transmit: false,
            client_closes_transport: false,
            budget: None,
            message_timeout: None,
        }
    }
}
