//! "Switch by changing imports": one axum application, written once against the names of
//! `axum::extract::ws`, compiled twice — with axum's own module and with `wspc_axum` —
//! and both builds answer a client the same way.

macro_rules! chat_app {
    ($name:ident, $($ws:tt)+) => {
        mod $name {
            use axum::Router;
            use axum::response::Response;
            use axum::routing::any;
            use futures_util::{SinkExt, StreamExt};
            use $($ws)+::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};

            async fn handler(ws: WebSocketUpgrade) -> Response {
                ws.protocols(["chat.v2", "chat.v1"])
                    .max_message_size(1 << 20)
                    .max_frame_size(1 << 20)
                    .on_failed_upgrade(|_error| {})
                    .on_upgrade(session)
            }

            async fn session(socket: WebSocket) {
                let protocol = socket
                    .protocol()
                    .and_then(|p| p.to_str().ok())
                    .unwrap_or("-")
                    .to_string();
                let (mut tx, mut rx) = socket.split();
                let hello: Utf8Bytes = format!("hello {protocol}").into();
                if tx.send(Message::Text(hello)).await.is_err() {
                    return;
                }
                while let Some(Ok(msg)) = rx.next().await {
                    let reply = match msg {
                        Message::Text(t) if t.as_str() == "quit" => Message::Close(Some(CloseFrame {
                            code: close_code::NORMAL,
                            reason: Utf8Bytes::from_static("see you"),
                        })),
                        Message::Text(t) => Message::text(t.to_uppercase()),
                        Message::Binary(b) => Message::binary(b.iter().rev().copied().collect::<Vec<u8>>()),
                        Message::Ping(_) | Message::Pong(_) | Message::Close(_) => continue,
                    };
                    if tx.send(reply).await.is_err() {
                        return;
                    }
                }
            }

            pub fn app() -> Router {
                Router::new().route("/chat", any(handler))
            }
        }
    };
}

chat_app!(with_axum, axum::extract::ws);
chat_app!(with_wspc, wspc_axum);

use std::time::Duration;

use wspc_tokio::{ClientBuilder, CloseCode, Message};

async fn conversation(app: axum::Router) -> Vec<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (mut ws, _) = ClientBuilder::new(&format!("ws://{addr}/chat"))
        .unwrap()
        .subprotocol("chat.v1")
        .subprotocol("chat.v2")
        .connect()
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut record = |m: Message| seen.push(format!("{m:?}"));
    record(ws.recv().await.unwrap().unwrap());
    ws.send(Message::text("shout")).await.unwrap();
    record(ws.recv().await.unwrap().unwrap());
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    record(ws.recv().await.unwrap().unwrap());
    ws.send(Message::text("quit")).await.unwrap();
    match ws.recv().await.unwrap().unwrap() {
        Message::Close(Some(f)) => {
            assert_eq!(f.code, CloseCode::NORMAL);
            record(Message::text(f.reason.as_str()));
        }
        other => panic!("{other:?}"),
    }
    seen
}

#[tokio::test]
async fn the_same_application_behaves_the_same_on_both() {
    let run = async {
        let axum = conversation(with_axum::app()).await;
        let wspc = conversation(with_wspc::app()).await;
        assert_eq!(axum, wspc);
        assert!(wspc[0].contains("hello chat.v2"), "{wspc:?}");
    };
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("test timed out");
}
