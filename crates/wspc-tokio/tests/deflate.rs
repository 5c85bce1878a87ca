//! permessage-deflate through the tokio layer: negotiated, visible on both ends,
//! compressing on the wire, and off when either side does not want it.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use wspc_tokio::{ClientBuilder, CloseCode, DeflateOptions, DeflateParams, Message, ServerBuilder};

#[tokio::test]
async fn negotiated_and_visible_on_both_ends() {
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = ServerBuilder::new()
                .deflate(Some(DeflateOptions::default()))
                .accept(tcp)
                .await
                .unwrap();
            let params = ws.deflate().copied();
            while let Some(Ok(m)) = ws.recv().await {
                if is_data(&m) {
                    ws.send(m).await.unwrap();
                }
            }
            params
        });
        let (mut ws, response) = ClientBuilder::new(&format!("ws://{addr}"))
            .unwrap()
            .deflate(Some(DeflateOptions::default()))
            .connect()
            .await
            .unwrap();
        let header = response.headers()["sec-websocket-extensions"]
            .to_str()
            .unwrap();
        assert!(header.starts_with("permessage-deflate"), "{header}");
        let expected = DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        assert_eq!(ws.deflate(), Some(&expected));
        let json = r#"{"id":12345,"name":"wspc","tags":["alpha","beta"],"ok":true}"#.repeat(200);
        for _ in 0..3 {
            ws.send(Message::text(json.clone())).await.unwrap();
            assert_eq!(
                ws.recv().await.unwrap().unwrap(),
                Message::text(json.clone())
            );
        }
        let big = Message::binary(bytes(3 << 20, 9)); // incompressible, 3 MiB
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), big);
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(server.await.unwrap(), Some(expected));
    })
    .await;
}

/// Counts the bytes a stream writes.
struct Counting<S> {
    inner: S,
    written: Arc<AtomicUsize>,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Counting<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &r {
            self.written.fetch_add(*n, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn compresses_on_the_wire() {
    bounded(async {
        let url = echo_server(ServerBuilder::new().deflate(Some(DeflateOptions::default()))).await;
        let addr = url.trim_start_matches("ws://").to_string();
        let written = Arc::new(AtomicUsize::new(0));
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let stream = Counting {
            inner: tcp,
            written: written.clone(),
        };
        let (mut ws, _) = ClientBuilder::new(&url)
            .unwrap()
            .deflate(Some(DeflateOptions::default()))
            .connect_on(stream)
            .await
            .unwrap();
        let before = written.load(Ordering::Relaxed);
        let json = r#"{"id":1,"name":"wspc","tags":["a","b"],"nested":{"x":1,"y":2}}"#.repeat(100);
        ws.send(Message::text(json.clone())).await.unwrap();
        let on_wire = written.load(Ordering::Relaxed) - before;
        assert!(
            on_wire * 4 < json.len(),
            "{on_wire} bytes for {}",
            json.len()
        );
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text(json));
    })
    .await;
}

#[tokio::test]
async fn off_unless_both_sides_want_it() {
    bounded(async {
        // The server does not accept the offer.
        let url = echo_server(ServerBuilder::new()).await;
        let (mut ws, _) = ClientBuilder::new(&url)
            .unwrap()
            .deflate(Some(DeflateOptions::default()))
            .connect()
            .await
            .unwrap();
        assert!(ws.deflate().is_none());
        ws.send(Message::text("plain")).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("plain"));
        // The client does not offer it.
        let url = echo_server(ServerBuilder::new().deflate(Some(DeflateOptions::default()))).await;
        let (ws, _) = wspc_tokio::connect(&url).await.unwrap();
        assert!(ws.deflate().is_none());
    })
    .await;
}
