//! wspc-axum under `axum::serve`: the extractor over HTTP/1.1 and HTTP/2 (h2c), the
//! axum-shaped API (subprotocols in the server's order of preference, pings handed out,
//! close frames), compression on request, and the precise rejections.

use std::io::{Read, Write};
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use axum::routing::any;
use futures_util::{SinkExt, StreamExt};
use wspc_axum::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use wspc_tokio::h2::Http2Connection;
use wspc_tokio::{ClientBuilder, ClientRequest, CloseCode, DeflateOptions};

const LIMIT: Duration = Duration::from_secs(60);

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test timed out")
}

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.protocols(["v2", "v1"]).on_upgrade(echo)
}

async fn upgrade_deflate(ws: WebSocketUpgrade) -> Response {
    ws.deflate(true).on_upgrade(echo)
}

/// Echoes data messages; answers a text "ping me" with a Ping, reports received Pings as
/// text, closes with 4000 on "bye".
async fn echo(mut socket: WebSocket) {
    while let Some(Ok(msg)) = socket.recv().await {
        let reply = match msg {
            Message::Text(t) if t == "bye" => Message::Close(Some(CloseFrame {
                code: 4000,
                reason: "done".into(),
            })),
            Message::Text(t) if t == "protocol?" => Message::text(
                socket
                    .protocol()
                    .map_or("-".to_string(), |p| p.to_str().unwrap().to_string()),
            ),
            Message::Ping(data) => Message::text(format!("got ping {}", data.len())),
            m @ (Message::Text(_) | Message::Binary(_)) => m,
            _ => continue,
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}

async fn serve() -> String {
    let app = Router::new()
        .route("/ws", any(upgrade))
        .route("/deflate", any(upgrade_deflate));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn http1_echo_subprotocol_pings_and_close() {
    bounded(async {
        let addr = serve().await;
        let (mut ws, response) = ClientBuilder::new(&format!("ws://{addr}/ws"))
            .unwrap()
            .subprotocol("v1")
            .subprotocol("v2")
            .connect()
            .await
            .unwrap();
        assert_eq!(response.status(), 101);
        // The server's preference wins, as in axum.
        assert_eq!(ws.subprotocol(), Some("v2"));
        ws.send(wspc_tokio::Message::text("protocol?"))
            .await
            .unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            wspc_tokio::Message::text("v2")
        );
        ws.send(wspc_tokio::Message::binary(vec![7u8; 70_000]))
            .await
            .unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap().into_bytes(),
            vec![7u8; 70_000]
        );
        ws.send(wspc_tokio::Message::Ping(bytes::Bytes::from_static(b"abc")))
            .await
            .unwrap();
        // The Pong (answered by the engine) and the application's report of the Ping.
        let mut got = Vec::new();
        for _ in 0..2 {
            got.push(ws.recv().await.unwrap().unwrap());
        }
        assert!(
            got.contains(&wspc_tokio::Message::text("got ping 3")),
            "{got:?}"
        );
        ws.send(wspc_tokio::Message::text("bye")).await.unwrap();
        match ws.recv().await.unwrap().unwrap() {
            wspc_tokio::Message::Close(Some(f)) => {
                assert_eq!(f.code, CloseCode::new(4000));
                assert_eq!(f.reason.as_str(), "done");
            }
            other => panic!("{other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn deflate_only_when_asked() {
    bounded(async {
        let addr = serve().await;
        for (path, expected) in [("ws", false), ("deflate", true)] {
            let (mut ws, _) = ClientBuilder::new(&format!("ws://{addr}/{path}"))
                .unwrap()
                .deflate(Some(DeflateOptions::default()))
                .connect()
                .await
                .unwrap();
            assert_eq!(ws.deflate().is_some(), expected, "{path}");
            let text = "compressible ".repeat(1000);
            ws.send(wspc_tokio::Message::text(text.clone()))
                .await
                .unwrap();
            assert_eq!(
                ws.recv().await.unwrap().unwrap(),
                wspc_tokio::Message::text(text)
            );
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn http2_streams_under_axum_serve() {
    bounded(async {
        let addr = serve().await;
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let conn = Http2Connection::handshake(tcp).await.unwrap();
        assert!(conn.supports_websockets());
        let mut sockets = Vec::new();
        for _ in 0..3 {
            let request = ClientRequest::new(&format!("ws://{addr}/ws"))
                .unwrap()
                .subprotocol("v1");
            let (ws, response) = conn.websocket(request).await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(ws.subprotocol(), Some("v1"));
            sockets.push(ws);
        }
        for (i, ws) in sockets.iter_mut().enumerate() {
            let payload = vec![i as u8; 200_000];
            ws.send(wspc_tokio::Message::binary(payload.clone()))
                .await
                .unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap().into_bytes(), payload);
        }
        for ws in &mut sockets {
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn the_socket_is_a_stream_and_a_sink() {
    bounded(async {
        let app = Router::new().route(
            "/",
            any(|ws: WebSocketUpgrade| async move {
                ws.on_upgrade(|socket| async move {
                    let (mut tx, mut rx) = socket.split();
                    while let Some(Ok(msg)) = rx.next().await {
                        if let Message::Text(t) = msg {
                            let _ = tx.send(Message::text(t.to_uppercase())).await;
                        }
                    }
                })
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let (mut ws, _) = wspc_tokio::connect(&format!("ws://{addr}/")).await.unwrap();
        ws.send(wspc_tokio::Message::text("shout")).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            wspc_tokio::Message::text("SHOUT")
        );
        assert_eq!(close_code::NORMAL, CloseCode::NORMAL.as_u16());
    })
    .await;
}

fn raw(addr: &str, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = vec![0u8; 4096];
    let n = s.read(&mut out).unwrap();
    String::from_utf8_lossy(&out[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_upgrades_get_their_precise_status() {
    let addr = serve().await;
    let good = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let cases = [
        (good.replace("GET", "POST"), "405"),
        (
            good.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
            "426",
        ),
        (
            good.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            "400",
        ),
        (
            good.replace(
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Key: c2hvcnQ=",
            ),
            "400",
        ),
        (good.replace("Upgrade: websocket\r\n", ""), "400"),
        (
            good.replace("Connection: Upgrade", "Connection: keep-alive"),
            "400",
        ),
        (good.to_string(), "101"),
    ];
    let results = tokio::task::spawn_blocking(move || {
        cases
            .into_iter()
            .map(|(req, want)| (raw(&addr, &req), want))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (response, want) in results {
        assert!(
            response.starts_with(&format!("HTTP/1.1 {want}")),
            "want {want}: {response}"
        );
        if want == "426" {
            assert!(
                response
                    .to_ascii_lowercase()
                    .contains("sec-websocket-version: 13")
            );
        }
    }
}
