//! The client: [`connect`] and [`ClientBuilder`].
//!
//! A connection is made in three steps, each its own function:
//! 1. [`open_tcp`](ClientBuilder::open_tcp): resolve and connect (Happy Eyeballs), or
//!    reach the server through a proxy;
//! 2. [`start_tls`](ClientBuilder::start_tls): for `wss://`, TLS with SNI and an ALPN
//!    list;
//! 3. [`handshake_over`](ClientBuilder::handshake_over): the WebSocket handshake over
//!    the stream.
//!
//! Redirects (opt-in) repeat the three steps for the new URL.

use std::sync::Arc;
use std::time::Duration;

use http::Response;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use wspc::deflate::{DeflateClient, DeflateOptions};
use wspc::{ClientHandshake, ClientRequest};

use crate::error::{Error, Result};
use crate::happy_eyeballs;
use crate::into_request::IntoClientRequest;
use crate::options::Options;
use crate::proxy::{self, Proxy, ProxySetting};
use crate::redirect::{self, RedirectError};
use crate::socket::WebSocket;
use crate::stream::MaybeTlsStream;
use crate::tls::{ALPN_HTTP11, ClientTls, Given, certs_from_pem};

/// Default bound on resolving and on each connection attempt.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on the TLS and WebSocket handshakes.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to a `ws://` or `wss://` URL — a `&str`, an `http::Uri`, or a whole
/// `http::Request<()>` ([`IntoClientRequest`]) — with the defaults (the proxy the
/// environment names, webpki roots, no compression, no redirects, 30 s connect and
/// handshake timeouts) and returns the socket and the server's `101` response.
///
/// ```no_run
/// # async fn f() -> wspc_tokio::Result<()> {
/// let (mut ws, _response) = wspc_tokio::connect("wss://echo.example/").await?;
/// ws.send(wspc_tokio::Message::text("hi")).await?;
/// # Ok(()) }
/// ```
pub async fn connect(
    request: impl IntoClientRequest,
) -> Result<(WebSocket<MaybeTlsStream>, Response<()>)> {
    ClientBuilder::new(request)?.connect().await
}

/// A client connection, configured step by step: subprotocols, headers, options,
/// permessage-deflate, proxy, TLS, redirects, timeouts.
///
/// ```no_run
/// use std::time::Duration;
/// use wspc_tokio::{ClientBuilder, DeflateOptions, Options, Proxy};
///
/// # async fn f() -> wspc_tokio::Result<()> {
/// let (ws, response) = ClientBuilder::new("wss://localhost:8443/chat")?
///     .subprotocol("chat.v1")
///     .header("Authorization", "Bearer abc")?
///     .options(Options::default().keepalive(Duration::from_secs(20), Duration::from_secs(10)))
///     .deflate(Some(DeflateOptions::default()))
///     .tls_root_ca_pem(&std::fs::read("ca.pem")?)?
///     .proxy(Proxy::new("http://proxy.internal:3128")?)
///     .max_redirects(3)
///     .connect_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// println!("subprotocol {:?}, deflate {:?}", ws.subprotocol(), ws.deflate());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    request: ClientRequest,
    options: Options,
    deflate_client: Option<DeflateClient>,
    tls: ClientTls,
    proxy: ProxySetting,
    max_redirects: usize,
    connect_timeout: Duration,
    handshake_timeout: Duration,
    #[cfg(feature = "http2")]
    http2: bool,
}

impl ClientBuilder {
    /// A builder for a request: a `ws://`/`wss://` URL (`&str`, `&String`,
    /// `http::Uri`), a whole `http::Request<()>`, or a `wspc::ClientRequest`.
    pub fn new(request: impl IntoClientRequest) -> Result<ClientBuilder> {
        Ok(ClientBuilder {
            request: request.into_client_request()?,
            options: Options::default(),
            deflate_client: None,
            tls: ClientTls::default(),
            proxy: ProxySetting::default(),
            max_redirects: 0,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            #[cfg(feature = "http2")]
            http2: false,
        })
    }

