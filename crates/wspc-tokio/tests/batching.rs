//! Write batching: echoes queued with `feed` while more messages are already received
//! leave in one vectored write (issue 8: every frame produced in one wake-up leaves in
//! one write), and an automatic Pong still leaves at once.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wspc_tokio::{ClientBuilder, Message, ServerBuilder};

/// Counts the reads that brought data and the writes that took some.
struct Counting<S> {
    inner: S,
    reads: Arc<AtomicUsize>,
    writes: Arc<AtomicUsize>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.reads.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

const BURST: usize = 16;

#[tokio::test(flavor = "current_thread")]
async fn echoes_fed_in_one_wake_up_leave_in_one_write() {
    tokio::time::timeout(Duration::from_secs(10), async {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let reads = Arc::new(AtomicUsize::new(0));
        let writes = Arc::new(AtomicUsize::new(0));
        let server_io = Counting {
            inner: server_io,
            reads: reads.clone(),
            writes: writes.clone(),
        };
        let server = tokio::spawn(async move {
            let mut ws = ServerBuilder::new().accept(server_io).await.unwrap();
            while let Some(msg) = ws.recv().await {
                match msg.unwrap() {
                    Message::Close(_) => break,
                    msg => ws.feed(msg).await.unwrap(),
                }
            }
        });
        let (mut ws, _) = ClientBuilder::new("ws://localhost/")
            .unwrap()
            .connect_on(client_io)
            .await
            .unwrap();
        // Let the server finish the handshake and wait for input, then count from here.
        tokio::task::yield_now().await;
        let (reads0, writes0) = (reads.load(Ordering::SeqCst), writes.load(Ordering::SeqCst));
        for i in 0..BURST {
            ws.feed(Message::binary(vec![i as u8; 20])).await.unwrap();
        }
        ws.flush().await.unwrap(); // one write: the whole burst arrives at once
        for i in 0..BURST {
            assert_eq!(
                ws.recv().await.unwrap().unwrap(),
                Message::binary(vec![i as u8; 20])
            );
        }
        let burst_reads = reads.load(Ordering::SeqCst) - reads0;
        let burst_writes = writes.load(Ordering::SeqCst) - writes0;
        assert!(burst_reads >= 1);
        assert!(
            burst_writes <= burst_reads,
            "{BURST} echoes read in {burst_reads} reads left in {burst_writes} writes"
        );
        ws.close(wspc_tokio::CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap();
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "current_thread")]
async fn an_automatic_pong_leaves_while_the_caller_holds_a_message() {
    tokio::time::timeout(Duration::from_secs(10), async {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let (got_first, mut release) = (
            Arc::new(tokio::sync::Notify::new()),
            tokio::sync::mpsc::channel::<()>(1),
        );
        let notify = got_first.clone();
        let server = tokio::spawn(async move {
            let mut ws = ServerBuilder::new().accept(server_io).await.unwrap();
            // The Ping and the message arrive together; the Pong must not wait for
            // the caller's next recv.
            let first = ws.recv().await.unwrap().unwrap();
            assert_eq!(first, Message::text("held"));
            notify.notify_one();
            let _ = release.1.recv().await;
            drop(ws);
        });
        let (mut ws, _) = ClientBuilder::new("ws://localhost/")
            .unwrap()
            .connect_on(client_io)
            .await
            .unwrap();
        ws.feed(Message::Ping(bytes::Bytes::from_static(b"p")))
            .await
            .unwrap();
        ws.feed(Message::text("held")).await.unwrap();
        ws.flush().await.unwrap();
        got_first.notified().await;
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::Pong("p".into()));
        release.0.send(()).await.unwrap();
        server.await.unwrap();
    })
    .await
    .expect("test timed out");
}
