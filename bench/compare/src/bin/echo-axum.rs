//! The same axum application twice — an echo of text and binary messages on `/` — once on
//! axum's own `ws` (tokio-tungstenite) and once on wspc-axum: only the import differs, as
//! for a user switching. `echo-axum ADDR` runs axum's; `echo-axum ADDR --wspc` wspc-axum's.
//! One tokio current_thread runtime, like every server of the comparison.

macro_rules! app {
    ($name:ident, $($ws:tt)+) => {
        mod $name {
            use axum::Router;
            use axum::response::Response;
            use axum::routing::any;
            use $($ws)+::{Message, WebSocket, WebSocketUpgrade};

            async fn upgrade(ws: WebSocketUpgrade) -> Response {
                ws.on_upgrade(echo)
            }

            async fn echo(mut socket: WebSocket) {
                while let Some(Ok(msg)) = socket.recv().await {
                    if matches!(msg, Message::Text(_) | Message::Binary(_))
                        && socket.send(msg).await.is_err()
                    {
                        return;
                    }
                }
            }

            pub fn app() -> Router {
                Router::new().route("/", any(upgrade))
            }
        }
    };
}

app!(with_axum, axum::extract::ws);
app!(with_wspc, wspc_axum);

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let app = if args.next().as_deref() == Some("--wspc") {
        with_wspc::app()
    } else {
        with_axum::app()
    };
    use axum::serve::ListenerExt;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    axum::serve(listener, app).await
}
