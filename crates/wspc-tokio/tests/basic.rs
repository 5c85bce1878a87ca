//! Client and server over loopback TCP: echo, subprotocols, rejection, plain HTTP.
#![allow(clippy::result_large_err)] // accept_with takes an http::Response as its rejection

mod common;

use common::*;
use wspc_tokio::{ClientBuilder, CloseCode, Error, Incoming, Message, ServerBuilder};

#[tokio::test]
async fn echo_round_trip() {
    bounded(async {
        let url = echo_server(ServerBuilder::new()).await;
        let (mut ws, response) = wspc_tokio::connect(&url).await.unwrap();
        assert_eq!(response.status(), 101);
        assert_eq!(ws.subprotocol(), None);
        assert!(ws.deflate().is_none());
        ws.send(Message::text("hello")).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("hello"));
        ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::binary(vec![1, 2, 3])
        );
        let reply = ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        assert_eq!(reply.unwrap().code, CloseCode::NORMAL);
        assert!(ws.recv().await.is_none());
        assert!(matches!(
            ws.send(Message::text("x")).await,
            Err(Error::Closed)
        ));
    })
    .await;
}

#[tokio::test]
async fn subprotocol_is_selected() {
    bounded(async {
        let url = echo_server(ServerBuilder::new().subprotocols(&["b", "c"])).await;
        let (ws, _) = ClientBuilder::new(&url)
            .unwrap()
            .subprotocol("a")
            .subprotocol("c")
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.subprotocol(), Some("c"));
    })
    .await;
}

#[tokio::test]
async fn rejection_is_a_status_error() {
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            wspc_tokio::accept_with(tcp, |req, _upgrade| {
                assert_eq!(req.uri().path(), "/private");
                Err(http::Response::builder()
                    .status(403)
                    .body("go away".to_string())
                    .unwrap())
            })
            .await
        });
        let err = wspc_tokio::connect(&format!("ws://{addr}/private"))
            .await
            .unwrap_err();
        match err {
            Error::Status { status, .. } => assert_eq!(status, 403),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            server.await.unwrap(),
            Err(Error::Rejected { status }) if status == 403
        ));
    })
    .await;
}

#[tokio::test]
async fn plain_http_is_handed_back() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            match ServerBuilder::new().read_request(tcp).await.unwrap() {
                Incoming::Http {
                    request,
                    mut stream,
                } => {
                    assert_eq!(request.uri().path(), "/index.html");
                    stream
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
                        )
                        .await
                        .unwrap();
                    stream.shutdown().await.unwrap();
                }
                Incoming::WebSocket(_) => panic!("not an upgrade"),
            }
        });
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        tcp.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(out.ends_with("hi"));
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_pending_upgrade_shows_its_request() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let Incoming::WebSocket(pending) =
                ServerBuilder::new().read_request(tcp).await.unwrap()
            else {
                panic!("an upgrade");
            };
            // The target without the request, then the request built from the head.
            assert_eq!(pending.uri(), "/room/1?user=a");
            let request = pending.request();
            assert_eq!(request.uri(), "/room/1?user=a");
            assert_eq!(request.headers()["x-token"], "secret");
            assert_eq!(request.headers()["host"], "example.com");
            assert_eq!(request.headers().len(), 7);
            assert!(std::ptr::eq(request, pending.request()));
            assert_eq!(
                pending.upgrade().subprotocols().collect::<Vec<_>>(),
                ["chat"]
            );
            let mut ws = pending
                .accept(wspc_tokio::Accept::subprotocol("chat"))
                .await
                .unwrap();
            // The frame sent right behind the request was kept for the connection.
            let msg = ws.recv().await.unwrap().unwrap();
            assert_eq!(msg.as_text(), Some("hi"));
        });
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // The request and a masked Text "hi" in one write.
        tcp.write_all(
            b"GET /room/1?user=a HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Sec-WebSocket-Version: 13\r\nX-Token: secret\r\nSec-WebSocket-Protocol: chat\r\n\r\n\
              \x81\x82\0\0\0\0hi",
        )
        .await
        .unwrap();
        let mut head = [0u8; 256];
        let n = tcp.read(&mut head).await.unwrap();
        let head = String::from_utf8_lossy(&head[..n]);
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        assert!(head.contains("sec-websocket-protocol: chat\r\n"), "{head}");
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn connect_errors_are_typed() {
    bounded(async {
        // Nothing listens on this port (bound, then dropped).
        let (l, addr) = listener().await;
        drop(l);
        let err = wspc_tokio::connect(&format!("ws://{addr}/"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        let err = wspc_tokio::connect("http://127.0.0.1/").await.unwrap_err();
        assert!(matches!(err, Error::InvalidUrl(_)), "{err:?}");
        let err = wspc_tokio::connect("ws://no-such-host.invalid/")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Dns { .. }), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn non_upgrade_request_to_accept_gets_an_error_response() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            wspc_tokio::accept(tcp).await
        });
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        tcp.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 400"), "{out}");
        assert!(matches!(server.await.unwrap(), Err(Error::Handshake(_))));
    })
    .await;
}

#[test]
fn sockets_and_halves_can_move_between_tasks() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<wspc_tokio::WebSocket<tokio::net::TcpStream>>();
    send::<wspc_tokio::WebSocket<wspc_tokio::MaybeTlsStream>>();
    send::<wspc_tokio::WsReader<tokio::net::TcpStream>>();
    send::<wspc_tokio::WsWriter<tokio::net::TcpStream>>();
    sync::<wspc_tokio::WsReader<tokio::net::TcpStream>>();
    send::<Error>();
    sync::<Error>();
    sync::<ServerBuilder>();
}
