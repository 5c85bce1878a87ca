//! Echo throughput over loopback, server and client in one process: the client's
//! writer task streams N messages of SIZE bytes while its reader task takes the echoes.
//!
//! ```text
//! cargo run --release -p wspc-tokio --example echo_throughput -- [N] [SIZE] [--deflate]
//! ```
//! Defaults: 100 000 messages of 1 KiB. Prints messages per second and MiB/s (one way).
//! A rough figure for the tokio layer; comparisons belong to the benchmark suite.

use std::time::Instant;

use wspc_tokio::{ClientBuilder, DeflateOptions, Message, ServerBuilder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    let mut nums = args.iter().filter(|a| !a.starts_with("--"));
    let n: usize = nums
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let size: usize = nums.next().map(|a| a.parse()).transpose()?.unwrap_or(1024);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = ServerBuilder::new().deflate(deflate.then(DeflateOptions::default));
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let (mut r, mut w) = server.accept(tcp).await?.split();
        // Echo, batching whatever is ready into one write.
        while let Some(Ok(m)) = r.recv().await {
            if m.is_text() || m.is_binary() {
                w.send(m).await?;
            }
        }
        Ok::<_, wspc_tokio::Error>(())
    });

    let (ws, _) = ClientBuilder::new(&format!("ws://{addr}/"))?
        .deflate(deflate.then(DeflateOptions::default))
        .connect()
        .await?;
    let (mut reader, mut writer) = ws.split();
    // JSON-like text compresses; with --deflate that is the realistic case.
    let unit = r#"{"id":12345,"name":"wspc","tags":["a","b"],"v":0.5}"#;
    let payload = unit.repeat(size / unit.len() + 1)[..size].to_string();
    let start = Instant::now();
    let sender = tokio::spawn(async move {
        let msg = Message::text(payload);
        for _ in 0..n {
            writer.send(msg.clone()).await?;
        }
        Ok::<_, wspc_tokio::Error>(writer)
    });
    let mut received = 0usize;
    while received < n {
        match reader.recv().await {
            Some(Ok(m)) if m.is_text() => received += 1,
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err("connection ended".into()),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut writer = sender.await??;
    writer.close(wspc_tokio::CloseCode::NORMAL, "").await?;
    println!(
        "{n} messages of {size} B echoed in {elapsed:.2} s: {:.0} msg/s, {:.1} MiB/s each way (deflate {})",
        n as f64 / elapsed,
        (n * size) as f64 / elapsed / 1048576.0,
        if deflate { "on" } else { "off" }
    );
    Ok(())
}
