//! Large messages as streams: received pieces handed out as a [`Stream`] of bytes as
//! they arrive (with [`Options::streaming`](crate::Options::streaming)), and a message
//! sent from an `AsyncRead` or a `Stream` of chunks, fragment by fragment. Neither holds
//! the whole message: memory is bounded by the buffer sizes (the engine's receive buffer,
//! one piece, the write buffer limit, one fragment), not by the message size.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use wspc::{Chunk, CloseCode, MessageKind, Utf8Bytes};

use crate::driver::{Driver, Side};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::socket::Shared;

/// Size of the fragments a message sent from an `AsyncRead` is cut into.
pub(crate) const SEND_FRAGMENT: usize = 64 * 1024;

/// What the driver hands out: a whole message, or a piece of one (streamed delivery).
#[derive(Debug)]
pub(crate) enum Incoming {
    Message(Message),
    Chunk(Chunk),
}

/// The receive side's streaming state.
#[derive(Debug, Default)]
pub(crate) struct ChunkState {
    /// A message `recv` is putting together from pieces.
    assembling: Option<(MessageKind, BytesMut)>,
    /// The rest of the current message is dropped (its stream was dropped).
    skipping: bool,
    /// A Close that ended a streamed message, handed out next.
    held: Option<Message>,
}

impl ChunkState {
    /// Drops pieces of a message whose stream was dropped.
    pub(crate) fn filter(&mut self, chunk: Chunk) -> Option<Chunk> {
        if self.skipping {
            if chunk.fin {
                self.skipping = false;
            }
            return None;
        }
        Some(chunk)
    }

    /// The message held back by a stream that it interrupted.
    pub(crate) fn take_held(&mut self) -> Option<Message> {
        self.held.take()
    }

    /// Adds a piece to the message `recv` assembles; the message once it is complete.
    /// A message of one piece is handed out without a copy.
    pub(crate) fn assemble(&mut self, chunk: Chunk) -> Option<Result<Message>> {
        if chunk.first && chunk.fin {
            self.assembling = None;
            return Some(whole(chunk.kind, chunk.data));
        }
        if chunk.first {
            self.assembling = Some((chunk.kind, BytesMut::new()));
        }
        let (_, buf) = self
            .assembling
            .get_or_insert_with(|| (chunk.kind, BytesMut::new()));
        buf.extend_from_slice(&chunk.data);
        if !chunk.fin {
            return None;
        }
        let (kind, buf) = self.assembling.take()?;
        Some(whole(kind, buf.freeze()))
    }

    /// Bytes held for a message being assembled.
    pub(crate) fn assembling_len(&self) -> usize {
        self.assembling.as_ref().map_or(0, |(_, b)| b.capacity())
    }
}

/// A complete message of `kind`.
fn whole(kind: MessageKind, data: Bytes) -> Result<Message> {
    match kind {
        MessageKind::Binary => Ok(Message::Binary(data)),
        // Validated by the engine as it arrived, unless validation was turned off.
        MessageKind::Text => {
            Utf8Bytes::try_from(data)
                .map(Message::Text)
                .map_err(|_| Error::Protocol {
                    code: CloseCode::INVALID_PAYLOAD,
                    reason: "invalid UTF-8 in a text message".into(),
                })
        }
    }
}

/// What [`WebSocket::recv_stream`](crate::WebSocket::recv_stream) yields: a message
/// that came whole (control messages, the final Close, and data messages when streaming
/// is off), or the stream of a data message's pieces.
#[derive(Debug)]
pub enum Received<'a, S> {
    /// A whole message.
    Message(Message),
    /// A data message, piece by piece.
    Stream(MessageStream<'a, S>),
}

