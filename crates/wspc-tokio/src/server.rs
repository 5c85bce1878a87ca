//! The server: [`accept`], [`accept_with`], [`ServerBuilder`] and the two-step
//! [`ServerBuilder::read_request`] for servers that also answer plain HTTP.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::HeaderValue;
use http::header::CONNECTION;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wspc::deflate::{DeflateOptions, DeflateServer};
use wspc::extension::ServerExtension;
use wspc::handshake::{Accept, HandshakeError, ReceivedHead, ServerHandshake, Upgrade, http1};

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

/// Accepts a connection after `f` looked at the request (path, headers) and the
/// validated [`Upgrade`] (offered subprotocols and extensions): `Ok(accept)` answers with
/// the [`Accept`]'s subprotocol (one the client offered) and extra response headers
/// (cookies …), `Err(response)` rejects the upgrade with that HTTP response
/// ([`Error::Rejected`]).
///
/// ```no_run
/// use wspc_tokio::Accept;
///
/// # async fn f(tcp: tokio::net::TcpStream) -> wspc_tokio::Result<()> {
/// let ws = wspc_tokio::accept_with(tcp, |req, upgrade| {
///     if req.uri().path() != "/chat" {
///         return Err(http::Response::builder().status(404).body("no such room".into()).unwrap());
///     }
///     let protocol = upgrade.select_subprotocol(&["chat.v1"]).map(String::from);
///     Ok(Accept::default().with_subprotocol(protocol).with_header("set-cookie", "seen=1").unwrap())
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn accept_with<S, F>(stream: S, f: F) -> Result<WebSocket<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&http::Request<()>, &Upgrade) -> std::result::Result<Accept, http::Response<String>>,
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
#[derive(Clone)]
pub struct ServerBuilder {
    // Behind one `Arc`: a clone per connection is a reference count, and the task that
    // holds the builder stays small.
    settings: Arc<Settings>,
}

