//! [`IntoClientRequest`]: what a client can be pointed at — a URL string, an
//! `http::Uri`, a whole `http::Request<()>`, or a [`ClientRequest`].

use http::Uri;
use wspc::ClientRequest;

use crate::error::Result;

/// A value that describes the upgrade request: a `ws://`/`wss://` URL as `&str`,
/// `&String` or `http::Uri`, a whole `http::Request<()>` (its headers — `Origin`,
/// `Cookie`, `Authorization`, `Sec-WebSocket-Protocol`, … — are sent; see
/// [`ClientRequest::from_http`]), or a [`ClientRequest`].
///
/// ```no_run
/// use wspc_tokio::ClientBuilder;
///
/// # async fn f() -> wspc_tokio::Result<()> {
/// let request = http::Request::get("wss://chat.example/room/1")
///     .header("origin", "https://chat.example")
///     .header("cookie", "session=abc")
///     .header("sec-websocket-protocol", "chat.v2, chat.v1")
///     .body(())
///     .unwrap();
/// let (ws, _response) = wspc_tokio::connect(request).await?;
/// let uri: http::Uri = "ws://127.0.0.1:9001/".parse().unwrap();
/// let (ws2, _) = ClientBuilder::new(uri)?.connect().await?;
/// # Ok(()) }
/// ```
pub trait IntoClientRequest {
    /// The request.
    fn into_client_request(self) -> Result<ClientRequest>;
}

impl IntoClientRequest for &str {
    fn into_client_request(self) -> Result<ClientRequest> {
        Ok(ClientRequest::new(self)?)
    }
}

impl IntoClientRequest for &String {
    fn into_client_request(self) -> Result<ClientRequest> {
        self.as_str().into_client_request()
    }
}

impl IntoClientRequest for Uri {
    fn into_client_request(self) -> Result<ClientRequest> {
        Ok(ClientRequest::from_uri(self)?)
    }
}

impl IntoClientRequest for &Uri {
    fn into_client_request(self) -> Result<ClientRequest> {
        self.clone().into_client_request()
    }
}

impl IntoClientRequest for http::Request<()> {
    fn into_client_request(self) -> Result<ClientRequest> {
        Ok(ClientRequest::from_http(self)?)
    }
}

impl IntoClientRequest for ClientRequest {
    fn into_client_request(self) -> Result<ClientRequest> {
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_gives_the_same_target() {
        let from_str = "wss://example.com:8443/a?b=1"
            .into_client_request()
            .unwrap();
        let uri: Uri = "wss://example.com:8443/a?b=1".parse().unwrap();
        let from_uri = (&uri).into_client_request().unwrap();
        let from_http = http::Request::get(uri)
            .header("origin", "https://example.com")
            .header("sec-websocket-protocol", "p1, p2")
            .body(())
            .unwrap()
            .into_client_request()
            .unwrap();
        for r in [&from_str, &from_uri, &from_http] {
            assert_eq!(
                (r.host(), r.port(), r.is_tls()),
                ("example.com", 8443, true)
            );
            assert_eq!(r.uri().path_and_query().unwrap().as_str(), "/a?b=1");
        }
        assert_eq!(from_http.subprotocols(), ["p1", "p2"]);
        assert_eq!(from_http.headers()["origin"], "https://example.com");
        assert!("http://example.com/".into_client_request().is_err());
        assert!(
            http::Request::post("ws://x/")
                .body(())
                .unwrap()
                .into_client_request()
                .is_err()
        );
    }
}
