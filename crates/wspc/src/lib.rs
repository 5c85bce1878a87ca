//! # wspc — a sans-IO WebSocket protocol engine
//!
//! `wspc` implements RFC 6455 the way the Windows *WebSocket Protocol Component*
//! (`websocket.dll`) does: it never touches a socket, a thread or a clock. Bytes go in,
//! events come out; messages go in, bytes come out. Any transport — blocking sockets,
//! tokio, io_uring, a test harness, a C program — drives it.
//!
//! - **Handshake**: [`ClientHandshake`] / [`ServerHandshake`] build and check the HTTP
//!   upgrade, incrementally and with hard caps.
//! - **Connection**: [`Connection`] is the data phase: framing, masking, fragmentation,
//!   fail-fast UTF-8, ping/pong, keepalive, the close handshake, limits, and an
//!   [`extension`] seam for permessage-deflate.
//! - **Codec**: [`frame`], [`mask`], [`utf8`] and [`close`] are the stateless pieces, for
//!   drivers that need to work at the frame level (the Windows component model does).
//!
//! ## A client and a server, in memory
//!
//! ```
//! use wspc::{Accept, ClientHandshake, ClientRequest, CloseCode, Config, Connection, Event, Message, ServerHandshake};
//!
//! // Opening handshake.
//! let mut client_hs = ClientHandshake::new(ClientRequest::new("ws://localhost/chat")?)?;
//! let mut server_hs = ServerHandshake::new(Config::default());
//! let request = server_hs.feed(client_hs.request_bytes())?.expect("whole request");
//! assert_eq!(request.uri().path(), "/chat");
//! let (response, mut server) = server_hs.accept(&request, Accept::default())?;
//! let mut client = client_hs.feed(&response)?.expect("whole response").connection;
//!
//! // Everything one side wants to write goes to the other.
//! fn pump(from: &mut Connection, to: &mut Connection) {
//!     let mut wire = Vec::new();
//!     from.write_to(&mut wire).unwrap();
//!     to.feed(&wire);
//! }
//!
//! client.send(Message::text("Hello"))?;
//! client.ping(&b"are you there?"[..])?;
//! pump(&mut client, &mut server);
//! assert_eq!(server.poll_event(), Some(Event::Message(Message::text("Hello"))));
//! assert_eq!(server.poll_event(), None); // the Ping was answered automatically
//!
//! pump(&mut server, &mut client);
//! assert_eq!(client.poll_event(), Some(Event::Pong(bytes::Bytes::from_static(b"are you there?"))));
//!
//! // Closing handshake: the server echoes the code and closes the transport first.
//! client.close(CloseCode::SUCCESS, "bye")?;
//! pump(&mut client, &mut server);
//! assert!(matches!(server.poll_event(), Some(Event::Close(f)) if f.code == CloseCode::SUCCESS));
//! pump(&mut server, &mut client);
//! assert!(matches!(client.poll_event(), Some(Event::Close(_))));
//! assert!(server.should_close_transport());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Driving it over a socket
//!
//! After each read: feed the bytes, drain [`Connection::poll_event`], then write everything
//! [`Connection::poll_transmit`] offers in one vectored write; call
//! [`Connection::handle_timeout`] when [`Connection::poll_timeout`] passes; close the
//! socket when [`Connection::should_close_transport`] says so. `examples/echo_server.rs`
//! is a complete server on `std::net`.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod budget;
pub mod close;
mod config;
mod connection;
#[cfg(feature = "deflate")]
pub mod deflate;
pub mod error;
pub mod extension;
pub mod frame;
pub mod handshake;
mod limits;
pub mod mask;
mod message;
mod prepared;
pub mod utf8;

pub use budget::Budget;
pub use close::{CloseCode, CloseFrame};
pub use config::{Config, Delivery, Keepalive};
pub use connection::{CloseState, Connection, FramedFragment, OutgoingFrame, Role};
pub use error::{Error, ProtocolError, SendError};
pub use extension::Extension;
pub use handshake::{
    Accept, ClientHandshake, ClientRequest, Established, HandshakeError, ServerHandshake, Upgrade,
};
pub use limits::Limits;
pub use message::{Chunk, Event, InvalidUtf8, Message, MessageKind, Utf8Bytes};
pub use prepared::{PreparedCache, PreparedMessage};

/// Re-exported so callers can name payload types without depending on `bytes` directly.
pub use bytes;
/// Re-exported: the handshake speaks `http` values (requests, responses, header maps).
pub use http;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
