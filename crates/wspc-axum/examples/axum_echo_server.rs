//! An axum application echoing every text and binary message on `ws://ADDR/`, with
//! permessage-deflate accepted — over HTTP/1.1 and over HTTP/2 (h2c, RFC 8441), as
//! `axum::serve` speaks both. The server Autobahn tests in CI.
//!
//! ```sh
//! cargo run --release -p wspc-axum --example axum_echo_server -- 127.0.0.1:9002
//! ```

use axum::Router;
use axum::response::Response;
use axum::routing::any;
use wspc_axum::{Message, WebSocket, WebSocketUpgrade};

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.deflate(true)
        .max_message_size(64 << 20)
        .max_frame_size(16 << 20)
        .on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(msg)) = socket.recv().await {
        if matches!(msg, Message::Text(_) | Message::Binary(_)) && socket.send(msg).await.is_err() {
            return;
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".to_string());
    let app = Router::new()
        .route("/", any(upgrade))
        .route("/{*path}", any(upgrade));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("axum echo server on ws://{}/", listener.local_addr()?);
    axum::serve(listener, app).await
}
