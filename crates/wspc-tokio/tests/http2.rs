//! WebSockets over HTTP/2 (RFC 8441): our HTTP/2 client against our HTTP/2 server and
//! against a hyper server, several WebSockets on one connection, flow control with
//! messages larger than the windows, and the answers to malformed extended CONNECTs.

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use common::{bounded, bytes, listener};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wspc::ClientRequest;
use wspc_tokio::h2::{H2Incoming, Http2Connection, serve_connection};
use wspc_tokio::{Accept, CloseCode, DeflateOptions, Error, Message, ServerBuilder, WebSocket};

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut ws: WebSocket<S>) {
    while let Some(Ok(msg)) = ws.recv().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            break;
        }
    }
}

/// An h2c (prior knowledge) server on wspc-tokio's HTTP/2 support: WebSockets echo,
/// plain requests get 404.
async fn h2_server(builder: ServerBuilder) -> String {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let builder = builder.clone();
            tokio::spawn(serve_connection(tcp, builder, |incoming| async move {
                match incoming {
                    H2Incoming::WebSocket(pending) => {
                        if let Ok(ws) = pending.accept(Accept::default()) {
                            echo(ws).await;
                        }
                    }
                    H2Incoming::Http { respond, .. } => {
                        let response = http::Response::builder()
                            .status(404)
                            .body(Bytes::from_static(b"not found\n"))
                            .unwrap();
                        let _ = respond.send(response);
                    }
                    _ => {}
                }
            }));
        }
    });
    addr
}

async fn h2c(addr: &str) -> Http2Connection {
    let tcp = TcpStream::connect(addr).await.unwrap();
    Http2Connection::handshake(tcp).await.unwrap()
}

#[tokio::test]
async fn several_websockets_share_one_connection() {
    bounded(async {
        let addr = h2_server(ServerBuilder::new().subprotocols(&["chat"])).await;
        let conn = h2c(&addr).await;
        assert!(conn.supports_websockets());
        let mut sockets = Vec::new();
        for i in 0..3 {
            let request = ClientRequest::new(&format!("ws://{addr}/room/{i}"))
                .unwrap()
                .subprotocol("chat");
            let (ws, response) = conn.websocket(request).await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(ws.subprotocol(), Some("chat"));
            sockets.push(ws);
        }
        // Interleaved traffic on the three streams.
        for round in 0..20 {
            for (i, ws) in sockets.iter_mut().enumerate() {
                ws.send(Message::text(format!("{i}:{round}")))
                    .await
                    .unwrap();
            }
            for (i, ws) in sockets.iter_mut().enumerate() {
                let got = ws.recv().await.unwrap().unwrap();
                assert_eq!(got, Message::text(format!("{i}:{round}")));
            }
        }
        for ws in &mut sockets {
            let reply = ws.close(CloseCode::NORMAL, "bye").await.unwrap();
            assert_eq!(reply.unwrap().code, CloseCode::NORMAL);
        }
        // The connection outlives its WebSockets.
        let (mut ws, _) = conn
            .websocket(ClientRequest::new(&format!("ws://{addr}/again")).unwrap())
            .await
            .unwrap();
        ws.send(Message::text("still here")).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::text("still here")
        );
    })
    .await;
}

#[tokio::test]
async fn messages_larger_than_the_flow_control_windows() {
    bounded(async {
        // HTTP/2's initial stream window is 64 KiB: 4 MiB each way only passes if both
        // sides release what they read and wait for what they may send.
        let addr = h2_server(ServerBuilder::new().deflate(Some(DeflateOptions::default()))).await;
        let conn = h2c(&addr).await;
        let (mut ws, _) = conn
            .websocket(ClientRequest::new(&format!("ws://{addr}/")).unwrap())
            .await
            .unwrap();
        for (len, seed) in [(4 << 20, 1u32), (100_000, 2), (0, 3), (1, 4)] {
            let payload = bytes(len, seed);
            ws.send(Message::binary(payload.clone())).await.unwrap();
            let got = ws.recv().await.unwrap().unwrap();
            assert_eq!(got.into_bytes().as_ref(), &payload[..], "{len} bytes");
        }
    })
    .await;
}

