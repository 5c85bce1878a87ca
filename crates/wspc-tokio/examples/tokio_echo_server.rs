//! An echo server on wspc-tokio: every text and binary message comes back unchanged;
//! Pings are answered and the close handshake is completed by the socket. This is the
//! server the Autobahn TestSuite expects.
//!
//! ```text
//! cargo run --release -p wspc-tokio --example tokio_echo_server [ADDR] [--no-deflate]
//! ```
//! ADDR defaults to 127.0.0.1:9001; permessage-deflate is accepted unless
//! `--no-deflate` is given.

use wspc_tokio::{DeflateOptions, Limits, Message, Options, ServerBuilder};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = !args.iter().any(|a| a == "--no-deflate");
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!(
        "wspc-tokio echo server on ws://{} (permessage-deflate {})",
        listener.local_addr()?,
        if deflate { "on" } else { "off" }
    );
    // Autobahn sends 16 MiB messages in frames down to 1 byte.
    let options = Options::default().limits(Limits {
        max_fragments: u32::MAX,
        ..Limits::default()
    });
    let server = ServerBuilder::new()
        .options(options)
        .deflate(deflate.then(DeflateOptions::default));
    let verbose = std::env::var_os("WSPC_ECHO_VERBOSE").is_some();
    loop {
        let (tcp, peer) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let server = server.clone();
        tokio::spawn(async move {
            let mut ws = match server.accept(tcp).await {
                Ok(ws) => ws,
                Err(e) => {
                    if verbose {
                        eprintln!("{peer}: handshake: {e}");
                    }
                    return;
                }
            };
            let outcome = loop {
                match ws.recv().await {
                    Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                        // Fails only once the connection is closing.
                        let _ = ws.send(msg).await;
                    }
                    Some(Ok(Message::Close(frame))) => break format!("closed: {frame:?}"),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break format!("failed: {e}"),
                    None => break "ended".into(),
                }
            };
            if verbose {
                eprintln!("{peer}: {outcome}");
            }
        });
    }
}
