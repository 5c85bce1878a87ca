//! An Autobahn fuzzingserver client on the component model (the safe Rust API of
//! `websocket.dll`'s action queue) over a blocking `std::net` socket: it asks for the number
//! of cases, runs each one echoing every message back chunk by chunk, then asks the server
//! to write its reports.
//!
//! ```text
//! ../shared/conformance/autobahn client -- cargo run --release -p wspc-capi --example component_autobahn_client
//! ```
//! It reads `AUTOBAHN_URL` (default `ws://127.0.0.1:9001`) and `AUTOBAHN_AGENT` (default
//! `wspc-capi`).
//!
//! The application does what a Windows application does: the HTTP request and response
//! around `Begin`/`EndClientHandshake`, the reads and writes the actions ask for, the reply
//! to the peer's Close (the component does not send it on its own), and closing TCP.

use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::Bytes;
use websocket::component::{Action, Handle, HttpHeader, Property, Received, SendPayload};
use websocket::{ActionQueue, BufferType};

/// Longest wait for one read; a read that times out counts as the end of the stream.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the server to close TCP after the close handshake.
const LINGER: Duration = Duration::from_secs(5);
/// Bound on one case.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into());
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "wspc-capi".into());
    let (host, port) = host_port(&base)?;

    let mut count_text = Vec::new();
    session(&host, port, "/getCaseCount", |kind, chunk| {
        if matches!(kind, BufferType::Utf8Fragment | BufferType::Utf8Message) {
            count_text.extend_from_slice(chunk);
        }
        None
    })?;
    let count: u32 = std::str::from_utf8(&count_text)?.trim().parse()?;
    eprintln!("component_autobahn_client: {count} cases as agent {agent}");

    for case in 1..=count {
        let path = format!("/runCase?case={case}&agent={agent}");
        // Echo every chunk with its own type: fragments stay fragments.
        if let Err(e) = session(&host, port, &path, |kind, chunk| {
            Some((kind, Bytes::copy_from_slice(chunk)))
        }) {
            eprintln!("component_autobahn_client: case {case}: {e}");
        }
    }
    session(
        &host,
        port,
        &format!("/updateReports?agent={agent}"),
        |_, _| None,
    )?;
    Ok(())
}

fn host_port(url: &str) -> Result<(String, u16), Box<dyn std::error::Error>> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or("AUTOBAHN_URL must be ws://HOST:PORT")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or("AUTOBAHN_URL needs a port")?;
    Ok((host.to_string(), port.parse()?))
}

/// One WebSocket connection: the HTTP upgrade, then the action loop until the close
/// handshake (or a failure) is over. `on_chunk` sees every data chunk and may return a
/// chunk to send back.
fn session(
    host: &str,
    port: u16,
    path: &str,
    mut on_chunk: impl FnMut(BufferType, &[u8]) -> Option<(BufferType, Bytes)>,
) -> io::Result<()> {
    let mut stream = TcpStream::connect((host, port))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut h = Handle::new_client(&[
        Property::ReceiveBufferSize(65536),
        Property::SendBufferSize(65536),
    ])
    .map_err(io::Error::other)?;
    let mut early = upgrade(&mut stream, &mut h, host, port, path)?;

    let deadline = Instant::now() + CASE_TIMEOUT;
    let mut receiving = false;
    let mut input_done = false;
    let mut failed = false;
    while Instant::now() < deadline {
        if !receiving && !input_done {
            receiving = h.receive(None, 0).is_ok();
            input_done = !receiving;
        }
        let mut echo = None;
        let mut reply_close = None;
        let (context, n) = match h.get_action(ActionQueue::All, 2) {
            Err(_) if failed => break, // the error again: the failure Close is out
            Err(_) => {
                // A protocol error: the component queued a Close with the right status;
                // the next actions write it.
                failed = true;
                continue;
            }
            Ok(Action::NoAction) => break, // input ended and everything queued is written
            Ok(Action::SendToNetwork {
                context, buffers, ..
            }) => {
                let slices: Vec<IoSlice<'_>> = buffers.iter().map(IoSlice::new).collect();
                (context, write_all_vectored(&mut stream, slices))
            }
            Ok(Action::ReceiveFromNetwork {
                context, buffer, ..
            }) => {
                let n = if early.is_empty() {
                    stream.read(buffer).unwrap_or(0)
                } else {
                    let n = early.len().min(buffer.len());
                    buffer[..n].copy_from_slice(&early[..n]);
                    early.drain(..n);
                    n
                };
                (context, n)
            }
            Ok(Action::IndicateSendComplete { context, .. }) => (context, 0),
            Ok(Action::IndicateReceiveComplete {
                context,
                buffer_type,
                data,
                ..
            }) => {
                receiving = false;
                match data {
                    Received::Close { status, .. } => {
                        input_done = true;
                        if status != 1006 {
                            reply_close = Some(status);
                        }
                    }
                    Received::Data(chunk) if buffer_type.is_data() => {
                        echo = on_chunk(buffer_type, chunk)
                    }
                    Received::Data(_) => {} // a Pong
                }
                (context, 0)
            }
        };
        h.complete_action(context, n);
        if let Some((kind, chunk)) = echo {
            // Fails only once our Close is out; nothing to do then.
            let _ = h.send(kind, SendPayload::Data(chunk), 0);
        }
        if let Some(status) = reply_close {
            let payload = match status {
                1005 => SendPayload::None,
                _ => SendPayload::Close {
                    status,
                    reason: Bytes::new(),
                },
            };
            let _ = h.send(BufferType::Close, payload, 0);
        }
    }
    h.abort();
    // The server closes TCP first; wait for it briefly.
    let _ = stream.set_read_timeout(Some(LINGER));
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

/// Writes the request with the component's headers, reads the `101` response and hands its
/// headers to `EndClientHandshake`. Returns the bytes read past the response head.
fn upgrade(
    stream: &mut TcpStream,
    h: &mut Handle,
    host: &str,
    port: u16,
    path: &str,
) -> io::Result<Vec<u8>> {
    let headers = h
        .begin_client_handshake(&[], &[], &[])
        .map_err(io::Error::other)?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    for header in &headers {
        request.push_str(&format!("{}: {}\r\n", header.name, header.value));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;

    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_len = loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 || buf.len() > 64 * 1024 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut slots);
    response
        .parse(&buf[..head_len])
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if response.code != Some(101) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not 101"));
    }
    let received: Vec<HttpHeader<'_>> = response
        .headers
        .iter()
        .map(|header| HttpHeader::new(header.name, header.value))
        .collect();
    h.end_client_handshake(&received, None)
        .map_err(io::Error::other)?;
    Ok(buf[head_len..].to_vec())
}

/// Writes every slice; returns how many bytes went out (fewer on an error).
fn write_all_vectored(stream: &mut TcpStream, mut slices: Vec<IoSlice<'_>>) -> usize {
    let mut total = 0;
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match stream.write_vectored(slices) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                IoSlice::advance_slices(&mut slices, n);
            }
        }
    }
    total
}
