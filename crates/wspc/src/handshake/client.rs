//! The client side of the opening handshake (RFC 6455 §4.1, RFC 8441 §4): the request
//! as `http` values, the response checked from `http` values, and a thin byte layer.

use std::sync::Arc;

use http::header::{
    CONNECTION, HOST, HeaderName, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, Method, Response, StatusCode, Uri, Version};

use super::head::HeadReader;
use super::{
    HandshakeError, accept_key, check_upgrade_tokens, generate_key, header_joined, http1,
    subprotocol_list, value_has_token,
};
use crate::config::Config;
use crate::connection::{Connection, Role};
use crate::extension::{ClientExtension, Extension, ExtensionHeader};

/// What a client asks for: the URL, subprotocols, extensions, extra headers and the
/// connection's configuration.
///
/// ```
/// use wspc::ClientRequest;
///
/// let request = ClientRequest::new("wss://example.com:8443/feed?x=1").unwrap()
///     .subprotocol("v2.feed")
///     .header("Origin", "https://example.com").unwrap();
/// assert_eq!(request.host(), "example.com");
/// assert_eq!(request.port(), 8443);
/// assert!(request.is_tls());
/// ```
#[derive(Clone, Debug)]
pub struct ClientRequest {
    uri: Uri,
    tls: bool,
    host: String,
    port: u16,
    key: Option<String>,
    subprotocols: Vec<String>,
    extensions: Vec<Arc<dyn ClientExtension>>,
    headers: HeaderMap,
    config: Config,
}

