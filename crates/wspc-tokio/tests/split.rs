//! Split halves under concurrent load from different tasks; the reader answers Pings
//! itself while the writer is idle.

mod common;

use common::*;
use wspc_tokio::{CloseCode, Message, Options, ServerBuilder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_under_concurrent_load() {
    bounded(async {
        // The server echoes through a split socket too: a reader task feeding a writer
        // task through a channel.
        let (l, addr) = listener().await;
        tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let ws = wspc_tokio::accept(tcp).await.unwrap();
            let (mut r, mut w) = ws.split();
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(64);
            let writer = tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    if w.send(m).await.is_err() {
                        break;
                    }
                }
            });
            while let Some(Ok(m)) = r.recv().await {
                if is_data(&m) && tx.send(m).await.is_err() {
                    break;
                }
            }
            drop(tx);
            let _ = writer.await;
        });
        let (ws, _) = wspc_tokio::connect(&format!("ws://{addr}")).await.unwrap();
        let (mut reader, mut writer) = ws.split();
        const N: usize = 2000;
        let sender = tokio::spawn(async move {
            for i in 0..N {
                let m = if i % 2 == 0 {
                    Message::text(format!("message {i}"))
                } else {
                    Message::binary(bytes(i * 7 % 5000, i as u32))
                };
                writer.send(m).await.unwrap();
                if i % 100 == 0 {
                    writer
                        .send(Message::Ping(vec![1, 2, 3].into()))
                        .await
                        .unwrap();
                }
            }
            writer
        });
        let mut got = 0;
        while got < N {
            match reader.recv().await.unwrap().unwrap() {
                Message::Pong(p) => assert_eq!(&p[..], &[1, 2, 3]),
                m => {
                    let expected = if got % 2 == 0 {
                        Message::text(format!("message {got}"))
                    } else {
                        Message::binary(bytes(got * 7 % 5000, got as u32))
                    };
                    assert_eq!(m, expected, "message {got}");
                    got += 1;
                }
            }
        }
        let mut writer = sender.await.unwrap();
        writer.close(CloseCode::NORMAL, "done").await.unwrap();
        loop {
            match reader.recv().await {
                Some(Ok(Message::Close(f))) => {
                    assert_eq!(f.unwrap().code, CloseCode::NORMAL);
                    break;
                }
                Some(Ok(Message::Pong(_))) => {}
                other => panic!("{other:?}"),
            }
        }
        assert!(reader.recv().await.is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_answers_pings_while_writer_is_idle() {
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = ServerBuilder::new()
                .options(Options::default())
                .accept(tcp)
                .await
                .unwrap();
            let mut pongs = Vec::new();
            for i in 0..5u8 {
                ws.send(Message::Ping(vec![i].into())).await.unwrap();
                match ws.recv().await.unwrap().unwrap() {
                    Message::Pong(p) => pongs.push(p[0]),
                    other => panic!("{other:?}"),
                }
            }
            ws.close(CloseCode::NORMAL, "").await.unwrap();
            pongs
        });
        let (ws, _) = wspc_tokio::connect(&format!("ws://{addr}")).await.unwrap();
        let (mut reader, writer) = ws.split();
        // The writer stays idle in another task.
        let idle = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            drop(writer);
        });
        match reader.recv().await.unwrap().unwrap() {
            Message::Close(Some(f)) => assert_eq!(f.code, CloseCode::NORMAL),
            other => panic!("{other:?}"),
        }
        assert_eq!(server.await.unwrap(), vec![0, 1, 2, 3, 4]);
        idle.abort();
    })
    .await;
}

#[tokio::test]
async fn halves_reunite() {
    bounded(async {
        let url = echo_server(ServerBuilder::new()).await;
        let (ws, _) = wspc_tokio::connect(&url).await.unwrap();
        let (reader, writer) = ws.split();
        let mut ws = reader.reunite(writer).unwrap();
        ws.send(Message::text("again")).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("again"));
    })
    .await;
}
