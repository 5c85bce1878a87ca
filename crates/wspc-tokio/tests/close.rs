//! The close handshake in every direction, with codes and reasons; failures (1006 when
//! the peer vanishes, protocol errors with their code); every call after the close.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wspc_tokio::{CloseCode, CloseFrame, Error, Message, Options, ServerBuilder};

#[tokio::test]
async fn client_closes_with_code_and_reason() {
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = wspc_tokio::accept(tcp).await.unwrap();
            let msg = ws.recv().await.unwrap().unwrap();
            assert!(ws.recv().await.is_none());
            assert!(matches!(
                ws.send(Message::text("x")).await,
                Err(Error::Closed)
            ));
            msg
        });
        let (mut ws, _) = wspc_tokio::connect(&format!("ws://{addr}")).await.unwrap();
        let reply = ws.close(CloseCode::new(4001), "done here").await.unwrap();
        // The server echoes the code (without a reason).
        assert_eq!(reply.unwrap().code, CloseCode::new(4001));
        let seen = server.await.unwrap();
        assert_eq!(
            seen,
            Message::Close(Some(
                CloseFrame::new(CloseCode::new(4001), "done here").unwrap()
            ))
        );
    })
    .await;
}

#[tokio::test]
async fn server_closes_with_code_and_reason() {
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = wspc_tokio::accept(tcp).await.unwrap();
            ws.close(CloseCode::GOING_AWAY, "restarting").await
        });
        let (mut ws, _) = wspc_tokio::connect(&format!("ws://{addr}")).await.unwrap();
        match ws.recv().await.unwrap().unwrap() {
            Message::Close(Some(f)) => {
                assert_eq!(f.code, CloseCode::GOING_AWAY);
                assert_eq!(f.reason, "restarting");
            }
            other => panic!("{other:?}"),
        }
        assert!(ws.recv().await.is_none());
        let reply = server.await.unwrap().unwrap();
        assert_eq!(reply.unwrap().code, CloseCode::GOING_AWAY);
    })
    .await;
}

#[tokio::test]
async fn empty_close_both_ways() {
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = wspc_tokio::accept(tcp).await.unwrap();
            ws.recv().await.unwrap().unwrap()
        });
        let (mut ws, _) = wspc_tokio::connect(&format!("ws://{addr}")).await.unwrap();
        let reply = ws.close(CloseCode::EMPTY, "").await.unwrap();
        assert_eq!(reply, None);
        assert_eq!(server.await.unwrap(), Message::Close(None));
    })
    .await;
}

#[tokio::test]
async fn split_writer_closes_reader_completes() {
    bounded(async {
        let url = echo_server(ServerBuilder::new()).await;
        let (ws, _) = wspc_tokio::connect(&url).await.unwrap();
        let (mut reader, mut writer) = ws.split();
        writer.send(Message::text("last")).await.unwrap();
        writer.close(CloseCode::NORMAL, "bye").await.unwrap();
        assert!(matches!(
            writer.send(Message::text("x")).await,
            Err(Error::Closed)
        ));
        // The echo still arrives, then the server's Close.
        assert_eq!(reader.recv().await.unwrap().unwrap(), Message::text("last"));
        match reader.recv().await.unwrap().unwrap() {
            Message::Close(Some(f)) => assert_eq!(f.code, CloseCode::NORMAL),
            other => panic!("{other:?}"),
        }
        assert!(reader.recv().await.is_none());
        assert!(matches!(
            writer.close(CloseCode::NORMAL, "").await,
            Err(Error::Closed)
        ));
    })
    .await;
}

#[tokio::test]
async fn peer_vanishing_is_reset_without_close() {
    bounded(async {
        let (l, addr) = listener().await;
        tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let ws = wspc_tokio::accept(tcp).await.unwrap();
            drop(ws); // no Close frame: the TCP connection just ends
        });
        let (mut ws, _) = wspc_tokio::connect(&format!("ws://{addr}")).await.unwrap();
        let err = ws.recv().await.unwrap().unwrap_err();
        assert!(matches!(err, Error::ResetWithoutClose), "{err:?}");
        assert_eq!(err.close_code(), Some(CloseCode::ABORTED));
        assert!(ws.recv().await.is_none());
        assert!(matches!(
            ws.send(Message::text("x")).await,
            Err(Error::Closed)
        ));
        assert!(matches!(
            ws.close(CloseCode::NORMAL, "").await,
            Err(Error::Closed)
        ));
        assert!(matches!(ws.flush().await, Err(Error::Closed)));
    })
    .await;
}

#[tokio::test]
async fn client_vanishing_is_reset_on_the_server() {
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = wspc_tokio::accept(tcp).await.unwrap();
            ws.recv().await
        });
        let raw = raw_client(&addr).await;
        drop(raw);
        let outcome = server.await.unwrap().unwrap();
        assert!(
            matches!(outcome, Err(Error::ResetWithoutClose)),
            "{outcome:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn protocol_error_closes_with_its_code() {
    bounded(async {
        let (l, addr) = listener().await;
        let peer = tokio::spawn(async move {
            let mut tcp = raw_accept(&l).await;
            // A frame with reserved opcode 0x3.
            tcp.write_all(&[0x83, 0x00]).await.unwrap();
            // Read the client's Close frame, then close the TCP connection (the server
            // closes first).
            let mut buf = [0u8; 64];
            let n = tcp.read(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        let options = Options::default().close_timeout(Duration::from_secs(10));
        let (mut ws, _) = wspc_tokio::ClientBuilder::new(&format!("ws://{addr}"))
            .unwrap()
            .options(options)
            .connect()
            .await
            .unwrap();
        // Reading is what processes the bad frame: run it alongside the peer.
        let (outcome, close_frame) = tokio::join!(ws.recv(), peer);
        let close_frame = close_frame.unwrap();
        // FIN + Close opcode, masked, code 1002.
        assert_eq!(close_frame[0], 0x88);
        let mask = &close_frame[2..6];
        let code = u16::from_be_bytes([close_frame[6] ^ mask[0], close_frame[7] ^ mask[1]]);
        assert_eq!(code, 1002);
        let err = outcome.unwrap().unwrap_err();
        match &err {
            Error::Protocol { code, .. } => assert_eq!(*code, CloseCode::PROTOCOL_ERROR),
            other => panic!("{other:?}"),
        }
        assert!(ws.recv().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn close_after_sending_a_close_message_completes_the_handshake() {
    bounded(async {
        let url = echo_server(ServerBuilder::new()).await;
        let (mut ws, _) = wspc_tokio::connect(&url).await.unwrap();
        ws.send(Message::Close(Some(
            CloseFrame::new(CloseCode::new(4002), "via send").unwrap(),
        )))
        .await
        .unwrap();
        assert!(matches!(
            ws.send(Message::text("x")).await,
            Err(Error::Closed)
        ));
        let reply = ws.close(CloseCode::NORMAL, "ignored").await.unwrap();
        assert_eq!(reply.unwrap().code, CloseCode::new(4002));
        assert!(ws.recv().await.is_none());
    })
    .await;
}