/// Where a [`MessageStream`] pulls pieces from.
#[derive(Debug)]
enum Source<'a, S> {
    Socket(&'a mut Driver<S>),
    Reader(&'a Shared<S>),
}

impl<S> Source<'_, S> {
    fn with<R>(&mut self, f: impl FnOnce(&mut Driver<S>) -> R) -> R {
        match self {
            Source::Socket(d) => f(d),
            Source::Reader(shared) => f(&mut shared.lock()),
        }
    }
}

/// One received data message as a [`Stream`] of its bytes, piece by piece as they
/// arrive (each at most the `max_chunk` of
/// [`Options::streaming`](crate::Options::streaming)). The pieces add up to the
/// message; for text, to valid UTF-8 (a piece may end inside a character). The message
/// size limit still applies: a larger message fails the connection with 1009 and the
/// stream yields that error.
///
/// While it lives it borrows the socket. Dropped before its end, the rest of the message
/// is read and thrown away. Pings and Pongs that arrive in the middle are answered (and
/// not handed out); a Close in the middle ends the stream with [`Error::Closed`] and is
/// handed out by the next `recv`.
#[derive(Debug)]
pub struct MessageStream<'a, S> {
    source: Source<'a, S>,
    kind: MessageKind,
    first: Option<Bytes>,
    done: bool,
}

impl<'a, S> MessageStream<'a, S> {
    fn new(source: Source<'a, S>, chunk: Chunk) -> Self {
        MessageStream {
            source,
            kind: chunk.kind,
            first: Some(chunk.data).filter(|d| !d.is_empty()),
            done: chunk.fin,
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The socket's buffer accounting, as
    /// [`WebSocket::buffer_usage`](crate::WebSocket::buffer_usage).
    pub fn buffer_usage(&mut self) -> BufferUsage {
        self.source.with(usage)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for MessageStream<'_, S> {
    type Item = Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let next = this.source.with(|d| d.poll_incoming(cx, Side::Reader));
            match next {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(Incoming::Chunk(chunk)))) => {
                    this.done = chunk.fin;
                    if !chunk.data.is_empty() {
                        return Poll::Ready(Some(Ok(chunk.data)));
                    }
                }
                Poll::Ready(Some(Ok(Incoming::Message(Message::Ping(_) | Message::Pong(_))))) => {}
                Poll::Ready(Some(Ok(Incoming::Message(other)))) => {
                    // The Close (the only other thing that can come mid-message): for the
                    // next recv.
                    this.source.with(|d| d.chunks.held = Some(other));
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::Closed)));
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::Closed)));
                }
            }
        }
    }
}

impl<S> Drop for MessageStream<'_, S> {
    fn drop(&mut self) {
        if !self.done {
            self.source.with(|d| d.chunks.skipping = true);
        }
    }
}

/// The next message from `driver`, streamed if it comes in pieces.
pub(crate) async fn recv_stream<S: AsyncRead + AsyncWrite + Unpin>(
    driver: &mut Driver<S>,
) -> Option<Result<Received<'_, S>>> {
    let item = std::future::poll_fn(|cx| driver.poll_incoming(cx, Side::Reader)).await?;
    Some(item.map(|incoming| match incoming {
        Incoming::Message(m) => Received::Message(m),
        Incoming::Chunk(c) => Received::Stream(MessageStream::new(Source::Socket(driver), c)),
    }))
}

/// [`recv_stream`] for the reader half.
pub(crate) async fn recv_stream_shared<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared<S>,
) -> Option<Result<Received<'_, S>>> {
    let item = std::future::poll_fn(|cx| shared.lock().poll_incoming(cx, Side::Reader)).await?;
    Some(item.map(|incoming| match incoming {
        Incoming::Message(m) => Received::Message(m),
        Incoming::Chunk(c) => Received::Stream(MessageStream::new(Source::Reader(shared), c)),
    }))
}

/// Something that sends fragments: the socket or its writer half.
pub(crate) trait FragmentSink {
    /// Sends one fragment (waiting while the write buffer is full).
    async fn fragment(&mut self, kind: MessageKind, data: Bytes, fin: bool) -> Result<()>;