#[tokio::test]
async fn a_server_without_extended_connect_is_refused_with_a_typed_error() {
    bounded(async {
        // hyper's HTTP/2 server, extended CONNECT not enabled.
        let (l, addr) = listener().await;
        tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let service = hyper::service::service_fn(|_req| async {
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
            });
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
        let conn = h2c(&addr).await;
        assert!(!conn.supports_websockets());
        let err = conn
            .websocket(ClientRequest::new(&format!("ws://{addr}/")).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Http2Unsupported), "{err:?}");
    })
    .await;
}

/// A hyper server (HTTP/1.1 and HTTP/2 on one port, extended CONNECT enabled) that
/// upgrades with `ServerBuilder::upgrade_hyper` and echoes.
async fn hyper_server() -> String {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |mut req: http::Request<hyper::body::Incoming>| async move {
                        let server = ServerBuilder::new().subprotocols(&["v1"]);
                        let accept = Accept::default()
                            .with_header("x-served-by", "hyper")
                            .unwrap();
                        match server.upgrade_hyper(&mut req, accept) {
                            Ok((response, pending)) => {
                                tokio::spawn(async move {
                                    if let Ok(ws) = pending.await {
                                        echo(ws).await;
                                    }
                                });
                                Ok::<_, Infallible>(response.map(|()| Full::new(Bytes::new())))
                            }
                            Err(e) => {
                                let response = e.response_for(req.version()).unwrap();
                                Ok(response.map(|body| Full::new(Bytes::from(body))))
                            }
                        }
                    },
                );
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                builder.http2().enable_connect_protocol();
                let _ = builder
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn hyper_upgrades_over_http1_and_http2() {
    bounded(async {
        let addr = hyper_server().await;
        // HTTP/1.1 upgrade, the ordinary client.
        let (mut ws, response) = wspc_tokio::ClientBuilder::new(&format!("ws://{addr}/"))
            .unwrap()
            .subprotocol("v1")
            .connect()
            .await
            .unwrap();
        assert_eq!(response.status(), 101);
        assert_eq!(response.headers()["x-served-by"], "hyper");
        assert_eq!(ws.subprotocol(), Some("v1"));
        ws.send(Message::text("over h1")).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("over h1"));
        ws.close(CloseCode::NORMAL, "").await.unwrap();

        // HTTP/2 extended CONNECT (h2c prior knowledge), two streams.
        let conn = h2c(&addr).await;
        assert!(conn.supports_websockets());
        for i in 0..2 {
            let request = ClientRequest::new(&format!("ws://{addr}/"))
                .unwrap()
                .subprotocol("v1");
            let (mut ws, response) = conn.websocket(request).await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["x-served-by"], "hyper");
            let payload = bytes(300_000, i);
            ws.send(Message::binary(payload.clone())).await.unwrap();
            assert_eq!(
                ws.recv().await.unwrap().unwrap().into_bytes().as_ref(),
                &payload[..]
            );
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }
    })
    .await;
}

