//! A small blocking driver for the engine over `std::net` (shared by the examples):
//! the handshake in both roles, and a loop that reads, hands events to a callback,
//! writes everything pending in vectored writes, runs the timers, and closes the socket
//! when the engine says so.

#![allow(dead_code)] // each example uses part of this driver

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use std::sync::Arc;

use wspc::extension::{ClientExtension, ServerExtension};
use wspc::handshake::http1;
use wspc::{Accept, ClientHandshake, ClientRequest, Config, Connection, Event, ServerHandshake};

/// Longest wait for the peer to close its side once we closed ours.
const LINGER: Duration = Duration::from_secs(2);
/// Longest wait for a handshake to complete.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the client's request and answers it. Plain HTTP and invalid upgrades get an
/// error response.
pub fn accept(
    stream: &mut TcpStream,
    config: Config,
    extensions: &[Arc<dyn ServerExtension>],
) -> io::Result<Connection> {
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let mut handshake = ServerHandshake::new(config);
    for ext in extensions {
        handshake = handshake.with_extension(ext.clone());
    }
    let mut buf = [0u8; 4096];
    let request = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match handshake.feed(&buf[..n]) {
            Ok(Some(request)) => break request,
            Ok(None) => {}
            Err(e) => {
                if let Some(response) = e.response() {
                    stream.write_all(&http1::encode_response(&response))?;
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
    };
    match handshake.accept(&request, Accept::default()) {
        Ok((response, connection)) => {
            stream.write_all(&response)?;
            Ok(connection)
        }
        Err(e) => {
            if let Some(response) = e.response() {
                stream.write_all(&http1::encode_response(&response))?;
            }
            Err(io::Error::new(io::ErrorKind::InvalidData, e))
        }
    }
}

/// Connects to a `ws://` URL and performs the client handshake.
pub fn connect(
    url: &str,
    config: Config,
    extensions: &[Arc<dyn ClientExtension>],
) -> io::Result<(TcpStream, Connection)> {
    let mut request = ClientRequest::new(url)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?
        .config(config);
    for ext in extensions {
        request = request.extension(ext.clone());
    }
    let mut stream = TcpStream::connect((request.host(), request.port()))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let mut handshake = ClientHandshake::new(request)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    stream.write_all(handshake.request_bytes())?;
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match handshake.feed(&buf[..n]) {
            Ok(Some(established)) => return Ok((stream, established.connection)),
            Ok(None) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }
}

/// Runs a connection until the engine says the transport is done (or `deadline` passes),
/// handing every event to `on_event`. Returns the last event seen (`Close` or `Failed`).
pub fn run(
    stream: &mut TcpStream,
    conn: &mut Connection,
    deadline: Option<Instant>,
    mut on_event: impl FnMut(&mut Connection, &Event),
) -> io::Result<Option<Event>> {
    stream.set_nodelay(true)?;
    let mut last = None;
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Err(io::ErrorKind::TimedOut.into());
        }
        conn.handle_timeout(now);
        while let Some(event) = conn.poll_event() {
            on_event(conn, &event);
            if matches!(event, Event::Close(_) | Event::Failed(_)) {
                last = Some(event);
            }
        }
        while conn.has_transmit() {
            if conn.write_to(stream).is_err() {
                // The peer is gone: nothing more can be written.
                conn.handle_eof();
                break;
            }
        }
        if conn.should_close_transport() {
            linger_close(stream);
            return Ok(last);
        }
        let wait = [conn.poll_timeout(), deadline]
            .into_iter()
            .flatten()
            .min()
            .map(|t| {
                t.saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1))
            });
        stream.set_read_timeout(wait)?;
        match conn.read_from(stream) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => conn.handle_eof(),
        }
    }
}

/// Closes our side (FIN, not RST) and waits briefly for the peer to close theirs.
fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(LINGER));
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 4096];
    while Instant::now() < until {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}
