//! One HTTP/2 stream as a byte stream (`AsyncRead + AsyncWrite`), with HTTP/2 flow
//! control: received data is released to the peer's window only as the reader consumes
//! it, and writes wait for window the peer granted.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use h2::{RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long a stream we ended waits, once dropped, for the peer to end its half.
const LINGER: Duration = Duration::from_secs(5);
/// How long a server's stream waits for the client to end its half before ending its
/// own (see [`H2Stream::poll_shutdown`]).
const END_GRACE: Duration = Duration::from_secs(1);

/// The two halves of the stream.
#[derive(Debug)]
struct Halves {
    send: SendStream<Bytes>,
    recv: RecvStream,
}

/// A WebSocket's transport over one HTTP/2 stream (RFC 8441): DATA frames carry the
/// WebSocket bytes, END_STREAM closes the transport.
#[derive(Debug)]
pub struct H2Stream {
    /// Always there; taken only when the stream is dropped (to linger).
    halves: Option<Halves>,
    /// END_STREAM was sent (by `poll_shutdown`): nothing more may be.
    ended: bool,
    /// Received bytes not read yet (their window is not released until they are).
    pending: Bytes,
    id: u32,
    /// A server's stream: `poll_shutdown` first waits (at most until this deadline, set
    /// on the first call) for the client to end its half.
    server: bool,
    grace: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl H2Stream {
    pub(crate) fn new(send: SendStream<Bytes>, recv: RecvStream, server: bool) -> H2Stream {
        let id = send.stream_id().as_u32();
        H2Stream {
            halves: Some(Halves { send, recv }),
            ended: false,
            pending: Bytes::new(),
            id,
            server,
            grace: None,
        }
    }

    /// Server side: reads and discards until the client ends its half (the close
    /// handshake is over, nothing it sends matters), at most [`END_GRACE`].
    fn poll_peer_end(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let grace = self
            .grace
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(END_GRACE)));
        let Some(halves) = self.halves.as_mut() else {
            return Poll::Ready(());
        };
        loop {
            match halves.recv.poll_data(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    let _ = halves.recv.flow_control().release_capacity(data.len());
                }
                Poll::Ready(_) => return Poll::Ready(()),
                Poll::Pending => return grace.as_mut().poll(cx),
            }
        }
    }

    /// The HTTP/2 stream identifier (odd: opened by the client).
    pub fn stream_id(&self) -> u32 {
        self.id
    }

    fn halves(&mut self) -> io::Result<&mut Halves> {
        self.halves
            .as_mut()
            .ok_or_else(|| io::ErrorKind::BrokenPipe.into())
    }

    /// Sends up to what the peer's window allows of `len` bytes, taken from `fill`.
    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        fill: impl FnOnce(usize) -> Bytes,
    ) -> Poll<io::Result<usize>> {
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let send = &mut self.halves()?.send;
        send.reserve_capacity(len);
        // `poll_capacity` reports increases only: capacity left over from an earlier grant
        // is used first.
        let available = send.capacity();
        let granted = if available > 0 {
            available.min(len)
        } else {
            match ready!(send.poll_capacity(cx)) {
                Some(Ok(n)) => n.min(len),
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                // The stream can no longer send: report why.
                None => {
                    return Poll::Ready(Err(match ready!(send.poll_reset(cx)) {
                        Ok(reason) => io::Error::new(
                            io::ErrorKind::ConnectionReset,
                            format!("HTTP/2 stream reset: {reason:?}"),
                        ),
                        Err(e) => io_error(e),
                    }));
                }
            }
        };
        send.send_data(fill(granted), false).map_err(io_error)?;
        Poll::Ready(Ok(granted))
    }
}

impl Drop for H2Stream {
    fn drop(&mut self) {
        // Dropping both halves while the peer's half is still open resets the stream,
        // and a peer may then discard what we sent last (Node's http2 loses the Close).
        // So a stream we ended lingers, reading and discarding, until the peer ends its
        // half too — as a TCP FIN is answered by the peer's — for at most LINGER.
        let Some(mut halves) = self.halves.take() else {
            return;
        };
        if !self.ended || halves.recv.is_end_stream() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let drain = async {
                while let Some(Ok(data)) =
                    std::future::poll_fn(|cx| halves.recv.poll_data(cx)).await
                {
                    let _ = halves.recv.flow_control().release_capacity(data.len());
                }
            };
            let _ = tokio::time::timeout(LINGER, drain).await;
            drop(halves);
        });
    }
}

/// An HTTP/2 error as an I/O error (a reset by the peer as `ConnectionReset`, so the
/// WebSocket layer reports a transport lost without a Close).
fn io_error(e: h2::Error) -> io::Error {
    if e.is_reset() || e.is_go_away() {
        io::Error::new(io::ErrorKind::ConnectionReset, e)
    } else if e.is_io() {
        e.into_io()
            .unwrap_or_else(|| io::Error::other("HTTP/2 I/O error"))
    } else {
        io::Error::other(e)
    }
}

impl AsyncRead for H2Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_empty() {
            match ready!(this.halves()?.recv.poll_data(cx)) {
                None => return Poll::Ready(Ok(())),
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                Some(Ok(data)) => this.pending = data,
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending[..n]);
        this.pending.advance(n);
        // The bytes are the reader's now: the peer may send that much more.
        let _ = this.halves()?.recv.flow_control().release_capacity(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_send(cx, buf.len(), |n| Bytes::copy_from_slice(&buf[..n]))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // HTTP/2 sends owned chunks: gather the slices into one DATA payload.
        let total = bufs.iter().map(|b| b.len()).sum();
        self.get_mut().poll_send(cx, total, |n| {
            let mut out = BytesMut::with_capacity(n);
            for b in bufs {
                let take = (n - out.len()).min(b.len());
                out.extend_from_slice(&b[..take]);
                if out.len() == n {
                    break;
                }
            }
            out.freeze()
        })
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The HTTP/2 connection task writes queued frames out.
        Poll::Ready(Ok(()))
    }

    /// Ends our half of the stream (END_STREAM). On a server's stream it first waits, at
    /// most a second, for the client to end its half: some clients (Node's `http2`)
    /// abort a stream whose server ends first while theirs is open, and lose the Close
    /// frame they have not read yet. Our client ends first
    /// ([`Config::client_closes_transport`](wspc::Config::client_closes_transport)).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.ended && this.server && this.pending.is_empty() {
            ready!(this.poll_peer_end(cx));
        }
        if !this.ended {
            this.ended = true;
            // A stream the peer already reset cannot be ended: that is not an error here.
            if let Ok(halves) = this.halves() {
                let _ = halves.send.send_data(Bytes::new(), true);
            }
        }
        Poll::Ready(Ok(()))
    }
}