    /// The message cannot be completed: fails the connection with a Close 1011.
    async fn abort(&mut self) -> Result<()>;
}

/// Sends one message of `kind` read from `reader` to its end, in fragments of
/// [`SEND_FRAGMENT`] bytes; returns its length. A read error aborts the connection
/// (1011): a message begun cannot be taken back.
pub(crate) async fn send_reader<W, R>(sink: &mut W, kind: MessageKind, mut reader: R) -> Result<u64>
where
    W: FragmentSink,
    R: AsyncRead + Unpin,
{
    let mut total = 0u64;
    let (mut current, mut eof) = match read_block(&mut reader).await {
        Ok(block) => block,
        Err(e) => {
            return Err(e);
        }
    };
    loop {
        if eof {
            total += current.len() as u64;
            sink.fragment(kind, current, true).await?;
            return Ok(total);
        }
        let next = match read_block(&mut reader).await {
            Ok(block) => block,
            Err(e) => {
                let _ = sink.abort().await;
                return Err(e);
            }
        };
        if next.0.is_empty() && next.1 {
            total += current.len() as u64;
            sink.fragment(kind, current, true).await?;
            return Ok(total);
        }
        total += current.len() as u64;
        sink.fragment(kind, current, false).await?;
        (current, eof) = next;
    }
}

/// Reads up to [`SEND_FRAGMENT`] bytes (fewer only at the end); whether the end came.
async fn read_block<R: AsyncRead + Unpin>(reader: &mut R) -> Result<(Bytes, bool)> {
    let mut buf = vec![0u8; SEND_FRAGMENT];
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]).await {
            Ok(0) => {
                buf.truncate(filled);
                return Ok((Bytes::from(buf), true));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Io(e)),
        }
    }
    Ok((Bytes::from(buf), false))
}

/// Sends one message of `kind` made of the chunks `stream` yields, each as one fragment
/// (empty chunks are skipped); returns its length. An `Err` item aborts the connection
/// (1011).
pub(crate) async fn send_chunks<W, St, E>(
    sink: &mut W,
    kind: MessageKind,
    stream: St,
) -> Result<u64>
where
    W: FragmentSink,
    St: Stream<Item = std::result::Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut total = 0u64;
    let mut current: Option<Bytes> = None;
    loop {
        match stream.next().await {
            Some(Ok(chunk)) if chunk.is_empty() => {}
            Some(Ok(chunk)) => {
                if let Some(prev) = current.replace(chunk) {
                    total += prev.len() as u64;
                    sink.fragment(kind, prev, false).await?;
                }
            }
            Some(Err(e)) => {
                let _ = sink.abort().await;
                return Err(Error::Io(std::io::Error::other(e)));
            }
            None => {
                let last = current.unwrap_or_default();
                total += last.len() as u64;
                sink.fragment(kind, last, true).await?;
                return Ok(total);
            }
        }
    }
}

/// How much memory a socket's buffers hold, by the adapter's and the engine's own
/// accounting (see [`WebSocket::buffer_usage`](crate::WebSocket::buffer_usage)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BufferUsage {
    /// Capacity of the engine's receive buffer.
    pub receive_buffer: usize,
    /// Bytes queued for writing (frames not yet written).
    pub send_queue: usize,
    /// Capacity held for a streamed message that `recv` is putting together whole.
    pub assembling: usize,
}

impl BufferUsage {
    /// Everything together.
    pub fn total(&self) -> usize {
        self.receive_buffer + self.send_queue + self.assembling
    }
}

/// The buffer accounting of `driver`.
pub(crate) fn usage<S>(driver: &mut Driver<S>) -> BufferUsage {
    BufferUsage {
        receive_buffer: driver.conn.recv_buffer_mut().capacity(),
        send_queue: driver.conn.buffered_amount(),
        assembling: driver.chunks.assembling_len(),
    }
}
