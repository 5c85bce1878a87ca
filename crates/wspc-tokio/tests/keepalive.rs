//! Keepalive against peers that never answer Pings (raw TCP peers that completed the
//! handshake and then stay silent), and that it stays quiet when the peer answers.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::AsyncReadExt;
use wspc_tokio::{ClientBuilder, CloseCode, Error, Message, Options, ServerBuilder};

fn keepalive() -> Options {
    Options::default()
        .keepalive(Duration::from_millis(100), Duration::from_millis(200))
        .close_timeout(Duration::from_millis(300))
}

#[tokio::test]
async fn server_detects_silent_client() {
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = ServerBuilder::new()
                .options(keepalive())
                .accept(tcp)
                .await
                .unwrap();
            ws.recv().await
        });
        // The raw client reads (so the Ping and the Close arrive) but never answers.
        let mut raw = raw_client(&addr).await;
        let outcome = server.await.unwrap().unwrap();
        assert!(
            matches!(outcome, Err(Error::KeepaliveTimeout)),
            "{outcome:?}"
        );
        let mut wire = Vec::new();
        raw.read_to_end(&mut wire).await.unwrap();
        // A Ping (0x89) came first, then a Close (0x88) with 1011.
        assert_eq!(wire[0], 0x89, "{wire:?}");
        let close_at = 2 + wire[1] as usize;
        assert_eq!(wire[close_at], 0x88, "{wire:?}");
        assert_eq!(&wire[close_at + 2..close_at + 4], &1011u16.to_be_bytes());
    })
    .await;
}

#[tokio::test]
async fn client_detects_silent_server() {
    bounded(async {
        let (l, addr) = listener().await;
        let peer = tokio::spawn(async move {
            let tcp = raw_accept(&l).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(tcp);
        });
        let (mut ws, _) = ClientBuilder::new(&format!("ws://{addr}"))
            .unwrap()
            .options(keepalive())
            .connect()
            .await
            .unwrap();
        let err = ws.recv().await.unwrap().unwrap_err();
        assert!(matches!(err, Error::KeepaliveTimeout), "{err:?}");
        assert_eq!(err.close_code(), Some(CloseCode::SERVER_ERROR));
        assert!(ws.recv().await.is_none());
        peer.abort();
    })
    .await;
}

#[tokio::test]
async fn answered_pings_keep_the_connection_alive() {
    bounded(async {
        let url = echo_server(ServerBuilder::new()).await;
        let (mut ws, _) = ClientBuilder::new(&url)
            .unwrap()
            .options(keepalive())
            .connect()
            .await
            .unwrap();
        // Several keepalive intervals pass while we wait for Pongs.
        let mut pongs = 0;
        while pongs < 3 {
            match ws.recv().await.unwrap().unwrap() {
                Message::Pong(_) => pongs += 1,
                other => panic!("{other:?}"),
            }
        }
        ws.send(Message::text("still here")).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::text("still here")
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}
