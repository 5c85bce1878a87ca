//! An HTTP proxy tunnel: `CONNECT host:port` (RFC 9110 §9.3.6), with Basic credentials
//! when the proxy URL has them, written and read with the engine's HTTP/1.1 head codec.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::StatusCode;
use http::header::{HOST, PROXY_AUTHORIZATION};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wspc::handshake::http1::{self, HeadReader};

use super::{Proxy, ProxyError, authority};
use crate::error::{Error, Result};

/// Bound on the proxy's response head.
const MAX_HEAD: usize = 16 * 1024;
/// Bound on its header fields.
const MAX_HEADERS: usize = 64;

/// Asks the proxy on `tcp` for a tunnel to `host:port`; the stream is the tunnel when it
/// answers 2xx.
pub(super) async fn tunnel(
    mut tcp: TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<TcpStream> {
    let target = authority(host, port);
    let protocol = |detail: String| {
        Error::Proxy(ProxyError::Protocol {
            proxy: proxy.to_string(),
            detail,
        })
    };
    let mut request = http::Request::connect(target.as_str()).header(HOST, target.as_str());
    if let Some(c) = &proxy.credentials {
        let token = BASE64.encode(format!("{}:{}", c.user, c.password));
        request = request.header(PROXY_AUTHORIZATION, format!("Basic {token}"));
    }
    let request = request
        .body(())
        .map_err(|e| Error::InvalidUrl(format!("{target}: {e}")))?;
    let mut head = Vec::with_capacity(128);
    http1::write_request_head(&request, &mut head);
    tcp.write_all(&head).await?;

    let mut reader = HeadReader::default();
    let mut buf = [0u8; 2048];
    let parts = loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err(protocol(
                "the proxy closed the connection before answering CONNECT".into(),
            ));
        }
        match reader.feed(&buf[..n], MAX_HEAD) {
            Ok(Some(head)) => {
                break http1::parse_response(head, MAX_HEADERS)
                    .map_err(|e| protocol(format!("invalid answer to CONNECT: {e}")))?;
            }
            Ok(None) => {}
            Err(e) => return Err(protocol(format!("invalid answer to CONNECT: {e}"))),
        }
    };
    let status = parts.status;
    let name = proxy.to_string();
    if status.is_success() {
        if !reader.rest().is_empty() {
            // Neither TLS nor the WebSocket handshake lets the server speak first.
            return Err(protocol(
                "the proxy sent data before the tunnel was used".into(),
            ));
        }
        return Ok(tcp);
    }
    let has_credentials = proxy.credentials.is_some();
    Err(Error::Proxy(match status {
        StatusCode::PROXY_AUTHENTICATION_REQUIRED if !has_credentials => ProxyError::AuthRequired {
            proxy: name,
            status,
        },
        StatusCode::PROXY_AUTHENTICATION_REQUIRED | StatusCode::UNAUTHORIZED if has_credentials => {
            ProxyError::AuthFailed {
                proxy: name,
                status,
            }
        }
        _ => ProxyError::ConnectRefused {
            proxy: name,
            status,
        },
    }))
}
