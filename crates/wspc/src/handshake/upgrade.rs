//! The server's opening handshake on `http` values: validate an upgrade request
//! (HTTP/1.1, RFC 6455 §4.2.1, or HTTP/2 extended CONNECT, RFC 8441 §4), choose a
//! subprotocol, negotiate extensions, and produce the response and the [`Connection`].
//!
//! These steps work on [`http::request::Parts`] and header values only, so any HTTP
//! server — hyper, axum, h2, the byte-level [`ServerHandshake`](super::ServerHandshake)
//! — drives the same code.

use std::sync::Arc;

use http::header::{
    CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, Method, StatusCode, Version};

use super::fields::{self, Fields, Known};
use super::{
    HandshakeError, accept_key_bytes, check_upgrade_tokens, list_has_token, subprotocol_list,
};
use crate::config::Config;
use crate::connection::{Connection, Role};
use crate::extension::{Extension, ExtensionHeader, ServerExtension};

/// Which HTTP form the upgrade request took.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Form {
    /// HTTP/1.1 `GET` with `Upgrade: websocket`; the answer is `101` with this
    /// `Sec-WebSocket-Accept` value (base64, ASCII).
    Http1 { accept: [u8; 28] },
    /// HTTP/2 (or later) extended CONNECT with `:protocol = websocket`; the answer is `200`.
    ExtendedConnect,
}

/// A valid WebSocket upgrade request: what the server needs to answer it.
///
/// Made from the request's `http` values by [`Upgrade::from_parts`] (HTTP/1.1) or
/// [`Upgrade::from_extended_connect`] (HTTP/2, RFC 8441). The application looks at the
/// offered subprotocols, [negotiates](Upgrade::negotiate) extensions and
/// [accepts](Upgrade::accept), which yields the response (to which it may add headers)
/// and the [`Connection`].
///
/// ```
/// use std::sync::Arc;
/// use wspc::deflate::DeflateServer;
/// use wspc::handshake::{Accept, Upgrade};
/// use wspc::Config;
///
/// let request = http::Request::get("/chat")
///     .header("host", "example.com")
///     .header("upgrade", "websocket")
///     .header("connection", "Upgrade")
///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .header("sec-websocket-version", "13")
///     .header("sec-websocket-protocol", "chat, superchat")
///     .header("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")
///     .body(())
///     .unwrap();
/// let upgrade = Upgrade::from_request(&request).unwrap();
/// let protocol = upgrade.select_subprotocol(&["superchat"]).map(String::from);
/// let deflate = upgrade.negotiate(&[Arc::new(DeflateServer::default())]);
/// assert_eq!(deflate.as_ref().unwrap().deflate().unwrap().server_max_window_bits, 15);
///
/// let accept = Accept::default().with_subprotocol(protocol).with_extension(deflate);
/// let (mut response, connection) = upgrade.accept(accept, Config::default()).unwrap();
/// response.headers_mut().insert("set-cookie", "session=1".parse().unwrap());
/// assert_eq!(response.status(), 101);
/// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// assert_eq!(response.headers()["sec-websocket-protocol"], "superchat");
/// assert_eq!(response.headers()["sec-websocket-extensions"], "permessage-deflate");
/// assert!(connection.deflate().is_some());
/// ```
#[derive(Clone, Debug)]
pub struct Upgrade {
    form: Form,
    subprotocols: Vec<String>,
    extensions: Option<Vec<ExtensionHeader>>,
}

/// How the server accepts an upgrade: the subprotocol it picks, the extension it
/// negotiated, and headers to add to the response.
///
/// ```
/// use wspc::handshake::Accept;
///
/// let accept = Accept::default()
///     .with_subprotocol(Some("chat".to_string()))
///     .with_header("set-cookie", "id=1")
///     .unwrap();
/// assert_eq!(accept.subprotocol.as_deref(), Some("chat"));
/// ```
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Accept {
    /// The chosen subprotocol: must be one the client offered.
    pub subprotocol: Option<String>,
    /// The negotiated extension, from [`Upgrade::negotiate`]. The byte-level
    /// [`ServerHandshake`](super::ServerHandshake) negotiates with its own extensions when
    /// this is `None`.
    pub extension: Option<NegotiatedExtension>,
    /// Extra headers for the response (cookies, server name, …).
    pub headers: HeaderMap,
}

