//! # wspc-tokio — WebSocket on tokio, driving the wspc engine
//!
//! A WebSocket client and server over any `AsyncRead + AsyncWrite` stream, with TLS
//! through rustls, on the sans-IO [`wspc`] engine (RFC 6455 and permessage-deflate,
//! strict in the Autobahn TestSuite).
//!
//! - Client: [`connect`] / [`ClientBuilder`] (`ws://`, `wss://`, subprotocols, headers,
//!   deflate, custom CAs, timeouts).
//! - Server: [`accept`], [`accept_with`], [`ServerBuilder`] (and
//!   [`ServerBuilder::read_request`] to serve plain HTTP on the same port),
//!   [`tls_acceptor_from_pem`].
//! - The socket: [`WebSocket`] — `send`, `recv`, `close`, a `Stream` and a `Sink`, and
//!   [`split`](WebSocket::split) into [`WsReader`] / [`WsWriter`] for two tasks.
//!
//! ## Close semantics
//!
//! [`WebSocket::recv`] returns the peer's [`Message::Close`] only once the close
//! handshake is complete (our reply written, the TCP connection closed by the server,
//! as RFC 6455 wants), then `None`. [`WebSocket::close`] sends a Close and returns the
//! peer's. A peer that vanishes without a Close is [`Error::ResetWithoutClose`]; one
//! that breaks the protocol is [`Error::Protocol`] with the close code we sent. After
//! the close, `send`, `close` and `flush` return [`Error::Closed`].
//!
//! See [`WebSocket`] for a complete client and server in one process.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod driver;
mod error;
mod message;
mod options;
mod recv_pool;
mod server;
mod socket;
mod stream;
mod tls;

pub use client::{ClientBuilder, connect};
pub use error::{Error, Result};
pub use message::Message;
pub use options::Options;
pub use server::{Incoming, PendingUpgrade, ServerBuilder, accept, accept_with};
pub use socket::{WebSocket, WsReader, WsWriter};
pub use stream::MaybeTlsStream;
pub use tls::tls_acceptor_from_pem;

pub use wspc::deflate::{
    DeflateClient, DeflateOffer, DeflateOptions, DeflateParams, DeflateServer,
};
pub use wspc::handshake::Request;
pub use wspc::{Budget, CloseCode, CloseFrame, CloseState, Limits, MessageKind, Utf8Bytes};

/// Re-exported so callers can name the TLS types without depending on the crates.
pub use tokio_rustls;

/// The negotiated permessage-deflate parameters of a connection, if any.
pub(crate) fn deflate_params(conn: &wspc::Connection) -> Option<DeflateParams> {
    let header = conn.extension()?.negotiated();
    if !header.name.eq_ignore_ascii_case(wspc::deflate::NAME) {
        return None;
    }
    let bits = |name: &str| match header.param(name) {
        Some(Some(v)) => v.parse().unwrap_or(15),
        _ => 15,
    };
    Some(DeflateParams {
        server_no_context_takeover: header.param("server_no_context_takeover").is_some(),
        client_no_context_takeover: header.param("client_no_context_takeover").is_some(),
        server_max_window_bits: bits("server_max_window_bits"),
        client_max_window_bits: bits("client_max_window_bits"),
    })
}

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
