//! An Autobahn fuzzingserver client on the engine over `std::net`: asks for the number
//! of cases, runs each one echoing every message back, then asks the server to write
//! its reports.
//!
//! ```text
//! ../shared/conformance/autobahn client -- cargo run --release --example autobahn_client
//! ```
//! It reads `AUTOBAHN_URL` (default `ws://127.0.0.1:9001`) and `AUTOBAHN_AGENT`
//! (default `wspc`).

#[path = "common/blocking.rs"]
mod blocking;

use std::time::{Duration, Instant};

use wspc::{Config, Event, Limits, Message};

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

    let mut count = None;
    session(
        &format!("{base}/getCaseCount"),
        config.clone(),
        |_, event| {
            if let Event::Message(Message::Text(text)) = event {
                count = text.as_str().trim().parse::<u32>().ok();
            }
        },
    )?;
    let count = count.ok_or("no case count")?;
    eprintln!("autobahn_client: {count} cases as agent {agent}");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(e) = session(&url, config.clone(), |conn, event| {
            if let Event::Message(message) = event {
                let _ = conn.send(message.clone());
            }
        }) {
            eprintln!("autobahn_client: case {case}: {e}");
        }
    }
    session(
        &format!("{base}/updateReports?agent={agent}"),
        config,
        |_, _| {},
    )?;
    Ok(())
}

fn session(
    url: &str,
    config: Config,
    on_event: impl FnMut(&mut wspc::Connection, &Event),
) -> std::io::Result<()> {
    let (mut stream, mut conn) = blocking::connect(url, config)?;
    blocking::run(
        &mut stream,
        &mut conn,
        Some(Instant::now() + CASE_TIMEOUT),
        on_event,
    )?;
    Ok(())
}
