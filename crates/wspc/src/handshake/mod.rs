//! The opening handshake (RFC 6455 §4), both roles, sans-IO.
//!
//! - [`ClientHandshake`]: builds the `GET` request for a `ws://`/`wss://` URL and checks
//!   the server's response.
//! - [`ServerHandshake`]: parses the client's request, lets the application look at it,
//!   pick a subprotocol or reject it, and produces the response.
//!
//! Both parse incrementally with hard caps on head size and header count, in time
//! linear in the bytes received however they are split, and keep the bytes that arrive
//! right behind the head for the [`Connection`](crate::Connection) they produce.

mod client;
mod fields;
mod head;
pub mod http1;
mod server;
mod upgrade;

pub use client::{ClientHandshake, ClientRequest, Established};
pub use server::{ReceivedHead, ServerHandshake};
pub use upgrade::{Accept, NegotiatedExtension, Upgrade};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue, SEC_WEBSOCKET_PROTOCOL, UPGRADE};
use http::{HeaderMap, StatusCode, Version};
use sha1::{Digest, Sha1};

use fields::Fields;

/// The GUID RFC 6455 §1.3 appends to the key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`.
///
/// ```
/// // RFC 6455 §1.3.
/// assert_eq!(wspc::handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    let accept = accept_key_bytes(key.trim().as_bytes());
    String::from_utf8_lossy(&accept).into_owned()
}

/// [`accept_key`] of an already trimmed key, without allocating: base64 of a SHA-1
/// digest is 28 ASCII bytes.
pub(crate) fn accept_key_bytes(key: &[u8]) -> [u8; 28] {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let mut out = [0u8; 28];
    // 20 bytes encode to exactly 28: the slice is large enough, this cannot fail.
    let _ = BASE64.encode_slice(sha.finalize(), &mut out);
    out
}

/// Whether `key` is the base64 of 16 bytes, as a `Sec-WebSocket-Key` must be (RFC 6455
/// §4.2.1): 24 characters, the last two `=`, and the 22nd carrying 2 bits (its low four
/// bits zero, as the base64 crate's canonical decoder requires). The same verdict as
/// decoding it (81 instructions against 390 for the decode, callgrind; the key is only
/// hashed, its bytes are never needed).
pub(crate) fn is_key(key: &[u8]) -> bool {
    match key {
        [body @ .., last, b'=', b'='] if body.len() == 21 => {
            body.iter().all(|&b| BASE64_ALPHABET[usize::from(b)])
                && matches!(last, b'A' | b'Q' | b'g' | b'w')
        }
        _ => false,
    }
}

/// The standard base64 alphabet, as a table: a load per byte instead of five compares.
static BASE64_ALPHABET: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
        b += 1;
    }
    table
};

/// A fresh `Sec-WebSocket-Key`: 16 bytes from the thread's CSPRNG, base64-encoded.
pub fn generate_key() -> String {
    use rand::Rng;
    let mut nonce = [0u8; 16];
    rand::rng().fill_bytes(&mut nonce);
    BASE64.encode(nonce)
}