impl ClientRequest {
    /// A request for a `ws://` or `wss://` URL (no fragment).
    pub fn new(url: &str) -> Result<ClientRequest, HandshakeError> {
        if url.contains('#') {
            return Err(HandshakeError::InvalidUrl(
                "fragments are not allowed in WebSocket URLs".into(),
            ));
        }
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| HandshakeError::InvalidUrl(e.to_string()))?;
        ClientRequest::from_uri(uri)
    }

    /// A request for a `ws://` or `wss://` URI.
    pub fn from_uri(uri: Uri) -> Result<ClientRequest, HandshakeError> {
        let url = uri.to_string();
        let tls = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("ws") => false,
            Some("wss") => true,
            _ => {
                return Err(HandshakeError::InvalidUrl(format!(
                    "{url}: the scheme must be ws or wss"
                )));
            }
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| HandshakeError::InvalidUrl(format!("{url}: no host")))?;
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(HandshakeError::InvalidUrl(
                "user information is not supported in the URL".into(),
            ));
        }
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(ClientRequest {
            host: host.to_string(),
            uri,
            tls,
            port,
            key: None,
            subprotocols: Vec::new(),
            extensions: Vec::new(),
            headers: HeaderMap::new(),
            config: Config::default(),
        })
    }

    /// A request from a whole `http::Request` (as tokio-tungstenite's clients build them):
    /// a `GET` of a `ws://` or `wss://` URI. `Sec-WebSocket-Protocol` fields become the
    /// offered subprotocols, a `Sec-WebSocket-Key` is used as the key; `Upgrade`,
    /// `Connection` and `Sec-WebSocket-Version` are accepted when they say what the
    /// handshake sends anyway; every other field (`Origin`, `Cookie`, `Authorization`, …)
    /// is sent as it is. `Host` and `Sec-WebSocket-Extensions` are refused: the host
    /// comes from the URI, extensions from [`extension`](ClientRequest::extension).
    ///
    /// ```
    /// use wspc::ClientRequest;
    ///
    /// let request = http::Request::get("wss://example.com/feed")
    ///     .header("sec-websocket-protocol", "v2.feed, v1.feed")
    ///     .header("cookie", "session=1")
    ///     .body(())
    ///     .unwrap();
    /// let request = ClientRequest::from_http(request).unwrap();
    /// assert_eq!(request.subprotocols(), ["v2.feed", "v1.feed"]);
    /// assert_eq!(request.headers()["cookie"], "session=1");
    /// ```
    pub fn from_http<B>(request: http::Request<B>) -> Result<ClientRequest, HandshakeError> {
        let (parts, _) = request.into_parts();
        if parts.method != Method::GET {
            return Err(HandshakeError::MethodNotAllowed(parts.method.to_string()));
        }
        let mut out = ClientRequest::from_uri(parts.uri)?;
        out.subprotocols = subprotocol_list(&parts.headers).map(String::from).collect();
        let mut keys = parts.headers.get_all(SEC_WEBSOCKET_KEY).iter();
        if let Some(key) = keys.next() {
            let key = key
                .to_str()
                .map_err(|_| HandshakeError::InvalidHeader("Sec-WebSocket-Key".into()))?;
            if keys.next().is_some() {
                return Err(HandshakeError::InvalidHeader(
                    "more than one Sec-WebSocket-Key".into(),
                ));
            }
            out.key = Some(key.trim().to_string());
        }
        let mut name = None;
        for (n, value) in parts.headers {
            let n = match n {
                Some(n) => {
                    name = Some(n.clone());
                    n
                }
                None => match &name {
                    Some(n) => n.clone(),
                    None => continue,
                },
            };
            let implied = (n == UPGRADE && value.as_bytes().eq_ignore_ascii_case(b"websocket"))
                || (n == CONNECTION && value_has_token(&value, "upgrade"))
                || (n == SEC_WEBSOCKET_VERSION && value == "13");
            if implied || n == SEC_WEBSOCKET_PROTOCOL || n == SEC_WEBSOCKET_KEY {
                continue;
            }
            if is_handshake_header(&n) {
                return Err(HandshakeError::InvalidHeader(format!(
                    "{n} is set by the handshake"
                )));
            }
            out.headers.append(n, value);
        }
        Ok(out)
    }

    /// Offers a subprotocol (call again for more, most preferred first).
    pub fn subprotocol(mut self, name: impl Into<String>) -> ClientRequest {
        self.subprotocols.push(name.into());
        self
    }

    /// Offers an extension.
    pub fn extension(mut self, extension: Arc<dyn ClientExtension>) -> ClientRequest {
        self.extensions.push(extension);
        self
    }

    /// Adds a header to the request. The handshake's own headers (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Key`, `-Version`, `-Protocol`, `-Extensions`, `Host`) are refused.
    pub fn header(mut self, name: &str, value: &str) -> Result<ClientRequest, HandshakeError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HandshakeError::InvalidHeader(name.to_string()))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| HandshakeError::InvalidHeader(format!("value of {name}")))?;
        if is_handshake_header(&name) {
            return Err(HandshakeError::InvalidHeader(format!(
                "{name} is set by the handshake"
            )));
        }
        self.headers.append(name, value);
        Ok(self)
    }

    /// The configuration the connection will run with.
    pub fn config(mut self, config: Config) -> ClientRequest {
        self.config = config;
        self
    }

    /// The URL.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The host, without brackets for IPv6 literals (what to resolve and use for SNI).
    pub fn host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The port (80/443 if the URL names none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL is `wss://`.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The offered subprotocols, most preferred first.
    pub fn subprotocols(&self) -> &[String] {
        &self.subprotocols
    }

    /// The extra header fields the request carries.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Host` header value: the host, with the port if it is not the scheme's default.
    pub fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn is_handshake_header(name: &HeaderName) -> bool {
    [
        &HOST,
        &UPGRADE,
        &CONNECTION,
        &SEC_WEBSOCKET_KEY,
        &SEC_WEBSOCKET_VERSION,
        &SEC_WEBSOCKET_PROTOCOL,
        &SEC_WEBSOCKET_EXTENSIONS,
    ]
    .contains(&name)
}

/// The form of the opening handshake.
#[derive(Clone, Debug)]
enum Form {
    /// HTTP/1.1 `GET` + `Upgrade`; a `101` must carry this `Sec-WebSocket-Accept`.
    Http1 { expected_accept: String },
    /// HTTP/2 extended CONNECT (RFC 8441); a `2xx` accepts.
    ExtendedConnect,
}

/// The client side of the opening handshake.
///
/// [`request`](ClientHandshake::request) is the request as an `http::Request` — the
/// HTTP/1.1 upgrade from [`new`](ClientHandshake::new), or the HTTP/2 extended CONNECT
/// from [`extended_connect`](ClientHandshake::extended_connect) — and
/// [`check_response`](ClientHandshake::check_response) takes the server's answer as
/// `http` values. Over a byte stream, write [`request_bytes`](ClientHandshake::request_bytes)
/// and [`feed`](ClientHandshake::feed) the response until it yields the [`Established`]
/// connection.
///
/// ```
/// use wspc::{Accept, ClientHandshake, ClientRequest, Event, Message, ServerHandshake, Config};
///
/// let mut client = ClientHandshake::new(ClientRequest::new("ws://localhost:9001/").unwrap()).unwrap();
/// assert_eq!(client.request().headers()["host"], "localhost:9001");
/// let mut server = ServerHandshake::new(Config::default());
/// let request = server.feed(client.request_bytes()).unwrap().unwrap();
/// let (response, mut server_conn) = server.accept(&request, Accept::default()).unwrap();
///
/// let established = client.feed(&response).unwrap().expect("101");
/// assert_eq!(established.response.status(), 101);
/// let mut client_conn = established.connection;
/// client_conn.send(Message::text("hi")).unwrap();
/// let mut wire = Vec::new();
/// client_conn.write_to(&mut wire).unwrap();
/// server_conn.feed(&wire);
/// assert_eq!(server_conn.poll_event(), Some(Event::Message(Message::text("hi"))));
/// ```
#[derive(Debug)]
pub struct ClientHandshake {
    request: http::Request<()>,
    bytes: Vec<u8>,
    form: Form,
    subprotocols: Vec<String>,
    extensions: Vec<Arc<dyn ClientExtension>>,
    config: Config,
    head: HeadReader,
    done: bool,
}

/// The subprotocol and extension a response selected.
type Negotiated = (Option<String>, Option<Box<dyn Extension>>);

/// A completed client handshake.
#[derive(Debug)]
#[non_exhaustive]
pub struct Established {
    /// The server's response (`101`, or `200` over HTTP/2), without a body.
    pub response: Response<()>,
    /// The subprotocol the server selected, if any.
    pub subprotocol: Option<String>,
    /// The connection, holding any bytes that arrived right behind the response.
    pub connection: Connection,
}

impl ClientHandshake {
    /// The HTTP/1.1 upgrade request (with a fresh `Sec-WebSocket-Key`, unless the request
    /// carries one).
    pub fn new(request: ClientRequest) -> Result<ClientHandshake, HandshakeError> {
        let key = request.key.clone().unwrap_or_else(generate_key);
        ClientHandshake::with_key(request, key)
    }

    /// The HTTP/1.1 request with a given key (for tests and reproducible traces; use
    /// [`ClientHandshake::new`] otherwise).
    pub fn with_key(
        request: ClientRequest,
        key: String,
    ) -> Result<ClientHandshake, HandshakeError> {
        let target = request.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let target = if target.is_empty() { "/" } else { target };
        let mut builder = http::Request::get(target)
            .header(HOST, request.host_header())
            .header(UPGRADE, "websocket")
            .header(CONNECTION, "Upgrade")
            .header(SEC_WEBSOCKET_KEY, key.as_str())
            .header(SEC_WEBSOCKET_VERSION, "13");
        builder = offer_headers(builder, &request)?;
        let http_request = builder
            .body(())
            .map_err(|e| HandshakeError::InvalidHeader(e.to_string()))?;
        let mut bytes = Vec::with_capacity(256);
        http1::write_request_head(&http_request, &mut bytes);
        Ok(ClientHandshake::start(
            http_request,
            bytes,
            Form::Http1 {
                expected_accept: accept_key(&key),
            },
            request,
        ))
    }

    /// The HTTP/2 extended CONNECT request (RFC 8441 §4): `CONNECT` of the `https://` (for
    /// `wss://`) or `http://` URI, `Sec-WebSocket-Version: 13`, no key. The HTTP/2 library
    /// must add the `:protocol` pseudo-header, `websocket`, which `http` values cannot
    /// carry. The server's `2xx` accepts. The connection closes its side of the stream
    /// once the close handshake is over
    /// ([`Config::client_closes_transport`](crate::Config::client_closes_transport)).
    ///
    /// ```
    /// use wspc::{ClientHandshake, ClientRequest};
    ///
    /// let hs = ClientHandshake::extended_connect(ClientRequest::new("wss://example.com/chat").unwrap()).unwrap();
    /// assert_eq!(hs.request().method(), "CONNECT");
    /// assert_eq!(hs.request().uri(), "https://example.com/chat");
    /// assert_eq!(hs.request().version(), http::Version::HTTP_2);
    /// ```
    pub fn extended_connect(request: ClientRequest) -> Result<ClientHandshake, HandshakeError> {
        let scheme = if request.tls { "https" } else { "http" };
        let target = request.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let target = if target.is_empty() { "/" } else { target };
        let uri = format!("{scheme}://{}{target}", request.host_header());
        let mut builder = http::Request::connect(uri)
            .version(Version::HTTP_2)
            .header(SEC_WEBSOCKET_VERSION, "13");
        builder = offer_headers(builder, &request)?;
        let http_request = builder
            .body(())
            .map_err(|e| HandshakeError::InvalidHeader(e.to_string()))?;
        let mut request = request;
        // A stream's end leaves no TIME_WAIT: the client need not wait for the server's.
        request.config.client_closes_transport = true;
        Ok(ClientHandshake::start(
            http_request,
            Vec::new(),
            Form::ExtendedConnect,
            request,
        ))
    }

    fn start(
        http_request: http::Request<()>,
        bytes: Vec<u8>,
        form: Form,
        request: ClientRequest,
    ) -> ClientHandshake {
        ClientHandshake {
            request: http_request,
            bytes,
            form,
            subprotocols: request.subprotocols,
            extensions: request.extensions,
            config: request.config,
            head: HeadReader::default(),
            done: false,
        }
    }

    /// The request, as `http` values.
    pub fn request(&self) -> &http::Request<()> {
        &self.request
    }

    /// The HTTP/1.1 request to write to the transport (empty for extended CONNECT, which
    /// an HTTP/2 library sends).
    pub fn request_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks the server's response (RFC 6455 §4.1: `101`, `Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept`; RFC 8441: a `2xx`), and the subprotocol and extensions it
    /// selected; returns the connection. Any other status is [`HandshakeError::Rejected`].
    pub fn check_response(
        mut self,
        response: http::response::Parts,
    ) -> Result<Established, HandshakeError> {
        self.establish(response)
    }

    /// Hands HTTP/1.1 response bytes in. Returns the connection once the response head is
    /// complete and valid; a non-101 response is [`HandshakeError::Rejected`] with its
    /// status and headers.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Established>, HandshakeError> {
        if self.done {
            return Err(HandshakeError::AlreadyComplete);
        }
        let Some(head) = self.head.feed(data, self.config.limits.max_head_size)? else {
            return Ok(None);
        };
        self.done = true;
        let parts = http1::parse_response(head, self.config.limits.max_headers)?;
        let mut established = self.establish(parts)?;
        established.connection.feed(self.head.rest());
        Ok(Some(established))
    }

    fn establish(&mut self, parts: http::response::Parts) -> Result<Established, HandshakeError> {
        let accepted = match &self.form {
            Form::Http1 { .. } => parts.status == StatusCode::SWITCHING_PROTOCOLS,
            Form::ExtendedConnect => parts.status.is_success(),
        };
        if accepted && matches!(self.form, Form::Http1 { .. }) && parts.version < Version::HTTP_11 {
            // An upgrade exists from HTTP/1.1 on (RFC 9110 §7.8); a 1.0 "101" is no answer.
            return Err(HandshakeError::HttpVersion);
        }
        if !accepted {
            return Err(HandshakeError::Rejected {
                status: parts.status,
                headers: Box::new(parts.headers),
            });
        }
        let (subprotocol, extension) = self.check_headers(&parts.headers)?;
        let connection =
            Connection::with_extension(Role::Client, std::mem::take(&mut self.config), extension);
        Ok(Established {
            response: Response::from_parts(parts, ()),
            subprotocol,
            connection,
        })
    }

    fn check_headers(&self, headers: &HeaderMap) -> Result<Negotiated, HandshakeError> {
        if let Form::Http1 { expected_accept } = &self.form {
            check_upgrade_tokens(headers)?;
            let mut accepts = headers.get_all(SEC_WEBSOCKET_ACCEPT).iter();
            match (accepts.next(), accepts.next()) {
                (Some(v), None) if v.as_bytes() == expected_accept.as_bytes() => {}
                _ => return Err(HandshakeError::InvalidAccept),
            }
        }
        let subprotocol = match header_joined(headers, SEC_WEBSOCKET_PROTOCOL) {
            None => None,
            Some(p) => {
                let p = p.trim().to_string();
                if !self.subprotocols.contains(&p) {
                    return Err(HandshakeError::UnofferedSubprotocol(p));
                }
                Some(p)
            }
        };
        let extension = match header_joined(headers, SEC_WEBSOCKET_EXTENSIONS) {
            None => None,
            Some(value) => accept_extensions(&value, &self.extensions)?,
        };
        Ok((subprotocol, extension))
    }
}