impl Accept {
    /// Accept with the given subprotocol.
    pub fn subprotocol(name: impl Into<String>) -> Accept {
        Accept::default().with_subprotocol(Some(name.into()))
    }

    /// Sets the chosen subprotocol (builder style).
    pub fn with_subprotocol(mut self, name: Option<String>) -> Accept {
        self.subprotocol = name;
        self
    }

    /// Sets the negotiated extension (builder style).
    pub fn with_extension(mut self, extension: Option<NegotiatedExtension>) -> Accept {
        self.extension = extension;
        self
    }

    /// Adds a response header (builder style); fails on an invalid name or value.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Accept, HandshakeError> {
        let name = http::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HandshakeError::InvalidHeader(name.to_string()))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| HandshakeError::InvalidHeader(format!("value of {name}")))?;
        self.headers.append(name, value);
        Ok(self)
    }
}

/// An extension the server agreed to: the element it answers with and the codec the
/// connection will run.
#[derive(Debug)]
pub struct NegotiatedExtension {
    header: ExtensionHeader,
    codec: Box<dyn Extension>,
}

impl NegotiatedExtension {
    /// The `Sec-WebSocket-Extensions` element of the response.
    pub fn header(&self) -> &ExtensionHeader {
        &self.header
    }

    /// The negotiated permessage-deflate parameters, if this is permessage-deflate.
    #[cfg(feature = "deflate")]
    pub fn deflate(&self) -> Option<crate::deflate::DeflateParams> {
        crate::deflate::params_of(self.codec.as_ref())
    }
}

impl Upgrade {
    /// Validates an HTTP/1.1 upgrade request (RFC 6455 §4.2.1): `GET`, HTTP/1.1 or later,
    /// `Host`, `Upgrade: websocket`, `Connection: upgrade`, a `Sec-WebSocket-Key` of 16
    /// bytes and `Sec-WebSocket-Version: 13`. Each failure is a [`HandshakeError`] whose
    /// [`status`](HandshakeError::status) is the answer (400, 405, 426).
    pub fn from_parts(parts: &http::request::Parts) -> Result<Upgrade, HandshakeError> {
        Upgrade::http1(&parts.method, parts.version, &parts.headers)
    }

    /// [`from_parts`](Upgrade::from_parts) for a whole request (its body is ignored).
    pub fn from_request<B>(request: &http::Request<B>) -> Result<Upgrade, HandshakeError> {
        Upgrade::http1(request.method(), request.version(), request.headers())
    }

    /// Validates an HTTP/2 (or HTTP/3) extended CONNECT (RFC 8441 §4): method `CONNECT`,
    /// `:protocol` `websocket` (the HTTP/2 library hands the pseudo-header out separately:
    /// pass its value as `protocol`), `Sec-WebSocket-Version: 13`; there is no key. The
    /// answer is a `200`.
    pub fn from_extended_connect(
        parts: &http::request::Parts,
        protocol: Option<&str>,
    ) -> Result<Upgrade, HandshakeError> {
        Upgrade::extended_connect(&parts.method, parts.version, &parts.headers, protocol)
    }

    /// [`from_extended_connect`](Upgrade::from_extended_connect) for a whole request
    /// (its body is ignored).
    pub fn from_extended_connect_request<B>(
        request: &http::Request<B>,
        protocol: Option<&str>,
    ) -> Result<Upgrade, HandshakeError> {
        Upgrade::extended_connect(
            request.method(),
            request.version(),
            request.headers(),
            protocol,
        )
    }

