//! Echo server on wspc-tokio, written like the crate's own example (the `WebSocket`
//! docs: `ServerBuilder::accept`, then `recv` / `send` until the Close), on a
//! current_thread runtime.
//!
//! Usage: `echo-wspc-tokio ADDR [--deflate] [--feed]`
//! (`--deflate` accepts permessage-deflate offers with the default options; `--feed`
//! queues each echo with `feed` instead of `send`, leaving the write to the next `recv`,
//! which writes everything queued in one vectored write before it waits for input.)

use tokio::net::TcpListener;
use wspc_tokio::{DeflateOptions, Message, ServerBuilder};

async fn serve(
    builder: ServerBuilder,
    stream: tokio::net::TcpStream,
    feed: bool,
) -> wspc_tokio::Result<()> {
    let mut ws = builder.accept(stream).await?;
    while let Some(msg) = ws.recv().await {
        match msg? {
            Message::Close(_) => break,
            msg @ (Message::Text(_) | Message::Binary(_)) if feed => ws.feed(msg).await?,
            msg @ (Message::Text(_) | Message::Binary(_)) => ws.send(msg).await?,
            _ => {}
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:9104".into());
    let deflate = args.iter().any(|a| a == "--deflate");
    let feed = args.iter().any(|a| a == "--feed");
    let builder = ServerBuilder::new().deflate(deflate.then(DeflateOptions::default));
    let listener = TcpListener::bind(&addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(builder.clone(), stream, feed));
    }
}
