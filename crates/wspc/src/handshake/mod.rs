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
mod head;
mod server;

pub use client::{ClientHandshake, ClientRequest, Established};
pub use server::{Accept, Request, ServerHandshake};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, StatusCode};
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 §1.3 appends to the key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`.
///
/// ```
/// // RFC 6455 §1.3.
/// assert_eq!(wspc::handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(GUID);
    BASE64.encode(sha.finalize())
}

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
            | HandshakeError::UnofferedSubprotocol(_)
            | HandshakeError::InvalidHeader(_) => StatusCode::BAD_REQUEST,
            _ => return None,
        })
    }

    /// The complete HTTP response a server sends for this error: the status, a short
    /// plain-text body naming the problem, `Sec-WebSocket-Version: 13` with 426 and
    /// `Allow: GET` with 405. `None` for client-side errors.
    pub fn response(&self) -> Option<Vec<u8>> {
        let status = self.status()?;
        let mut extra = Vec::new();
        if status == StatusCode::UPGRADE_REQUIRED {
            extra.push(("Sec-WebSocket-Version", "13"));
            extra.push(("Upgrade", "websocket"));
            extra.push(("Connection", "Upgrade"));
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            extra.push(("Allow", "GET"));
        }
        Some(http_response(
            status,
            &extra,
            format!("{self}\n").as_bytes(),
        ))
    }
}

/// Formats a complete HTTP/1.1 response with a body and `Connection: close`.
pub(crate) fn http_response(status: StatusCode, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    let upgrade = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("connection"));
    if !upgrade {
        out.push_str("Connection: close\r\n");
    }
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Whether any value of header `name` holds `token` in its comma-separated list
/// (case-insensitive).
pub(crate) fn header_has_token(
    headers: &HeaderMap,
    name: http::header::HeaderName,
    token: &str,
) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .map(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// All values of header `name`, as one comma-separated string, if present and text.
pub(crate) fn header_joined(headers: &HeaderMap, name: http::header::HeaderName) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// Converts parsed httparse headers into a `HeaderMap`.
pub(crate) fn to_header_map(headers: &[httparse::Header<'_>]) -> Result<HeaderMap, HandshakeError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for h in headers {
        let name = http::header::HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| {
            HandshakeError::MalformedHttp(format!("invalid header name {:?}", h.name))
        })?;
        let value = http::header::HeaderValue::from_bytes(h.value).map_err(|_| {
            HandshakeError::MalformedHttp(format!("invalid value for header {}", h.name))
        })?;
        map.append(name, value);
    }
    Ok(map)
}

/// Maps an httparse failure to a handshake error.
pub(crate) fn parse_error(e: httparse::Error, max_headers: usize) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders { max: max_headers },
        other => HandshakeError::MalformedHttp(other.to_string()),
    }
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

    #[test]
    fn keys_are_random_16_bytes() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert_eq!(BASE64.decode(&a).unwrap().len(), 16);
    }

    #[test]
    fn error_responses() {
        let resp = String::from_utf8(
            HandshakeError::UnsupportedVersion(Some("8".into()))
                .response()
                .unwrap(),
        )
        .unwrap();
        assert!(resp.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(resp.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        let resp = String::from_utf8(HandshakeError::InvalidKey.response().unwrap()).unwrap();
        assert!(resp.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(resp.contains("Connection: close"));
        assert!(HandshakeError::InvalidAccept.response().is_none());
        assert_eq!(
            HandshakeError::HeadTooLarge { max: 1 }.status(),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
    }
}
