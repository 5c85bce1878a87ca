//! `feed_prepared`: one prepared message fed to several sockets arrives intact on each,
//! compressed once for the deflate ones.

use wspc_tokio::{ClientBuilder, DeflateOptions, Message, PreparedMessage, ServerBuilder};

#[tokio::test]
async fn a_prepared_message_reaches_plain_and_deflate_clients() {
    let text = r#"{"room":"lobby","text":"hello"}"#.repeat(30);
    let message = PreparedMessage::new(text.as_str());
    for deflate in [true, false, true] {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let server = ServerBuilder::new().deflate(Some(DeflateOptions::default()));
        let server = tokio::spawn(async move { server.accept(server_io).await.unwrap() });
        let mut client = ClientBuilder::new("ws://localhost/").unwrap();
        if deflate {
            client = client.deflate(Some(Default::default()));
        }
        let (mut ws_client, _) = client.connect_on(client_io).await.unwrap();
        let mut ws_server = server.await.unwrap();
        assert_eq!(ws_server.deflate().is_some(), deflate);
        ws_server.feed_prepared(&message).await.unwrap();
        ws_server.flush().await.unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), ws_client.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(got, Message::text(text.as_str()));
        assert!(
            message.is_encoded(),
            "the first deflate socket compressed it"
        );
    }
}
