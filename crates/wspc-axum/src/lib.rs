//! # wspc-axum — WebSockets for axum on the wspc engine
//!
//! A drop-in for [`axum::extract::ws`](https://docs.rs/axum/0.8/axum/extract/ws/): the same
//! extractor ([`WebSocketUpgrade`]), socket ([`WebSocket`]), [`Message`], [`Utf8Bytes`],
//! [`CloseFrame`] and [`close_code`] shapes, so an application switches by changing its
//! imports. Underneath runs [`wspc_tokio`] on the sans-IO [`wspc`](wspc_tokio) engine:
//! strict RFC 6455 (Autobahn 517 of 517), fail-fast UTF-8, permessage-deflate on request
//! ([`WebSocketUpgrade::deflate`]), keepalive, and WebSockets over HTTP/2 (RFC 8441)
//! wherever `axum::serve` speaks HTTP/2.
//!
//! ```no_run
//! use axum::{Router, response::Response, routing::any};
//! use wspc_axum::{Message, WebSocket, WebSocketUpgrade};
//!
//! async fn handler(ws: WebSocketUpgrade) -> Response {
//!     ws.protocols(["chat"]).deflate(true).on_upgrade(echo)
//! }
//!
//! async fn echo(mut socket: WebSocket) {
//!     while let Some(Ok(msg)) = socket.recv().await {
//!         if matches!(msg, Message::Text(_) | Message::Binary(_)) && socket.send(msg).await.is_err() {
//!             return;
//!         }
//!     }
//! }
//!
//! # async fn run() {
//! // `any`, not `get`: over HTTP/2 a WebSocket is a CONNECT request.
//! let app: Router = Router::new().route("/ws", any(handler));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod message;
mod socket;
mod upgrade;

pub use message::{CloseCode, CloseFrame, Message, Utf8Bytes, close_code};
pub use socket::WebSocket;
pub use upgrade::{
    DefaultOnFailedUpgrade, OnFailedUpgrade, WebSocketUpgrade, WebSocketUpgradeRejection,
};

/// Re-exported: deflate settings for [`WebSocketUpgrade::deflate_options`].
pub use wspc_tokio::DeflateOptions;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
