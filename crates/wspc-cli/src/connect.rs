//! `wspc connect URL`: a websocat/wscat-like client.
//!
//! Each line of stdin is sent as a text message; each text message received is printed
//! as one line on stdout (binary as hex, or the bytes as they are with `--raw`). End of
//! input sends a Close (1000 unless `--close-code`) and waits for the server's reply. The
//! close code and reason go to stderr; the exit status is 0 when the server's Close
//! carried 1000, 1 otherwise (with a one-line reason).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use wspc_tokio::{
    ClientBuilder, CloseCode, CloseFrame, DeflateOptions, Error as WsError, Message, Options, Proxy,
};

/// Everything `wspc connect` was asked to do.
#[derive(Clone, Debug)]
pub struct ConnectConfig {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// Extra request headers, `Name: value`.
    pub headers: Vec<String>,
    /// Subprotocols offered, most preferred first.
    pub subprotocols: Vec<String>,
    /// Extra CA certificates (PEM) to trust.
    pub ca: Option<PathBuf>,
    /// Accept any server certificate.
    pub insecure: bool,
    /// A client certificate chain and its private key (PEM files), for servers that
    /// require mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Which proxy to go through.
    pub proxy: ProxyChoice,
    /// Open the WebSocket over HTTP/2 (RFC 8441) when the server allows it.
    pub http2: bool,
    /// Ping after this much silence (the Pong must come within the same interval).
    pub ping_interval: Option<Duration>,
    /// Offer permessage-deflate.
    pub deflate: bool,
    /// Print binary messages as they are, not as hex.
    pub raw: bool,
    /// The close code sent at the end of input.
    pub close_code: u16,
    /// The close reason sent at the end of input.
    pub close_reason: String,
    /// Largest message accepted.
    pub max_message_size: usize,
}

/// Which proxy `wspc connect` goes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyChoice {
    /// The one the environment names (the default).
    FromEnv,
    /// None (`--no-proxy`).
    Off,
    /// This one (`--proxy URL`).
    Url(String),
}

/// Why `wspc connect` ended without a normal close.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A flag is unusable.
    #[error("{0}")]
    Usage(String),
    /// The CA file could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Connecting or upgrading failed.
    #[error("{0}")]
    Connect(WsError),
    /// The connection failed after it was open.
    #[error("connection failed: {0}")]
    Failed(WsError),
    /// The server closed with a code other than 1000.
    #[error("closed with {code}{}", if .reason.is_empty() { String::new() } else { format!(" {}", .reason) })]
    Abnormal {
        /// The server's close code.
        code: u16,
        /// The server's reason.
        reason: String,
    },
    /// The server closed without a code.
    #[error("closed without a status code (1005)")]
    NoCode,
    /// Writing to stdout failed.
    #[error("stdout: {0}")]
    Stdout(std::io::Error),
    /// The runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs the client until the connection is over.
pub fn run(config: ConnectConfig) -> Result<(), ConnectError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ConnectError::Runtime)?;
    let result = runtime.block_on(client(config));
    // stdin is read on a blocking thread that may still wait for a line: do not wait.
    runtime.shutdown_background();
    result
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

