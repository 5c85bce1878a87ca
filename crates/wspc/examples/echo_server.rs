//! An echo server on the engine over `std::net`, a thread per connection: every text and
//! binary message comes back unchanged, Pings are answered, a Close is answered with the
//! same code. This is the server the Autobahn TestSuite expects.
//!
//! ```text
//! cargo run --release --example echo_server [ADDR] [--no-deflate]   # default 127.0.0.1:9001
//! ```
//! permessage-deflate is accepted unless `--no-deflate` is given.

#[path = "common/blocking.rs"]
mod blocking;

use std::net::TcpListener;
use std::sync::Arc;

use wspc::deflate::DeflateServer;
use wspc::extension::ServerExtension;
use wspc::{Config, Event, Limits};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = !args.iter().any(|a| a == "--no-deflate");
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!(
        "wspc echo server listening on ws://{} (permessage-deflate {})",
        listener.local_addr()?,
        if deflate { "on" } else { "off" }
    );
    let extensions: Vec<Arc<dyn ServerExtension>> = if deflate {
        vec![Arc::new(DeflateServer::default())]
    } else {
        Vec::new()
    };
    // Autobahn sends messages up to 16 MiB (in frames down to 1 byte).
    let config = Config {
        limits: Limits {
            max_fragments: u32::MAX,
            ..Limits::default()
        },
        ..Config::default()
    };
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let (config, extensions) = (config.clone(), extensions.clone());
        std::thread::spawn(move || {
            let peer = stream.peer_addr().ok();
            let Ok(mut conn) = blocking::accept(&mut stream, config, &extensions) else {
                return;
            };
            let outcome = blocking::run(&mut stream, &mut conn, None, |conn, event| {
                if let Event::Message(message) = event {
                    // Echo; a send can only fail once our Close went out.
                    let _ = conn.send(message.clone());
                }
            });
            if std::env::var_os("WSPC_ECHO_VERBOSE").is_some() {
                eprintln!("{peer:?}: {outcome:?}");
            }
        });
    }
    Ok(())
}
