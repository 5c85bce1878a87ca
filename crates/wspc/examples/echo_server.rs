//! An echo server on the engine over `std::net`, a thread per connection: every text and
//! binary message comes back unchanged, Pings are answered, a Close is answered with the
//! same code. This is the server the Autobahn TestSuite expects.
//!
//! ```text
//! cargo run --release --example echo_server [ADDR]     # default 127.0.0.1:9001
//! ```

#[path = "common/blocking.rs"]
mod blocking;

use std::net::TcpListener;

use wspc::{Config, Event, Limits};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_string());
    let listener = TcpListener::bind(&addr)?;
    eprintln!(
        "wspc echo server listening on ws://{}",
        listener.local_addr()?
    );
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
        let config = config.clone();
        std::thread::spawn(move || {
            let peer = stream.peer_addr().ok();
            let Ok(mut conn) = blocking::accept(&mut stream, config) else {
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