async fn client(config: ConnectConfig) -> Result<(), ConnectError> {
    let close_code = CloseCode::new(config.close_code);
    if !close_code.is_sendable() {
        return Err(ConnectError::Usage(format!(
            "--close-code {} may not be sent (1000-1003, 1007-1014 or 3000-4999)",
            config.close_code
        )));
    }
    if config.close_reason.len() > wspc::close::MAX_REASON_LEN {
        return Err(ConnectError::Usage(
            "--close-reason is longer than 123 bytes".into(),
        ));
    }
    let mut options = Options::new().max_message_size(config.max_message_size);
    if let Some(interval) = config.ping_interval {
        options = options.keepalive(interval, interval);
    }
    let mut builder = ClientBuilder::new(&config.url)
        .map_err(ConnectError::Connect)?
        .options(options)
        .deflate(config.deflate.then(DeflateOptions::default))
        .connect_timeout(Duration::from_secs(10))
        .handshake_timeout(Duration::from_secs(10))
        .http2(config.http2);
    for header in &config.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| ConnectError::Usage(format!("-H {header:?}: expected 'Name: value'")))?;
        builder = builder
            .header(name.trim(), value.trim())
            .map_err(|e| ConnectError::Usage(format!("-H {header:?}: {e}")))?;
    }
    for p in &config.subprotocols {
        builder = builder.subprotocol(p);
    }
    if let Some(path) = &config.ca {
        let pem = read_file(path)?;
        builder = builder
            .tls_root_ca_pem(&pem)
            .map_err(ConnectError::Connect)?;
    }
    if let Some((cert, key)) = &config.client_cert {
        let cert_pem = read_file(cert)?;
        let key_pem = read_file(key)?;
        builder = builder
            .tls_client_auth_pem(&cert_pem, &key_pem)
            .map_err(ConnectError::Connect)?;
    }
    if config.insecure {
        builder = builder.danger_accept_invalid_certs();
    }
    builder = match &config.proxy {
        ProxyChoice::FromEnv => builder.proxy_from_env(),
        ProxyChoice::Off => builder.no_proxy(),
        ProxyChoice::Url(url) => builder
            .proxy(Proxy::new(url).map_err(|e| ConnectError::Usage(format!("--proxy: {e}")))?),
    };
    let (mut ws, response) = builder.connect().await.map_err(ConnectError::Connect)?;
    let deflate = match ws.deflate() {
        Some(p) => format!(
            "permessage-deflate (server window {} bits{}, client window {} bits{})",
            p.server_max_window_bits,
            if p.server_no_context_takeover {
                ", no context takeover"
            } else {
                ""
            },
            p.client_max_window_bits,
            if p.client_no_context_takeover {
                ", no context takeover"
            } else {
                ""
            },
        ),
        None => "no extension".into(),
    };
    tracing::info!(
        "connected to {} over {:?} (subprotocol {}, {deflate})",
        config.url,
        response.version(),
        ws.subprotocol().unwrap_or("none"),
    );

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut input_open = true;
    let mut stdout = std::io::stdout();
    loop {
        tokio::select! {
            line = lines.next_line(), if input_open => match line {
                Ok(Some(line)) => {
                    if let Err(e) = ws.send(Message::text(line)).await {
                        // The server closed first: recv reports how.
                        tracing::debug!("send: {e}");
                        input_open = false;
                    }
                }
                Ok(None) | Err(_) => {
                    input_open = false;
                    let frame = CloseFrame::new(close_code, &config.close_reason)
                        .map_err(|e| ConnectError::Usage(e.to_string()))?;
                    // Keep reading: messages already on their way are still printed,
                    // then the server's Close.
                    if let Err(e) = ws.send(Message::Close(Some(frame))).await {
                        tracing::debug!("close: {e}");
                    }
                }
            },
            msg = ws.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let mut out = stdout.lock();
                    out.write_all(text.as_bytes())
                        .and_then(|_| out.write_all(b"\n"))
                        .and_then(|_| out.flush())
                        .map_err(ConnectError::Stdout)?;
                }
                Some(Ok(Message::Binary(bytes))) => {
                    let mut out = stdout.lock();
                    let written = if config.raw {
                        out.write_all(&bytes)
                    } else {
                        out.write_all(hex(&bytes).as_bytes()).and_then(|_| out.write_all(b"\n"))
                    };
                    written.and_then(|_| out.flush()).map_err(ConnectError::Stdout)?;
                }
                Some(Ok(Message::Close(frame))) => {
                    stdout.flush().map_err(ConnectError::Stdout)?;
                    return match frame {
                        Some(f) => {
                            eprintln!("close: {} {}", f.code.as_u16(), f.reason.as_str());
                            if f.code == CloseCode::SUCCESS {
                                Ok(())
                            } else {
                                Err(ConnectError::Abnormal { code: f.code.as_u16(), reason: f.reason.as_str().to_string() })
                            }
                        }
                        None => {
                            eprintln!("close: 1005 (no status code)");
                            Err(ConnectError::NoCode)
                        }
                    };
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    if let Some(code) = e.close_code() {
                        eprintln!("close: {}", code.as_u16());
                    }
                    return Err(ConnectError::Failed(e));
                }
                None => return Err(ConnectError::Failed(WsError::Closed)),
            },
        }
    }
}

fn read_file(path: &PathBuf) -> Result<Vec<u8>, ConnectError> {
    std::fs::read(path).map_err(|source| ConnectError::ReadFile {
        path: path.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(super::hex(&[0, 1, 0xab, 0xff]), "0001abff");
        assert_eq!(super::hex(&[]), "");
    }
}
