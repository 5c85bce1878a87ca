//! An Autobahn fuzzingserver client on the engine over `std::net`: asks for the number
//! of cases, runs each one echoing every message back, then asks the server to write
//! its reports.
//!
//! ```text
//! ../shared/conformance/autobahn client -- cargo run --release --example autobahn_client [--no-deflate]
//! ```
//! It reads `AUTOBAHN_URL` (default `ws://127.0.0.1:9001`) and `AUTOBAHN_AGENT`
//! (default `wspc`). It offers permessage-deflate (`client_no_context_takeover;
//! client_max_window_bits`, so that every server policy of Autobahn's 13.* cases can
//! accept it) unless `--no-deflate` is given.

#[path = "common/blocking.rs"]
mod blocking;

use std::sync::Arc;
use std::time::{Duration, Instant};

use wspc::deflate::{DeflateClient, DeflateOffer};
use wspc::extension::ClientExtension;
use wspc::{Config, Connection, Event, Limits, Message};

/// Bound on one case, so a misbehaving case cannot hang the run.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into());
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "wspc".into());
    let config = Config {
        limits: Limits {
            max_fragments: u32::MAX,
            ..Limits::default()
        },
        ..Config::default()
    };
    let offer = DeflateOffer {
        client_no_context_takeover: true,
        client_max_window_bits: Some(None),
        ..DeflateOffer::default()
    };
    let extensions: Vec<Arc<dyn ClientExtension>> = if std::env::args().any(|a| a == "--no-deflate")
    {
        Vec::new()
    } else {
        vec![Arc::new(DeflateClient {
            offers: vec![offer],
            ..DeflateClient::default()
        })]
    };
    let client = Client { config, extensions };

    let mut count = None;
    client.session(&format!("{base}/getCaseCount"), |_, event| {
        if let Event::Message(Message::Text(text)) = event {
            count = text.as_str().trim().parse::<u32>().ok();
        }
    })?;
    let count = count.ok_or("no case count")?;
    eprintln!("autobahn_client: {count} cases as agent {agent}");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        let echo = |conn: &mut Connection, event: &Event| {
            if let Event::Message(message) = event {
                let _ = conn.send(message.clone());
            }
        };
        if let Err(e) = client.session(&url, echo) {
            eprintln!("autobahn_client: case {case}: {e}");
        }
    }
    client.session(&format!("{base}/updateReports?agent={agent}"), |_, _| {})?;
    Ok(())
}

struct Client {
    config: Config,
    extensions: Vec<Arc<dyn ClientExtension>>,
}

impl Client {
    fn session(
        &self,
        url: &str,
        on_event: impl FnMut(&mut Connection, &Event),
    ) -> std::io::Result<()> {
        let (mut stream, mut conn) = blocking::connect(url, self.config.clone(), &self.extensions)?;
        blocking::run(
            &mut stream,
            &mut conn,
            Some(Instant::now() + CASE_TIMEOUT),
            on_event,
        )?;
        Ok(())
    }
}
