//! Opens N WebSocket connections to a server and holds them idle, for measuring the
//! server's memory per idle connection (bench/compare.sh reads the server's VmRSS before
//! and after).
//!
//! Usage: `idle-clients ADDR N [--deflate | --deflate-nct] [--echo]`
//!
//! * `--deflate` offers `permessage-deflate; client_max_window_bits` in the handshake.
//! * `--deflate-nct` offers it with `server_no_context_takeover;
//!   client_no_context_takeover` as well (no compression state kept between messages).
//! * `--echo` sends one 20-byte message on every connection (compressed when deflate was
//!   negotiated) and waits for its echo, so buffers a server creates lazily exist.
//!
//! Prints `ready N` on stdout once every connection is established (and echoed), then
//! holds them until its standard input closes.

use std::io::{Error, ErrorKind};

use flate2::{Compress, Compression, FlushCompress};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The deflate offer of the handshake, if any.
#[derive(Clone, Copy, PartialEq)]
enum Offer {
    None,
    Deflate,
    DeflateNoContextTakeover,
}

fn request(addr: &str, offer: Offer) -> Vec<u8> {
    let ext = match offer {
        Offer::None => "",
        Offer::Deflate => {
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        }
        Offer::DeflateNoContextTakeover => {
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
             client_no_context_takeover; client_max_window_bits\r\n"
        }
    };
    format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
    )
    .into_bytes()
}

/// A masked client frame carrying `payload` (RSV1 set when `compressed`).
fn frame(payload: &[u8], compressed: bool) -> Vec<u8> {
    assert!(payload.len() < 126);
    let b0 = if compressed { 0xc2 } else { 0x82 };
    let mut f = vec![b0, 0x80 | payload.len() as u8];
    f.extend_from_slice(&MASK);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    f
}

/// Raw DEFLATE of `data` with the trailing empty stored block removed (RFC 7692 §7.2.1).
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::fast(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    c.compress_vec(data, &mut out, FlushCompress::Sync)
        .expect("deflate");
    if out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.truncate(out.len() - 4);
    }
    out
}

async fn open(addr: &str, offer: Offer, echo: bool) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    s.write_all(&request(addr, offer)).await?;
    // Read the response head byte by byte-ish: keep anything after it (there is none).
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::UnexpectedEof,
                "closed during handshake",
            ));
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    if !text.starts_with("http/1.1 101") {
        return Err(Error::other(format!("handshake refused: {text}")));
    }
    let negotiated = text.contains("permessage-deflate");
    if echo {
        let payload = b"idle-clients 20 B ok";
        let wire = if negotiated {
            frame(&deflate(payload), true)
        } else {
            frame(payload, false)
        };
        s.write_all(&wire).await?;
        // The echo: a small unmasked frame; read its header and payload.
        let mut hdr = [0u8; 2];
        s.read_exact(&mut hdr).await?;
        let len = usize::from(hdr[1] & 0x7f);
        if len >= 126 {
            return Err(Error::other("unexpectedly large echo"));
        }
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).await?;
    }
    Ok(s)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: idle-clients ADDR N [--deflate | --deflate-nct] [--echo]");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let n: usize = args[2]
        .parse()
        .map_err(|_| Error::other("N must be a number"))?;
    let offer = if args.iter().any(|a| a == "--deflate-nct") {
        Offer::DeflateNoContextTakeover
    } else if args.iter().any(|a| a == "--deflate") {
        Offer::Deflate
    } else {
        Offer::None
    };
    let echo = args.iter().any(|a| a == "--echo");
    let mut conns = Vec::with_capacity(n);
    // Open in small batches so the server's accept backlog never overflows.
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let mut set = tokio::task::JoinSet::new();
        for _ in chunk {
            let addr = addr.clone();
            set.spawn(async move { open(&addr, offer, echo).await });
        }
        while let Some(r) = set.join_next().await {
            conns.push(r.map_err(Error::other)??);
        }
    }
    println!("ready {}", conns.len());
    // Hold until stdin closes.
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(_)) = lines.next_line().await {}
    drop(conns);
    Ok(())
}
