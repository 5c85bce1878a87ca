//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use wspc_tokio::{Message, ServerBuilder, WebSocket};

/// Every test body runs under this bound, so nothing can hang CI.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `f` under [`TEST_TIMEOUT`].
pub async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, f)
        .await
        .expect("test timed out")
}

/// A listener on an ephemeral loopback port.
pub async fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    (l, addr)
}

/// Spawns an echo server that serves connections with `builder`; returns its URL.
pub async fn echo_server(builder: ServerBuilder) -> String {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = l.accept().await else {
                return;
            };
            let builder = builder.clone();
            tokio::spawn(async move {
                let Ok(ws) = builder.accept(tcp).await else {
                    return;
                };
                echo(ws).await;
            });
        }
    });
    format!("ws://{addr}")
}

/// Echoes data messages until the connection ends.
pub async fn echo(mut ws: WebSocket<TcpStream>) {
    while let Some(Ok(msg)) = ws.recv().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            break;
        }
    }
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Deterministic text (multi-byte UTF-8 included).
pub fn text(len: usize) -> String {
    let unit = "héllo wörld ✓ ";
    let mut s = String::with_capacity(len + unit.len());
    while s.len() < len {
        s.push_str(unit);
    }
    while s.len() > len {
        s.pop();
    }
    s
}

/// Whether the message is a data message.
pub fn is_data(m: &Message) -> bool {
    m.is_text() || m.is_binary()
}

/// A raw TCP client that completes the WebSocket handshake by hand and then does
/// whatever the test wants with the socket (e.g. nothing at all).
pub async fn raw_client(addr: &str) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            tcp.read(&mut byte).await.unwrap(),
            1,
            "response ended early"
        );
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    tcp
}

/// A raw TCP server side: reads the client's request and answers 101 by hand.
pub async fn raw_accept(listener: &TcpListener) -> TcpStream {
    let (tcp, _) = listener.accept().await.unwrap();
    raw_accept_on(tcp).await
}

/// The client half of a handshake done by hand on any stream (an in-memory duplex for
/// the paused-time tests): sends the request, reads the 101.
pub async fn raw_client_on<S>(mut s: S) -> S
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "response ended early");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    s
}

/// The server half of a handshake done by hand on any stream: reads the request,
/// answers 101.
pub async fn raw_accept_on<S>(mut s: S) -> S
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "request ended early");
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).unwrap();
    let key = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })
        .unwrap();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        wspc::handshake::accept_key(&key)
    );
    s.write_all(response.as_bytes()).await.unwrap();
    s
}
