//! HTTP/1.1 heads as bytes: the one place in wspc that parses and writes them.
//!
//! Everything above the engine — the byte-level handshakes, the tokio adapter, `wspc
//! serve` — turns `http` values into bytes with [`write_request_head`] and
//! [`encode_response`], and bytes into values with [`parse_request`] and
//! [`parse_response`] (both [`httparse`], with a cap on the number of header fields).
//!
//! ```
//! use wspc::handshake::http1;
//!
//! let response = http::Response::builder()
//!     .status(404)
//!     .header("content-type", "text/plain")
//!     .body("no such page\n")
//!     .unwrap();
//! let bytes = http1::encode_response(&response);
//! assert_eq!(
//!     bytes,
//!     b"HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nno such page\n"
//! );
//! let parsed = http1::parse_response(&bytes[..bytes.len() - 13], 16).unwrap();
//! assert_eq!(parsed.status, 404);
//! ```

use std::mem::MaybeUninit;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Uri, Version};

use super::{HandshakeError, Upgrade};

/// Header slots kept on the stack; more (a raised `max_headers`) go on the heap.
const STACK_HEADERS: usize = 128;

/// Runs `parse` with `max_headers` uninitialized header slots.
fn with_slots<'b, T>(
    max_headers: usize,
    parse: impl FnOnce(&mut [MaybeUninit<httparse::Header<'b>>]) -> T,
) -> T {
    if max_headers <= STACK_HEADERS {
        let mut slots = [MaybeUninit::uninit(); STACK_HEADERS];
        parse(&mut slots[..max_headers])
    } else {
        parse(&mut vec![MaybeUninit::uninit(); max_headers])
    }
}

/// Parses a complete request head (request line, header fields, empty line) into
/// `http` values. More than `max_headers` fields is [`HandshakeError::TooManyHeaders`].
pub fn parse_request(
    head: &[u8],
    max_headers: usize,
) -> Result<http::request::Parts, HandshakeError> {
    request_parts(head, max_headers, |t| t.parse(), HeaderValue::from_bytes)
}

/// [`parse_request`] for a head held in `Bytes`: header values are slices of it, not
/// copies.
pub fn parse_request_bytes(
    head: &Bytes,
    max_headers: usize,
) -> Result<http::request::Parts, HandshakeError> {
    request_parts(
        head,
        max_headers,
        // The same parse as `str::parse`, on a slice of the head instead of a copy.
        |t| Uri::from_maybe_shared(head.slice_ref(t.as_bytes())),
        |v| HeaderValue::from_maybe_shared(head.slice_ref(v)),
    )
}

/// Parses a complete request head that should be a WebSocket upgrade straight into the
/// [`Upgrade`], for a server that answers nothing else and does not look at the
/// request: a clean upgrade (the usual case) is validated on the parser's fields,
/// without building `http` values; anything else goes through [`parse_request_bytes`]
/// and [`Upgrade::from_parts`], so every verdict, and every error, is theirs.
pub(crate) fn parse_upgrade_bytes(
    head: &Bytes,
    max_headers: usize,
) -> Result<Upgrade, HandshakeError> {
    if let Some((upgrade, _)) = clean_upgrade(head, max_headers) {
        return Ok(upgrade);
    }
    Upgrade::from_parts(&parse_request_bytes(head, max_headers)?)
}

/// A request head read by [`parse_head_bytes`].
pub(crate) enum ParsedHead {
    /// A clean upgrade, validated on the parser's fields, and the request target.
    Upgrade(Upgrade, Uri),
    /// Anything else, as `http` values.
    Request(http::request::Parts),
}

/// Parses a complete request head for a server that answers both WebSocket upgrades and
/// plain HTTP: a clean upgrade as [`parse_upgrade_bytes`] finds it (no `http` values
/// built), anything else as [`parse_request_bytes`] parses it, not validated.
pub(crate) fn parse_head_bytes(
    head: &Bytes,
    max_headers: usize,
) -> Result<ParsedHead, HandshakeError> {
    if let Some((upgrade, target)) = clean_upgrade(head, max_headers) {
        return Ok(ParsedHead::Upgrade(upgrade, target));
    }
    parse_request_bytes(head, max_headers).map(ParsedHead::Request)
}

/// The upgrade (and the target) of a head that [`parse_request_bytes`] would parse and
/// [`Upgrade::from_parts`] accept, found on the parser's fields; `None` when the head
/// is anything else (or might be: a head of 64 KiB or more, where `http`'s limits on
/// the lengths of a name and a target could refuse what the parser took).
fn clean_upgrade(head: &Bytes, max_headers: usize) -> Option<(Upgrade, Uri)> {
    if head.len() >= usize::from(u16::MAX) {
        return None;
    }
    with_slots(max_headers, |slots| {
        let mut req = httparse::Request::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .parse_request_with_uninit_headers(&mut req, head, slots);
        if !matches!(parsed, Ok(httparse::Status::Complete(_)))
            || req.method != Some("GET")
            || req.version != Some(1)
        {
            return None;
        }
        // The target is checked as `parse_request_bytes` checks it.
        let target = Uri::from_maybe_shared(head.slice_ref(req.path?.as_bytes())).ok()?;
        // The parser's names are tokens and its values the bytes `HeaderValue` takes:
        // every field would become an `http` value.
        Some((Upgrade::from_parsed_fields(req.headers)?, target))
    })
}

fn request_parts(
    head: &[u8],
    max_headers: usize,
    target: impl Fn(&str) -> Result<Uri, http::uri::InvalidUri>,
    value: impl Fn(&[u8]) -> Result<HeaderValue, http::header::InvalidHeaderValue>,
) -> Result<http::request::Parts, HandshakeError> {
    with_slots(max_headers, |slots| {
        let mut req = httparse::Request::new(&mut []);
        complete(
            httparse::ParserConfig::default()
                .parse_request_with_uninit_headers(&mut req, head, slots),
            max_headers,
        )?;
        let method = Method::from_bytes(req.method.unwrap_or("").as_bytes())
            .map_err(|_| HandshakeError::MalformedHttp("invalid method".into()))?;
        let uri = target(req.path.unwrap_or(""))
            .map_err(|_| HandshakeError::MalformedHttp("invalid request target".into()))?;
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = method;
        parts.uri = uri;
        parts.version = version(req.version);
        parts.headers = header_map(req.headers, value)?;
        Ok(parts)
    })
}

/// Parses a complete response head into `http` values.
pub fn parse_response(
    head: &[u8],
    max_headers: usize,
) -> Result<http::response::Parts, HandshakeError> {
    with_slots(max_headers, |slots| {
        let mut resp = httparse::Response::new(&mut []);
        complete(
            httparse::ParserConfig::default()
                .parse_response_with_uninit_headers(&mut resp, head, slots),
            max_headers,
        )?;
        let status = StatusCode::from_u16(resp.code.unwrap_or(0))
            .map_err(|_| HandshakeError::MalformedHttp("invalid status".into()))?;
        let (mut parts, ()) = http::Response::new(()).into_parts();
        parts.status = status;
        parts.version = version(resp.version);
        parts.headers = header_map(resp.headers, HeaderValue::from_bytes)?;
        Ok(parts)
    })
}

/// Appends a request head: `METHOD target HTTP/1.1`, the header fields as they are, and
/// the empty line. The target is the URI's path and query (`/` when empty); an absolute
/// URI's authority is not written (put it in a `Host` field). A `CONNECT` to a bare
/// `host:port` (a proxy tunnel, RFC 9110 §9.3.6) is written in authority form.
///
/// ```
/// use wspc::handshake::http1;
///
/// let connect = http::Request::connect("example.com:443")
///     .header("host", "example.com:443")
///     .body(())
///     .unwrap();
/// let mut bytes = Vec::new();
/// http1::write_request_head(&connect, &mut bytes);
/// assert_eq!(bytes, b"CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n");
/// ```
pub fn write_request_head(request: &http::Request<()>, out: &mut Vec<u8>) {
    let uri = request.uri();
    let authority_form = request.method() == Method::CONNECT
        && uri.scheme().is_none()
        && uri.path_and_query().is_none();
    let target = match uri.authority() {
        Some(authority) if authority_form => authority.as_str(),
        _ => uri.path_and_query().map_or("/", |pq| pq.as_str()),
    };
    let target = if target.is_empty() { "/" } else { target };
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    write_fields(request.headers(), out);
    out.extend_from_slice(b"\r\n");
}

/// Appends a response head: the status line, the header fields as they are, and the
/// empty line.
pub fn write_response_head(status: StatusCode, headers: &HeaderMap, out: &mut Vec<u8>) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    write_fields(headers, out);
    out.extend_from_slice(b"\r\n");
}

