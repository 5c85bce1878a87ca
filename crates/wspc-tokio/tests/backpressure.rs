//! Backpressure against a peer that never reads: `send` ends up waiting and the write
//! buffer stays within its bound; the writer is released when the peer reads again.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::AsyncReadExt;
use wspc_tokio::{Message, Options, ServerBuilder};

const LIMIT: usize = 256 * 1024;
const MSG: usize = 64 * 1024;

#[tokio::test]
async fn send_blocks_and_memory_stays_bounded() {
    bounded(async {
        let (l, addr) = listener().await;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let peer = tokio::spawn(async move {
            let mut raw = raw_client(&addr).await;
            // Never read until told to.
            let _ = rx.await;
            let mut sink = vec![0u8; 1 << 16];
            let mut total = 0usize;
            loop {
                match raw.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n,
                }
            }
            total
        });
        let (tcp, _) = l.accept().await.unwrap();
        let mut ws = ServerBuilder::new()
            .options(Options::default().write_buffer_limit(LIMIT))
            .accept(tcp)
            .await
            .unwrap();
        let msg = Message::binary(bytes(MSG, 1));
        let mut sent = 0usize;
        let mut blocked = false;
        // 4 GiB would be needed to get through without blocking.
        for _ in 0..65_536 {
            match tokio::time::timeout(Duration::from_millis(500), ws.feed(msg.clone())).await {
                Ok(r) => {
                    r.unwrap();
                    sent += 1;
                }
                Err(_) => {
                    blocked = true;
                    break;
                }
            }
            // Never more than the bound plus the message that crossed it.
            assert!(
                ws.buffered_amount() <= LIMIT + MSG + 14,
                "{}",
                ws.buffered_amount()
            );
            // Let the writes make progress as far as the peer allows.
            let _ = tokio::time::timeout(Duration::from_millis(1), ws.flush()).await;
        }
        assert!(blocked, "send never waited after {sent} messages");
        assert!(ws.buffered_amount() <= LIMIT + MSG + 14);
        // A whole send (which flushes) also waits.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), ws.send(msg.clone()))
                .await
                .is_err()
        );
        // The peer starts reading: everything drains and the close completes.
        tx.send(()).unwrap();
        ws.flush().await.unwrap();
        assert_eq!(ws.buffered_amount(), 0);
        drop(ws);
        let total = peer.await.unwrap();
        assert!(total >= sent * MSG, "{total} < {}", sent * MSG);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_writer_blocks_without_blocking_the_reader() {
    bounded(async {
        // Our client writes to a server that does not read; meanwhile the server sends
        // us messages, which the reader half must keep receiving.
        let (l, addr) = listener().await;
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let ws = wspc_tokio::accept(tcp).await.unwrap();
            let (mut r, mut w) = ws.split();
            for i in 0..50 {
                w.send(Message::text(format!("s{i}"))).await.unwrap();
            }
            // Now start reading (draining the client's backlog).
            let _ = go_rx.await;
            let mut n = 0;
            while let Some(Ok(m)) = r.recv().await {
                if m.is_binary() {
                    n += 1;
                }
            }
            n
        });
        let (ws, _) = wspc_tokio::ClientBuilder::new(&format!("ws://{addr}"))
            .unwrap()
            .options(Options::default().write_buffer_limit(LIMIT))
            .connect()
            .await
            .unwrap();
        let (mut reader, mut writer) = ws.split();
        let writer_task = tokio::spawn(async move {
            let msg = Message::binary(bytes(MSG, 2));
            let mut sent = 0;
            loop {
                match tokio::time::timeout(Duration::from_millis(500), writer.send(msg.clone()))
                    .await
                {
                    Ok(r) => {
                        r.unwrap();
                        sent += 1;
                    }
                    Err(_) => break,
                }
                assert!(writer.buffered_amount() <= LIMIT + MSG + 14);
            }
            (writer, sent)
        });
        for i in 0..50 {
            assert_eq!(
                reader.recv().await.unwrap().unwrap(),
                Message::text(format!("s{i}"))
            );
        }
        let (mut writer, sent) = writer_task.await.unwrap();
        assert!(sent > 0);
        go_tx.send(()).unwrap();
        writer.flush().await.unwrap();
        writer
            .close(wspc_tokio::CloseCode::NORMAL, "")
            .await
            .unwrap();
        // The reader completes the close handshake.
        while let Some(m) = reader.recv().await {
            if let Message::Close(_) = m.unwrap() {
                break;
            }
        }
        // The writer's blocked send was cancelled by the timeout after queueing, so
        // the server sees at least `sent` messages.
        assert!(server.await.unwrap() >= sent);
    })
    .await;
}
