//! The server side of WebSockets over HTTP/2 (RFC 8441): an HTTP/2 connection that
//! allows extended CONNECT, each of whose requests is handed to the application — a
//! WebSocket to accept, or a plain HTTP request to answer.

use std::future::Future;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{RecvStream, ext::Protocol};
use http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio::io::{AsyncRead, AsyncWrite};
use wspc::handshake::{Accept, Upgrade};

use super::H2Stream;
use super::client::h2_error;
use crate::error::{Error, Result};
use crate::server::ServerBuilder;
use crate::socket::WebSocket;

/// A request received on an HTTP/2 connection.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // short-lived: taken apart right after the request
pub enum H2Incoming {
    /// A valid extended CONNECT for `websocket`: accept or reject it.
    WebSocket(H2PendingUpgrade),
    /// Any other request, to answer with [`H2Responder::send`].
    Http {
        /// The request (its body is not read).
        request: http::Request<()>,
        /// Where the answer goes.
        respond: H2Responder,
    },
}

/// An extended CONNECT that asked for a WebSocket, not answered yet.
#[derive(Debug)]
pub struct H2PendingUpgrade {
    request: http::Request<()>,
    upgrade: Upgrade,
    builder: ServerBuilder,
    body: RecvStream,
    respond: SendResponse<Bytes>,
}

/// Where the answer to a plain HTTP/2 request goes.
#[derive(Debug)]
pub struct H2Responder {
    respond: SendResponse<Bytes>,
}

/// Serves one HTTP/2 connection over `io` (TLS after ALPN `h2`, or h2c with prior
/// knowledge), advertising `SETTINGS_ENABLE_CONNECT_PROTOCOL`: every request becomes an
/// [`H2Incoming`] handed to `handler` in a task of its own, so several WebSockets share the
/// connection, each a stream. Returns when the client closes the connection.
pub async fn serve_connection<S, F, Fut>(io: S, builder: ServerBuilder, handler: F) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(H2Incoming) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    serve_connection_until(io, builder, handler, std::future::pending()).await
}

/// [`serve_connection`] that, once `shutdown` resolves, stops taking new streams (a
/// GOAWAY) and returns when the streams already open have ended.
pub async fn serve_connection_until<S, F, Fut>(
    io: S,
    builder: ServerBuilder,
    handler: F,
    shutdown: impl Future<Output = ()>,
) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(H2Incoming) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connection = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake::<_, Bytes>(io)
        .await
        .map_err(h2_error)?;
    let mut shutdown = std::pin::pin!(shutdown);
    let mut stopping = false;
    loop {
        let next = tokio::select! {
            next = connection.accept() => next,
            () = &mut shutdown, if !stopping => {
                stopping = true;
                connection.graceful_shutdown();
                continue;
            }
        };
        let Some(next) = next else { return Ok(()) };
        let (request, respond) = next.map_err(h2_error)?;
        let incoming = incoming(request, respond, &builder);
        tokio::spawn(handler(incoming));
    }
}

fn incoming(
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
    builder: &ServerBuilder,
) -> H2Incoming {
    let protocol = request
        .extensions()
        .get::<Protocol>()
        .map(|p| p.as_str().to_string());
    let (parts, body) = request.into_parts();
    let request = http::Request::from_parts(parts, ());
    if request.method() != http::Method::CONNECT || protocol.is_none() {
        return H2Incoming::Http {
            request,
            respond: H2Responder { respond },
        };
    }
    match Upgrade::from_extended_connect_request(&request, protocol.as_deref()) {
        Ok(upgrade) => H2Incoming::WebSocket(H2PendingUpgrade {
            request,
            upgrade,
            builder: builder.clone(),
            body,
            respond,
        }),
        Err(e) => {
            let mut responder = H2Responder { respond };
            if let Some(response) = e.response_for(http::Version::HTTP_2) {
                let _ = responder.send_response(response);
            }
            H2Incoming::Http {
                request,
                respond: responder,
            }
        }
    }
}

impl H2PendingUpgrade {
    /// The request: path, headers.
    pub fn request(&self) -> &http::Request<()> {
        &self.request
    }

    /// The validated upgrade: offered subprotocols and extensions.
    pub fn upgrade(&self) -> &Upgrade {
        &self.upgrade
    }

    /// Accepts: answers `200` with the subprotocol (`accept`'s, or the first of the
    /// builder's the client offered), permessage-deflate under the builder's policy and
    /// `accept`'s headers, and returns the WebSocket on this stream.
    pub fn accept(mut self, accept: Accept) -> Result<WebSocket<H2Stream>> {
        let (response, connection) = match self.builder.answer(&self.upgrade, accept) {
            Ok(answer) => answer,
            Err(e) => {
                if let Some(response) = e.response_for(http::Version::HTTP_2) {
                    let _ = H2Responder {
                        respond: self.respond,
                    }
                    .send_response(response);
                }
                return Err(Error::Handshake(e));
            }
        };
        let subprotocol = response
            .headers()
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let send = self
            .respond
            .send_response(response, false)
            .map_err(h2_error)?;
        Ok(WebSocket::from_parts(
            H2Stream::new(send, self.body, true),
            connection,
            subprotocol,
        ))
    }

    /// Rejects the upgrade with `response`.
    pub fn reject(self, response: http::Response<String>) -> Result<()> {
        H2Responder {
            respond: self.respond,
        }
        .send_response(response)
    }
}

impl H2Responder {
    /// Sends `response` with its body (queued whole and sent as the peer's flow-control
    /// window allows: meant for the server's own small answers, not for streaming).
    pub fn send<B: Into<Bytes>>(self, response: http::Response<B>) -> Result<()> {
        let mut this = self;
        this.send_response(response)
    }

    fn send_response<B: Into<Bytes>>(&mut self, response: http::Response<B>) -> Result<()> {
        let (mut parts, body) = response.into_parts();
        let body: Bytes = body.into();
        parts.version = http::Version::HTTP_2;
        // Connection-specific fields are not allowed in HTTP/2 (RFC 9113 §8.2.2).
        for name in [
            http::header::CONNECTION,
            http::header::UPGRADE,
            http::header::TRANSFER_ENCODING,
        ] {
            parts.headers.remove(name);
        }
        let head = http::Response::from_parts(parts, ());
        let mut send = self
            .respond
            .send_response(head, body.is_empty())
            .map_err(h2_error)?;
        if !body.is_empty() {
            send.send_data(body, true).map_err(h2_error)?;
        }
        Ok(())
    }
}