/// A whole response as bytes: head and body. `Content-Length` is added when the response
/// has none and its status allows a body (not 1xx, 204 or 304).
pub fn encode_response<B: AsRef<[u8]>>(response: &http::Response<B>) -> Vec<u8> {
    let body = response.body().as_ref();
    let status = response.status();
    let mut out = Vec::with_capacity(128 + body.len());
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if bodiless || response.headers().contains_key(CONTENT_LENGTH) {
        write_response_head(status, response.headers(), &mut out);
    } else {
        let mut headers = response.headers().clone();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        write_response_head(status, &headers, &mut out);
    }
    if !bodiless {
        out.extend_from_slice(body);
    }
    out
}

/// Reads an HTTP head from a byte stream split anywhere: hand each read to
/// [`feed`](HeadReader::feed) until it returns the complete head (request or status line,
/// header fields, empty line), then parse it with [`parse_request`] or
/// [`parse_response`]. Each byte is scanned once (linear however the bytes are split);
/// more than `max` bytes without the end of the head is [`HandshakeError::HeadTooLarge`].
/// The bytes that came after the head are in [`rest`](HeadReader::rest).
///
/// ```
/// use wspc::handshake::http1::{self, HeadReader};
///
/// let mut reader = HeadReader::default();
/// assert!(reader.feed(b"HTTP/1.1 200 Connection established\r\n", 8192).unwrap().is_none());
/// let head = reader.feed(b"\r\n", 8192).unwrap().expect("whole head");
/// assert_eq!(http1::parse_response(head, 16).unwrap().status, 200);
/// assert!(reader.rest().is_empty());
/// ```
pub use super::head::HeadReader;

