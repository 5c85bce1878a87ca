//! WebSockets in hyper servers (feature `hyper`): an HTTP/1.1 upgrade or an HTTP/2
//! extended CONNECT (RFC 8441) becomes the response to return plus a future that yields
//! the [`WebSocket`] once hyper hands the connection (or the HTTP/2 stream) over.
//!
//! The handshake is the engine's ([`wspc::Upgrade`]), with the settings of a
//! [`ServerBuilder`]: limits, subprotocols, permessage-deflate, keepalive.
//!
//! ```
//! use std::convert::Infallible;
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper_util::rt::{TokioExecutor, TokioIo};
//! use wspc_tokio::{Accept, Message, ServerBuilder};
//!
//! async fn handle(mut req: http::Request<Incoming>) -> Result<http::Response<Full<Bytes>>, Infallible> {
//!     let server = ServerBuilder::new().subprotocols(&["chat"]);
//!     match server.upgrade_hyper(&mut req, Accept::default()) {
//!         Ok((response, pending)) => {
//!             tokio::spawn(async move {
//!                 let Ok(mut ws) = pending.await else { return };
//!                 while let Some(Ok(msg)) = ws.recv().await {
//!                     if msg.is_text() || msg.is_binary() {
//!                         let _ = ws.send(msg).await;
//!                     }
//!                 }
//!             });
//!             Ok(response.map(|()| Full::default()))
//!         }
//!         // 400, 405, 426 … with the reason.
//!         Err(e) => Ok(e.response_for(req.version()).unwrap().map(|body| Full::new(Bytes::from(body)))),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> wspc_tokio::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(async move {
//!     while let Ok((tcp, _)) = listener.accept().await {
//!         tokio::spawn(async move {
//!             // HTTP/1.1 and HTTP/2 on one port; extended CONNECT for WebSockets over HTTP/2.
//!             let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
//!             builder.http2().enable_connect_protocol();
//!             let service = hyper::service::service_fn(handle);
//!             let _ = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service).await;
//!         });
//!     }
//! });
//!
//! let (mut ws, _) = wspc_tokio::ClientBuilder::new(&format!("ws://{addr}/"))?
//!     .subprotocol("chat")
//!     .connect()
//!     .await?;
//! assert_eq!(ws.subprotocol(), Some("chat"));
//! ws.send(Message::text("hello hyper")).await?;
//! assert_eq!(ws.recv().await.unwrap()?, Message::text("hello hyper"));
//! # Ok(())
//! # }
//! ```

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use ::hyper::upgrade::{OnUpgrade, Upgraded};
use http::header::SEC_WEBSOCKET_PROTOCOL;
use http::{Method, Version};
use hyper_util::rt::TokioIo;
use wspc::Connection;
use wspc::handshake::{Accept, HandshakeError, Upgrade};

use crate::error::{Error, Result};
use crate::server::ServerBuilder;
use crate::socket::WebSocket;

/// A WebSocket over a connection (or HTTP/2 stream) that hyper handed over.
pub type HyperWebSocket = WebSocket<TokioIo<Upgraded>>;

/// Whether `request` asks for a WebSocket: an HTTP/1.1 `Upgrade: websocket`, or an
/// HTTP/2 `CONNECT` with `:protocol` `websocket`. It may still be an invalid one; use it to
/// route WebSocket requests to [`ServerBuilder::upgrade_hyper`].
pub fn is_websocket_request<B>(request: &http::Request<B>) -> bool {
    if request.version() >= Version::HTTP_2 {
        request.method() == Method::CONNECT
            && protocol(request).is_some_and(|p| p.eq_ignore_ascii_case("websocket"))
    } else {
        wspc::handshake::requests_websocket(request.headers())
    }
}

/// The `:protocol` pseudo-header of an HTTP/2 request, as hyper hands it out.
fn protocol<B>(request: &http::Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<::hyper::ext::Protocol>()
        .map(|p| p.as_str())
}

impl ServerBuilder {
    /// Answers a WebSocket request that hyper received — an HTTP/1.1 upgrade or an HTTP/2
    /// extended CONNECT (serve HTTP/2 with `enable_connect_protocol()`): validates it,
    /// chooses the subprotocol (`accept`'s, or the first of
    /// [`subprotocols`](ServerBuilder::subprotocols) the client offered), negotiates
    /// permessage-deflate under the builder's policy, and returns the response (`101`, or
    /// `200` over HTTP/2; add headers to it as you like, give it any body type) and the
    /// [`PendingWebSocket`], which resolves once the response is sent and hyper hands
    /// the connection over.
    ///
    /// On error, answer with [`HandshakeError::response_for`]`(request.version())`
    /// (400, 405, 426 …).
    #[allow(clippy::result_large_err)] // HandshakeError is the engine's, shared by every path
    pub fn upgrade_hyper<B>(
        &self,
        request: &mut http::Request<B>,
        accept: Accept,
    ) -> std::result::Result<(http::Response<()>, PendingWebSocket), HandshakeError> {
        let upgrade = if request.version() >= Version::HTTP_2 {
            Upgrade::from_extended_connect_request(request, protocol(request))?
        } else {
            Upgrade::from_request(request)?
        };
        let (response, connection) = self.answer(&upgrade, accept)?;
        let subprotocol = response
            .headers()
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let on_upgrade = ::hyper::upgrade::on(request);
        Ok((
            response,
            PendingWebSocket {
                on_upgrade,
                connection,
                subprotocol,
            },
        ))
    }
}

/// An accepted upgrade waiting for hyper to hand the connection over: `.await` it for the
/// [`HyperWebSocket`].
#[derive(Debug)]
pub struct PendingWebSocket {
    on_upgrade: OnUpgrade,
    connection: Connection,
    subprotocol: Option<String>,
}

impl PendingWebSocket {
    /// The subprotocol the response selected.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }
}

impl IntoFuture for PendingWebSocket {
    type Output = Result<HyperWebSocket>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<HyperWebSocket>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let upgraded = self
                .on_upgrade
                .await
                .map_err(|e| Error::Io(std::io::Error::other(e)))?;
            Ok(WebSocket::from_parts(
                TokioIo::new(upgraded),
                self.connection,
                self.subprotocol,
            ))
        })
    }
}
