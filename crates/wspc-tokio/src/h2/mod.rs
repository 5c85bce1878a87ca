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

//! ```
//! use wspc_tokio::h2::{H2Incoming, Http2Connection, serve_connection};
//! use wspc_tokio::{Accept, ClientRequest, Message, ServerBuilder};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> wspc_tokio::Result<()> {
//! // A server: every HTTP/2 connection served, WebSockets echo, other requests get 404.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(async move {
//!     while let Ok((tcp, _)) = listener.accept().await {
//!         tokio::spawn(serve_connection(tcp, ServerBuilder::new(), |incoming| async move {
//!             match incoming {
//!                 H2Incoming::WebSocket(pending) => {
//!                     let Ok(mut ws) = pending.accept(Accept::default()) else { return };
//!                     while let Some(Ok(msg)) = ws.recv().await {
//!                         let _ = ws.send(msg).await;
//!                     }
//!                 }
//!                 H2Incoming::Http { respond, .. } => {
//!                     let _ = respond.send(http::Response::builder().status(404).body("").unwrap());
//!                 }
//!                 _ => {}
//!             }
//!         }));
//!     }
//! });
//!
//! // A client: one HTTP/2 connection (h2c, prior knowledge), two WebSockets on it.
//! let tcp = tokio::net::TcpStream::connect(addr).await?;
//! let connection = Http2Connection::handshake(tcp).await?;
//! let (mut a, _) = connection.websocket(ClientRequest::new(&format!("ws://{addr}/a"))?).await?;
//! let (mut b, _) = connection.websocket(ClientRequest::new(&format!("ws://{addr}/b"))?).await?;
//! a.send(Message::text("on stream 1")).await?;
//! b.send(Message::text("on stream 3")).await?;
//! assert_eq!(a.recv().await.unwrap()?, Message::text("on stream 1"));
//! assert_eq!(b.recv().await.unwrap()?, Message::text("on stream 3"));
//! # Ok(())
//! # }
//! ```

mod client;
mod server;
mod stream;

pub use client::Http2Connection;
pub use server::{
    H2Incoming, H2PendingUpgrade, H2Responder, serve_connection, serve_connection_until,
};
pub use stream::H2Stream;
