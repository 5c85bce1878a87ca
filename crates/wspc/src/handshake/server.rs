//! The server side of the opening handshake (RFC 6455 §4.2).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::{
    CONNECTION, HOST, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, Method, StatusCode, Uri};

use super::head::HeadReader;
use super::{
    HandshakeError, accept_key, header_has_token, header_joined, http_response, parse_error,
    to_header_map,
};
use crate::config::Config;
use crate::connection::{Connection, Role};
use crate::extension::{ExtensionHeader, ServerExtension};

/// The server side of the opening handshake.
///
/// Feed it the bytes of the client's request until it hands out the [`Request`]; look at
/// it (path, headers, offered subprotocols) and [`accept`](ServerHandshake::accept) it —
/// which yields the `101` response to write and the [`Connection`] — or
/// [`reject`](ServerHandshake::reject) it.
///
/// ```
/// use wspc::{Accept, ServerHandshake, Config};
///
/// let request = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
/// let mut handshake = ServerHandshake::new(Config::default());
/// let req = handshake.feed(request).unwrap().expect("complete request");
/// assert_eq!(req.path(), "/chat");
/// assert_eq!(req.subprotocols().collect::<Vec<_>>(), ["chat", "superchat"]);
///
/// let (response, _connection) = handshake.accept(&req, Accept::subprotocol("chat")).unwrap();
/// let response = String::from_utf8(response).unwrap();
/// assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
/// assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
/// assert!(response.contains("Sec-WebSocket-Protocol: chat\r\n"));
/// ```
#[derive(Debug)]
pub struct ServerHandshake {
    config: Config,
    extensions: Vec<Arc<dyn ServerExtension>>,
    head: HeadReader,
    done: bool,
}

/// A client's HTTP request, parsed: what the application decides on.
#[derive(Clone, Debug)]
pub struct Request {
    method: Method,
    uri: Uri,
    version: u8,
    headers: HeaderMap,
}

/// How the server accepts a request: the subprotocol it picks and headers to add to the
/// `101` response.
#[derive(Clone, Debug, Default)]
pub struct Accept {
    /// The chosen subprotocol: must be one the client offered.
    pub subprotocol: Option<String>,
    /// Extra headers for the response (cookies, server name, …).
    pub headers: HeaderMap,
}

impl Accept {
    /// Accept with the given subprotocol.
    pub fn subprotocol(name: impl Into<String>) -> Accept {
        Accept {
            subprotocol: Some(name.into()),
            headers: HeaderMap::new(),
        }
    }
}

impl ServerHandshake {
    /// A handshake whose connection will run with `config` (its limits cap the head too).
    pub fn new(config: Config) -> ServerHandshake {
        ServerHandshake {
            config,
            extensions: Vec::new(),
            head: HeadReader::default(),
            done: false,
        }
    }

    /// Adds an extension the server is willing to negotiate (builder style).
    pub fn with_extension(mut self, extension: Arc<dyn ServerExtension>) -> ServerHandshake {
        self.extensions.push(extension);
        self
    }