/// The offer headers every form carries: subprotocols, extension offers, the caller's
/// own fields.
fn offer_headers(
    mut builder: http::request::Builder,
    request: &ClientRequest,
) -> Result<http::request::Builder, HandshakeError> {
    for p in &request.subprotocols {
        if p.is_empty() || !p.bytes().all(crate::extension::is_tchar) {
            return Err(HandshakeError::InvalidHeader(format!(
                "subprotocol {p:?} is not a token"
            )));
        }
    }
    if !request.subprotocols.is_empty() {
        builder = builder.header(SEC_WEBSOCKET_PROTOCOL, request.subprotocols.join(", "));
    }
    let offers: Vec<ExtensionHeader> = request.extensions.iter().flat_map(|e| e.offers()).collect();
    if !offers.is_empty() {
        builder = builder.header(
            SEC_WEBSOCKET_EXTENSIONS,
            ExtensionHeader::format_list(&offers),
        );
    }
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    Ok(builder)
}

/// The client's step of extension negotiation: checks the server's
/// `Sec-WebSocket-Extensions` value against what was offered and builds the codec. At
/// most one extension, each one offered, none twice.
pub(crate) fn accept_extensions(
    value: &str,
    offered: &[Arc<dyn ClientExtension>],
) -> Result<Option<Box<dyn Extension>>, HandshakeError> {
    let selected =
        ExtensionHeader::parse_list(value).map_err(|e| HandshakeError::Extension(e.to_string()))?;
    let mut extension: Option<Box<dyn Extension>> = None;
    for element in &selected {
        let Some(ours) = offered
            .iter()
            .find(|e| e.name().eq_ignore_ascii_case(&element.name))
        else {
            return Err(HandshakeError::UnofferedExtension(element.name.clone()));
        };
        if extension.is_some() {
            // One payload-transforming extension per connection (and never one
            // extension twice).
            return Err(HandshakeError::UnofferedExtension(element.name.clone()));
        }
        extension = Some(ours.accept(element).map_err(HandshakeError::Extension)?);
    }
    Ok(extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn handshake(url: &str) -> ClientHandshake {
        ClientHandshake::with_key(
            ClientRequest::new(url)
                .unwrap()
                .subprotocol("chat")
                .subprotocol("superchat"),
            KEY.into(),
        )
        .unwrap()
    }

    fn response(extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        )
    }

    #[test]
    fn builds_the_request() {
        let hs = handshake("ws://example.com:8080/chat?room=1");
        let text = String::from_utf8(hs.request_bytes().to_vec()).unwrap();
        assert!(
            text.starts_with("GET /chat?room=1 HTTP/1.1\r\nhost: example.com:8080\r\n"),
            "{text}"
        );
        for line in [
            "upgrade: websocket",
            "connection: Upgrade",
            "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==",
            "sec-websocket-version: 13",
            "sec-websocket-protocol: chat, superchat",
        ] {
            assert!(
                text.contains(&format!("\r\n{line}\r\n")),
                "{line} in {text}"
            );
        }
        assert!(text.ends_with("\r\n\r\n"));
        let default_port =
            String::from_utf8(handshake("wss://example.com/").request_bytes().to_vec()).unwrap();
        assert!(default_port.contains("\r\nhost: example.com\r\n"));
        let bare =
            String::from_utf8(handshake("ws://[::1]:9001").request_bytes().to_vec()).unwrap();
        assert!(bare.starts_with("GET / HTTP/1.1\r\nhost: [::1]:9001\r\n"));
    }

    #[test]
    fn url_rules() {
        assert!(ClientRequest::new("http://x/").is_err());
        assert!(ClientRequest::new("ws://x/#frag").is_err());
        assert!(ClientRequest::new("ws:///path").is_err());
        assert!(ClientRequest::new("ws://user:pw@x/").is_err());
        let r = ClientRequest::new("ws://[::1]:9001/").unwrap();
        assert_eq!((r.host(), r.port()), ("::1", 9001));
    }

    #[test]
    fn extra_headers_cannot_override_the_handshake() {
        let r = ClientRequest::new("ws://x/").unwrap();
        assert!(r.clone().header("Sec-WebSocket-Key", "x").is_err());
        assert!(r.clone().header("bad header", "x").is_err());
        let hs = ClientHandshake::new(r.header("Authorization", "Bearer t").unwrap()).unwrap();
        assert!(
            String::from_utf8_lossy(hs.request_bytes()).contains("\r\nauthorization: Bearer t\r\n")
        );
    }

    #[test]
    fn accepts_a_valid_response_split_anywhere_and_keeps_trailing_frames() {
        let mut wire = response("Sec-WebSocket-Protocol: chat\r\n").into_bytes();
        let head_len = wire.len();
        wire.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        for split in [0, 1, head_len - 1, head_len, wire.len()] {
            let mut hs = handshake("ws://x/");
            let established = match hs.feed(&wire[..split]).unwrap() {
                Some(e) => Some(e),
                None => hs.feed(&wire[split..]).unwrap(),
            }
            .unwrap();
            assert_eq!(established.subprotocol.as_deref(), Some("chat"));
            let mut conn = established.connection;
            if split > head_len {
                // everything was in the first feed
            } else if split == head_len {
                conn.feed(&wire[split..]);
            }
            assert_eq!(
                conn.poll_event(),
                Some(crate::Event::Message(crate::Message::text("hi"))),
                "split {split}"
            );
        }
    }

    #[test]
    fn response_header_rules() {
        let ok = handshake("ws://x/")
            .feed(response("").as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(ok.subprotocol, None);
        let lists = response("")
            .replace("Connection: Upgrade", "connection: keep-alive, upgrade")
            .replace("Upgrade: websocket", "upgrade: WebSocket");
        assert!(
            handshake("ws://x/")
                .feed(lists.as_bytes())
                .unwrap()
                .is_some()
        );
        let cases = [
            (
                response("").replace(
                    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ),
                HandshakeError::InvalidAccept,
            ),
            (
                response("").replace("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", ""),
                HandshakeError::InvalidAccept,
            ),
            (
                response("").replace("Upgrade: websocket\r\n", ""),
                HandshakeError::NotWebSocketUpgrade("missing Upgrade: websocket"),
            ),
            (
                response("").replace("Upgrade: websocket", "Upgrade: foo"),
                HandshakeError::NotWebSocketUpgrade("missing Upgrade: websocket"),
            ),
            (
                response("").replace("Connection: Upgrade\r\n", ""),
                HandshakeError::NotWebSocketUpgrade("missing Connection: upgrade"),
            ),
            (
                response("Sec-WebSocket-Protocol: other\r\n"),
                HandshakeError::UnofferedSubprotocol("other".into()),
            ),
            (
                response("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                HandshakeError::UnofferedExtension("permessage-deflate".into()),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                handshake("ws://x/").feed(text.as_bytes()).unwrap_err(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn non_101_is_a_typed_error_with_status_and_headers() {
        let err = handshake("ws://x/")
            .feed(b"HTTP/1.1 403 Forbidden\r\nX-Reason: nope\r\nContent-Length: 0\r\n\r\n")
            .unwrap_err();
        match err {
            HandshakeError::Rejected { status, headers } => {
                assert_eq!(status, StatusCode::FORBIDDEN);
                assert_eq!(headers.get("x-reason").unwrap(), "nope");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn head_cap_applies_to_responses() {
        let mut request = ClientRequest::new("ws://x/").unwrap();
        let mut config = Config::default();
        config.limits.max_head_size = 100;
        request = request.config(config);
        let mut hs = ClientHandshake::new(request).unwrap();
        let long = response(&format!("X-Pad: {}\r\n", "a".repeat(200)));
        assert_eq!(
            hs.feed(long.as_bytes()).unwrap_err(),
            HandshakeError::HeadTooLarge { max: 100 }
        );
    }

    #[test]
    fn requests_from_http_values() {
        let request = http::Request::get("ws://example.com/x")
            .header("sec-websocket-key", KEY)
            .header("upgrade", "websocket")
            .header("connection", "keep-alive, Upgrade")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", "a")
            .header("sec-websocket-protocol", "b, c")
            .header("origin", "http://example.com")
            .body(())
            .unwrap();
        let request = ClientRequest::from_http(request).unwrap();
        assert_eq!(request.subprotocols(), ["a", "b", "c"]);
        let hs = ClientHandshake::new(request).unwrap();
        let req = hs.request();
        assert_eq!(req.headers()["sec-websocket-key"], KEY);
        assert_eq!(req.headers()["origin"], "http://example.com");
        assert_eq!(req.headers().get_all("connection").iter().count(), 1);
        // What the handshake owns cannot be overridden.
        for (name, value) in [
            ("host", "other"),
            ("sec-websocket-version", "8"),
            ("sec-websocket-extensions", "x"),
        ] {
            let r = http::Request::get("ws://x/")
                .header(name, value)
                .body(())
                .unwrap();
            assert!(ClientRequest::from_http(r).is_err(), "{name}");
        }
        let post = http::Request::post("ws://x/").body(()).unwrap();
        assert!(ClientRequest::from_http(post).is_err());
    }

    #[test]
    fn extended_connect_checks_a_2xx() {
        let request = ClientRequest::new("ws://example.com:8080/chat")
            .unwrap()
            .subprotocol("chat");
        let hs = ClientHandshake::extended_connect(request.clone()).unwrap();
        assert_eq!(hs.request().uri(), "http://example.com:8080/chat");
        assert!(hs.request().headers().get("sec-websocket-key").is_none());
        assert!(hs.request_bytes().is_empty());
        let ok = http::Response::builder()
            .status(200)
            .header("sec-websocket-protocol", "chat")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let established = hs.check_response(ok).unwrap();
        assert_eq!(established.subprotocol.as_deref(), Some("chat"));
        let refused = http::Response::builder()
            .status(400)
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let hs = ClientHandshake::extended_connect(request).unwrap();
        assert!(matches!(
            hs.check_response(refused),
            Err(HandshakeError::Rejected { status, .. }) if status == 400
        ));
    }

    #[test]
    fn an_http10_101_is_refused() {
        let text = response("").replace("HTTP/1.1 101", "HTTP/1.0 101");
        assert_eq!(
            handshake("ws://x/").feed(text.as_bytes()).unwrap_err(),
            HandshakeError::HttpVersion
        );
    }
}