    /// Offers a subprotocol (call again for more, most preferred first).
    pub fn subprotocol(mut self, name: &str) -> Self {
        self.request = self.request.subprotocol(name);
        self
    }

    /// Adds a header to the upgrade request (the handshake's own headers are refused).
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        self.request = self.request.header(name, value)?;
        Ok(self)
    }

    /// Limits, keepalive, timeouts, write buffer bound (see [`Options`]). Its
    /// [`deflate`](Options::deflate) setting is used unless
    /// [`ClientBuilder::deflate`] is called afterwards.
    pub fn options(mut self, o: Options) -> Self {
        self.options = o;
        self
    }

    /// Offers permessage-deflate (`permessage-deflate; client_max_window_bits`) with
    /// these compression options; `None` offers nothing.
    pub fn deflate(mut self, o: Option<DeflateOptions>) -> Self {
        self.options.deflate = o;
        self.deflate_client = None;
        self
    }

    /// Offers permessage-deflate exactly as `client` says (several offers, window
    /// bits, context takeover).
    pub fn deflate_offers(mut self, client: DeflateClient) -> Self {
        self.options.deflate = Some(client.options);
        self.deflate_client = Some(client);
        self
    }

    /// Connects through `proxy`, whatever the environment says (hosts in its
    /// [`bypass`](Proxy::bypass) list are reached directly).
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = ProxySetting::Fixed(proxy);
        self
    }

    /// Connects directly, ignoring the proxy environment variables.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::Off;
        self
    }

    /// Uses the proxy the environment names (the default; see
    /// [`Proxy::from_env`]): the variables are read when connecting.
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxySetting::FromEnv;
        self
    }

    /// Uses this rustls configuration for `wss://` — client certificates, custom
    /// verifiers, pinned roots, a crypto provider of your choice. When it names no ALPN
    /// protocol, a copy offering `http/1.1` is used. The trust settings of this builder
    /// (`tls_root_ca_pem`, …) are then not used.
    pub fn tls_config(mut self, config: Arc<ClientConfig>) -> Self {
        self.tls.given = Some(Given::Config(config));
        self
    }

    /// Uses this connector for `wss://`, as it is (its configuration's ALPN included).
    pub fn tls_connector(mut self, connector: TlsConnector) -> Self {
        self.tls.given = Some(Given::Connector(connector));
        self
    }

    /// Trusts the CA certificate(s) in `pem` in addition to the webpki roots.
    pub fn tls_root_ca_pem(mut self, pem: &[u8]) -> Result<Self> {
        self.tls.trust.extra_roots.extend(certs_from_pem(pem)?);
        Ok(self)
    }

    /// Trusts only the CAs given with [`tls_root_ca_pem`](Self::tls_root_ca_pem) (and
    /// the native roots if asked for), not the webpki roots.
    pub fn only_custom_roots(mut self) -> Self {
        self.tls.trust.no_webpki_roots = true;
        self
    }

    /// Also trusts the operating system's certificate store (needs the `native-roots`
    /// feature; without it this changes nothing).
    pub fn native_roots(mut self) -> Self {
        self.tls.trust.native_roots = true;
        self
    }

    /// Shows this client certificate (chain and key, PEM) to servers that ask for one
    /// (mutual TLS).
    pub fn tls_client_auth_pem(mut self, cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        self.tls.trust.set_identity_pem(cert_chain_pem, key_pem)?;
        Ok(self)
    }

    /// Accepts any server certificate, for any host. Testing only: this disables the
    /// protection TLS gives against a man in the middle.
    pub fn danger_accept_invalid_certs(mut self) -> Self {
        self.tls.trust.insecure = true;
        self
    }

    /// Follows up to `n` redirects of the upgrade request (301, 302, 303, 307, 308 with
    /// a `Location`; never from `wss://` down to `ws://`; `Authorization` and `Cookie`
    /// only to the same origin). Default 0: a redirect is an [`Error::Status`].
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }

    /// Bound on resolving the host and on each TCP connection attempt (and on a
    /// proxy's handshake). Default 30 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Bound on the TLS handshake and, separately, the WebSocket handshake (default
    /// 30 s).
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = d;
        self
    }

    /// Opens the WebSocket over HTTP/2 (RFC 8441) when the server allows it (feature
    /// `http2`): for `wss://`, TLS offers ALPN `h2` and `http/1.1`; for `ws://`, HTTP/2
    /// with prior knowledge (h2c). When the server does not speak HTTP/2 or does not
    /// advertise extended CONNECT, the connection falls back to HTTP/1.1 (a new
    /// connection where the first one was HTTP/2). The response's
    /// [`version`](http::Response::version) and [`MaybeTlsStream::is_http2`] tell which
    /// was used.
    #[cfg(feature = "http2")]
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// Connects (directly or through the proxy, then TLS for `wss://` with SNI and
    /// ALPN `http/1.1`) and runs the WebSocket handshake, following redirects if asked.
    pub async fn connect(self) -> Result<(WebSocket<MaybeTlsStream>, Response<()>)> {
        // The connection's setup state lives on the heap only while it runs.
        Box::pin(self.connect_following()).await
    }

    async fn connect_following(self) -> Result<(WebSocket<MaybeTlsStream>, Response<()>)> {
        let mut request = self.request.clone();
        let mut followed = 0;
        loop {
            match self.connect_once(request.clone()).await {
                Err(Error::Status { status, headers })
                    if self.max_redirects > 0 && redirect::is_redirect(status) =>
                {
                    if followed == self.max_redirects {
                        return Err(RedirectError::TooMany {
                            max: self.max_redirects,
                        }
                        .into());
                    }
                    request = redirect::next_request(&request, &headers)?;
                    followed += 1;
                    tracing::debug!("following a {status} redirect to {}", request.uri());
                }
                other => return other,
            }
        }
    }

    /// The three steps, once.
    async fn connect_once(
        &self,
        request: ClientRequest,
    ) -> Result<(WebSocket<MaybeTlsStream>, Response<()>)> {
        #[cfg(feature = "http2")]
        if self.http2 {
            match self.connect_http2(&request).await {
                Ok(Some(connected)) => return Ok(connected),
                Ok(None) => {}
                Err(e) => tracing::debug!("HTTP/2 failed ({e}); falling back to HTTP/1.1"),
            }
        }
        let tcp = self.open_tcp(&request).await?;
        let stream = if request.is_tls() {
            MaybeTlsStream::Tls(self.start_tls(tcp, request.host(), &[ALPN_HTTP11]).await?)
        } else {
            MaybeTlsStream::Plain(tcp)
        };
        self.handshake_over(stream, request).await
    }

    /// The steps over HTTP/2: TCP, TLS offering `h2` first (or h2c with prior knowledge
    /// for `ws://`), the HTTP/2 handshake, the extended CONNECT. `Ok(None)` when TLS
    /// chose HTTP/1.1 — then it goes on on the TLS stream it has: `Ok(Some)` then too.
    /// An `Err` (no HTTP/2, no extended CONNECT) makes the caller start over with HTTP/1.1.
    #[cfg(feature = "http2")]
    async fn connect_http2(
        &self,
        request: &ClientRequest,
    ) -> Result<Option<(WebSocket<MaybeTlsStream>, Response<()>)>> {
        use crate::h2::Http2Connection;
        const ALPN_H2: &[u8] = b"h2";
        let tcp = self.open_tcp(request).await?;
        let connection = if request.is_tls() {
            let tls = self
                .start_tls(tcp, request.host(), &[ALPN_H2, ALPN_HTTP11])
                .await?;
            if tls.get_ref().1.alpn_protocol() != Some(ALPN_H2) {
                let stream = MaybeTlsStream::Tls(tls);
                return self.handshake_over(stream, request.clone()).await.map(Some);
            }
            tokio::time::timeout(self.handshake_timeout, Http2Connection::handshake(tls)).await
        } else {
            tokio::time::timeout(self.handshake_timeout, Http2Connection::handshake(tcp)).await
        }
        .map_err(|_| Error::Timeout("HTTP/2 handshake"))??;
        let request = self.configured(request.clone());
        let (stream, established) =
            tokio::time::timeout(self.handshake_timeout, connection.open(request))
                .await
                .map_err(|_| Error::Timeout("WebSocket handshake"))??;
        let ws = WebSocket::from_parts(
            MaybeTlsStream::Http2(stream),
            established.connection,
            established.subprotocol,
        );
        Ok(Some((ws, established.response)))
    }

    /// Step 1: a TCP stream to the server — connected directly (every resolved address,
    /// Happy Eyeballs), or a tunnel through the proxy that applies.
    async fn open_tcp(&self, request: &ClientRequest) -> Result<TcpStream> {
        let (host, port) = (request.host(), request.port());
        match self.proxy.resolve(request.is_tls(), host)? {
            None => happy_eyeballs::connect_host(host, port, self.connect_timeout).await,
            Some(p) => {
                tracing::debug!("connecting to {host}:{port} through {p}");
                proxy::connect_via(&p, host, port, self.connect_timeout).await
            }
        }
    }

    /// Step 2: TLS over `tcp` for `host` (SNI), offering `alpn`.
    async fn start_tls(
        &self,
        tcp: TcpStream,
        host: &str,
        alpn: &[&[u8]],
    ) -> Result<TlsStream<TcpStream>> {
        let connector = self.tls.connector(alpn)?;
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| Error::InvalidUrl(format!("{host} is not a valid TLS name")))?;
        tokio::time::timeout(self.handshake_timeout, connector.connect(name, tcp))
            .await
            .map_err(|_| Error::Timeout("TLS handshake"))?
            .map_err(Error::from_tls_io)
    }

    /// Step 3: the WebSocket handshake for `request` over `stream`.
    async fn handshake_over<S>(
        &self,
        stream: S,
        request: ClientRequest,
    ) -> Result<(WebSocket<S>, Response<()>)>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let request = self.configured(request);
        tokio::time::timeout(self.handshake_timeout, Box::pin(handshake(stream, request)))
            .await
            .map_err(|_| Error::Timeout("WebSocket handshake"))?
    }

    /// `request` with the builder's engine configuration and deflate offers.
    fn configured(&self, request: ClientRequest) -> ClientRequest {
        let mut request = request.config(self.options.to_engine_config());
        if let Some(client) = self.deflate_client.clone().or_else(|| {
            self.options.deflate.map(|options| DeflateClient {
                options,
                ..DeflateClient::default()
            })
        }) {
            request = request.extension(Arc::new(client));
        }
        request
    }

    /// Runs the WebSocket handshake over a stream the caller connected (any transport;
    /// the request supplies the path and `Host`). No proxy, TLS or redirect is involved.
    pub async fn connect_on<S>(self, stream: S) -> Result<(WebSocket<S>, Response<()>)>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let request = self.request.clone();
        self.handshake_over(stream, request).await
    }
}

async fn handshake<S>(mut stream: S, request: ClientRequest) -> Result<(WebSocket<S>, Response<()>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut hs = ClientHandshake::new(request)?;
    stream
        .write_all(hs.request_bytes())
        .await
        .map_err(Error::from_tls_io)?;
    stream.flush().await.map_err(Error::from_tls_io)?;
    // Uninitialised: the head is read into it, no 4 KiB zeroed per connection.
    let mut buf = bytes::BytesMut::with_capacity(4096);
    loop {
        // A TLS alert (a server that wanted a client certificate) surfaces here, as
        // Error::Tls.
        buf.clear();
        let n = stream
            .read_buf(&mut buf)
            .await
            .map_err(Error::from_tls_io)?;
        if n == 0 {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection during the WebSocket handshake",
            )));
        }
        if let Some(established) = hs.feed(&buf[..n])? {
            let ws = WebSocket::from_parts(stream, established.connection, established.subprotocol);
            return Ok((ws, established.response));
        }
    }
}