/// Sends a raw extended CONNECT with `protocol` and `version` and returns the status.
async fn raw_connect(addr: &str, method: &str, protocol: Option<&str>, version: &str) -> u16 {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (send, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut send = send.ready().await.unwrap();
    let uri = if method == "CONNECT" && protocol.is_none() {
        // A classic CONNECT names an authority only.
        addr.to_string()
    } else {
        format!("http://{addr}/")
    };
    let mut request = http::Request::builder()
        .method(method)
        .uri(uri)
        .version(http::Version::HTTP_2)
        .header("sec-websocket-version", version)
        .body(())
        .unwrap();
    if let Some(p) = protocol {
        request.extensions_mut().insert(h2::ext::Protocol::from(p));
    }
    let (response, _stream) = send.send_request(request, true).unwrap();
    response.await.unwrap().status().as_u16()
}

#[tokio::test]
async fn malformed_extended_connects_get_their_status() {
    bounded(async {
        for addr in [h2_server(ServerBuilder::new()).await, hyper_server().await] {
            assert_eq!(
                raw_connect(&addr, "CONNECT", Some("websocket"), "12").await,
                426,
                "{addr}"
            );
            assert_eq!(
                raw_connect(&addr, "CONNECT", Some("webtransport"), "13").await,
                400,
                "{addr}"
            );
        }
        // Without :protocol it is no WebSocket request: the application answers it (404
        // here).
        let addr = h2_server(ServerBuilder::new()).await;
        assert_eq!(raw_connect(&addr, "CONNECT", None, "13").await, 404);
        assert_eq!(raw_connect(&addr, "GET", None, "13").await, 404);
    })
    .await;
}

// ---- ClientBuilder::http2: HTTP/2 over TLS (ALPN h2), h2c, and the fallbacks ----

struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// How the TLS test server answers.
#[derive(Clone, Copy, PartialEq)]
enum Serves {
    /// ALPN h2 and http/1.1: HTTP/2 with extended CONNECT, HTTP/1.1 upgrades otherwise.
    Both,
    /// ALPN http/1.1 only.
    Http1Only,
    /// ALPN h2 and http/1.1, but its HTTP/2 (hyper's) does not allow extended CONNECT.
    Http2WithoutWebSockets,
}

/// A TLS echo server; every accepted connection's protocol is recorded ("h2"/"h1").
async fn tls_server(
    pki: &Pki,
    serves: Serves,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<&'static str>>>) {
    let acceptor = wspc_tokio::ServerTls::from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
        .unwrap()
        .http2(serves != Serves::Http1Only)
        .acceptor()
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (l, addr) = listener().await;
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            let record = record.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                record.lock().unwrap().push(if h2 { "h2" } else { "h1" });
                match (h2, serves) {
                    (true, Serves::Http2WithoutWebSockets) => {
                        let service = hyper::service::service_fn(|_req| async {
                            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
                        });
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(tls), service)
                            .await;
                    }
                    (true, _) => {
                        let _ =
                            serve_connection(tls, ServerBuilder::new(), |incoming| async move {
                                if let H2Incoming::WebSocket(p) = incoming
                                    && let Ok(ws) = p.accept(Accept::default())
                                {
                                    echo(ws).await;
                                }
                            })
                            .await;
                    }
                    (false, _) => {
                        if let Ok(ws) = ServerBuilder::new().accept(tls).await {
                            echo(ws).await;
                        }
                    }
                }
            });
        }
    });
    (port, seen)
}

async fn http2_client(
    url: &str,
    ca: &str,
) -> (
    wspc_tokio::WebSocket<wspc_tokio::MaybeTlsStream>,
    http::Response<()>,
) {
    wspc_tokio::ClientBuilder::new(url)
        .unwrap()
        .tls_root_ca_pem(ca.as_bytes())
        .unwrap()
        .http2(true)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_client_uses_http2_over_tls_and_falls_back_to_http1() {
    bounded(async {
        let pki = pki();
        for (serves, version, connections) in [
            (Serves::Both, http::Version::HTTP_2, vec!["h2"]),
            (Serves::Http1Only, http::Version::HTTP_11, vec!["h1"]),
            // HTTP/2 without extended CONNECT: a second connection, HTTP/1.1.
            (
                Serves::Http2WithoutWebSockets,
                http::Version::HTTP_11,
                vec!["h2", "h1"],
            ),
        ] {
            let (port, seen) = tls_server(&pki, serves).await;
            let (mut ws, response) =
                http2_client(&format!("wss://127.0.0.1:{port}/"), &pki.ca_pem).await;
            assert_eq!(response.version(), version);
            assert_eq!(ws.get_ref().is_http2(), version == http::Version::HTTP_2);
            let payload = bytes(200_000, 9);
            ws.send(Message::binary(payload.clone())).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap().into_bytes(), payload);
            ws.close(CloseCode::NORMAL, "").await.unwrap();
            assert_eq!(*seen.lock().unwrap(), connections);
        }
    })
    .await;
}

#[tokio::test]
async fn h2c_with_prior_knowledge_and_its_fallback() {
    bounded(async {
        // An h2c server: HTTP/2 from the first byte.
        let addr = h2_server(ServerBuilder::new()).await;
        let (mut ws, response) = wspc_tokio::ClientBuilder::new(&format!("ws://{addr}/"))
            .unwrap()
            .http2(true)
            .connect()
            .await
            .unwrap();
        assert_eq!(response.version(), http::Version::HTTP_2);
        ws.send(Message::text("h2c")).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("h2c"));
        // An HTTP/1.1-only server: the prior-knowledge attempt fails, HTTP/1.1 works.
        let url = common::echo_server(ServerBuilder::new()).await;
        let (mut ws, response) = wspc_tokio::ClientBuilder::new(&url)
            .unwrap()
            .http2(true)
            .connect()
            .await
            .unwrap();
        assert_eq!(response.version(), http::Version::HTTP_11);
        ws.send(Message::text("h1")).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("h1"));
    })
    .await;
}
