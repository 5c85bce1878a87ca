//! [`WebSocket`] and its halves [`WsReader`] / [`WsWriter`].

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use wspc::deflate::DeflateParams;
use wspc::{CloseCode, CloseFrame, CloseState, Connection, MessageKind};

use crate::driver::{Driver, Fanout, Side};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::streaming::{self, BufferUsage, FragmentSink, Received};

/// A WebSocket connection over any `AsyncRead + AsyncWrite` stream (TCP, TLS, a pipe,
/// [`tokio::io::duplex`]), driving the [`wspc`] engine.
///
/// - [`recv`](WebSocket::recv) yields messages, answers Pings, runs keepalive and
///   completes the close handshake; it returns the peer's [`Message::Close`] once the
///   handshake is complete, then `None`.
/// - [`send`](WebSocket::send) queues a message and writes it, waiting while the write
///   buffer is over [`Options::write_buffer_limit`](crate::Options::write_buffer_limit).
/// - [`close`](WebSocket::close) runs the close handshake and returns the peer's Close.
/// - It is also a [`Stream`] of messages and a [`Sink`] for them, and
///   [`split`](WebSocket::split)s into halves for two tasks.
///
/// A client and a server in one process, over an in-memory pipe:
///
/// ```
/// use wspc_tokio::{ClientBuilder, CloseCode, Message, ServerBuilder};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> wspc_tokio::Result<()> {
/// let (client_io, server_io) = tokio::io::duplex(64 * 1024);
/// let server = tokio::spawn(async move {
///     let mut ws = ServerBuilder::new().accept(server_io).await?;
///     // Echo until the client closes.
///     while let Some(msg) = ws.recv().await {
///         match msg? {
///             Message::Close(_) => break,
///             msg => ws.send(msg).await?,
///         }
///     }
///     Ok::<_, wspc_tokio::Error>(())
/// });
///
/// let (mut ws, response) = ClientBuilder::new("ws://localhost/echo")?
///     .connect_on(client_io)
///     .await?;
/// assert_eq!(response.status(), 101);
/// ws.send(Message::text("hello")).await?;
/// assert_eq!(ws.recv().await.unwrap()?, Message::text("hello"));
/// let reply = ws.close(CloseCode::NORMAL, "bye").await?;
/// assert_eq!(reply.unwrap().code, CloseCode::NORMAL);
/// assert!(matches!(ws.send(Message::text("late")).await, Err(wspc_tokio::Error::Closed)));
/// server.await.unwrap()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct WebSocket<S> {
    driver: Driver<S>,
    subprotocol: Option<String>,
    deflate: Option<DeflateParams>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// A socket over `stream` whose opening handshake already happened, running
    /// `connection` (made by [`wspc`]'s handshake or [`Connection::new`]).
    pub fn from_connection(stream: S, connection: Connection) -> WebSocket<S> {
        WebSocket::from_parts(stream, connection, None)
    }

    /// [`from_connection`](Self::from_connection) with the selected subprotocol, built in
    /// place (a `WebSocket` is large: the handshakes do not move it twice).
    pub(crate) fn from_parts(
        stream: S,
        connection: Connection,
        subprotocol: Option<String>,
    ) -> WebSocket<S> {
        let deflate = connection.deflate();
        WebSocket {
            driver: Driver::new(stream, connection),
            subprotocol,
            deflate,
        }
    }

    /// Records the subprotocol the handshake selected (builder style), for
    /// [`subprotocol`](WebSocket::subprotocol); with [`from_connection`](Self::from_connection),
    /// when the handshake ran elsewhere.
    pub fn with_subprotocol(mut self, subprotocol: Option<String>) -> Self {
        self.subprotocol = subprotocol;
        self
    }

    /// Sends a message: waits while the write buffer is full, queues it, and writes
    /// everything queued. A [`Message::Close`] starts the close handshake (prefer
    /// [`close`](WebSocket::close), which also waits for the peer's answer).
    ///
    /// After a Close was sent or received, or the connection failed: [`Error::Closed`].
    pub async fn send(&mut self, msg: Message) -> Result<()> {
        // One future for the three steps (wait for room, queue, write): usually all of
        // them happen in its first poll.
        let mut msg = Some(msg);
        poll_fn(|cx| {
            if let Some(m) = msg.take() {
                match self.driver.poll_ready(cx, Side::Writer) {
                    Poll::Ready(Ok(())) => self.driver.start_send(m)?,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        msg = Some(m);
                        return Poll::Pending;
                    }
                }
            }
            self.driver.poll_flush(cx, Side::Writer)
        })
        .await
    }

    /// Queues a message without writing it (waiting only while the write buffer is
    /// full); [`flush`](WebSocket::flush) writes everything queued in one vectored write.
    pub async fn feed(&mut self, msg: Message) -> Result<()> {
        poll_fn(|cx| self.driver.poll_ready(cx, Side::Writer)).await?;
        self.driver.start_send(msg)
    }

    /// Queues a message that many sockets send (broadcast) without writing it, waiting
    /// only while the write buffer is full: the payload is shared, and a
    /// permessage-deflate compression another socket already made of it is reused (see
    /// [`PreparedMessage`](wspc::PreparedMessage)). [`flush`](WebSocket::flush) (or the
    /// next [`recv`](WebSocket::recv)) writes it.
    pub async fn feed_prepared(&mut self, message: &wspc::PreparedMessage) -> Result<()> {
        poll_fn(|cx| self.driver.poll_ready(cx, Side::Writer)).await?;
        self.driver.start_send_prepared(message)
    }

    /// Queues a prepared message at once, for callers that drive the socket with
    /// [`Sink::poll_ready`] and [`Stream::poll_next`] themselves: call it after
    /// `poll_ready` returned `Ready(Ok(()))`, as [`Sink::start_send`].
    pub fn start_send_prepared(&mut self, message: &wspc::PreparedMessage) -> Result<()> {
        self.driver.start_send_prepared(message)
    }

    /// Sends one fragment of a message, for messages produced piece by piece: the first
    /// fragment opens a message of `kind`, `fin` ends it. Text fragments may split a
    /// UTF-8 sequence but must add up to valid UTF-8. Waits and writes as
    /// [`send`](WebSocket::send).
    pub async fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        fin: bool,
    ) -> Result<()> {
        poll_fn(|cx| self.driver.poll_ready(cx, Side::Writer)).await?;
        self.driver.start_fragment(kind, data.into(), fin)?;
        poll_fn(|cx| self.driver.poll_flush(cx, Side::Writer)).await
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.driver.poll_flush(cx, Side::Writer)).await
    }

    /// The next message: text, binary, Pong (and Ping with
    /// [`Options::deliver_pings`](crate::Options::deliver_pings)), and finally the
    /// peer's [`Message::Close`] once the close handshake is complete; then `None`.
    /// A failure (the peer broke the protocol, vanished, or stopped answering pings) is
    /// an `Err`, followed by `None`.
    pub async fn recv(&mut self) -> Option<Result<Message>> {
        poll_fn(|cx| self.driver.poll_recv(cx, Side::Reader)).await
    }

    /// Runs the close handshake: sends a Close with `code` and `reason` (at most 123
    /// bytes), drops messages that still arrive, and returns the peer's Close (`None`
    /// when it carried no code) once the handshake is complete and the transport is
    /// closed. Bounded by [`Options::close_timeout`](crate::Options::close_timeout)
    /// ([`Error::Timeout`]). Once the connection is over: [`Error::Closed`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>> {
        if self.driver.is_finished() {
            return Err(Error::Closed);
        }
        // A Close already sent with `send(Message::Close(..))` is not sent twice: the
        // handshake it started is completed.
        if self.driver.conn.close_state() != CloseState::CloseSent {
            self.driver.conn.close(code, reason)?;
        }
        poll_fn(|cx| self.driver.poll_until_closed(cx, Side::Reader)).await
    }

    /// The next message, with a data message that arrives in pieces
    /// ([`Options::streaming`](crate::Options::streaming)) handed out as a
    /// [`MessageStream`](crate::MessageStream) of its bytes as they arrive, rather than
    /// whole. Control messages and the final Close come as [`Received::Message`], as
    /// [`recv`](Self::recv) gives them; then `None`.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use tokio::io::AsyncWriteExt;
    /// use wspc_tokio::{Options, Received};
    ///
    /// # async fn f(mut file: tokio::fs::File) -> wspc_tokio::Result<()> {
    /// let (mut ws, _) = wspc_tokio::ClientBuilder::new("ws://127.0.0.1:9001/")?
    ///     .options(Options::default().streaming(64 * 1024).max_message_size(8 << 30))
    ///     .connect()
    ///     .await?;
    /// while let Some(received) = ws.recv_stream().await {
    ///     match received? {
    ///         Received::Stream(mut pieces) => {
    ///             while let Some(piece) = pieces.next().await {
    ///                 file.write_all(&piece?).await?;
    ///             }
    ///         }
    ///         Received::Message(other) => println!("{other:?}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv_stream(&mut self) -> Option<Result<Received<'_, S>>> {
        streaming::recv_stream(&mut self.driver).await
    }

    /// Sends one message of `kind` whose payload is read from `reader` until its end,
    /// in fragments of 64 KiB, without holding it whole (each fragment waits while the
    /// write buffer is over its limit). Returns the message's length. A read error
    /// fails the connection (Close 1011): a message begun cannot be taken back.
    ///
    /// ```no_run
    /// # async fn f(mut ws: wspc_tokio::WebSocket<wspc_tokio::MaybeTlsStream>) -> wspc_tokio::Result<()> {
    /// let file = tokio::fs::File::open("video.mp4").await?;
    /// let sent = ws.send_reader(wspc_tokio::MessageKind::Binary, file).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_reader<R: AsyncRead + Unpin>(
        &mut self,
        kind: MessageKind,
        reader: R,
    ) -> Result<u64> {
        streaming::send_reader(self, kind, reader).await
    }

    /// Sends one message of `kind` made of the chunks `stream` yields, each chunk one
    /// fragment, without holding the message whole. Returns its length. An `Err` item
    /// fails the connection (Close 1011).
    pub async fn send_chunks<St, E>(&mut self, kind: MessageKind, stream: St) -> Result<u64>
    where
        St: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        streaming::send_chunks(self, kind, stream).await
    }

    /// What the socket's buffers hold now, by the engine's and this crate's own
    /// accounting: the receive buffer's capacity, the bytes queued for writing, a
    /// message being assembled.
    pub fn buffer_usage(&mut self) -> BufferUsage {
        streaming::usage(&mut self.driver)
    }

    /// Splits the socket into a reader and a writer that can be used from different
    /// tasks at the same time. The reader answers Pings and Closes (writing the replies
    /// itself even while the writer is idle) and runs keepalive; the writer sends.
    pub fn split(self) -> (WsReader<S>, WsWriter<S>) {
        let mut driver = self.driver;
        driver.fanout = Some(Arc::new(Fanout::default()));
        let shared = Arc::new(Shared {
            driver: Mutex::new(driver),
            subprotocol: self.subprotocol,
            deflate: self.deflate,
        });
        (
            WsReader {
                shared: shared.clone(),
            },
            WsWriter { shared },
        )
    }
}

