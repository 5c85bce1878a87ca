//! The server side of the opening handshake over bytes (RFC 6455 §4.2): a thin layer
//! that reads the request head into `http` values and answers through [`Upgrade`].

use std::sync::Arc;

use http::{HeaderValue, StatusCode};

use super::head::HeadReader;
use super::{Accept, HandshakeError, Upgrade, http1};
use crate::config::Config;
use crate::connection::Connection;
use crate::extension::ServerExtension;

/// The server side of the opening handshake, over bytes.
///
/// Feed it the bytes of the client's request until it hands out the request as an
/// [`http::Request`]; look at it (path, headers) and [`accept`](ServerHandshake::accept)
/// it — which validates it as an [`Upgrade`], negotiates the extensions this handshake
/// was given, and yields the `101` response bytes and the [`Connection`] — or answer it
/// yourself (an error's [`HandshakeError::response`], a page, a rejection).
///
/// ```
/// use wspc::{Accept, ServerHandshake, Config};
///
/// let request = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
/// let mut handshake = ServerHandshake::new(Config::default());
/// let req = handshake.feed(request).unwrap().expect("complete request");
/// assert_eq!(req.uri().path(), "/chat");
///
/// let (response, _connection) = handshake.accept(&req, Accept::subprotocol("chat")).unwrap();
/// let response = String::from_utf8(response).unwrap();
/// assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
/// assert!(response.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
/// assert!(response.contains("sec-websocket-protocol: chat\r\n"));
/// ```
#[derive(Debug)]
pub struct ServerHandshake {
    config: Config,
    extensions: Vec<Arc<dyn ServerExtension>>,
    head: HeadReader,
    done: bool,
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

    /// The extensions this server negotiates, in its order of preference.
    pub fn extensions(&self) -> &[Arc<dyn ServerExtension>] {
        &self.extensions
    }

