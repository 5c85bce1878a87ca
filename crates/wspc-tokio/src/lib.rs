//! # wspc-tokio — WebSocket on tokio, driving the wspc engine
//!
//! A WebSocket client and server over any `AsyncRead + AsyncWrite` stream, with TLS
//! through rustls, on the sans-IO [`wspc`] engine (RFC 6455 and permessage-deflate,
//! strict in the Autobahn TestSuite).
//!
//! - Client: [`connect`] / [`ClientBuilder`] (`ws://`, `wss://`, requests as `&str`,
//!   `http::Uri` or `http::Request` ([`IntoClientRequest`]), subprotocols, headers,
//!   deflate, HTTP and SOCKS5 proxies ([`Proxy`], the environment by default), TLS you
//!   configure (a `rustls::ClientConfig`, custom CAs, client certificates), redirects,
//!   Happy Eyeballs, timeouts).
//! - Server: [`accept`], [`accept_with`], [`ServerBuilder`] (and
//!   [`ServerBuilder::read_request`] to serve plain HTTP on the same port),
//!   [`tls_acceptor_from_pem`] and [`ServerTls`] (client certificates, [`TlsInfo`]).
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
#[cfg(feature = "http2")]
pub mod h2;
mod happy_eyeballs;
#[cfg(feature = "hyper")]
pub mod hyper;
mod into_request;
mod message;
mod options;
mod proxy;
mod recv_pool;
mod redirect;
mod server;
mod socket;
mod stream;
mod streaming;
mod tls;

pub use client::{ClientBuilder, connect};
pub use error::{Error, Result};
pub use into_request::IntoClientRequest;
pub use message::Message;
pub use options::Options;
pub use proxy::{NoProxy, Proxy, ProxyError, ProxyKind, SocksReply};
pub use redirect::RedirectError;
pub use server::{Incoming, PendingUpgrade, ServerBuilder, accept, accept_with};
pub use socket::{WebSocket, WsReader, WsWriter};
pub use stream::MaybeTlsStream;
pub use streaming::{BufferUsage, MessageStream, Received};
pub use tls::{ServerTls, TlsInfo, tls_acceptor_from_pem};

pub use wspc::deflate::{
    DeflateClient, DeflateOffer, DeflateOptions, DeflateParams, DeflateServer,
};
pub use wspc::handshake::{Accept, HandshakeError, Upgrade, http1};
pub use wspc::http;
pub use wspc::{
    Budget, ClientRequest, CloseCode, CloseFrame, CloseState, Limits, MessageKind, PreparedMessage,
    Utf8Bytes,
};

/// Re-exported so callers can build a `ClientConfig` or name the provider types
/// without depending on the crate.
pub use rustls;

/// Re-exported so callers can name the TLS types without depending on the crates.
pub use tokio_rustls;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
