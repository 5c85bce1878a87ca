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