    /// Hands received bytes in. Returns the request once its head is complete (bytes after
    /// it are kept for the connection). Any well-formed HTTP request is returned, so an
    /// application can also answer plain HTTP on the same port; whether it is a valid
    /// WebSocket upgrade is decided by [`Upgrade::from_request`], which
    /// [`accept`](ServerHandshake::accept) calls.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<http::Request<()>>, HandshakeError> {
        if self.done {
            return Err(HandshakeError::AlreadyComplete);
        }
        if self
            .head
            .feed(data, self.config.limits.max_head_size)?
            .is_none()
        {
            return Ok(None);
        }
        self.received()
    }

    /// The buffer to read the request into, for a reader that fills buffers itself (such
    /// as tokio's `AsyncReadExt::read_buf`) instead of handing bytes to
    /// [`feed`](Self::feed): append what arrives, then call
    /// [`received`](Self::received). It has room for at least one byte, grows with the
    /// bytes received (1 KiB at a time at most) and never past the head size cap.
    ///
    /// ```
    /// use bytes::BufMut;
    /// use wspc::{Config, ServerHandshake};
    ///
    /// let mut handshake = ServerHandshake::new(Config::default());
    /// handshake.read_buf().put_slice(b"GET /chat HTTP/1.1\r\nHost: example.com\r\n\r\n");
    /// let request = handshake.received().unwrap().expect("complete request");
    /// assert_eq!(request.uri().path(), "/chat");
    /// ```
    pub fn read_buf(&mut self) -> &mut bytes::BytesMut {
        self.head.read_buf(self.config.limits.max_head_size)
    }

    /// [`feed`](Self::feed) for bytes already appended to [`read_buf`](Self::read_buf):
    /// returns the request once its head is complete.
    pub fn received(&mut self) -> Result<Option<http::Request<()>>, HandshakeError> {
        let max_headers = self.config.limits.max_headers;
        let Some(head) = self.complete_head()? else {
            return Ok(None);
        };
        let parts = http1::parse_request_bytes(head, max_headers)?;
        Ok(Some(http::Request::from_parts(parts, ())))
    }

    /// [`received`](Self::received) for a server that answers nothing but WebSocket
    /// upgrades and does not look at the request: the validated [`Upgrade`] once the head
    /// is complete. A request that is not a valid upgrade is the error that says why (its
    /// [`response`](HandshakeError::response) is the answer), as
    /// [`Upgrade::from_request`] on the request [`received`](Self::received) returns
    /// would be; a clean upgrade, the usual case, is validated without building `http`
    /// values (about a seventh of a handshake's instructions).
    ///
    /// ```
    /// use bytes::BufMut;
    /// use wspc::{Accept, Config, ServerHandshake};
    ///
    /// let mut handshake = ServerHandshake::new(Config::default());
    /// handshake.read_buf().put_slice(
    ///     b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    ///       Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///       Sec-WebSocket-Version: 13\r\n\r\n",
    /// );
    /// let upgrade = handshake.received_upgrade().unwrap().expect("complete request");
    /// let mut response = Vec::new();
    /// let _connection = upgrade.accept_into(Accept::default(), Config::default(), &mut response);
    /// assert!(response.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    ///
    /// let mut handshake = ServerHandshake::new(Config::default());
    /// handshake.read_buf().put_slice(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    /// let error = handshake.received_upgrade().unwrap_err();
    /// assert_eq!(error.status(), Some(http::StatusCode::BAD_REQUEST));
    /// ```
    pub fn received_upgrade(&mut self) -> Result<Option<Upgrade>, HandshakeError> {
        let max_headers = self.config.limits.max_headers;
        let Some(head) = self.complete_head()? else {
            return Ok(None);
        };
        http1::parse_upgrade_bytes(head, max_headers).map(Some)
    }

    /// [`received`](Self::received) for a server that answers both WebSocket upgrades
    /// and plain HTTP: once the head is complete, a clean upgrade comes back validated,
    /// without `http` values built for its fields (as
    /// [`received_upgrade`](Self::received_upgrade) reads it), and any other request as
    /// [`received`](Self::received) returns it, not validated: a plain request, or an
    /// upgrade with something to say about it (pass it to [`Upgrade::from_request`] for
    /// the verdict and its error response). The request of a clean upgrade is there too,
    /// from [`request`](Self::request), when it is wanted after all.
    ///
    /// ```
    /// use bytes::BufMut;
    /// use wspc::{Config, ServerHandshake};
    /// use wspc::handshake::ReceivedHead;
    ///
    /// let mut handshake = ServerHandshake::new(Config::default());
    /// handshake.read_buf().put_slice(
    ///     b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    ///       Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///       Sec-WebSocket-Version: 13\r\n\r\n",
    /// );
    /// match handshake.received_head().unwrap().expect("complete request") {
    ///     ReceivedHead::Upgrade { uri, .. } => assert_eq!(uri.path(), "/chat"),
    ///     other => panic!("a clean upgrade, not {other:?}"),
    /// }
    ///
    /// let mut handshake = ServerHandshake::new(Config::default());
    /// handshake.read_buf().put_slice(b"GET /metrics HTTP/1.1\r\nHost: example.com\r\n\r\n");
    /// match handshake.received_head().unwrap().expect("complete request") {
    ///     ReceivedHead::Request(request) => assert_eq!(request.uri().path(), "/metrics"),
    ///     other => panic!("a plain request, not {other:?}"),
    /// }
    /// ```
    pub fn received_head(&mut self) -> Result<Option<ReceivedHead>, HandshakeError> {
        let max_headers = self.config.limits.max_headers;
        let Some(head) = self.complete_head()? else {
            return Ok(None);
        };
        Ok(Some(match http1::parse_head_bytes(head, max_headers)? {
            http1::ParsedHead::Upgrade(upgrade, uri) => ReceivedHead::Upgrade { upgrade, uri },
            http1::ParsedHead::Request(parts) => {
                ReceivedHead::Request(http::Request::from_parts(parts, ()))
            }
        }))
    }

    /// The request whose head was received, as `http` values (parsed again from the
    /// kept head; `None` while the head is incomplete). For the request of a
    /// [`ReceivedHead::Upgrade`], which [`received_head`](Self::received_head) did not build.
    pub fn request(&self) -> Result<Option<http::Request<()>>, HandshakeError> {
        let Some(head) = self.head.head() else {
            return Ok(None);
        };
        let parts = http1::parse_request_bytes(head, self.config.limits.max_headers)?;
        Ok(Some(http::Request::from_parts(parts, ())))
    }

    /// The head once it is complete (the handshake is then done: it reads no more).
    fn complete_head(&mut self) -> Result<Option<&bytes::Bytes>, HandshakeError> {
        if self.done {
            return Err(HandshakeError::AlreadyComplete);
        }
        let Some(head) = self.head.received(self.config.limits.max_head_size)? else {
            return Ok(None);
        };
        self.done = true;
        Ok(Some(head))
    }

    /// Accepts `request`: validates it as an [`Upgrade`], negotiates extensions (unless
    /// `accept` carries one already), and returns the `101 Switching Protocols` response
    /// to write and the connection (holding any bytes that arrived after the request). On
    /// error, write [`HandshakeError::response`] and close.
    pub fn accept(
        self,
        request: &http::Request<()>,
        mut accept: Accept,
    ) -> Result<(Vec<u8>, Connection), HandshakeError> {
        let upgrade = Upgrade::from_request(request)?;
        if accept.extension.is_none() {
            accept.extension = upgrade.negotiate(&self.extensions);
        }
        let mut bytes = Vec::with_capacity(192);
        let mut connection = upgrade.accept_into(accept, self.config, &mut bytes)?;
        connection.feed(self.head.rest());
        Ok((bytes, connection))
    }

    /// A response rejecting the request with `status` and a plain-text `body`, closing
    /// the connection.
    pub fn reject(status: StatusCode, body: &str) -> Vec<u8> {
        let mut response = http::Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        http1::encode_response(&response)
    }

    /// Bytes that arrived after the request's head (e.g. to serve a plain HTTP request
    /// with a body).
    pub fn buffered(&self) -> &[u8] {
        self.head.rest()
    }
}

