//! The client side of WebSockets over HTTP/2 (RFC 8441): one HTTP/2 connection, any
//! number of WebSockets, each an extended CONNECT stream.

use bytes::Bytes;
use h2::client::SendRequest;
use h2::ext::Protocol;
use tokio::io::{AsyncRead, AsyncWrite};
use wspc::{ClientHandshake, ClientRequest, Established};

use super::H2Stream;
use crate::error::{Error, Result};
use crate::socket::WebSocket;

/// An HTTP/2 connection on which WebSockets open as streams.
///
/// Made by [`Http2Connection::handshake`] over a connected stream (TLS with ALPN `h2`, or
/// plain TCP for h2c with prior knowledge); the connection's frames are driven by a task
/// of its own. [`ClientBuilder::http2`](crate::ClientBuilder::http2) uses it with
/// fallback to HTTP/1.1.
#[derive(Clone, Debug)]
pub struct Http2Connection {
    send: SendRequest<Bytes>,
}

impl Http2Connection {
    /// Runs the HTTP/2 handshake over `io` and waits for the server's SETTINGS (a PING
    /// round trip after the preface), so [`supports_websockets`](Self::supports_websockets)
    /// is known.
    pub async fn handshake<S>(io: S) -> Result<Http2Connection>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (send, mut connection) = h2::client::handshake(io).await.map_err(h2_error)?;
        let mut ping = connection.ping_pong();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("HTTP/2 connection ended: {e}");
            }
        });
        // The server's SETTINGS come before its answer to our first PING.
        if let Some(ping) = ping.as_mut() {
            ping.ping(h2::Ping::opaque()).await.map_err(h2_error)?;
        }
        let send = send.ready().await.map_err(h2_error)?;
        Ok(Http2Connection { send })
    }

    /// Whether the server advertised `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441 §3):
    /// without it, WebSockets cannot be opened on this connection.
    pub fn supports_websockets(&self) -> bool {
        self.send.is_extended_connect_protocol_enabled()
    }

    /// Opens a WebSocket as a new stream: sends the extended CONNECT for `request`,
    /// checks the `2xx` answer, and returns the socket and the response.
    /// [`Error::Http2Unsupported`] when the server does not allow extended CONNECT.
    pub async fn websocket(
        &self,
        request: ClientRequest,
    ) -> Result<(WebSocket<H2Stream>, http::Response<()>)> {
        let (stream, established) = self.open(request).await?;
        let ws = WebSocket::from_parts(stream, established.connection, established.subprotocol);
        Ok((ws, established.response))
    }

    /// Opens the extended CONNECT stream for `request` and checks the answer: the
    /// stream and the engine's established connection, for callers that wrap the stream.
    pub(crate) async fn open(&self, request: ClientRequest) -> Result<(H2Stream, Established)> {
        if !self.supports_websockets() {
            return Err(Error::Http2Unsupported);
        }
        let handshake = ClientHandshake::extended_connect(request)?;
        let mut connect = handshake.request().clone();
        connect
            .extensions_mut()
            .insert(Protocol::from_static("websocket"));
        let mut send = self.send.clone().ready().await.map_err(h2_error)?;
        let (response, stream) = send.send_request(connect, false).map_err(h2_error)?;
        let response = response.await.map_err(h2_error)?;
        let (parts, body) = response.into_parts();
        let established = handshake.check_response(parts)?;
        Ok((H2Stream::new(stream, body, false), established))
    }
}

pub(crate) fn h2_error(e: h2::Error) -> Error {
    Error::Http2(e.to_string())
}