#[derive(Clone)]
struct Settings {
    options: Options,
    deflate_server: Option<DeflateServer>,
    subprotocols: Vec<String>,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.settings;
        f.debug_struct("ServerBuilder")
            .field("options", &s.options)
            .field("deflate_server", &s.deflate_server)
            .field("subprotocols", &s.subprotocols)
            .field("handshake_timeout", &s.handshake_timeout)
            .finish()
    }
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
            settings: Arc::new(Settings {
                options: Options::default(),
                deflate_server: None,
                subprotocols: Vec::new(),
                handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            }),
        }
    }

    /// Limits, keepalive, close timeout, write buffer bound (see [`Options`]); its
    /// deflate setting decides whether offers are accepted.
    pub fn options(mut self, o: Options) -> Self {
        let s = Arc::make_mut(&mut self.settings);
        s.options = o;
        s.deflate_server = None;
        self
    }

    /// Accepts permessage-deflate offers (any valid offer, with the client's requested
    /// parameters), compressing with these options; `None` declines them.
    pub fn deflate(mut self, o: Option<DeflateOptions>) -> Self {
        let s = Arc::make_mut(&mut self.settings);
        s.options.deflate = o;
        s.deflate_server = None;
        self
    }

    /// Accepts permessage-deflate under the policy `server` gives (window bits, context
    /// takeover).
    pub fn deflate_policy(mut self, server: DeflateServer) -> Self {
        let s = Arc::make_mut(&mut self.settings);
        s.options.deflate = Some(server.options);
        s.deflate_server = Some(server);
        self
    }

    /// The subprotocols this server speaks; the first the client offers (in the
    /// client's order) is selected by [`accept`](Self::accept).
    pub fn subprotocols(mut self, names: &[&str]) -> Self {
        Arc::make_mut(&mut self.settings).subprotocols =
            names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Bound on reading the request and on writing the response (default 30 s).
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        Arc::make_mut(&mut self.settings).handshake_timeout = d;
        self
    }

    /// The permessage-deflate policy, if offers are accepted.
    fn deflate_policy_or_default(&self) -> Option<DeflateServer> {
        let s = &self.settings;
        s.deflate_server.or_else(|| {
            s.options.deflate.map(|options| DeflateServer {
                options,
                ..DeflateServer::default()
            })
        })
    }

    fn server_handshake(&self) -> ServerHandshake {
        let mut hs = ServerHandshake::new(self.settings.options.to_engine_config());
        if let Some(policy) = self.deflate_policy_or_default() {
            hs = hs.with_extension(Arc::new(policy));
        }
        hs
    }

    /// The engine's answer to a validated `upgrade` with this builder's settings: the
    /// subprotocol (`accept`'s, or else the first of
    /// [`subprotocols`](Self::subprotocols) the client offered), permessage-deflate
    /// negotiated under the builder's policy, `accept`'s headers; returns the response
    /// (`101`, or `200` over HTTP/2) and the engine [`Connection`](wspc::Connection) to run
    /// with [`WebSocket::from_connection`] once the transport is handed over. Every way of
    /// accepting (bytes, hyper, HTTP/2, axum) goes through here.
    pub fn answer(
        &self,
        upgrade: &Upgrade,
        accept: Accept,
    ) -> std::result::Result<(http::Response<()>, wspc::Connection), HandshakeError> {
        upgrade.accept(
            self.complete(upgrade, accept),
            self.settings.options.to_engine_config(),
        )
    }

    /// `accept` completed with the builder's choices: the subprotocol and
    /// permessage-deflate, unless it has them.
    fn complete(&self, upgrade: &Upgrade, mut accept: Accept) -> Accept {
        if accept.subprotocol.is_none() {
            accept.subprotocol = upgrade
                .select_subprotocol(&self.settings.subprotocols)
                .map(String::from);
        }
        if accept.extension.is_none()
            && let Some(policy) = self.deflate_policy_or_default()
        {
            let policy: Arc<dyn ServerExtension> = Arc::new(policy);
            accept.extension = upgrade.negotiate(&[policy]);
        }
        accept
    }

    /// Accepts a connection, selecting a subprotocol from
    /// [`subprotocols`](Self::subprotocols).
    #[allow(clippy::result_large_err)] // the rejection is an http::Response, by contract
    pub async fn accept<S>(&self, stream: S) -> Result<WebSocket<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        // As `accept_with`, boxed; the request is never turned into `http` values.
        Box::pin(self.accept_inner(stream)).await
    }

    /// Accepts a connection after `f` looked at the request, as [`accept_with`].
    pub async fn accept_with<S, F>(&self, stream: S, f: F) -> Result<WebSocket<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(
            &http::Request<()>,
            &Upgrade,
        ) -> std::result::Result<Accept, http::Response<String>>,
    {
        // The handshake's state lives on the heap only while it runs: a task that
        // accepts and then serves the socket for hours does not keep room for it.
        Box::pin(self.accept_with_inner(stream, f)).await
    }

    async fn accept_inner<S>(&self, mut stream: S) -> Result<WebSocket<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut hs = self.server_handshake();
        let upgrade = self
            .read_head(&mut stream, &mut hs, ServerHandshake::received_upgrade)
            .await?;
        self.finish(stream, &upgrade, Accept::default(), hs.buffered())
            .await
    }

    async fn accept_with_inner<S, F>(&self, mut stream: S, f: F) -> Result<WebSocket<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(
            &http::Request<()>,
            &Upgrade,
        ) -> std::result::Result<Accept, http::Response<String>>,
    {
        // The same steps as `read_request` and `PendingUpgrade`, with the stream, request
        // and upgrade left in place (no `PendingUpgrade` moved from future to future).
        let mut hs = self.server_handshake();
        let request = self
            .read_head(&mut stream, &mut hs, ServerHandshake::received)
            .await?;
        // (A valid upgrade has `Upgrade: websocket`: `requests_websocket` holds.)
        let upgrade = match Upgrade::from_request(&request) {
            Ok(upgrade) => upgrade,
            Err(e) => {
                write_error(&mut stream, &e, self.settings.handshake_timeout).await;
                return Err(Error::Handshake(e));
            }
        };
        match f(&request, &upgrade) {
            Ok(accept) => self.finish(stream, &upgrade, accept, hs.buffered()).await,
            Err(response) => {
                let status = response.status();
                reject(&mut stream, response, self.settings.handshake_timeout).await?;
                Err(Error::Rejected { status })
            }
        }
    }

    /// Reads the request head into `hs` (which keeps the bytes that came behind it) until
    /// `complete` (the handshake's `received` or `received_upgrade`) has its result; an
    /// error gets its response (400, 405, 426, 431).
    async fn read_head<S, T>(
        &self,
        stream: &mut S,
        hs: &mut ServerHandshake,
        complete: fn(&mut ServerHandshake) -> std::result::Result<Option<T>, HandshakeError>,
    ) -> Result<T>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let read = async {
            loop {
                // Straight into the handshake's buffer (no copy), which grows with the
                // bytes received and has room for at least one: 0 is the end of the stream.
                let n = stream.read_buf(hs.read_buf()).await?;
                if n == 0 {
                    return Err(Error::Io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the client closed the connection before a whole request",
                    )));
                }
                match complete(hs) {
                    Ok(Some(request)) => return Ok(request),
                    Ok(None) => {}
                    Err(e) => return Err(Error::Handshake(e)),
                }
            }
        };
        match bounded(self.settings.handshake_timeout, read).await {
            Err(_) => Err(Error::Timeout("WebSocket handshake")),
            Ok(Err(Error::Handshake(e))) => {
                write_error(stream, &e, self.settings.handshake_timeout).await;
                Err(Error::Handshake(e))
            }
            Ok(Err(e)) => Err(e),
            Ok(Ok(done)) => Ok(done),
        }
    }

    /// Answers a validated `upgrade` (see [`answer`](Self::answer)) on `stream`: writes
    /// the `101` (or the error response of an `accept` that cannot be answered) and
    /// returns the socket, its connection fed with the bytes that came behind the request.
    /// (The socket is made here: the connection is not moved out of this future and into
    /// another.)
    async fn finish<S>(
        &self,
        mut stream: S,
        upgrade: &Upgrade,
        accept: Accept,
        buffered: &[u8],
    ) -> Result<WebSocket<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let timeout = self.settings.handshake_timeout;
        let accept = self.complete(upgrade, accept);
        let subprotocol = accept.subprotocol.clone();
        let mut head = Vec::with_capacity(192);
        match upgrade.accept_into(accept, self.settings.options.to_engine_config(), &mut head) {
            Ok(mut connection) => {
                let write = async {
                    stream.write_all(&head).await?;
                    stream.flush().await
                };
                bounded(timeout, write)
                    .await
                    .map_err(|_| Error::Timeout("WebSocket handshake"))??;
                connection.feed(buffered);
                Ok(WebSocket::from_parts(stream, connection, subprotocol))
            }
            Err(e) => {
                write_error(&mut stream, &e, timeout).await;
                Err(Error::from(e))
            }
        }
    }

    /// Reads the HTTP request. A request that asks for a WebSocket (`Upgrade:
    /// websocket`) is validated: a valid one comes back as [`Incoming::WebSocket`]
    /// (finish it with [`PendingUpgrade::accept`] or [`PendingUpgrade::reject`]), an
    /// invalid one gets its error response (400, 405, 426) and an [`Error::Handshake`].
    /// Any other request comes back as [`Incoming::Http`], with the stream, for the
    /// caller to answer (e.g. a page on `GET /`). A malformed request gets a 400 (or 431)
    /// response and an error.
    pub async fn read_request<S>(&self, mut stream: S) -> Result<Incoming<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut hs = self.server_handshake();
        // A clean upgrade (the usual case) is validated without `http` values; its
        // request is built only if someone asks for it.
        let request = match self
            .read_head(&mut stream, &mut hs, ServerHandshake::received_head)
            .await?
        {
            ReceivedHead::Upgrade { upgrade, uri } => {
                return Ok(Incoming::WebSocket(PendingUpgrade {
                    stream,
                    builder: self.clone(),
                    handshake: hs,
                    uri,
                    request: OnceLock::new(),
                    upgrade,
                }));
            }
            ReceivedHead::Request(request) => request,
        };
        if !wspc::handshake::requests_websocket(request.headers()) {
            return Ok(Incoming::Http { request, stream });
        }
        match Upgrade::from_request(&request) {
            Ok(upgrade) => Ok(Incoming::WebSocket(PendingUpgrade {
                stream,
                builder: self.clone(),
                handshake: hs,
                uri: request.uri().clone(),
                request: OnceLock::from(request),
                upgrade,
            })),
            Err(e) => {
                write_error(&mut stream, &e, self.settings.handshake_timeout).await;
                Err(Error::Handshake(e))
            }
        }
    }
}