/// Why an opening handshake failed.
///
/// On the server, [`HandshakeError::status`] and [`HandshakeError::response`] give the
/// HTTP response to send back (400, 405, 426 with `Sec-WebSocket-Version: 13`, 431).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The HTTP head grew past [`Limits::max_head_size`](crate::Limits).
    #[error("HTTP head larger than {max} bytes")]
    HeadTooLarge {
        /// The limit.
        max: usize,
    },
    /// More header fields than [`Limits::max_headers`](crate::Limits).
    #[error("more than {max} header fields")]
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
    /// The head is not valid HTTP/1.x.
    #[error("malformed HTTP: {0}")]
    MalformedHttp(String),
    /// The request's method is not GET.
    #[error("method {0} is not GET")]
    MethodNotAllowed(String),
    /// The request is not HTTP/1.1 or later.
    #[error("HTTP/1.1 or later is required")]
    HttpVersion,
    /// The request has no Host header.
    #[error("missing Host header")]
    MissingHost,
    /// A required header is missing or wrong (`Upgrade: websocket`, `Connection: upgrade`).
    #[error("{0}")]
    NotWebSocketUpgrade(&'static str),
    /// The request's `Sec-WebSocket-Key` is missing or does not decode to 16 bytes.
    #[error("missing or invalid Sec-WebSocket-Key")]
    InvalidKey,
    /// The request's `Sec-WebSocket-Version` is missing or not 13.
    #[error("unsupported Sec-WebSocket-Version {0:?} (13 is supported)")]
    UnsupportedVersion(Option<String>),
    /// An extended CONNECT (RFC 8441) without `:protocol`, or for another protocol than
    /// `websocket`.
    #[error("extended CONNECT :protocol {0:?} is not websocket")]
    UnsupportedProtocol(Option<String>),
    /// The server answered with a status other than 101.
    #[error("server answered {status} instead of 101 Switching Protocols")]
    Rejected {
        /// The response status.
        status: StatusCode,
        /// The response headers.
        headers: Box<HeaderMap>,
    },
    /// The response's `Sec-WebSocket-Accept` does not match our key.
    #[error("Sec-WebSocket-Accept does not match the key")]
    InvalidAccept,
    /// A subprotocol that was not offered (client), or not offered by the client (server).
    #[error("subprotocol {0:?} was not offered")]
    UnofferedSubprotocol(String),
    /// The response names an extension that was not offered, or names one twice.
    #[error("extension {0:?} was not offered")]
    UnofferedExtension(String),
    /// An extension's negotiation failed (bad parameters in the response).
    #[error("extension negotiation failed: {0}")]
    Extension(String),
    /// The URL is not a valid `ws://` or `wss://` URL.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// A header given by the application cannot be sent.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// The handshake already finished; this object cannot be used again.
    #[error("the handshake is already complete")]
    AlreadyComplete,
}

impl HandshakeError {
    /// The HTTP status a server answers with for this error (`None` for client-side
    /// errors).
    pub fn status(&self) -> Option<StatusCode> {
        Some(match self {
            HandshakeError::HeadTooLarge { .. } | HandshakeError::TooManyHeaders { .. } => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            HandshakeError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            HandshakeError::UnsupportedVersion(_) => StatusCode::UPGRADE_REQUIRED,
            HandshakeError::MalformedHttp(_)
            | HandshakeError::HttpVersion
            | HandshakeError::MissingHost
            | HandshakeError::NotWebSocketUpgrade(_)
            | HandshakeError::InvalidKey
            | HandshakeError::UnsupportedProtocol(_)
            | HandshakeError::UnofferedSubprotocol(_)
            | HandshakeError::InvalidHeader(_) => StatusCode::BAD_REQUEST,
            _ => return None,
        })
    }

    /// The HTTP/1.1 response a server sends for this error:
    /// [`response_for`](HandshakeError::response_for) `Version::HTTP_11`.
    pub fn response(&self) -> Option<http::Response<String>> {
        self.response_for(Version::HTTP_11)
    }

