//! Echo server on tokio-websockets, written like its `examples/echo_server.rs`
//! (ServerBuilder, no frame splitting, unlimited limits, unconstrained task),
//! on a current_thread runtime.
//!
//! Usage: `echo-tokio-websockets ADDR`

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_websockets::{Config, Limits, ServerBuilder};

async fn run(addr: String) -> std::io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    loop {
        let (conn, _) = listener.accept().await?;
        let _ = conn.set_nodelay(true);
        tokio::spawn(tokio::task::unconstrained(async move {
            let Ok((_request, mut server)) = ServerBuilder::new()
                .config(Config::default().frame_size(usize::MAX))
                .limits(Limits::unlimited())
                .accept(conn)
                .await
            else {
                return;
            };
            while let Some(Ok(item)) = server.next().await {
                if (item.is_text() || item.is_binary()) && server.send(item).await.is_err() {
                    break;
                }
            }
        }));
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9103".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(run(addr))
}
