//! The timers of a connection — keepalive, the close timeout, the progress deadline —
//! on paused time (`tokio::time::pause` through `start_paused`): in-memory streams
//! (`tokio::io::duplex`) instead of sockets, so that the clock only moves when every
//! task waits, and each deadline is checked to the millisecond without a real sleep.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};
use tokio::time::Instant;
use wspc_tokio::{ClientBuilder, CloseCode, Error, Message, Options, ServerBuilder};

fn keepalive() -> Options {
    Options::default()
        .keepalive(Duration::from_millis(100), Duration::from_millis(200))
        .close_timeout(Duration::from_millis(300))
}

#[tokio::test(start_paused = true)]
async fn server_detects_silent_client() {
    let (a, b) = duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let mut ws = ServerBuilder::new()
            .options(keepalive())
            .accept(a)
            .await
            .unwrap();
        let start = Instant::now();
        (ws.recv().await, start.elapsed())
    });
    // The raw client reads (so the Ping and the Close arrive) but never answers.
    let mut raw = raw_client_on(b).await;
    let mut wire = Vec::new();
    let mut buf = [0u8; 256];
    while wire.len() < 2 || wire.len() < 2 + wire[1] as usize + 4 {
        let n = raw.read(&mut buf).await.unwrap();
        assert!(n > 0);
        wire.extend_from_slice(&buf[..n]);
    }
    // A Ping (0x89) came first, then a Close (0x88) with 1011.
    assert_eq!(wire[0], 0x89, "{wire:?}");
    let close_at = 2 + wire[1] as usize;
    assert_eq!(wire[close_at], 0x88, "{wire:?}");
    assert_eq!(&wire[close_at + 2..close_at + 4], &1011u16.to_be_bytes());
    drop(raw); // the transport ends: the server's outcome is out
    let (outcome, elapsed) = server.await.unwrap();
    assert!(
        matches!(outcome, Some(Err(Error::KeepaliveTimeout))),
        "{outcome:?}"
    );
    // Ping after 100 ms of silence, no Pong within 200 ms.
    assert_eq!(elapsed, Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn client_detects_silent_server() {
    let (a, b) = duplex(64 * 1024);
    let peer = tokio::spawn(async move {
        let s = raw_accept_on(b).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    });
    let (mut ws, _) = ClientBuilder::new("ws://127.0.0.1/")
        .unwrap()
        .options(keepalive())
        .connect_on(a)
        .await
        .unwrap();
    let start = Instant::now();
    let err = ws.recv().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::KeepaliveTimeout), "{err:?}");
    assert_eq!(err.close_code(), Some(CloseCode::SERVER_ERROR));
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(300) + Duration::from_millis(300)
    );
    assert!(ws.recv().await.is_none());
    peer.abort();
}

#[tokio::test(start_paused = true)]
async fn answered_pings_keep_the_connection_alive() {
    let (a, b) = duplex(64 * 1024);
    tokio::spawn(async move {
        let ws = ServerBuilder::new().accept(b).await.unwrap();
        echo_any(ws).await;
    });
    let (mut ws, _) = ClientBuilder::new("ws://127.0.0.1/")
        .unwrap()
        .options(keepalive())
        .connect_on(a)
        .await
        .unwrap();
    // Ten keepalive intervals pass; every Ping is answered.
    let start = Instant::now();
    let mut pongs = 0;
    while pongs < 10 {
        match ws.recv().await.unwrap().unwrap() {
            Message::Pong(_) => pongs += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(start.elapsed(), Duration::from_millis(1000));
    ws.send(Message::text("still here")).await.unwrap();
    assert_eq!(
        ws.recv().await.unwrap().unwrap(),
        Message::text("still here")
    );
    ws.close(CloseCode::NORMAL, "").await.unwrap();
}

/// Echoes data messages on any stream until the connection ends.
async fn echo_any<S>(mut ws: wspc_tokio::WebSocket<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(Ok(msg)) = ws.recv().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            break;
        }
    }
}

