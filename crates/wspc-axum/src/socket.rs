//! [`WebSocket`]: the socket an upgrade hands to the application.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;
use http::HeaderValue;
use wspc_tokio::hyper::HyperWebSocket;

use crate::message::Message;

/// A WebSocket after [`WebSocketUpgrade::on_upgrade`](crate::WebSocketUpgrade::on_upgrade),
/// as in axum: [`recv`](WebSocket::recv) / [`send`](WebSocket::send), a `Stream` of
/// messages and a `Sink` of messages (split it with `futures::StreamExt::split`).
///
/// Pings are answered automatically and also handed out, like axum's. The peer's Close
/// comes out of `recv` once the close handshake is complete, then `None`.
#[derive(Debug)]
pub struct WebSocket {
    inner: HyperWebSocket,
    protocol: Option<HeaderValue>,
}

impl WebSocket {
    pub(crate) fn new(inner: HyperWebSocket, protocol: Option<HeaderValue>) -> WebSocket {
        WebSocket { inner, protocol }
    }

    /// Receives the next message; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        Some(
            self.inner
                .recv()
                .await?
                .map(Message::from_wspc)
                .map_err(axum::Error::new),
        )
    }

    /// Sends a message (a [`Message::Close`] starts the close handshake).
    pub async fn send(&mut self, msg: Message) -> Result<(), axum::Error> {
        self.inner
            .send(msg.into_wspc())
            .await
            .map_err(axum::Error::new)
    }

    /// The subprotocol the upgrade selected.
    pub fn protocol(&self) -> Option<&HeaderValue> {
        self.protocol.as_ref()
    }

    /// The wspc-tokio socket underneath, for what axum's API lacks (close with a code and
    /// wait for the answer, the negotiated deflate parameters, split halves for two
    /// tasks, streaming large messages).
    pub fn into_inner(self) -> HyperWebSocket {
        self.inner
    }

    /// The wspc-tokio socket underneath, borrowed.
    pub fn get_mut(&mut self) -> &mut HyperWebSocket {
        &mut self.inner
    }
}

impl Stream for WebSocket {
    type Item = Result<Message, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_next(cx)
            .map(|next| next.map(|r| r.map(Message::from_wspc).map_err(axum::Error::new)))
    }
}

impl Sink<Message> for WebSocket {
    type Error = axum::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_ready(cx)
            .map_err(axum::Error::new)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        Pin::new(&mut self.get_mut().inner)
            .start_send(item.into_wspc())
            .map_err(axum::Error::new)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_flush(cx)
            .map_err(axum::Error::new)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_close(cx)
            .map_err(axum::Error::new)
    }
}