    fn extended_connect(
        method: &Method,
        version: Version,
        headers: &HeaderMap,
        protocol: Option<&str>,
    ) -> Result<Upgrade, HandshakeError> {
        if *method != Method::CONNECT {
            return Err(HandshakeError::MethodNotAllowed(method.to_string()));
        }
        if version < Version::HTTP_2 {
            return Err(HandshakeError::HttpVersion);
        }
        match protocol {
            Some(p) if p.eq_ignore_ascii_case("websocket") => {}
            other => return Err(HandshakeError::UnsupportedProtocol(other.map(String::from))),
        }
        check_version(headers)?;
        Ok(Upgrade::offered(Form::ExtendedConnect, headers))
    }

    fn http1(
        method: &Method,
        version: Version,
        headers: &HeaderMap,
    ) -> Result<Upgrade, HandshakeError> {
        if *method != Method::GET || version > Version::HTTP_11 {
            // (An HTTP/2 GET cannot be upgraded: RFC 8441 uses CONNECT.)
            return Err(HandshakeError::MethodNotAllowed(method.to_string()));
        }
        if version < Version::HTTP_11 {
            return Err(HandshakeError::HttpVersion);
        }
        Upgrade::from_http1_headers(headers)
    }

    /// The header rules of an HTTP/1.1 upgrade alone — `Host`, `Upgrade: websocket`,
    /// `Connection: upgrade`, the key, version 13 — for callers that check the request
    /// line themselves (the Windows component model hands only headers over).
    pub fn from_http1_headers(headers: &HeaderMap) -> Result<Upgrade, HandshakeError> {
        let scan = match Upgrade::http1_fields(headers) {
            Ok(upgrade) => return Ok(upgrade),
            Err(scan) => scan,
        };
        // Something is wrong: the checks in the order of the rules (their errors and
        // statuses as for lookups).
        if !scan.host {
            return Err(HandshakeError::MissingHost);
        }
        if !scan.upgrade || !scan.connection {
            check_upgrade_tokens(headers)?;
        }
        check_version(headers)?;
        Err(HandshakeError::InvalidKey)
    }

    /// [`from_http1_headers`](Upgrade::from_http1_headers) on the parser's fields of a
    /// request head: the upgrade when the fields make a valid one, `None` otherwise (the
    /// head then goes through `http` values, which say what is wrong).
    pub(crate) fn from_parsed_fields(fields: &[httparse::Header<'_>]) -> Option<Upgrade> {
        Upgrade::http1_fields(fields).ok()
    }

    /// The header rules on any kind of fields, in one walk over them: the upgrade if they
    /// hold, else what the walk found.
    fn http1_fields<F: Fields + ?Sized>(fields: &F) -> Result<Upgrade, Scan<'_>> {
        let scan = Scan::of(fields);
        // (A key that is not text is not base64 either: `is_key` refuses it.)
        let key = match scan.key {
            Some(key) if scan.keys == 1 => fields::trim_ows(key),
            _ => &[],
        };
        match key {
            key if scan.host
                && scan.upgrade
                && scan.connection
                && scan.versions == 1
                && scan.version_13
                && super::is_key(key) =>
            {
                let accept = accept_key_bytes(key);
                Ok(Upgrade::offered_if(
                    Form::Http1 { accept },
                    fields,
                    scan.protocols,
                    scan.extensions,
                ))
            }
            _ => Err(scan),
        }
    }

    fn offered<F: Fields + ?Sized>(form: Form, headers: &F) -> Upgrade {
        Upgrade::offered_if(form, headers, true, true)
    }

    /// The offers of `headers`; `protocols` / `extensions`: whether those fields may be
    /// present (when not, they are not looked up).
    fn offered_if<F: Fields + ?Sized>(
        form: Form,
        headers: &F,
        protocols: bool,
        extensions: bool,
    ) -> Upgrade {
        let subprotocols = if protocols {
            subprotocol_list(headers).map(String::from).collect()
        } else {
            Vec::new()
        };
        // A malformed offer list is declined as a whole: the connection proceeds
        // without extensions (RFC 6455 §9.1 leaves the reaction to the server).
        let extensions = match extensions
            .then(|| super::header_joined(headers, SEC_WEBSOCKET_EXTENSIONS))
            .flatten()
        {
            None => Some(Vec::new()),
            Some(value) => ExtensionHeader::parse_list(&value).ok(),
        };
        Upgrade {
            form,
            subprotocols,
            extensions,
        }
    }