    /// Hands received bytes in. Returns the request once its head is complete (bytes after
    /// it are kept for the connection). Any well-formed HTTP request is returned, so an
    /// application can also answer plain HTTP on the same port; whether it is a valid
    /// WebSocket upgrade is checked by [`Request::validate`] and by
    /// [`accept`](ServerHandshake::accept).
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Request>, HandshakeError> {
        if self.done {
            return Err(HandshakeError::AlreadyComplete);
        }
        let max_headers = self.config.limits.max_headers;
        let Some(head) = self.head.feed(data, self.config.limits.max_head_size)? else {
            return Ok(None);
        };
        self.done = true;
        let mut slots = vec![httparse::EMPTY_HEADER; max_headers];
        let mut req = httparse::Request::new(&mut slots);
        match req.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => {
                return Err(HandshakeError::MalformedHttp("incomplete head".into()));
            }
            Err(e) => return Err(parse_error(e, max_headers)),
        }
        let method = Method::from_bytes(req.method.unwrap_or("").as_bytes())
            .map_err(|_| HandshakeError::MalformedHttp("invalid method".into()))?;
        let uri: Uri = req
            .path
            .unwrap_or("")
            .parse()
            .map_err(|_| HandshakeError::MalformedHttp("invalid request target".into()))?;
        Ok(Some(Request {
            method,
            uri,
            version: req.version.unwrap_or(0),
            headers: to_header_map(req.headers)?,
        }))
    }

    /// Accepts `request`: checks it is a valid WebSocket upgrade, negotiates extensions,
    /// and returns the `101 Switching Protocols` response to write and the connection
    /// (holding any bytes that arrived after the request). On error, write
    /// [`HandshakeError::response`] and close.
    pub fn accept(
        self,
        request: &Request,
        accept: Accept,
    ) -> Result<(Vec<u8>, Connection), HandshakeError> {
        let key = request.validate()?;
        if let Some(chosen) = &accept.subprotocol
            && !request.subprotocols().any(|offered| offered == chosen)
        {
            return Err(HandshakeError::UnofferedSubprotocol(chosen.clone()));
        }
        let (ext_header, extension) = self.negotiate_extensions(request);
        let mut out = String::with_capacity(160);
        out.push_str(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
        );
        out.push_str("Sec-WebSocket-Accept: ");
        out.push_str(&accept_key(key));
        out.push_str("\r\n");
        if let Some(protocol) = &accept.subprotocol {
            out.push_str("Sec-WebSocket-Protocol: ");
            out.push_str(protocol);
            out.push_str("\r\n");
        }
        if let Some(ext) = &ext_header {
            out.push_str("Sec-WebSocket-Extensions: ");
            out.push_str(&ext.to_string());
            out.push_str("\r\n");
        }
        let mut bytes = out.into_bytes();
        for (name, value) in &accept.headers {
            bytes.extend_from_slice(name.as_str().as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        let mut connection = Connection::with_extension(Role::Server, self.config, extension);
        connection.feed(self.head.rest());
        Ok((bytes, connection))
    }

    /// A response rejecting the request with `status` and a plain-text `body`.
    pub fn reject(status: StatusCode, body: &str) -> Vec<u8> {
        http_response(status, &[], body.as_bytes())
    }

    /// Bytes that arrived after the request's head (e.g. to serve a plain HTTP request
    /// with a body).
    pub fn buffered(&self) -> &[u8] {
        self.head.rest()
    }

    fn negotiate_extensions(
        &self,
        request: &Request,
    ) -> (Option<ExtensionHeader>, Option<Box<dyn crate::Extension>>) {
        if self.extensions.is_empty() {
            return (None, None);
        }
        // A malformed offer list is declined as a whole: the connection proceeds
        // without extensions (RFC 6455 §9.1 leaves the reaction to the server).
        let Some(offers) = request.extension_offers() else {
            return (None, None);
        };
        for ext in &self.extensions {
            let mine: Vec<ExtensionHeader> = offers
                .iter()
                .filter(|o| o.name.eq_ignore_ascii_case(ext.name()))
                .cloned()
                .collect();
            if mine.is_empty() {
                continue;
            }
            if let Some((header, codec)) = ext.negotiate(&mine) {
                return (Some(header), Some(codec));
            }
        }
        (None, None)
    }
}

impl Request {
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target, as sent.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The path of the request target (`/` if empty).
    pub fn path(&self) -> &str {
        match self.uri.path() {
            "" => "/",
            p => p,
        }
    }

    /// The query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The header fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The HTTP minor version (1 for HTTP/1.1).
    pub fn http_minor_version(&self) -> u8 {
        self.version
    }

    /// Whether the request asks for a WebSocket upgrade at all (`Upgrade: websocket`); it
    /// may still be invalid — see [`Request::validate`]. Useful to serve plain HTTP on the
    /// same port.
    pub fn is_upgrade(&self) -> bool {
        header_has_token(&self.headers, UPGRADE, "websocket")
    }

    /// The subprotocols the client offers, in its order of preference.
    pub fn subprotocols(&self) -> impl Iterator<Item = &str> {
        self.headers
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }

    /// The first of the client's offered subprotocols that appears in `supported`.
    pub fn select_subprotocol<'a>(&'a self, supported: &[impl AsRef<str>]) -> Option<&'a str> {
        self.subprotocols()
            .find(|p| supported.iter().any(|s| s.as_ref() == *p))
    }

    /// The client's extension offers, or `None` if the header is malformed.
    pub fn extension_offers(&self) -> Option<Vec<ExtensionHeader>> {
        match header_joined(&self.headers, SEC_WEBSOCKET_EXTENSIONS) {
            None => Some(Vec::new()),
            Some(value) => ExtensionHeader::parse_list(&value).ok(),
        }
    }

    /// Checks the request is a valid WebSocket opening handshake (RFC 6455 §4.2.1):
    /// GET, HTTP/1.1 or later, Host, `Upgrade: websocket`, `Connection: upgrade`, a
    /// `Sec-WebSocket-Key` of 16 bytes, `Sec-WebSocket-Version: 13`. Returns the key.
    pub fn validate(&self) -> Result<&str, HandshakeError> {
        if self.method != Method::GET {
            return Err(HandshakeError::MethodNotAllowed(self.method.to_string()));
        }
        if self.version < 1 {
            return Err(HandshakeError::HttpVersion);
        }
        if !self.headers.contains_key(HOST) {
            return Err(HandshakeError::MissingHost);
        }
        if !header_has_token(&self.headers, UPGRADE, "websocket") {
            return Err(HandshakeError::NotWebSocketUpgrade(
                "missing Upgrade: websocket",
            ));
        }
        if !header_has_token(&self.headers, CONNECTION, "upgrade") {
            return Err(HandshakeError::NotWebSocketUpgrade(
                "missing Connection: upgrade",
            ));
        }
        let versions: Vec<&str> = self
            .headers
            .get_all(SEC_WEBSOCKET_VERSION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .collect();
        if versions != ["13"] {
            return Err(HandshakeError::UnsupportedVersion(
                (!versions.is_empty()).then(|| versions.join(", ")),
            ));
        }
        let mut keys = self.headers.get_all(SEC_WEBSOCKET_KEY).iter();
        let key = match (keys.next(), keys.next()) {
            (Some(key), None) => key.to_str().map_err(|_| HandshakeError::InvalidKey)?.trim(),
            _ => return Err(HandshakeError::InvalidKey),
        };
        match BASE64.decode(key) {
            Ok(raw) if raw.len() == 16 => Ok(key),
            _ => Err(HandshakeError::InvalidKey),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    fn request(text: &str) -> Request {
        ServerHandshake::new(Config::default())
            .feed(text.as_bytes())
            .unwrap()
            .unwrap()
    }

    fn without(header: &str) -> String {
        GOOD.lines()
            .filter(|l| !l.starts_with(header))
            .collect::<Vec<_>>()
            .join("\r\n")
            + "\r\n"
    }

    fn replace(header: &str, line: &str) -> String {
        GOOD.replace(GOOD.lines().find(|l| l.starts_with(header)).unwrap(), line)
    }

    #[test]
    fn accepts_the_rfc_example() {
        let req = request(GOOD);
        assert_eq!(req.path(), "/chat");
        assert_eq!(req.query(), Some("x=1"));
        assert!(req.is_upgrade());
        assert_eq!(req.validate(), Ok("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    #[test]
    fn header_tokens_are_case_insensitive_lists() {
        let req = request(
            &replace("Connection", "connection: keep-alive, UPGRADE")
                .replace("Upgrade: websocket", "upgrade: WebSocket"),
        );
        assert!(req.validate().is_ok());
    }

    #[test]
    fn rejects_bad_requests_with_the_right_status() {
        let cases: Vec<(String, StatusCode)> = vec![
            (GOOD.replace("GET", "POST"), StatusCode::METHOD_NOT_ALLOWED),
            (
                GOOD.replace("HTTP/1.1", "HTTP/1.0"),
                StatusCode::BAD_REQUEST,
            ),
            (without("Host"), StatusCode::BAD_REQUEST),
            (without("Upgrade"), StatusCode::BAD_REQUEST),
            (replace("Upgrade", "Upgrade: h2c"), StatusCode::BAD_REQUEST),
            (without("Connection"), StatusCode::BAD_REQUEST),
            (without("Sec-WebSocket-Key"), StatusCode::BAD_REQUEST),
            (
                replace("Sec-WebSocket-Key", "Sec-WebSocket-Key: c2hvcnQ="),
                StatusCode::BAD_REQUEST,
            ),
            (
                replace("Sec-WebSocket-Key", "Sec-WebSocket-Key: !!!"),
                StatusCode::BAD_REQUEST,
            ),
            (
                without("Sec-WebSocket-Version"),
                StatusCode::UPGRADE_REQUIRED,
            ),
            (
                replace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"),
                StatusCode::UPGRADE_REQUIRED,
            ),
        ];
        for (text, status) in cases {
            let err = request(&text).validate().unwrap_err();
            assert_eq!(err.status(), Some(status), "{err:?} for {text:?}");
        }
    }

    #[test]
    fn empty_host_is_accepted() {
        // The .NET "fake handshake" sends `Host:` with an empty value.
        assert!(request(&replace("Host", "Host:")).validate().is_ok());
    }

    #[test]
    fn caps_head_size_and_header_count() {
        let mut config = Config::default();
        config.limits.max_headers = 4;
        let err = ServerHandshake::new(config.clone())
            .feed(GOOD.as_bytes())
            .unwrap_err();
        assert_eq!(err, HandshakeError::TooManyHeaders { max: 4 });
        config.limits.max_head_size = 64;
        let err = ServerHandshake::new(config)
            .feed(GOOD.as_bytes())
            .unwrap_err();
        assert_eq!(err, HandshakeError::HeadTooLarge { max: 64 });
        assert_eq!(
            err.status(),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
    }

    #[test]
    fn keeps_frames_behind_the_request() {
        let mut wire = GOOD.as_bytes().to_vec();
        // A masked text frame "Hi" right behind the head.
        wire.extend_from_slice(&[0x81, 0x82, 0, 0, 0, 0, b'H', b'i']);
        for split in [1, GOOD.len() - 1, GOOD.len(), GOOD.len() + 3] {
            let mut hs = ServerHandshake::new(Config::default());
            let (req, fed_all) = match hs.feed(&wire[..split]).unwrap() {
                Some(req) => (req, false),
                None => (hs.feed(&wire[split..]).unwrap().unwrap(), true),
            };
            let (_, mut conn) = hs.accept(&req, Accept::default()).unwrap();
            if !fed_all {
                conn.feed(&wire[split..]);
            }
            assert_eq!(
                conn.poll_event(),
                Some(crate::Event::Message(crate::Message::text("Hi"))),
                "split {split}"
            );
        }
    }

    #[test]
    fn subprotocol_must_have_been_offered() {
        let req = request(&GOOD.replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: a, b\r\n\r\n"));
        assert_eq!(req.select_subprotocol(&["b", "a"]), Some("a"));
        let hs = ServerHandshake::new(Config::default());
        assert_eq!(
            hs.accept(&req, Accept::subprotocol("c")).unwrap_err(),
            HandshakeError::UnofferedSubprotocol("c".into())
        );
    }

    #[test]
    fn malformed_http_is_an_error_not_a_panic() {
        for bad in [
            "GET\r\n\r\n",
            "\0\0\0\0\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
            "GET / HTTP/9.9\r\n\r\n",
        ] {
            let result = ServerHandshake::new(Config::default()).feed(bad.as_bytes());
            assert!(result.is_err(), "{bad:?}");
        }
    }
}