/// `tokio::time::timeout(limit, f)`, without reading the clock or making a timer when `f`
/// is ready at once (the request already arrived, the response fits the socket buffer).
async fn bounded<F: std::future::Future>(
    limit: Duration,
    f: F,
) -> std::result::Result<F::Output, tokio::time::error::Elapsed> {
    let mut f = std::pin::pin!(f);
    if let std::task::Poll::Ready(out) =
        std::future::poll_fn(|cx| std::task::Poll::Ready(f.as_mut().poll(cx))).await
    {
        return Ok(out);
    }
    tokio::time::timeout(limit, f).await
}

/// Writes `e`'s error response, if it has one, and closes the stream (bounded by
/// `timeout`).
async fn write_error<S: AsyncWrite + Unpin>(stream: &mut S, e: &HandshakeError, timeout: Duration) {
    if let Some(response) = e.response() {
        let bytes = http1::encode_response(&response);
        let write = async {
            stream.write_all(&bytes).await?;
            stream.shutdown().await
        };
        let _ = tokio::time::timeout(timeout, write).await;
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
        request: http::Request<()>,
        /// The connection, positioned after the request's head.
        stream: S,
    },
}

/// A valid upgrade request read by [`ServerBuilder::read_request`], not answered yet.
#[derive(Debug)]
pub struct PendingUpgrade<S> {
    stream: S,
    builder: ServerBuilder,
    /// The handshake, for the bytes that came behind the head (kept, not copied).
    handshake: ServerHandshake,
    /// The request target.
    uri: http::Uri,
    /// The request as `http` values, built on the first [`request`](Self::request) call
    /// for a clean upgrade (read without them).
    request: OnceLock<http::Request<()>>,
    upgrade: Upgrade,
}

