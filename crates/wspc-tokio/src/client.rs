//! The client: [`connect`] and [`ClientBuilder`].

use std::sync::Arc;
use std::time::Duration;

use http::Response;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use wspc::deflate::{DeflateClient, DeflateOptions};
use wspc::{ClientHandshake, ClientRequest};

use crate::error::{Error, Result};
use crate::options::Options;
use crate::socket::WebSocket;
use crate::stream::MaybeTlsStream;
use crate::tls::{ClientTls, certs_from_pem};

/// Default bound on resolving and connecting.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on the TLS and WebSocket handshakes.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to a `ws://` or `wss://` URL with the defaults (webpki roots, no
/// compression, 30 s connect and handshake timeouts) and returns the socket and the
/// server's `101` response.
///
/// ```no_run
/// # async fn f() -> wspc_tokio::Result<()> {
/// let (mut ws, _response) = wspc_tokio::connect("wss://echo.example/").await?;
/// ws.send(wspc_tokio::Message::text("hi")).await?;
/// # Ok(()) }
/// ```
pub async fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream>, Response<()>)> {
    ClientBuilder::new(url)?.connect().await
}

/// A client connection, configured step by step: subprotocols, headers, options,
/// permessage-deflate, TLS trust, timeouts.
///
/// ```no_run
/// use std::time::Duration;
/// use wspc_tokio::{ClientBuilder, DeflateOptions, Options};
///
/// # async fn f() -> wspc_tokio::Result<()> {
/// let (ws, response) = ClientBuilder::new("wss://localhost:8443/chat")?
///     .subprotocol("chat.v1")
///     .header("Authorization", "Bearer abc")?
///     .options(Options::default().keepalive(Duration::from_secs(20), Duration::from_secs(10)))
///     .deflate(Some(DeflateOptions::default()))
///     .tls_root_ca_pem(&std::fs::read("ca.pem")?)?
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
    connect_timeout: Duration,
    handshake_timeout: Duration,
}

impl ClientBuilder {
    /// A builder for `url` (`ws://` or `wss://`).
    pub fn new(url: &str) -> Result<ClientBuilder> {
        Ok(ClientBuilder {
            request: ClientRequest::new(url)?,
            options: Options::default(),
            deflate_client: None,
            tls: ClientTls::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
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

    /// Trusts the CA certificate(s) in `pem` in addition to the webpki roots.
    pub fn tls_root_ca_pem(mut self, pem: &[u8]) -> Result<Self> {
        self.tls.extra_roots.extend(certs_from_pem(pem)?);
        Ok(self)
    }

    /// Trusts only the CAs given with [`tls_root_ca_pem`](Self::tls_root_ca_pem) (and
    /// the native roots if asked for), not the webpki roots.
    pub fn only_custom_roots(mut self) -> Self {
        self.tls.no_webpki_roots = true;
        self
    }

    /// Also trusts the operating system's certificate store (needs the `native-roots`
    /// feature; without it this changes nothing).
    pub fn native_roots(mut self) -> Self {
        self.tls.native_roots = true;
        self
    }

    /// Accepts any server certificate, for any host. Testing only: this disables the
    /// protection TLS gives against a man in the middle.
    pub fn danger_accept_invalid_certs(mut self) -> Self {
        self.tls.insecure = true;
        self
    }

    /// Bound on resolving the host and opening the TCP connection (default 30 s).
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

    /// Resolves, connects (TCP, then TLS for `wss://` with SNI and ALPN `http/1.1`) and
    /// runs the WebSocket handshake.
    pub async fn connect(self) -> Result<(WebSocket<MaybeTlsStream>, Response<()>)> {
        // The connection's setup state lives on the heap only while it runs.
        Box::pin(self.connect_inner()).await
    }

    async fn connect_inner(self) -> Result<(WebSocket<MaybeTlsStream>, Response<()>)> {
        let host = self.request.host().to_string();
        let port = self.request.port();
        let tcp = tokio::time::timeout(self.connect_timeout, tcp_connect(&host, port))
            .await
            .map_err(|_| Error::Timeout("connect"))??;
        let stream = if self.request.is_tls() {
            let config = self.tls.config()?;
            let name = ServerName::try_from(host.clone())
                .map_err(|_| Error::InvalidUrl(format!("{host} is not a valid TLS name")))?;
            let connecting = TlsConnector::from(config).connect(name, tcp);
            let tls = tokio::time::timeout(self.handshake_timeout, connecting)
                .await
                .map_err(|_| Error::Timeout("TLS handshake"))?
                .map_err(Error::from_tls_io)?;
            MaybeTlsStream::Tls(tls)
        } else {
            MaybeTlsStream::Plain(tcp)
        };
        self.connect_on(stream).await
    }

    /// Runs the WebSocket handshake over a stream the caller connected (any transport;
    /// the URL supplies the path and `Host`).
    pub async fn connect_on<S>(self, stream: S) -> Result<(WebSocket<S>, Response<()>)>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut request = self.request.config(self.options.to_engine_config());
        if let Some(client) = self.deflate_client.or_else(|| {
            self.options.deflate.map(|options| DeflateClient {
                options,
                ..DeflateClient::default()
            })
        }) {
            request = request.extension(Arc::new(client));
        }
        tokio::time::timeout(self.handshake_timeout, Box::pin(handshake(stream, request)))
            .await
            .map_err(|_| Error::Timeout("WebSocket handshake"))?
    }
}

/// Resolves `host` and connects to its addresses in turn.
async fn tcp_connect(host: &str, port: u16) -> Result<TcpStream> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| Error::Dns {
            host: host.to_string(),
            source,
        })?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some((addr.to_string(), e)),
        }
    }
    Err(match last {
        Some((addr, source)) => Error::Connect { addr, source },
        None => Error::Dns {
            host: host.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address found"),
        },
    })
}

async fn handshake<S>(mut stream: S, request: ClientRequest) -> Result<(WebSocket<S>, Response<()>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut hs = ClientHandshake::new(request)?;
    stream.write_all(hs.request_bytes()).await?;
    stream.flush().await?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection during the WebSocket handshake",
            )));
        }
        if let Some(established) = hs.feed(&buf[..n])? {
            let ws = WebSocket::from_connection(stream, established.connection)
                .with_subprotocol(established.subprotocol);
            return Ok((ws, established.response));
        }
    }
}