impl<S> WebSocket<S> {
    /// The subprotocol the handshake selected, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// The negotiated permessage-deflate parameters; `None` when the connection is not
    /// compressed.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.deflate.as_ref()
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.driver.io
    }

    /// The underlying stream, mutably (reading or writing it directly corrupts the
    /// connection).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.driver.io
    }

    /// Bytes queued and not yet written (the backpressure measure).
    pub fn buffered_amount(&self) -> usize {
        self.driver.conn.buffered_amount()
    }

    /// Where the connection is in the close handshake.
    pub fn close_state(&self) -> CloseState {
        self.driver.conn.close_state()
    }

    /// The engine, for what this type does not expose.
    pub fn connection(&self) -> &Connection {
        &self.driver.conn
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().driver.poll_recv(cx, Side::Reader)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().driver.poll_ready(cx, Side::Writer)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<()> {
        self.get_mut().driver.start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().driver.poll_flush(cx, Side::Writer)
    }

    /// Starts the close handshake with 1000 if nobody did, and drives it to the end.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let driver = &mut self.get_mut().driver;
        if driver.is_finished() {
            return Poll::Ready(Ok(()));
        }
        if driver.conn.close_state() == CloseState::Open {
            driver.conn.close(CloseCode::NORMAL, "")?;
        }
        match driver.poll_until_closed(cx, Side::Reader) {
            Poll::Ready(Ok(_)) | Poll::Ready(Err(Error::Closed)) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FragmentSink for WebSocket<S> {
    async fn fragment(&mut self, kind: MessageKind, data: Bytes, fin: bool) -> Result<()> {
        self.send_fragment(kind, data, fin).await
    }

    async fn abort(&mut self) -> Result<()> {
        abort(&mut self.driver)?;
        self.flush().await
    }
}

/// Queues the Close that fails a connection whose message cannot be completed.
fn abort<S: AsyncRead + AsyncWrite + Unpin>(driver: &mut Driver<S>) -> Result<()> {
    let frame = CloseFrame::new(CloseCode::SERVER_ERROR, "message source failed")
        .map_err(wspc::SendError::from)?;
    driver.start_send(Message::Close(Some(frame)))
}

#[derive(Debug)]
pub(crate) struct Shared<S> {
    driver: Mutex<Driver<S>>,
    subprotocol: Option<String>,
    deflate: Option<DeflateParams>,
}

impl<S> Shared<S> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Driver<S>> {
        self.driver.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The receiving half of a split [`WebSocket`]: yields messages, answers Pings and the
/// peer's Close (writing those replies itself), runs keepalive and the close timeout.
/// Keep reading it until it returns `None`, also after [`WsWriter::close`]: that is
/// what completes the close handshake.
#[derive(Debug)]
pub struct WsReader<S> {
    shared: Arc<Shared<S>>,
}

/// The sending half of a split [`WebSocket`].
#[derive(Debug)]
pub struct WsWriter<S> {
    shared: Arc<Shared<S>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsReader<S> {
    /// The next message, as [`WebSocket::recv`].
    pub async fn recv(&mut self) -> Option<Result<Message>> {
        poll_fn(|cx| self.shared.lock().poll_recv(cx, Side::Reader)).await
    }

    /// The next message, streamed if it arrives in pieces, as
    /// [`WebSocket::recv_stream`].
    pub async fn recv_stream(&mut self) -> Option<Result<Received<'_, S>>> {
        streaming::recv_stream_shared(&self.shared).await
    }

    /// The buffers' accounting, as [`WebSocket::buffer_usage`].
    pub fn buffer_usage(&self) -> BufferUsage {
        streaming::usage(&mut self.shared.lock())
    }

    /// Whether `writer` is the other half of this reader.
    pub fn is_pair_of(&self, writer: &WsWriter<S>) -> bool {
        Arc::ptr_eq(&self.shared, &writer.shared)
    }

    /// Puts the halves back together. Fails (returning them) if they are not a pair.
    pub fn reunite(
        self,
        writer: WsWriter<S>,
    ) -> std::result::Result<WebSocket<S>, (WsReader<S>, WsWriter<S>)> {
        if !self.is_pair_of(&writer) {
            return Err((self, writer));
        }
        drop(writer);
        match Arc::try_unwrap(self.shared) {
            Ok(shared) => {
                let mut driver = shared
                    .driver
                    .into_inner()
                    .unwrap_or_else(|p| p.into_inner());
                driver.fanout = None;
                Ok(WebSocket {
                    driver,
                    subprotocol: shared.subprotocol,
                    deflate: shared.deflate,
                })
            }
            Err(_) => unreachable!("both halves were given"),
        }
    }

    /// The subprotocol the handshake selected, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.shared.subprotocol.as_deref()
    }

    /// The negotiated permessage-deflate parameters, if any.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.shared.deflate.as_ref()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsWriter<S> {
    /// Sends a message, as [`WebSocket::send`].
    pub async fn send(&mut self, msg: Message) -> Result<()> {
        poll_fn(|cx| self.shared.lock().poll_ready(cx, Side::Writer)).await?;
        self.shared.lock().start_send(msg)?;
        self.flush().await
    }

    /// Queues a message without writing it, as [`WebSocket::feed`].
    pub async fn feed(&mut self, msg: Message) -> Result<()> {
        poll_fn(|cx| self.shared.lock().poll_ready(cx, Side::Writer)).await?;
        self.shared.lock().start_send(msg)
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.shared.lock().poll_flush(cx, Side::Writer)).await
    }

    /// Sends one fragment of a message, as [`WebSocket::send_fragment`].
    pub async fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        fin: bool,
    ) -> Result<()> {
        poll_fn(|cx| self.shared.lock().poll_ready(cx, Side::Writer)).await?;
        self.shared.lock().start_fragment(kind, data.into(), fin)?;
        self.flush().await
    }

    /// Sends a Close with `code` and `reason` and writes it. The [`WsReader`] completes
    /// the handshake: it returns the peer's Close, then `None`.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        {
            let mut driver = self.shared.lock();
            if driver.is_finished() {
                return Err(Error::Closed);
            }
            let frame = if code == CloseCode::EMPTY && reason.is_empty() {
                None
            } else {
                Some(CloseFrame::new(code, reason).map_err(wspc::SendError::from)?)
            };
            driver.start_send(Message::Close(frame))?;
        }
        self.flush().await
    }

    /// Sends a message read from `reader`, as [`WebSocket::send_reader`].
    pub async fn send_reader<R: AsyncRead + Unpin>(
        &mut self,
        kind: MessageKind,
        reader: R,
    ) -> Result<u64> {
        streaming::send_reader(self, kind, reader).await
    }

    /// Sends a message made of a stream's chunks, as [`WebSocket::send_chunks`].
    pub async fn send_chunks<St, E>(&mut self, kind: MessageKind, stream: St) -> Result<u64>
    where
        St: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        streaming::send_chunks(self, kind, stream).await
    }

    /// Bytes queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        self.shared.lock().conn.buffered_amount()
    }

    /// Where the connection is in the close handshake.
    pub fn close_state(&self) -> CloseState {
        self.shared.lock().conn.close_state()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WsReader<S> {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.shared.lock().poll_recv(cx, Side::Reader)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WsWriter<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.shared.lock().poll_ready(cx, Side::Writer)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<()> {
        self.shared.lock().start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.shared.lock().poll_flush(cx, Side::Writer)
    }

    /// Sends a Close with 1000 if none was sent, and writes it. The reader completes
    /// the handshake.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut driver = self.shared.lock();
        if driver.conn.close_state() == CloseState::Open {
            driver.start_send(Message::Close(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: Default::default(),
            })))?;
        }
        match driver.poll_flush(cx, Side::Writer) {
            Poll::Ready(Err(Error::Closed)) => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FragmentSink for WsWriter<S> {
    async fn fragment(&mut self, kind: MessageKind, data: Bytes, fin: bool) -> Result<()> {
        self.send_fragment(kind, data, fin).await
    }

    async fn abort(&mut self) -> Result<()> {
        abort(&mut self.shared.lock())?;
        self.flush().await
    }
}