impl<S: AsyncRead + AsyncWrite + Unpin> PendingUpgrade<S> {
    /// The request: path, headers. (A clean upgrade is read without `http` values: they
    /// are built from the kept head on the first call.)
    pub fn request(&self) -> &http::Request<()> {
        self.request.get_or_init(|| {
            // The head was parsed as a clean upgrade, which the engine only finds in a
            // head its request parser takes (tested there); the fallback keeps this
            // free of panics all the same.
            self.handshake.request().ok().flatten().unwrap_or_else(|| {
                let mut request = http::Request::new(());
                *request.uri_mut() = self.uri.clone();
                request
            })
        })
    }

    /// The request target (path and query), without building the request.
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// The validated upgrade: offered subprotocols and extensions.
    pub fn upgrade(&self) -> &Upgrade {
        &self.upgrade
    }

    /// Accepts the upgrade: `accept`'s subprotocol (one the client offered; when `None`,
    /// the first of the builder's [`subprotocols`](ServerBuilder::subprotocols) the
    /// client offered) and headers, permessage-deflate under the builder's policy. Writes
    /// the `101` response and returns the socket. A subprotocol the client did not offer
    /// gets a 400 and an [`Error::Handshake`].
    pub async fn accept(self, accept: Accept) -> Result<WebSocket<S>> {
        self.builder
            .finish(
                self.stream,
                &self.upgrade,
                accept,
                self.handshake.buffered(),
            )
            .await
    }

    /// Rejects the upgrade with `response` (`Connection: close` is added when missing),
    /// then closes the connection.
    pub async fn reject(mut self, response: http::Response<String>) -> Result<()> {
        reject(
            &mut self.stream,
            response,
            self.builder.settings.handshake_timeout,
        )
        .await
    }
}

/// Writes the rejection `response` (`Connection: close` is added when missing), then
/// closes the connection.
async fn reject<S: AsyncWrite + Unpin>(
    stream: &mut S,
    mut response: http::Response<String>,
    timeout: Duration,
) -> Result<()> {
    if !response.headers().contains_key(CONNECTION) {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    let bytes = http1::encode_response(&response);
    let write = async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await
    };
    tokio::time::timeout(timeout, write)
        .await
        .map_err(|_| Error::Timeout("WebSocket handshake"))??;
    Ok(())
}
