//! Every plain-HTTP answer of the server — the console on `GET /`, metrics on
//! `GET /metrics`, 404, 405 and 503 — is built by [`response`] and written by [`write`]:
//! the one place to change for another response writer (or HTTP/2).

use std::time::Duration;

use http::{Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wspc_tokio::http1;

use super::State;
use super::metrics;

/// The console page, served on `GET /`.
pub(crate) const CONSOLE_HTML: &str = include_str!("console.html");

/// How long writing a response may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A response with `status`, a body and its content type (`Content-Length`,
/// `Cache-Control: no-store` and `Connection: close` added).
pub(crate) fn response(status: StatusCode, content_type: &str, body: String) -> Response<String> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let headers = r.headers_mut();
    if let Ok(v) = content_type.parse() {
        headers.insert(http::header::CONTENT_TYPE, v);
    }
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    r
}

/// 503 for a connection over `--max-connections`.
pub(crate) fn unavailable() -> Response<String> {
    let mut r = response(
        StatusCode::SERVICE_UNAVAILABLE,
        "text/plain; charset=utf-8",
        "too many connections\n".into(),
    );
    r.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    r
}

/// The answer to a plain (not upgrade) request.
pub(crate) fn route<B>(request: &http::Request<B>, state: &State) -> Response<String> {
    let get = matches!(request.method().as_str(), "GET" | "HEAD");
    match (get, request.uri().path()) {
        (true, "/" | "/index.html") => response(
            StatusCode::OK,
            "text/html; charset=utf-8",
            CONSOLE_HTML.into(),
        ),
        (true, "/metrics") => response(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics::render(state),
        ),
        (false, "/" | "/index.html" | "/metrics") => response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "method not allowed\n".into(),
        ),
        _ => response(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found\n".into(),
        ),
    }
}

/// Writes `response` (its head only when `head_only`) with the engine's HTTP/1.1
/// writer, closing the connection, and closes the write side.
pub(crate) async fn write<S: AsyncWrite + Unpin>(
    stream: &mut S,
    mut response: Response<String>,
    head_only: bool,
) {
    let length = http::HeaderValue::from(response.body().len());
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_LENGTH, length);
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    if head_only {
        response.body_mut().clear();
    }
    let out = http1::encode_response(&response);
    let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(&out).await?;
        stream.shutdown().await
    })
    .await;
}

/// Answers 503 without reading the request, then drains what the client sends for a
/// moment (closing with unread input would reset the connection and could destroy the
/// response before the client reads it).
pub(crate) async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    write(&mut stream, unavailable(), false).await;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while stream.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    })
    .await;
}
