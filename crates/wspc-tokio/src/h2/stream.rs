//! One HTTP/2 stream as a byte stream (`AsyncRead + AsyncWrite`), with HTTP/2 flow
//! control: received data is released to the peer's window only as the reader consumes
//! it, and writes wait for window the peer granted.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use h2::{RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A WebSocket's transport over one HTTP/2 stream (RFC 8441): DATA frames carry the
/// WebSocket bytes, END_STREAM closes the transport.
#[derive(Debug)]
pub struct H2Stream {
    send: SendStream<Bytes>,
    /// END_STREAM was sent (by `poll_shutdown`): nothing more may be.
    ended: bool,
    recv: RecvStream,
    /// Received bytes not read yet (their window is not released until they are).
    pending: Bytes,
}

impl H2Stream {
    pub(crate) fn new(send: SendStream<Bytes>, recv: RecvStream) -> H2Stream {
        H2Stream {
            send,
            ended: false,
            recv,
            pending: Bytes::new(),
        }
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
            match ready!(this.recv.poll_data(cx)) {
                None => return Poll::Ready(Ok(())),
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                Some(Ok(data)) => this.pending = data,
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending[..n]);
        this.pending.advance(n);
        // The bytes are the reader's now: the peer may send that much more.
        let _ = this.recv.flow_control().release_capacity(n);
        Poll::Ready(Ok(()))
    }
}

impl H2Stream {
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
        let send = &mut self.send;
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

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.ended {
            this.ended = true;
            // A stream the peer already reset cannot be ended: that is not an error here.
            let _ = this.send.send_data(Bytes::new(), true);
        }
        Poll::Ready(Ok(()))
    }
}