    /// The HTTP version of the request's form: 1.1, or 2 for extended CONNECT.
    pub fn version(&self) -> Version {
        match self.form {
            Form::Http1 { .. } => Version::HTTP_11,
            Form::ExtendedConnect => Version::HTTP_2,
        }
    }

    /// The subprotocols the client offers, in its order of preference.
    pub fn subprotocols(&self) -> impl Iterator<Item = &str> {
        self.subprotocols.iter().map(String::as_str)
    }

    /// The first of the client's offered subprotocols that appears in `supported`.
    pub fn select_subprotocol<'a>(&'a self, supported: &[impl AsRef<str>]) -> Option<&'a str> {
        self.subprotocols()
            .find(|p| supported.iter().any(|s| s.as_ref() == *p))
    }

    /// The client's extension offers, in order; `None` if the header is malformed.
    pub fn extension_offers(&self) -> Option<&[ExtensionHeader]> {
        self.extensions.as_deref()
    }

    /// Negotiates extensions: for each of `supported`, in the server's order of
    /// preference, the client's offers of it are handed to
    /// [`ServerExtension::negotiate`]; the first that accepts one wins. `None` when
    /// nothing was offered, nothing fits, or the offers are malformed.
    pub fn negotiate(&self, supported: &[Arc<dyn ServerExtension>]) -> Option<NegotiatedExtension> {
        let offers = self.extensions.as_deref().filter(|o| !o.is_empty())?;
        supported.iter().find_map(|ext| {
            let named = |o: &&ExtensionHeader| o.name.eq_ignore_ascii_case(ext.name());
            // Usually every offer names this extension: hand them over without copies.
            let (header, codec) = if offers.iter().all(|o| named(&o)) {
                ext.negotiate(offers)?
            } else {
                let mine: Vec<ExtensionHeader> = offers.iter().filter(named).cloned().collect();
                if mine.is_empty() {
                    return None;
                }
                ext.negotiate(&mine)?
            };
            Some(NegotiatedExtension { header, codec })
        })
    }

    /// Accepts the upgrade: the response (`101 Switching Protocols` with
    /// `Sec-WebSocket-Accept` for HTTP/1.1, `200` for extended CONNECT), carrying the
    /// chosen subprotocol, the negotiated extension and `accept.headers`, and the server
    /// [`Connection`] running with `config` and the extension. Bytes that arrived after
    /// the request head belong to the connection: [`feed`](Connection::feed) them.
    pub fn accept(
        &self,
        accept: Accept,
        config: Config,
    ) -> Result<(http::Response<()>, Connection), HandshakeError> {
        if let Some(chosen) = &accept.subprotocol
            && !self.subprotocols.iter().any(|offered| offered == chosen)
        {
            return Err(HandshakeError::UnofferedSubprotocol(chosen.clone()));
        }
        let mut response = http::Response::new(());
        match &self.form {
            Form::Http1 { accept: value } => {
                *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                let headers = response.headers_mut();
                headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
                headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
                let value =
                    HeaderValue::from_bytes(value).map_err(|_| HandshakeError::InvalidKey)?;
                headers.insert(SEC_WEBSOCKET_ACCEPT, value);
            }
            Form::ExtendedConnect => *response.version_mut() = Version::HTTP_2,
        }
        let headers = response.headers_mut();
        if let Some(protocol) = &accept.subprotocol {
            let value = HeaderValue::from_str(protocol)
                .map_err(|_| HandshakeError::InvalidHeader(format!("subprotocol {protocol:?}")))?;
            headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        let codec = match accept.extension {
            Some(NegotiatedExtension { header, codec }) => {
                let value = HeaderValue::from_str(&header.to_string()).map_err(|_| {
                    HandshakeError::InvalidHeader("Sec-WebSocket-Extensions".into())
                })?;
                headers.insert(SEC_WEBSOCKET_EXTENSIONS, value);
                Some(codec)
            }
            None => None,
        };
        for (name, value) in &accept.headers {
            headers.append(name, value.clone());
        }
        let connection = Connection::with_extension(Role::Server, config, codec);
        Ok((response, connection))
    }

    /// [`accept`](Upgrade::accept) with the response head written as HTTP/1.1 bytes:
    /// appends to `out` what [`http1::write_response_head`](super::http1::write_response_head)
    /// writes for `accept`'s response — status line, the same fields in the same order,
    /// the empty line — and returns the [`Connection`]. The usual `101` (no extra
    /// headers in `accept`) is written directly, without building an `http::Response`.
    pub fn accept_into(
        &self,
        accept: Accept,
        config: Config,
        out: &mut Vec<u8>,
    ) -> Result<Connection, HandshakeError> {
        let Form::Http1 { accept: key } = &self.form else {
            return self.accept_via_response(accept, config, out);
        };
        if !accept.headers.is_empty() {
            // Extra fields may share a name with ours, which the response's `HeaderMap`
            // groups: take that path to write them exactly as it does.
            return self.accept_via_response(accept, config, out);
        }
        if let Some(chosen) = &accept.subprotocol
            && !self.subprotocols.iter().any(|offered| offered == chosen)
        {
            return Err(HandshakeError::UnofferedSubprotocol(chosen.clone()));
        }
        let start = out.len();
        out.extend_from_slice(
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ",
        );
        out.extend_from_slice(key);
        out.extend_from_slice(b"\r\n");
        if let Some(protocol) = &accept.subprotocol {
            if !valid_field_value(protocol.as_bytes()) {
                out.truncate(start);
                return Err(HandshakeError::InvalidHeader(format!(
                    "subprotocol {protocol:?}"
                )));
            }
            out.extend_from_slice(b"sec-websocket-protocol: ");
            out.extend_from_slice(protocol.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let codec = match accept.extension {
            Some(NegotiatedExtension { header, codec }) => {
                let value = header.to_string();
                if !valid_field_value(value.as_bytes()) {
                    out.truncate(start);
                    return Err(HandshakeError::InvalidHeader(
                        "Sec-WebSocket-Extensions".into(),
                    ));
                }
                out.extend_from_slice(b"sec-websocket-extensions: ");
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(b"\r\n");
                Some(codec)
            }
            None => None,
        };
        out.extend_from_slice(b"\r\n");
        Ok(Connection::with_extension(Role::Server, config, codec))
    }

    fn accept_via_response(
        &self,
        accept: Accept,
        config: Config,
        out: &mut Vec<u8>,
    ) -> Result<Connection, HandshakeError> {
        let (response, connection) = self.accept(accept, config)?;
        super::http1::write_response_head(response.status(), response.headers(), out);
        Ok(connection)
    }
}

/// What one walk over an HTTP/1.1 upgrade request's fields found.
struct Scan<'a> {
    host: bool,
    /// `Upgrade` holds `websocket`.
    upgrade: bool,
    /// `Connection` holds `upgrade`.
    connection: bool,
    /// `Sec-WebSocket-Version` fields that are text, and whether the last is `13`.
    versions: usize,
    version_13: bool,
    /// `Sec-WebSocket-Key` fields, and the last one.
    keys: usize,
    key: Option<&'a [u8]>,
    protocols: bool,
    extensions: bool,
}

impl<'a> Scan<'a> {
    fn of<F: Fields + ?Sized>(fields: &'a F) -> Scan<'a> {
        let mut scan = Scan {
            host: false,
            upgrade: false,
            connection: false,
            versions: 0,
            version_13: false,
            keys: 0,
            key: None,
            protocols: false,
            extensions: false,
        };
        for (known, value) in fields.known() {
            match known {
                Known::Host => scan.host = true,
                Known::Upgrade => {
                    scan.upgrade = scan.upgrade || list_has_token(value, b"websocket");
                }
                Known::Connection => {
                    scan.connection = scan.connection || list_has_token(value, b"upgrade");
                }
                Known::Key => {
                    scan.keys += 1;
                    scan.key = Some(value);
                }
                Known::Version => {
                    if fields::is_text(value) {
                        scan.versions += 1;
                        scan.version_13 = fields::trim_ows(value) == b"13";
                    }
                }
                Known::Protocol => scan.protocols = true,
                Known::Extensions => scan.extensions = true,
            }
        }
        scan
    }
}

/// What `HeaderValue::from_str` accepts (visible ASCII, obs-text, space, tab).
fn valid_field_value(value: &[u8]) -> bool {
    value.iter().all(|&b| b >= 32 && b != 127 || b == b'\t')
}

fn check_version(headers: &HeaderMap) -> Result<(), HandshakeError> {
    let versions = || {
        headers
            .get_all(SEC_WEBSOCKET_VERSION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
    };
    let mut it = versions();
    if let (Some("13"), None) = (it.next(), it.next()) {
        return Ok(());
    }
    let versions: Vec<&str> = versions().collect();
    Err(HandshakeError::UnsupportedVersion(
        (!versions.is_empty()).then(|| versions.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h1() -> http::request::Builder {
        http::Request::get("/chat")
            .header("host", "server.example.com")
            .header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "13")
    }

    fn h2() -> http::request::Builder {
        http::Request::connect("https://server.example.com/chat")
            .version(Version::HTTP_2)
            .header("sec-websocket-version", "13")
    }

    fn status(result: Result<Upgrade, HandshakeError>) -> StatusCode {
        result.unwrap_err().status().unwrap()
    }

    #[test]
    fn http1_rules_and_statuses() {
        let ok = Upgrade::from_request(&h1().body(()).unwrap()).unwrap();
        assert_eq!(ok.version(), Version::HTTP_11);
        let req = |b: http::request::Builder| Upgrade::from_request(&b.body(()).unwrap());
        assert_eq!(
            status(req(h1().method("POST"))),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            status(req(h1().version(Version::HTTP_10))),
            StatusCode::BAD_REQUEST
        );
        let without = |name: &str| {
            let mut r = h1().body(()).unwrap();
            r.headers_mut().remove(name);
            Upgrade::from_request(&r)
        };
        assert_eq!(status(without("host")), StatusCode::BAD_REQUEST);
        assert_eq!(status(without("upgrade")), StatusCode::BAD_REQUEST);
        assert_eq!(status(without("connection")), StatusCode::BAD_REQUEST);
        assert_eq!(
            status(without("sec-websocket-key")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(without("sec-websocket-version")),
            StatusCode::UPGRADE_REQUIRED
        );
        let replaced = |name: &'static str, value: &'static str| {
            let mut r = h1().body(()).unwrap();
            r.headers_mut()
                .insert(name, HeaderValue::from_static(value));
            Upgrade::from_request(&r)
        };
        assert_eq!(
            status(replaced("sec-websocket-key", "c2hvcnQ=")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(replaced("sec-websocket-version", "8")),
            StatusCode::UPGRADE_REQUIRED
        );
        assert_eq!(status(replaced("upgrade", "h2c")), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn extended_connect_rules() {
        let (parts, ()) = h2().body(()).unwrap().into_parts();
        let ok = Upgrade::from_extended_connect(&parts, Some("websocket")).unwrap();
        assert_eq!(ok.version(), Version::HTTP_2);
        let (response, _) = ok.accept(Accept::default(), Config::default()).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("sec-websocket-accept").is_none());
        assert!(response.headers().get("upgrade").is_none());

        assert_eq!(
            status(Upgrade::from_extended_connect(&parts, None)),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(Upgrade::from_extended_connect(&parts, Some("webtransport"))),
            StatusCode::BAD_REQUEST
        );
        let (get, ()) = h2().method("GET").body(()).unwrap().into_parts();
        assert_eq!(
            status(Upgrade::from_extended_connect(&get, Some("websocket"))),
            StatusCode::METHOD_NOT_ALLOWED
        );
        let (v12, ()) = h2()
            .header("sec-websocket-version", "12")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(
            status(Upgrade::from_extended_connect(&v12, Some("websocket"))),
            StatusCode::UPGRADE_REQUIRED
        );
        // An HTTP/2 GET is not an upgrade either way.
        let (h2get, ()) = h1().version(Version::HTTP_2).body(()).unwrap().into_parts();
        assert_eq!(
            status(Upgrade::from_parts(&h2get)),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn subprotocol_must_have_been_offered() {
        let up = Upgrade::from_request(
            &h1()
                .header("sec-websocket-protocol", "a, b")
                .body(())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(up.select_subprotocol(&["b", "a"]), Some("a"));
        assert_eq!(
            up.accept(Accept::subprotocol("c"), Config::default())
                .unwrap_err(),
            HandshakeError::UnofferedSubprotocol("c".into())
        );
    }

    #[test]
    #[cfg(feature = "deflate")]
    fn accept_into_writes_what_the_response_would() {
        let deflate: Arc<dyn ServerExtension> = Arc::new(crate::deflate::DeflateServer::default());
        let offered = || {
            h1().header("sec-websocket-protocol", "a, b").header(
                "sec-websocket-extensions",
                "permessage-deflate; client_max_window_bits",
            )
        };
        type MakeAccept = fn(&Upgrade, Arc<dyn ServerExtension>) -> Accept;
        let accepts: Vec<(http::request::Builder, MakeAccept)> = vec![
            (h1(), |_, _| Accept::default()),
            (offered(), |_, _| Accept::subprotocol("b")),
            (offered(), |u, d| {
                Accept::default().with_extension(u.negotiate(&[d]))
            }),
            (offered(), |u, d| {
                Accept::subprotocol("a")
                    .with_extension(u.negotiate(&[d]))
                    .with_header("upgrade", "x")
                    .unwrap()
                    .with_header("set-cookie", "id=1")
                    .unwrap()
            }),
            (offered(), |_, _| Accept::subprotocol("c")),
            (
                offered().header("sec-websocket-protocol", "\u{e9}"),
                |_, _| Accept::subprotocol("\u{e9}"),
            ),
        ];
        for (request, accept) in accepts {
            let upgrade = Upgrade::from_request(&request.body(()).unwrap()).unwrap();
            let typed = upgrade
                .accept(accept(&upgrade, deflate.clone()), Config::default())
                .map(|(response, c)| {
                    let mut bytes = Vec::new();
                    super::super::http1::write_response_head(
                        response.status(),
                        response.headers(),
                        &mut bytes,
                    );
                    (bytes, c.deflate().is_some())
                });
            let mut bytes = Vec::new();
            let direct = upgrade
                .accept_into(
                    accept(&upgrade, deflate.clone()),
                    Config::default(),
                    &mut bytes,
                )
                .map(|c| (bytes, c.deflate().is_some()));
            assert_eq!(direct, typed);
        }
        let (parts, ()) = h2().body(()).unwrap().into_parts();
        let up = Upgrade::from_extended_connect(&parts, Some("websocket")).unwrap();
        let mut bytes = Vec::new();
        up.accept_into(Accept::default(), Config::default(), &mut bytes)
            .unwrap();
        assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
    }

    #[test]
    fn malformed_extension_offers_are_declined() {
        let up = Upgrade::from_request(
            &h1()
                .header("sec-websocket-extensions", "a;;")
                .body(())
                .unwrap(),
        )
        .unwrap();
        assert!(up.extension_offers().is_none());
    }
}
