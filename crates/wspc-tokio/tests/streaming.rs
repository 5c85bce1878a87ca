//! The streaming API's rules: pieces bounded by max_chunk and adding up to the message
//! (text split inside characters), the message limit enforced while streaming (1009),
//! a dropped stream skipping the rest of its message, `recv` still whole in streaming
//! mode, sending from a `Stream` of chunks and its failure (1011), the reader half.

mod common;

use bytes::Bytes;
use common::{bounded, bytes, listener, text};
use futures_util::StreamExt;
use tokio::net::TcpStream;
use wspc_tokio::{
    ClientBuilder, CloseCode, Error, Message, MessageKind, Options, Received, ServerBuilder,
    WebSocket,
};

/// A connected pair over loopback; the client streams with `max_chunk`.
async fn pair(
    client: Options,
    server: Options,
) -> (WebSocket<wspc_tokio::MaybeTlsStream>, WebSocket<TcpStream>) {
    let (l, addr) = listener().await;
    let accept = tokio::spawn(async move {
        let (tcp, _) = l.accept().await.unwrap();
        ServerBuilder::new()
            .options(server)
            .accept(tcp)
            .await
            .unwrap()
    });
    let (c, _) = ClientBuilder::new(&format!("ws://{addr}/"))
        .unwrap()
        .no_proxy()
        .options(client)
        .connect()
        .await
        .unwrap();
    (c, accept.await.unwrap())
}

/// Closes from the client while the server answers.
async fn finish<C, S>(client: &mut WebSocket<C>, server: &mut WebSocket<S>)
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (closed, ()) = tokio::join!(client.close(CloseCode::NORMAL, ""), async {
        while server.recv().await.is_some() {}
    });
    closed.unwrap();
}

async fn collect<S>(ws: &mut WebSocket<S>) -> (MessageKind, Vec<Bytes>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match ws.recv_stream().await.unwrap().unwrap() {
        Received::Stream(mut s) => {
            let kind = s.kind();
            let mut pieces = Vec::new();
            while let Some(p) = s.next().await {
                pieces.push(p.unwrap());
            }
            (kind, pieces)
        }
        Received::Message(m) => panic!("{m:?}"),
    }
}

#[tokio::test]
async fn pieces_add_up_and_are_bounded() {
    bounded(async {
        let (mut client, mut server) =
            pair(Options::default().streaming(1000), Options::default()).await;
        let payload = text(10_000);
        server.send(Message::text(payload.clone())).await.unwrap();
        let (kind, pieces) = collect(&mut client).await;
        assert_eq!(kind, MessageKind::Text);
        assert!(pieces.len() >= 10 && pieces.iter().all(|p| p.len() <= 1000));
        assert_eq!(pieces.concat(), payload.as_bytes());
        // A piece may end inside a character (the text has multi-byte ones).
        assert!(pieces.iter().any(|p| std::str::from_utf8(p).is_err()));

        // A fragmented message, and `recv` putting a streamed message together.
        let data = bytes(5_000, 7);
        server
            .send_fragment(
                MessageKind::Binary,
                Bytes::copy_from_slice(&data[..10]),
                false,
            )
            .await
            .unwrap();
        server
            .send_fragment(
                MessageKind::Binary,
                Bytes::copy_from_slice(&data[10..]),
                true,
            )
            .await
            .unwrap();
        assert_eq!(
            client.recv().await.unwrap().unwrap(),
            Message::binary(data.clone())
        );
        // An empty message is a stream without pieces.
        server.send(Message::binary(Vec::new())).await.unwrap();
        let (_, pieces) = collect(&mut client).await;
        assert!(pieces.is_empty());
        finish(&mut client, &mut server).await;
    })
    .await;
}