/// A client on `io` with no timer but the close timeout.
async fn client_with_close_timeout(
    io: tokio::io::DuplexStream,
    close_timeout: Duration,
) -> wspc_tokio::WebSocket<tokio::io::DuplexStream> {
    let (ws, _) = ClientBuilder::new("ws://127.0.0.1/")
        .unwrap()
        .options(Options::default().close_timeout(close_timeout))
        .connect_on(io)
        .await
        .unwrap();
    ws
}

#[tokio::test(start_paused = true)]
async fn close_timeout_when_the_peer_never_answers() {
    let (a, b) = duplex(64 * 1024);
    let peer = tokio::spawn(async move {
        let s = raw_accept_on(b).await;
        // Never answer, never close.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    });
    let mut ws = client_with_close_timeout(a, Duration::from_millis(200)).await;
    let start = Instant::now();
    let err = ws.close(CloseCode::NORMAL, "").await.unwrap_err();
    assert!(matches!(err, Error::Timeout("close handshake")), "{err:?}");
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    peer.abort();
}

/// No timer runs before the server's Close arrives (the driver does not read the clock
/// then): the close timer still starts when the Close arrives, not at some earlier time,
/// and ends the wait for a server that never closes the TCP connection.
#[tokio::test(start_paused = true)]
async fn a_close_from_a_server_that_keeps_the_connection_open_times_out() {
    let (a, b) = duplex(64 * 1024);
    let peer = tokio::spawn(async move {
        let mut s = raw_accept_on(b).await;
        // An unsolicited Pong (an empty frame: counting those needs the time, so the
        // client is given it), then a message (the count ends: the time is not needed).
        s.write_all(&[0x8A, 0x00]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        s.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        // Close 1000, unmasked; then keep the TCP connection open.
        s.write_all(&[0x88, 0x02, 0x03, 0xE8]).await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    });
    let mut ws = client_with_close_timeout(a, Duration::from_millis(200)).await;
    let start = Instant::now();
    assert!(matches!(ws.recv().await, Some(Ok(Message::Pong(_)))));
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("hi"));
    let outcome = ws.recv().await;
    assert!(
        matches!(outcome, Some(Ok(Message::Close(Some(ref f)))) if f.code == CloseCode::NORMAL),
        "{outcome:?}"
    );
    // The Close arrived 10.001 s after the start; the close timer ran 200 ms from then.
    assert_eq!(start.elapsed(), Duration::from_millis(10_201));
    peer.abort();
}

#[tokio::test(start_paused = true)]
async fn an_unfinished_message_fails_with_1008_at_the_message_timeout() {
    let (a, b) = duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let options = Options::default().message_timeout(Duration::from_secs(30));
        let mut ws = ServerBuilder::new()
            .options(options)
            .accept(a)
            .await
            .unwrap();
        let first = ws.recv().await;
        let at = Instant::now();
        (first, ws.recv().await, at)
    });
    let mut raw = raw_client_on(b).await;
    // One whole message, then a frame announcing 1 MiB of which 10 bytes ever come.
    raw.write_all(&masked(0x82, b"whole")).await.unwrap();
    let mut header = vec![0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0];
    header.extend_from_slice(&[0; 10]);
    raw.write_all(&header).await.unwrap();
    let start = Instant::now();
    let mut wire = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = raw.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        wire.extend_from_slice(&buf[..n]);
        if let Some(at) = wire.windows(2).position(|w| w == [0x88, 0x11]) {
            // Close, 2 + 15 bytes: 1008 "message timeout".
            if wire.len() >= at + 2 + 17 {
                assert_eq!(&wire[at + 2..at + 4], &1008u16.to_be_bytes());
                assert_eq!(&wire[at + 4..at + 19], b"message timeout");
                break;
            }
        }
    }
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    drop(raw);
    let (first, outcome, _) = server.await.unwrap();
    assert_eq!(first.unwrap().unwrap(), Message::binary(b"whole".to_vec()));
    match outcome {
        Some(Err(Error::Protocol { code, .. })) => assert_eq!(code, CloseCode::POLICY_VIOLATION),
        other => panic!("{other:?}"),
    }
}

/// A masked client frame (key 0).
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut f = vec![first, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(payload);
    f
}