fn write_fields(headers: &HeaderMap, out: &mut Vec<u8>) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

fn complete(status: httparse::Result<usize>, max_headers: usize) -> Result<(), HandshakeError> {
    match status {
        Ok(httparse::Status::Complete(_)) => Ok(()),
        Ok(httparse::Status::Partial) => {
            Err(HandshakeError::MalformedHttp("incomplete head".into()))
        }
        Err(httparse::Error::TooManyHeaders) => {
            Err(HandshakeError::TooManyHeaders { max: max_headers })
        }
        Err(e) => Err(HandshakeError::MalformedHttp(e.to_string())),
    }
}

fn version(minor: Option<u8>) -> Version {
    match minor {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    }
}

fn header_map(
    headers: &[httparse::Header<'_>],
    value: impl Fn(&[u8]) -> Result<HeaderValue, http::header::InvalidHeaderValue>,
) -> Result<HeaderMap, HandshakeError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for h in headers {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| {
            HandshakeError::MalformedHttp(format!("invalid header name {:?}", h.name))
        })?;
        let value = value(h.value).map_err(|_| {
            HandshakeError::MalformedHttp(format!("invalid value for header {}", h.name))
        })?;
        map.append(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `parse_upgrade_bytes` must equal: the request as `http` values, then the
    /// upgrade rules on them.
    fn through_http(head: &Bytes, max_headers: usize) -> Result<Upgrade, HandshakeError> {
        Upgrade::from_parts(&parse_request_bytes(head, max_headers)?)
    }

    fn same_verdict(head: &[u8], max_headers: usize) {
        let head = Bytes::copy_from_slice(head);
        let direct = parse_upgrade_bytes(&head, max_headers);
        let general = through_http(&head, max_headers);
        assert_eq!(
            format!("{direct:?}"),
            format!("{general:?}"),
            "{:?}",
            String::from_utf8_lossy(&head)
        );
        // The way that keeps plain requests: a clean upgrade has the same upgrade and
        // the target of the request as `http` values; anything else is that request.
        let parts = parse_request_bytes(&head, max_headers);
        match parse_head_bytes(&head, max_headers) {
            Ok(ParsedHead::Upgrade(upgrade, target)) => {
                assert_eq!(
                    format!("{:?}", Ok::<_, ()>(upgrade)),
                    format!("{general:?}")
                );
                assert_eq!(Some(&target), parts.as_ref().ok().map(|p| &p.uri));
            }
            Ok(ParsedHead::Request(request)) => {
                assert_eq!(format!("{request:?}"), format!("{:?}", parts.unwrap()));
            }
            Err(e) => assert_eq!(format!("{e:?}"), format!("{:?}", parts.unwrap_err())),
        }
    }

    /// Clean upgrades of several shapes: each takes the direct way.
    const UPGRADES: &[&[u8]] = &[
        b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
          Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
          Sec-WebSocket-Version: 13\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: a\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
          sec-websocket-key: AAAAAAAAAAAAAAAAAAAAAA==\r\nsec-websocket-version: 13\r\n\r\n",
        b"GET /a/b?c=d&e HTTP/1.1\r\nHOST: x:80\r\nUPGRADE: WebSocket\r\n\
          CONNECTION: keep-alive,\tUpgrade \r\nSEC-WEBSOCKET-VERSION:  13 \r\n\
          SEC-WEBSOCKET-KEY:  x3JJHMbDL1EzLkh9GBhXDw== \r\n\
          Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
          Sec-WebSocket-Extensions: x-foo\r\nSec-WebSocket-Protocol: a\r\n\
          Sec-WebSocket-Protocol: b ,, c\r\n\r\n",
        b"GET http://example.com/chat?x=1 HTTP/1.1\r\nHost: example.com\r\n\
          Connection: Upgrade\r\nUpgrade: websocket\r\nX-Obs: caf\xc3\xa9\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: \xff\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Sec-WebSocket-Extensions: permessage-deflate; =broken\r\n\r\n",
    ];

    #[test]
    fn upgrade_on_parsed_fields_equals_upgrade_on_http_values() {
        for head in UPGRADES {
            let bytes = Bytes::from_static(head);
            assert!(clean_upgrade(&bytes, 32).is_some(), "{bytes:?}");
            same_verdict(head, 32);
        }
        // Every one-byte change (a set of telling bytes) and every one-byte deletion of
        // each: the verdict, and the error when there is one, are those of `http`
        // values and the upgrade rules on them.
        let telling = [
            0u8, b'\t', b' ', b':', b',', b';', b'\r', b'\n', b'a', b'A', b'=', b'1', b'3', b'/',
            b'?', b'#', b'"', 0x7f, 0x80, 0xff,
        ];
        for head in UPGRADES {
            let mut bytes = head.to_vec();
            for at in 0..bytes.len() {
                let was = bytes[at];
                for &b in &telling {
                    bytes[at] = b;
                    same_verdict(&bytes, 32);
                }
                bytes[at] = was;
                let mut shorter = bytes.clone();
                shorter.remove(at);
                same_verdict(&shorter, 32);
            }
            // Too many fields for the cap.
            same_verdict(head, 3);
        }
        // Names and values that only `http` types refuse, and the request line's forms.
        for head in [
            &b"GET / HTTP/1.0\r\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\n: empty\r\n\r\n",
            b"get / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            same_verdict(head, 32);
        }
    }

    #[test]
    fn request_round_trip() {
        let request = http::Request::builder()
            .uri("/chat?room=1")
            .header("host", "example.com")
            .header("x-a", "1")
            .header("x-a", "2")
            .body(())
            .unwrap();
        let mut bytes = Vec::new();
        write_request_head(&request, &mut bytes);
        assert_eq!(
            bytes,
            b"GET /chat?room=1 HTTP/1.1\r\nhost: example.com\r\nx-a: 1\r\nx-a: 2\r\n\r\n"
        );
        let parts = parse_request(&bytes, 8).unwrap();
        assert_eq!(parts.method, Method::GET);
        assert_eq!(parts.uri, "/chat?room=1");
        assert_eq!(parts.version, Version::HTTP_11);
        assert_eq!(parts.headers.get_all("x-a").iter().count(), 2);
    }

    #[test]
    fn absolute_uri_writes_origin_form() {
        let request = http::Request::builder()
            .uri("http://example.com")
            .body(())
            .unwrap();
        let mut bytes = Vec::new();
        write_request_head(&request, &mut bytes);
        assert!(bytes.starts_with(b"GET / HTTP/1.1\r\n"));
    }

    #[test]
    fn connect_to_an_authority_is_written_in_authority_form() {
        let request = http::Request::connect("[::1]:8080").body(()).unwrap();
        let mut bytes = Vec::new();
        write_request_head(&request, &mut bytes);
        assert!(bytes.starts_with(b"CONNECT [::1]:8080 HTTP/1.1\r\n"));
        // An extended CONNECT (absolute URI) keeps the origin form.
        let request = http::Request::connect("https://example.com/chat")
            .body(())
            .unwrap();
        let mut bytes = Vec::new();
        write_request_head(&request, &mut bytes);
        assert!(bytes.starts_with(b"CONNECT /chat HTTP/1.1\r\n"));
    }

    #[test]
    fn responses_get_a_length_unless_bodiless() {
        let r = http::Response::builder().status(101).body("").unwrap();
        assert_eq!(
            encode_response(&r),
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n"
        );
        let r = http::Response::builder()
            .status(200)
            .header("content-length", "2")
            .body("ok")
            .unwrap();
        assert_eq!(
            encode_response(&r),
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        );
    }

    #[test]
    fn parse_errors_are_typed() {
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\n\r\n", 1).unwrap_err(),
            HandshakeError::TooManyHeaders { max: 1 }
        );
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 4),
            Err(HandshakeError::MalformedHttp(_))
        ));
        assert!(matches!(
            parse_response(b"HTTP/1.1 99\r\n\r\n", 4),
            Err(HandshakeError::MalformedHttp(_))
        ));
        assert_eq!(
            parse_request(b"GET / HTTP/1.0\r\n\r\n", 4).unwrap().version,
            Version::HTTP_10
        );
    }
}