    /// The response a server sends for this error over HTTP `version`: the
    /// [`status`](HandshakeError::status), a short plain-text body naming the problem,
    /// `Sec-WebSocket-Version: 13` with 426 and `Allow` with 405; over HTTP/1.x also
    /// `Connection: close` (and `Upgrade: websocket` with 426, RFC 9110 §15.5.22), which
    /// HTTP/2 forbids. `None` for client-side errors. Write it with
    /// [`http1::encode_response`] or hand it to your HTTP server.
    ///
    /// ```
    /// use wspc::HandshakeError;
    ///
    /// let response = HandshakeError::UnsupportedVersion(Some("8".into())).response().unwrap();
    /// assert_eq!(response.status(), 426);
    /// assert_eq!(response.headers()["sec-websocket-version"], "13");
    /// ```
    pub fn response_for(&self, version: Version) -> Option<http::Response<String>> {
        let status = self.status()?;
        let mut response = http::Response::new(format!("{self}\n"));
        *response.status_mut() = status;
        let h1 = version < Version::HTTP_2;
        if !h1 {
            *response.version_mut() = version;
        }
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if status == StatusCode::UPGRADE_REQUIRED {
            headers.insert(
                http::header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            if h1 {
                headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
            }
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            let allow = if h1 { "GET" } else { "CONNECT" };
            headers.insert(http::header::ALLOW, HeaderValue::from_static(allow));
        }
        if h1 {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Some(response)
    }
}

/// Whether an HTTP/1.1 request's headers ask for a WebSocket at all (`Upgrade:
/// websocket`); the request may still be an invalid upgrade ([`Upgrade::from_parts`]
/// says). Servers use it to answer other requests as plain HTTP on the same port.
pub fn requests_websocket(headers: &HeaderMap) -> bool {
    header_has_token(headers, UPGRADE, "websocket")
}

/// The `Upgrade: websocket` and `Connection: upgrade` tokens both HTTP/1.1 directions
/// carry.
pub(crate) fn check_upgrade_tokens(headers: &HeaderMap) -> Result<(), HandshakeError> {
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
    Ok(())
}

/// Whether any value of header `name` holds `token` in its comma-separated list
/// (case-insensitive).
pub(crate) fn header_has_token(
    headers: &HeaderMap,
    name: http::header::HeaderName,
    token: &str,
) -> bool {
    headers
        .get_all(name)
        .iter()
        .any(|value| value_has_token(value, token))
}

/// Whether a header value's comma-separated list holds `token` (case-insensitive): its
/// elements, with spaces and tabs around them trimmed, compared as ASCII. A value that is
/// not text (obs-text bytes) holds no token.
pub(crate) fn value_has_token(value: &HeaderValue, token: &str) -> bool {
    list_has_token(value.as_bytes(), token.as_bytes())
}

/// [`value_has_token`] on the value's bytes: one pass, no `str` splitting.
pub(crate) fn list_has_token(list: &[u8], token: &[u8]) -> bool {
    if list.eq_ignore_ascii_case(token) {
        // The usual field, `Upgrade: websocket`: the whole value is the token (text).
        return true;
    }
    let mut found = false;
    let mut start = 0;
    for (i, &b) in list.iter().enumerate() {
        if b == b',' {
            found = found || element_is(&list[start..i], token);
            start = i + 1;
        } else if !(b == b'\t' || (0x20..0x7f).contains(&b)) {
            // What `HeaderValue::to_str` refuses: not a text value.
            return false;
        }
    }
    found || element_is(&list[start..], token)
}

/// Whether a list element, trimmed of spaces and tabs, is `token` (ASCII case-insensitive).
fn element_is(element: &[u8], token: &[u8]) -> bool {
    fields::trim_ows(element).eq_ignore_ascii_case(token)
}

/// All values of header `name`, as one comma-separated string, if present and text.
pub(crate) fn header_joined<'a, F: Fields + ?Sized>(
    headers: &'a F,
    name: http::header::HeaderName,
) -> Option<std::borrow::Cow<'a, str>> {
    let mut values = headers.values_of(&name).filter_map(fields::text);
    let first = values.next()?;
    match values.next() {
        // The usual case, one field: no copy.
        None => Some(std::borrow::Cow::Borrowed(first)),
        Some(second) => {
            let mut joined = format!("{first}, {second}");
            for v in values {
                joined.push_str(", ");
                joined.push_str(v);
            }
            Some(std::borrow::Cow::Owned(joined))
        }
    }
}

