//! The server: [`accept`], [`accept_with`], [`ServerBuilder`] and the two-step
//! [`ServerBuilder::read_request`] for servers that also answer plain HTTP.

use std::sync::Arc;
use std::time::Duration;

use http::header::{CONNECTION, CONTENT_LENGTH};
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wspc::deflate::{DeflateOptions, DeflateServer};
use wspc::handshake::{Accept, HandshakeError, Request, ServerHandshake};

use crate::error::{Error, Result};
use crate::options::Options;
use crate::socket::WebSocket;

/// Default bound on reading the request and writing the response.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts a WebSocket connection on `stream` (plain TCP, a `tokio-rustls` server
/// stream, anything `AsyncRead + AsyncWrite`) with the defaults: no subprotocol, no
/// compression. A request that is not a valid upgrade gets an error response (400,
/// 405, 426) and an [`Error::Handshake`].
pub async fn accept<S>(stream: S) -> Result<WebSocket<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ServerBuilder::new().accept(stream).await
}

/// Accepts a connection after `f` looked at the request (path, headers, offered
/// subprotocols): `Ok(Some(name))` picks a subprotocol the client offered, `Ok(None)`
/// none, `Err(response)` rejects the upgrade with that HTTP response
/// ([`Error::Rejected`]).
///
/// ```no_run
/// # async fn f(tcp: tokio::net::TcpStream) -> wspc_tokio::Result<()> {
/// let ws = wspc_tokio::accept_with(tcp, |req| {
///     if req.path() != "/chat" {
///         return Err(http::Response::builder().status(404).body("no such room".into()).unwrap());
///     }
///     Ok(req.subprotocols().find(|p| *p == "chat.v1").map(String::from))
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn accept_with<S, F>(stream: S, f: F) -> Result<WebSocket<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> std::result::Result<Option<String>, http::Response<String>>,
{
    ServerBuilder::new().accept_with(stream, f).await
}

/// Server settings, shared by every connection of a listener (cheap to clone).
///
/// ```no_run
/// use wspc_tokio::{DeflateOptions, Options, ServerBuilder};
///
/// # async fn f() -> wspc_tokio::Result<()> {
/// let server = ServerBuilder::new()
///     .options(Options::default().max_message_size(1 << 20))
///     .deflate(Some(DeflateOptions::default()))
///     .subprotocols(&["chat.v1"]);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// loop {
///     let (tcp, _) = listener.accept().await?;
///     let server = server.clone();
///     tokio::spawn(async move {
///         let Ok(mut ws) = server.accept(tcp).await else { return };
///         while let Some(Ok(msg)) = ws.recv().await {
///             if msg.is_text() || msg.is_binary() {
///                 let _ = ws.send(msg).await;
///             }
///         }
///     });
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ServerBuilder {
    options: Options,
    deflate_server: Option<DeflateServer>,
    subprotocols: Arc<[String]>,
    handshake_timeout: Duration,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder::new()
    }
}

impl ServerBuilder {
    /// Defaults: no subprotocols, no compression, 30 s handshake timeout.
    pub fn new() -> Self {
        ServerBuilder {
            options: Options::default(),
            deflate_server: None,
            subprotocols: Arc::from(Vec::new()),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Limits, keepalive, close timeout, write buffer bound (see [`Options`]); its
    /// deflate setting decides whether offers are accepted.
    pub fn options(mut self, o: Options) -> Self {
        self.options = o;
        self.deflate_server = None;
        self
    }

    /// Accepts permessage-deflate offers (any valid offer, with the client's requested
    /// parameters), compressing with these options; `None` declines them.
    pub fn deflate(mut self, o: Option<DeflateOptions>) -> Self {
        self.options.deflate = o;
        self.deflate_server = None;
        self
    }

    /// Accepts permessage-deflate under the policy `server` gives (window bits, context
    /// takeover).
    pub fn deflate_policy(mut self, server: DeflateServer) -> Self {
        self.options.deflate = Some(server.options);
        self.deflate_server = Some(server);
        self
    }

    /// The subprotocols this server speaks; the first the client offers (in the
    /// client's order) is selected by [`accept`](Self::accept).
    pub fn subprotocols(mut self, names: &[&str]) -> Self {
        self.subprotocols = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Bound on reading the request and on writing the response (default 30 s).
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = d;
        self
    }

    fn server_handshake(&self) -> ServerHandshake {
        let mut hs = ServerHandshake::new(self.options.to_engine_config());
        let policy = self.deflate_server.or_else(|| {
            self.options.deflate.map(|options| DeflateServer {
                options,
                ..DeflateServer::default()
            })
        });
        if let Some(policy) = policy {
            hs = hs.with_extension(Arc::new(policy));
        }
        hs
    }

    /// Accepts a connection, selecting a subprotocol from
    /// [`subprotocols`](Self::subprotocols).
    #[allow(clippy::result_large_err)] // the rejection is an http::Response, by contract
    pub async fn accept<S>(&self, stream: S) -> Result<WebSocket<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let supported = self.subprotocols.clone();
        self.accept_with(stream, move |req| {
            Ok(req.select_subprotocol(&supported).map(String::from))
        })
        .await
    }

    /// Accepts a connection after `f` looked at the request, as [`accept_with`].
    pub async fn accept_with<S, F>(&self, stream: S, f: F) -> Result<WebSocket<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&Request) -> std::result::Result<Option<String>, http::Response<String>>,
    {
        // The handshake's state lives on the heap only while it runs: a task that
        // accepts and then serves the socket for hours does not keep room for it.
        Box::pin(self.accept_with_inner(stream, f)).await
    }