#[tokio::test]
async fn the_message_limit_holds_while_streaming() {
    bounded(async {
        let (mut client, mut server) = pair(
            Options::default().streaming(4096).max_message_size(100_000),
            Options::default(),
        )
        .await;
        let sending = tokio::spawn(async move {
            // 200 KB in 10 KB fragments: the 11th fragment passes the limit.
            for i in 0..20 {
                let fin = i == 19;
                if server
                    .send_fragment(MessageKind::Binary, vec![1u8; 10_000], fin)
                    .await
                    .is_err()
                {
                    break;
                }
            }
            while server.recv().await.is_some() {}
        });
        let mut s = match client.recv_stream().await.unwrap().unwrap() {
            Received::Stream(s) => s,
            Received::Message(m) => panic!("{m:?}"),
        };
        let mut got = 0;
        let err = loop {
            match s.next().await.unwrap() {
                Ok(p) => got += p.len(),
                Err(e) => break e,
            }
        };
        assert!(got <= 100_000, "{got}");
        assert_eq!(
            err.close_code(),
            Some(CloseCode::MESSAGE_TOO_BIG),
            "{err:?}"
        );
        drop(s);
        assert!(client.recv().await.is_none());
        sending.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_dropped_stream_skips_the_rest_of_its_message() {
    bounded(async {
        let (mut client, mut server) =
            pair(Options::default().streaming(512), Options::default()).await;
        server
            .send(Message::binary(bytes(100_000, 1)))
            .await
            .unwrap();
        server.send(Message::text("next")).await.unwrap();
        match client.recv_stream().await.unwrap().unwrap() {
            Received::Stream(mut s) => {
                assert_eq!(s.next().await.unwrap().unwrap().len(), 512);
            } // dropped with most of the message unread
            Received::Message(m) => panic!("{m:?}"),
        }
        assert_eq!(client.recv().await.unwrap().unwrap(), Message::text("next"));
        finish(&mut client, &mut server).await;
    })
    .await;
}

#[tokio::test]
async fn sending_from_a_stream_of_chunks_and_from_a_reader() {
    bounded(async {
        let (client, mut server) = pair(Options::default(), Options::default()).await;
        let (mut reader, mut writer) = client.split();
        let chunks = futures_util::stream::iter(
            [&b"ab"[..], b"", b"cd", b"e"].map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c))),
        );
        assert_eq!(
            writer.send_chunks(MessageKind::Text, chunks).await.unwrap(),
            5
        );
        assert_eq!(
            server.recv().await.unwrap().unwrap(),
            Message::text("abcde")
        );
        let data = bytes(200_000, 3);
        let n = writer
            .send_reader(MessageKind::Binary, &data[..])
            .await
            .unwrap();
        assert_eq!(n, 200_000);
        assert_eq!(server.recv().await.unwrap().unwrap(), Message::binary(data));
        // An empty reader is an empty message.
        assert_eq!(
            writer
                .send_reader(MessageKind::Binary, &b""[..])
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            server.recv().await.unwrap().unwrap(),
            Message::binary(Vec::new())
        );

        // A source that fails mid-message: the connection is failed with 1011.
        let failing = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"partial")),
            Err(std::io::Error::other("disk on fire")),
        ]);
        let err = writer
            .send_chunks(MessageKind::Binary, failing)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err:?}");
        match server.recv().await.unwrap().unwrap() {
            Message::Close(Some(f)) => assert_eq!(f.code, CloseCode::SERVER_ERROR),
            other => panic!("{other:?}"),
        }
        assert!(matches!(reader.recv().await, Some(Ok(Message::Close(_)))));
    })
    .await;
}

#[tokio::test]
async fn the_reader_half_streams_too() {
    bounded(async {
        let (client, mut server) =
            pair(Options::default().streaming(100), Options::default()).await;
        let (mut reader, mut writer) = client.split();
        server.send(Message::binary(bytes(1000, 9))).await.unwrap();
        match reader.recv_stream().await.unwrap().unwrap() {
            Received::Stream(mut s) => {
                let mut all = Vec::new();
                while let Some(p) = s.next().await {
                    all.extend_from_slice(&p.unwrap());
                }
                assert_eq!(all, bytes(1000, 9));
            }
            Received::Message(m) => panic!("{m:?}"),
        }
        writer.close(CloseCode::NORMAL, "").await.unwrap();
        let draining = tokio::spawn(async move { while server.recv().await.is_some() {} });
        match reader.recv_stream().await {
            Some(Ok(Received::Message(Message::Close(_)))) => {}
            Some(Ok(Received::Message(m))) => panic!("{m:?}"),
            Some(Ok(Received::Stream(_))) => panic!("a stream"),
            Some(Err(e)) => panic!("{e:?}"),
            None => panic!("none"),
        }
        assert!(reader.recv_stream().await.is_none());
        draining.await.unwrap();
    })
    .await;
}
