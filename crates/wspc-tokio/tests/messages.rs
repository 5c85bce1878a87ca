//! Messages of 0 B to 16 MiB, text and binary, whole and fragmented, both directions.

mod common;

use bytes::Bytes;
use common::*;
use wspc_tokio::{CloseCode, Message, MessageKind, ServerBuilder};

const SIZES: &[usize] = &[0, 1, 125, 126, 65_535, 65_536, 1 << 20, 16 << 20];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_messages_echo_both_ways() {
    bounded(async {
        let url = echo_server(ServerBuilder::new()).await;
        let (mut ws, _) = wspc_tokio::connect(&url).await.unwrap();
        for (i, &size) in SIZES.iter().enumerate() {
            let bin = Message::binary(bytes(size, i as u32));
            ws.send(bin.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), bin, "binary {size}");
            let txt = Message::text(text(size));
            ws.send(txt.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), txt, "text {size}");
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragmented_messages_both_ways() {
    bounded(async {
        // The server answers every message with the same payload, sent in fragments of
        // 1000 bytes; the client sends in fragments of 777 bytes.
        let (l, addr) = listener().await;
        tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = wspc_tokio::accept(tcp).await.unwrap();
            while let Some(Ok(msg)) = ws.recv().await {
                let kind = match &msg {
                    Message::Text(_) => MessageKind::Text,
                    Message::Binary(_) => MessageKind::Binary,
                    _ => continue,
                };
                let data = msg.into_bytes();
                send_in_pieces(&mut ws, kind, data, 1000).await;
            }
        });
        let (mut ws, _) = wspc_tokio::connect(&format!("ws://{addr}")).await.unwrap();
        for (i, &size) in SIZES.iter().enumerate().filter(|(_, s)| **s <= 4 << 20) {
            let data = Bytes::from(bytes(size, i as u32));
            send_in_pieces(&mut ws, MessageKind::Binary, data.clone(), 777).await;
            assert_eq!(
                ws.recv().await.unwrap().unwrap(),
                Message::Binary(data),
                "binary {size}"
            );
            let t = text(size);
            // Pieces of 777 bytes split multi-byte characters: still valid as a whole.
            send_in_pieces(&mut ws, MessageKind::Text, Bytes::from(t.clone()), 777).await;
            assert_eq!(
                ws.recv().await.unwrap().unwrap(),
                Message::text(t),
                "text {size}"
            );
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

async fn send_in_pieces<S>(
    ws: &mut wspc_tokio::WebSocket<S>,
    kind: MessageKind,
    data: Bytes,
    piece: usize,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if data.is_empty() {
        ws.send_fragment(kind, data, true).await.unwrap();
        return;
    }
    let mut at = 0;
    while at < data.len() {
        let end = (at + piece).min(data.len());
        ws.send_fragment(kind, data.slice(at..end), end == data.len())
            .await
            .unwrap();
        at = end;
    }
}

#[tokio::test]
async fn sink_and_stream_batch() {
    use futures_util::{SinkExt, StreamExt};
    bounded(async {
        let url = echo_server(ServerBuilder::new()).await;
        let (mut ws, _) = wspc_tokio::connect(&url).await.unwrap();
        for i in 0..100 {
            ws.feed(Message::text(format!("m{i}"))).await.unwrap();
        }
        ws.flush().await.unwrap();
        for i in 0..100 {
            let m = ws.next().await.unwrap().unwrap();
            assert_eq!(m, Message::text(format!("m{i}")));
        }
        SinkExt::send(&mut ws, Message::binary(vec![7u8; 10]))
            .await
            .unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::binary(vec![7u8; 10])
        );
        SinkExt::close(&mut ws).await.unwrap();
        assert!(ws.next().await.is_none());
    })
    .await;
}