/// The subprotocols listed in `Sec-WebSocket-Protocol` fields, in order.
pub(crate) fn subprotocol_list<F: Fields + ?Sized>(headers: &F) -> impl Iterator<Item = &str> {
    headers
        .values_of(&SEC_WEBSOCKET_PROTOCOL)
        .filter_map(fields::text)
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_key_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    /// `is_key` says what decoding says: for keys of random bytes, and for every
    /// one-byte change of a key (each position, each byte value) and every length.
    #[test]
    fn is_key_agrees_with_decoding() {
        let decodes = |k: &[u8]| matches!(BASE64.decode_slice(k, &mut [0u8; 18]), Ok(16));
        for _ in 0..200 {
            let key = generate_key();
            assert!(is_key(key.as_bytes()), "{key}");
            let mut bytes = key.into_bytes();
            for at in 0..bytes.len() {
                let was = bytes[at];
                for b in 0..=255u8 {
                    bytes[at] = b;
                    let k = &bytes[..];
                    assert_eq!(is_key(k), k.len() == 24 && decodes(k), "{k:?}");
                }
                bytes[at] = was;
            }
        }
        let key = generate_key().repeat(2);
        for len in 0..key.len() {
            let k = &key.as_bytes()[..len];
            assert_eq!(is_key(k), len == 24 && decodes(k), "{len}");
        }
        assert!(is_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_key(b"dGhlIHNhbXBsZSBub25jZR=="));
    }

    #[test]
    fn keys_are_random_16_bytes() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert_eq!(BASE64.decode(&a).unwrap().len(), 16);
    }

    #[test]
    fn token_lists() {
        let has = |v: &[u8], t: &str| value_has_token(&HeaderValue::from_bytes(v).unwrap(), t);
        assert!(has(b"Upgrade", "upgrade"));
        assert!(has(b"keep-alive, Upgrade", "upgrade"));
        assert!(has(b"keep-alive,Upgrade", "upgrade"));
        assert!(has(b"\tUPGRADE\t, keep-alive", "upgrade"));
        assert!(has(b" , ,upgrade,, ", "upgrade"));
        assert!(has(b"websocket", "websocket"));
        assert!(!has(b"keep-alive", "upgrade"));
        assert!(!has(b"upgrades", "upgrade"));
        assert!(!has(b"up grade", "upgrade"));
        assert!(!has(b"upgrade;q=1", "upgrade"));
        assert!(!has(b"", "upgrade"));
        assert!(!has(b" , ", "upgrade"));
        // Not text (obs-text): no token, as `to_str` refuses it.
        assert!(!has(b"upgrade, \xe9", "upgrade"));
        // The same answers as splitting the text value.
        for v in [
            &b"a, upgrade"[..],
            b"upgrade ,b",
            b"\t \t",
            b",",
            b"Upgrade\t",
            b"x,\tupgrade\t,y",
        ] {
            let text = std::str::from_utf8(v).unwrap();
            let by_str = text
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
            assert_eq!(has(v, "upgrade"), by_str, "{text:?}");
        }
    }

    #[test]
    fn error_responses() {
        let resp = http1::encode_response(
            &HandshakeError::UnsupportedVersion(Some("8".into()))
                .response()
                .unwrap(),
        );
        let resp = String::from_utf8(resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(resp.contains("\r\nsec-websocket-version: 13\r\n"));
        assert!(resp.contains("\r\nupgrade: websocket\r\n"));
        let resp = HandshakeError::InvalidKey.response().unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers()["connection"], "close");
        assert!(HandshakeError::InvalidAccept.response().is_none());
        assert_eq!(
            HandshakeError::HeadTooLarge { max: 1 }.status(),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let h2 = HandshakeError::MethodNotAllowed("GET".into())
            .response_for(Version::HTTP_2)
            .unwrap();
        assert_eq!(h2.headers()["allow"], "CONNECT");
        assert!(h2.headers().get("connection").is_none());
        let h2 = HandshakeError::UnsupportedVersion(None)
            .response_for(Version::HTTP_2)
            .unwrap();
        assert!(h2.headers().get("upgrade").is_none());
    }
}
