//! A 1 GiB message each way through the streaming API over loopback TCP — sent from an
//! `AsyncRead`, received as a stream of pieces — with memory bounded by the buffer
//! sizes, not the message size. Asserted on the sockets' own buffer accounting
//! (`buffer_usage`) at every piece, and on the live heap of the whole process (a
//! counting allocator: both ends run here). No timing is asserted.

mod common;

#[path = "common/pattern.rs"]
mod pattern;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::bounded;
use futures_util::StreamExt;
use pattern::{PatternCheck, PatternReader};
use tokio::net::TcpListener;
use wspc_tokio::{
    BufferUsage, ClientBuilder, CloseCode, MessageKind, Options, Received, ServerBuilder,
    WebSocket, WsReader,
};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const GIB: u64 = 1 << 30;
/// Largest piece handed out.
const MAX_CHUNK: usize = 256 * 1024;
/// The write buffer limit (the default, stated here because the bound uses it).
const WRITE_LIMIT: usize = 1 << 20;

fn options() -> Options {
    Options::default()
        .streaming(MAX_CHUNK)
        .max_message_size(2 << 30)
        .write_buffer_limit(WRITE_LIMIT)
}

/// The most one socket's buffers may hold by design: the receive buffer (the engine's
/// read hint, at most 1 MiB, plus the 16 KiB read slack, plus what a read left), the
/// write buffer limit plus one 64 KiB fragment and its header, nothing assembled.
const SOCKET_BOUND: usize = (1 << 20) + (16 << 10) + (1 << 20) + WRITE_LIMIT + (64 << 10) + 64;

/// Receives one streamed message, checks it against the pattern and takes the buffer
/// accounting at every piece; returns its length and the largest usage seen.
async fn receive<S>(ws: &mut WebSocket<S>) -> (u64, BufferUsage)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut max = BufferUsage::default();
    let mut check = PatternCheck::default();
    let mut stream = match ws.recv_stream().await.unwrap().unwrap() {
        Received::Stream(s) => s,
        Received::Message(m) => panic!("expected a streamed message, got {m:?}"),
    };
    assert_eq!(stream.kind(), MessageKind::Binary);
    while let Some(piece) = stream.next().await {
        let piece = piece.unwrap();
        assert!(piece.len() <= MAX_CHUNK);
        assert!(check.check(&piece), "wrong bytes at {}", check.pos);
        max = larger(max, stream.buffer_usage());
    }
    (check.pos, max)
}

fn larger(a: BufferUsage, b: BufferUsage) -> BufferUsage {
    if b.total() > a.total() { b } else { a }
}

/// The pattern as an `AsyncRead` that takes the sending socket's buffer accounting
/// (through its reader half) at every read, that is at every fragment.
struct Probe<S> {
    inner: PatternReader,
    half: WsReader<S>,
    max: BufferUsage,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> tokio::io::AsyncRead for Probe<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let now = self.half.buffer_usage();
        self.max = larger(self.max, now);
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// Sends 1 GiB from the pattern with `send_reader`; returns the socket and the largest
/// buffer usage seen while sending.
async fn send<S>(ws: WebSocket<S>) -> (WebSocket<S>, BufferUsage)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (half, mut writer) = ws.split();
    let mut probe = Probe {
        inner: PatternReader::new(GIB),
        half,
        max: BufferUsage::default(),
    };
    let sent = writer
        .send_reader(MessageKind::Binary, &mut probe)
        .await
        .unwrap();
    assert_eq!(sent, GIB);
    let max = probe.max;
    let Ok(ws) = probe.half.reunite(writer) else {
        panic!("the halves of one socket")
    };
    (ws, max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_each_way_in_bounded_memory() {
    let peak = bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ServerBuilder::new()
                .options(options())
                .accept(tcp)
                .await
                .unwrap();
            let (len, received) = receive(&mut ws).await;
            assert_eq!(len, GIB);
            let (mut ws, sending) = send(ws).await;
            while ws.recv().await.is_some() {}
            [received, sending]
        });
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);

        let (ws, _) = ClientBuilder::new(&url)
            .unwrap()
            .no_proxy()
            .options(options())
            .connect()
            .await
            .unwrap();
        // Client → server, then server → client.
        let (mut ws, sending) = send(ws).await;
        let (len, received) = receive(&mut ws).await;
        assert_eq!(len, GIB);
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        let [server_received, server_sending] = server.await.unwrap();
        for usage in [sending, received, server_received, server_sending] {
            println!("largest buffer usage: {usage:?}");
            assert!(usage.total() <= SOCKET_BOUND, "{usage:?}");
            assert_eq!(usage.assembling, 0);
        }
        // The receivers' buffers were in use (the bound is not vacuous). A sender's
        // queue is empty whenever it reads the next fragment: each fragment is written
        // before the next is read, which the heap peak below confirms.
        assert!(received.receive_buffer > 0 && server_received.receive_buffer > 0);
        PEAK.load(Ordering::Relaxed) - baseline
    })
    .await;
    println!("peak live heap above baseline while 2 GiB passed: {peak} bytes");
    // Both ends' buffers, the runtime and the test's own pieces: a few MiB, against
    // the 1 GiB each message is.
    assert!(peak < 16 << 20, "peak heap {peak} bytes");
}