    async fn accept_with_inner<S, F>(&self, stream: S, f: F) -> Result<WebSocket<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&Request) -> std::result::Result<Option<String>, http::Response<String>>,
    {
        match self.read_request(stream).await? {
            Incoming::WebSocket(pending) => match f(pending.request()) {
                Ok(subprotocol) => pending.accept(subprotocol.as_deref()).await,
                Err(response) => {
                    let status = response.status();
                    pending.reject(response).await?;
                    Err(Error::Rejected { status })
                }
            },
            Incoming::Http {
                request,
                mut stream,
            } => {
                let e = match request.validate() {
                    Err(e) => e,
                    Ok(_) => HandshakeError::NotWebSocketUpgrade("missing Upgrade: websocket"),
                };
                self.write_error(&mut stream, &e).await;
                Err(Error::Handshake(e))
            }
        }
    }

    /// Reads the HTTP request. An upgrade request comes back as
    /// [`Incoming::WebSocket`] (finish it with [`PendingUpgrade::accept`] or
    /// [`PendingUpgrade::reject`]); any other request as [`Incoming::Http`], with the
    /// stream, for the caller to answer (e.g. a page on `GET /`). A malformed request
    /// gets a 400 (or 431) response and an error.
    pub async fn read_request<S>(&self, mut stream: S) -> Result<Incoming<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut hs = self.server_handshake();
        let read = async {
            let mut buf = vec![0u8; 4096];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(Error::Io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the client closed the connection before a whole request",
                    )));
                }
                match hs.feed(&buf[..n]) {
                    Ok(Some(request)) => return Ok(request),
                    Ok(None) => {}
                    Err(e) => return Err(Error::Handshake(e)),
                }
            }
        };
        let request = match tokio::time::timeout(self.handshake_timeout, read).await {
            Err(_) => return Err(Error::Timeout("WebSocket handshake")),
            Ok(Err(Error::Handshake(e))) => {
                self.write_error(&mut stream, &e).await;
                return Err(Error::Handshake(e));
            }
            Ok(Err(e)) => return Err(e),
            Ok(Ok(request)) => request,
        };
        if request.is_upgrade() {
            Ok(Incoming::WebSocket(PendingUpgrade {
                stream,
                handshake: hs,
                request,
                timeout: self.handshake_timeout,
            }))
        } else {
            Ok(Incoming::Http { request, stream })
        }
    }

    async fn write_error<S: AsyncWrite + Unpin>(&self, stream: &mut S, e: &HandshakeError) {
        if let Some(response) = e.response() {
            let write = async {
                stream.write_all(&response).await?;
                stream.shutdown().await
            };
            let _ = tokio::time::timeout(self.handshake_timeout, write).await;
        }
    }
}

/// What [`ServerBuilder::read_request`] read.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived: taken apart right after the request
pub enum Incoming<S> {
    /// A WebSocket upgrade request, to accept or reject.
    WebSocket(PendingUpgrade<S>),
    /// Any other HTTP request, for the caller to answer on `stream` (bytes the client
    /// sent after the request's head, such as a body, are not kept).
    Http {
        /// The request.
        request: Request,
        /// The connection, positioned after the request's head.
        stream: S,
    },
}

/// An upgrade request read by [`ServerBuilder::read_request`], not answered yet.
#[derive(Debug)]
pub struct PendingUpgrade<S> {
    stream: S,
    handshake: ServerHandshake,
    request: Request,
    timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> PendingUpgrade<S> {
    /// The request: path, headers, offered subprotocols.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Accepts the upgrade with `subprotocol` (which the client must have offered):
    /// writes the `101` response and returns the socket. An invalid upgrade request
    /// gets its error response (400, 405, 426) and an [`Error::Handshake`].
    pub async fn accept(mut self, subprotocol: Option<&str>) -> Result<WebSocket<S>> {
        let accept = Accept {
            subprotocol: subprotocol.map(String::from),
            headers: HeaderMap::new(),
        };
        match self.handshake.accept(&self.request, accept) {
            Ok((response, connection)) => {
                let write = async {
                    self.stream.write_all(&response).await?;
                    self.stream.flush().await
                };
                tokio::time::timeout(self.timeout, write)
                    .await
                    .map_err(|_| Error::Timeout("WebSocket handshake"))??;
                Ok(WebSocket::from_connection(self.stream, connection)
                    .with_subprotocol(subprotocol.map(String::from)))
            }
            Err(e) => {
                if let Some(response) = e.response() {
                    let write = async {
                        self.stream.write_all(&response).await?;
                        self.stream.shutdown().await
                    };
                    let _ = tokio::time::timeout(self.timeout, write).await;
                }
                Err(Error::from(e))
            }
        }
    }

    /// Rejects the upgrade with `response` (`Content-Length` and `Connection: close`
    /// are added when missing), then closes the connection.
    pub async fn reject(mut self, response: http::Response<String>) -> Result<()> {
        let bytes = encode_response(response);
        let write = async {
            self.stream.write_all(&bytes).await?;
            self.stream.shutdown().await
        };
        tokio::time::timeout(self.timeout, write)
            .await
            .map_err(|_| Error::Timeout("WebSocket handshake"))??;
        Ok(())
    }
}

/// An HTTP/1.1 response with a body, as bytes.
pub(crate) fn encode_response(response: http::Response<String>) -> Vec<u8> {
    let (parts, body) = response.into_parts();
    let status: StatusCode = parts.status;
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !parts.headers.contains_key(CONTENT_LENGTH) {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    if !parts.headers.contains_key(CONNECTION) {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}
