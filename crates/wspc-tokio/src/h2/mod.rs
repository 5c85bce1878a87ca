//! WebSockets over HTTP/2 (RFC 8441, feature `http2`), on the `h2` crate.
//!
//! - Client: [`Http2Connection`] opens WebSockets as extended CONNECT streams of one
//!   HTTP/2 connection; [`ClientBuilder::http2`](crate::ClientBuilder::http2) uses it and
//!   falls back to HTTP/1.1 when the server does not allow extended CONNECT.
//! - Server: [`serve_connection`] serves an HTTP/2 connection advertising
//!   `SETTINGS_ENABLE_CONNECT_PROTOCOL` and hands every request over as an
//!   [`H2Incoming`]: a WebSocket to accept (with a [`ServerBuilder`](crate::ServerBuilder)'s
//!   settings) or plain HTTP to answer.
//!
//! The WebSocket runs on one stream, [`H2Stream`], with HTTP/2 flow control: what the
//! application has not read is not released to the peer's window, and writes wait for
//! the window the peer grants.

mod client;
mod server;
mod stream;

pub use client::Http2Connection;
pub use server::{H2Incoming, H2PendingUpgrade, H2Responder, serve_connection};
pub use stream::H2Stream;
