//! An Autobahn fuzzingserver client on wspc-tokio: asks for the number of cases, runs
//! each one echoing every message back, then asks the server to write its reports.
//!
//! ```text
//! ../shared/conformance/autobahn client --cases '*' -- \
//!     cargo run --release -p wspc-tokio --example tokio_autobahn_client [URL|PORT] [--no-deflate]
//! ```
//! The server URL comes from the first argument (a URL or a port), else `AUTOBAHN_URL`,
//! else `ws://127.0.0.1:9001`; the agent name from `AUTOBAHN_AGENT` (default
//! `wspc-tokio`). It offers permessage-deflate (`client_no_context_takeover;
//! client_max_window_bits`, which every server policy of Autobahn's 13.* cases can
//! accept) unless `--no-deflate` is given.

use std::time::Duration;

use wspc_tokio::{
    ClientBuilder, DeflateClient, DeflateOffer, DeflateOptions, Limits, Message, Options,
};

/// Bound on one case, so a misbehaving case cannot hang the run.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = !args.iter().any(|a| a == "--no-deflate");
    let base = match args.iter().find(|a| !a.starts_with("--")) {
        Some(port) if port.parse::<u16>().is_ok() => format!("ws://127.0.0.1:{port}"),
        Some(url) => url.trim_end_matches('/').to_string(),
        None => std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into()),
    };
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "wspc-tokio".into());
    let client = Client { deflate };

    let mut count = None;
    client
        .session(&format!("{base}/getCaseCount"), |m| {
            if let Message::Text(t) = m {
                count = t.as_str().trim().parse::<u32>().ok();
            }
        })
        .await?;
    let count = count.ok_or("no case count")?;
    eprintln!("tokio_autobahn_client: {count} cases as agent {agent}");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match tokio::time::timeout(CASE_TIMEOUT, client.echo(&url)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("tokio_autobahn_client: case {case}: {e}"),
            Err(_) => eprintln!("tokio_autobahn_client: case {case}: timed out"),
        }
    }
    client
        .session(&format!("{base}/updateReports?agent={agent}"), |_| {})
        .await?;
    Ok(())
}

struct Client {
    deflate: bool,
}

impl Client {
    fn builder(&self, url: &str) -> wspc_tokio::Result<ClientBuilder> {
        let options = Options::default().limits(Limits {
            max_fragments: u32::MAX,
            ..Limits::default()
        });
        let mut b = ClientBuilder::new(url)?.options(options);
        if self.deflate {
            b = b.deflate_offers(DeflateClient {
                offers: vec![DeflateOffer {
                    client_no_context_takeover: true,
                    client_max_window_bits: Some(None),
                    ..DeflateOffer::default()
                }],
                options: DeflateOptions::default(),
            });
        }
        Ok(b)
    }

    /// Runs one case: echoes every data message until the connection ends.
    async fn echo(&self, url: &str) -> wspc_tokio::Result<()> {
        let (mut ws, _) = self.builder(url)?.connect().await?;
        while let Some(msg) = ws.recv().await {
            if let m @ (Message::Text(_) | Message::Binary(_)) = msg? {
                let _ = ws.send(m).await;
            }
        }
        Ok(())
    }

    /// Opens `url` and hands every message to `f` until the connection ends.
    async fn session(&self, url: &str, mut f: impl FnMut(Message)) -> wspc_tokio::Result<()> {
        let (mut ws, _) = self.builder(url)?.connect().await?;
        while let Some(msg) = ws.recv().await {
            f(msg?);
        }
        Ok(())
    }
}
