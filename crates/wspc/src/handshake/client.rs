//! The client side of the opening handshake (RFC 6455 §4.1).

use std::sync::Arc;

use http::header::{
    CONNECTION, HeaderName, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS,
    SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use http::{HeaderMap, Response, StatusCode, Uri};

use super::head::HeadReader;
use super::{
    HandshakeError, accept_key, generate_key, header_has_token, header_joined, parse_error,
    to_header_map,
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
            subprotocols: Vec::new(),
            extensions: Vec::new(),
            headers: HeaderMap::new(),
            config: Config::default(),
        })
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
        &http::header::HOST,
        &UPGRADE,
        &CONNECTION,
        &http::header::SEC_WEBSOCKET_KEY,
        &http::header::SEC_WEBSOCKET_VERSION,
        &SEC_WEBSOCKET_PROTOCOL,
        &SEC_WEBSOCKET_EXTENSIONS,
    ]
    .contains(&name)
}

/// The client side of the opening handshake.
///
/// Write [`request_bytes`](ClientHandshake::request_bytes), then feed the response until
/// [`feed`](ClientHandshake::feed) returns the [`Established`] connection.
///
/// ```
/// use wspc::{Accept, ClientHandshake, ClientRequest, Event, Message, ServerHandshake, Config};
///
/// let mut client = ClientHandshake::new(ClientRequest::new("ws://localhost:9001/").unwrap()).unwrap();
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
    request: Vec<u8>,
    expected_accept: String,
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
pub struct Established {
    /// The server's `101` response.
    pub response: Response<()>,
    /// The subprotocol the server selected, if any.
    pub subprotocol: Option<String>,
    /// The connection, holding any bytes that arrived right behind the response.
    pub connection: Connection,
}

impl ClientHandshake {
    /// Builds the `GET` request (with a fresh `Sec-WebSocket-Key`).
    pub fn new(request: ClientRequest) -> Result<ClientHandshake, HandshakeError> {
        ClientHandshake::with_key(request, generate_key())
    }

    /// Builds the request with a given key (for tests and reproducible traces; use
    /// [`ClientHandshake::new`] otherwise).
    pub fn with_key(
        request: ClientRequest,
        key: String,
    ) -> Result<ClientHandshake, HandshakeError> {
        for p in &request.subprotocols {
            if p.is_empty() || p.bytes().any(|c| !is_token_char(c)) {
                return Err(HandshakeError::InvalidHeader(format!(
                    "subprotocol {p:?} is not a token"
                )));
            }
        }
        let target = request.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let target = if target.is_empty() { "/" } else { target };
        let mut out = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
            request.host_header()
        );
        if !request.subprotocols.is_empty() {
            out.push_str("Sec-WebSocket-Protocol: ");
            out.push_str(&request.subprotocols.join(", "));
            out.push_str("\r\n");
        }
        let offers: Vec<ExtensionHeader> =
            request.extensions.iter().flat_map(|e| e.offers()).collect();
        if !offers.is_empty() {
            out.push_str("Sec-WebSocket-Extensions: ");
            out.push_str(&ExtensionHeader::format_list(&offers));
            out.push_str("\r\n");
        }
        let mut bytes = out.into_bytes();
        for (name, value) in &request.headers {
            bytes.extend_from_slice(name.as_str().as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        Ok(ClientHandshake {
            request: bytes,
            expected_accept: accept_key(&key),
            subprotocols: request.subprotocols,
            extensions: request.extensions,
            config: request.config,
            head: HeadReader::default(),
            done: false,
        })
    }

    /// The request to write to the transport.
    pub fn request_bytes(&self) -> &[u8] {
        &self.request
    }

    /// Hands response bytes in. Returns the connection once the response head is complete
    /// and valid; a non-101 response is [`HandshakeError::Rejected`] with its status and
    /// headers.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Established>, HandshakeError> {
        if self.done {
            return Err(HandshakeError::AlreadyComplete);
        }
        let max_headers = self.config.limits.max_headers;
        let Some(head) = self.head.feed(data, self.config.limits.max_head_size)? else {
            return Ok(None);
        };
        self.done = true;
        let mut slots = vec![httparse::EMPTY_HEADER; max_headers];
        let mut resp = httparse::Response::new(&mut slots);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => {
                return Err(HandshakeError::MalformedHttp("incomplete head".into()));
            }
            Err(e) => return Err(parse_error(e, max_headers)),
        }
        let status = StatusCode::from_u16(resp.code.unwrap_or(0))
            .map_err(|_| HandshakeError::MalformedHttp("invalid status".into()))?;
        let headers = to_header_map(resp.headers)?;
        if status != StatusCode::SWITCHING_PROTOCOLS {
            return Err(HandshakeError::Rejected {
                status,
                headers: Box::new(headers),
            });
        }
        let (subprotocol, extension) = self.check_response(&headers)?;
        let mut response = Response::new(());
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        let mut connection =
            Connection::with_extension(Role::Client, std::mem::take(&mut self.config), extension);
        connection.feed(self.head.rest());
        Ok(Some(Established {
            response,
            subprotocol,
            connection,
        }))
    }

    fn check_response(&self, headers: &HeaderMap) -> Result<Negotiated, HandshakeError> {
        if !header_has_token(headers, UPGRADE, "websocket") {
            return Err(HandshakeError::NotWebSocketUpgrade(
                "missing Upgrade: websocket",
            ));
        }
        if !header_has_token(headers, CONNECTION, "upgrade") {
            return Err(HandshakeError::NotWebSocketUpgrade(
                "missing Connection: upgrade",
            ));
        }
        let mut accepts = headers.get_all(SEC_WEBSOCKET_ACCEPT).iter();
        match (accepts.next(), accepts.next()) {
            (Some(v), None) if v.as_bytes() == self.expected_accept.as_bytes() => {}
            _ => return Err(HandshakeError::InvalidAccept),
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
        let mut extension: Option<Box<dyn Extension>> = None;
        if let Some(value) = header_joined(headers, SEC_WEBSOCKET_EXTENSIONS) {
            let selected = ExtensionHeader::parse_list(&value)
                .map_err(|e| HandshakeError::Extension(e.to_string()))?;
            for element in &selected {
                let Some(offered) = self
                    .extensions
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
                extension = Some(offered.accept(element).map_err(HandshakeError::Extension)?);
            }
        }
        Ok((subprotocol, extension))
    }
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
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
            text.starts_with("GET /chat?room=1 HTTP/1.1\r\nHost: example.com:8080\r\n"),
            "{text}"
        );
        for line in [
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: chat, superchat",
        ] {
            assert!(
                text.contains(&format!("\r\n{line}\r\n")),
                "{line} in {text}"
            );
        }
        assert!(text.ends_with("\r\n\r\n"));
        let default_port =
            String::from_utf8(handshake("wss://example.com/").request_bytes().to_vec()).unwrap();
        assert!(default_port.contains("\r\nHost: example.com\r\n"));
        let bare =
            String::from_utf8(handshake("ws://[::1]:9001").request_bytes().to_vec()).unwrap();
        assert!(bare.starts_with("GET / HTTP/1.1\r\nHost: [::1]:9001\r\n"));
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
}