/// A complete request head, as [`ServerHandshake::received_head`] read it.
///
/// Two cases by definition (a clean upgrade, or anything else), so it is not
/// `#[non_exhaustive]`.
#[derive(Debug)]
pub enum ReceivedHead {
    /// A valid WebSocket upgrade, found on the parsed fields without building `http`
    /// values ([`ServerHandshake::request`] builds the request when it is wanted).
    Upgrade {
        /// The validated upgrade: key, offered subprotocols and extensions.
        upgrade: Upgrade,
        /// The request target (path and query, or the absolute form).
        uri: http::Uri,
    },
    /// Any other request, not validated: plain HTTP, or an upgrade request that is not
    /// clean (whose verdict, and error response, [`Upgrade::from_request`] gives).
    Request(http::Request<()>),
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    fn request(text: &str) -> http::Request<()> {
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
        assert_eq!(req.uri().path(), "/chat");
        assert_eq!(req.uri().query(), Some("x=1"));
        assert_eq!(req.version(), http::Version::HTTP_11);
        let (response, _) = ServerHandshake::new(Config::default())
            .accept(&req, Accept::default())
            .unwrap();
        assert_eq!(
            response,
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        );
    }

    fn received_head(text: &str) -> (ServerHandshake, ReceivedHead) {
        let mut hs = ServerHandshake::new(Config::default());
        hs.read_buf().extend_from_slice(text.as_bytes());
        let received = hs.received_head().unwrap().unwrap();
        (hs, received)
    }

    #[test]
    fn received_head_tells_a_clean_upgrade_from_any_other_request() {
        // A clean upgrade: validated, with its target; the request built on demand is
        // the one `received` returns.
        let (mut hs, received) = received_head(GOOD);
        let ReceivedHead::Upgrade { upgrade, uri } = received else {
            panic!("{received:?}");
        };
        assert_eq!(uri, "/chat?x=1");
        assert_eq!(
            format!("{upgrade:?}"),
            format!("{:?}", Upgrade::from_request(&request(GOOD)).unwrap())
        );
        let built = hs.request().unwrap().unwrap();
        assert_eq!(format!("{built:?}"), format!("{:?}", request(GOOD)));
        assert!(matches!(
            hs.received_head(),
            Err(HandshakeError::AlreadyComplete)
        ));
        // A plain request and an upgrade that is not valid come back as requests.
        for text in [
            "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
            without("Sec-WebSocket-Key"),
            GOOD.replace("GET", "POST"),
        ] {
            let (_, received) = received_head(&text);
            let ReceivedHead::Request(req) = received else {
                panic!("{received:?}");
            };
            assert_eq!(format!("{req:?}"), format!("{:?}", request(&text)));
        }
        // A malformed head is the parser's error; an incomplete one has no request yet.
        let mut hs = ServerHandshake::new(Config::default());
        hs.read_buf()
            .extend_from_slice(b"GET / HTTP/1.1\r\nHost a\r\n\r\n");
        assert!(matches!(
            hs.received_head(),
            Err(HandshakeError::MalformedHttp(_))
        ));
        let mut hs = ServerHandshake::new(Config::default());
        hs.read_buf().extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert!(hs.received_head().unwrap().is_none());
        assert!(hs.request().unwrap().is_none());
    }

    #[test]
    fn header_tokens_are_case_insensitive_lists() {
        let req = request(
            &replace("Connection", "connection: keep-alive, UPGRADE")
                .replace("Upgrade: websocket", "upgrade: WebSocket"),
        );
        assert!(Upgrade::from_request(&req).is_ok());
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
            (
                GOOD.replace("\r\n\r\n", "\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                StatusCode::UPGRADE_REQUIRED,
            ),
            (
                GOOD.replace(
                    "\r\n\r\n",
                    "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                ),
                StatusCode::BAD_REQUEST,
            ),
            (
                replace("Connection", "Connection: keep-alive")
                    .replace("\r\n\r\n", "\r\nconnection: upgrade\r\n\r\n"),
                StatusCode::OK,
            ),
        ];
        for (text, status) in cases {
            if status == StatusCode::OK {
                assert!(Upgrade::from_request(&request(&text)).is_ok(), "{text:?}");
                continue;
            }
            let err = Upgrade::from_request(&request(&text)).unwrap_err();
            assert_eq!(err.status(), Some(status), "{err:?} for {text:?}");
        }
    }

    #[test]
    fn empty_host_is_accepted() {
        // The .NET "fake handshake" sends `Host:` with an empty value.
        assert!(Upgrade::from_request(&request(&replace("Host", "Host:"))).is_ok());
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
