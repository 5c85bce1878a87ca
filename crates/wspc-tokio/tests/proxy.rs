//! Through real proxies, configured and started by the tests on loopback: tinyproxy and
//! squid for HTTP CONNECT (with and without Basic authentication) and dante for SOCKS5 (no
//! authentication, and user name and password against a system user). `ws://` and
//! `wss://` through each, the typed failures (407, wrong credentials, refused CONNECT,
//! SOCKS reply codes, unreachable proxy), and the bypass list.
//!
//! The server tells each client the address it came from: through tinyproxy that is
//! 127.0.0.2, through dante 127.0.0.3, through squid 127.0.0.4, directly 127.0.0.1.

mod common;

#[path = "common/pki.rs"]
mod pki;
#[path = "common/proxies.rs"]
mod proxies;

use common::bounded;
use proxies::{DANTE_SOURCE, SOCKS_PASSWORD, SOCKS_USER, SQUID_SOURCE, TINYPROXY_SOURCE};
use tokio::net::TcpListener;
use wspc_tokio::{
    ClientBuilder, CloseCode, Error, Message, Proxy, ProxyError, ServerBuilder, ServerTls,
    SocksReply,
};

/// A server that first sends "from <peer ip>", then echoes; plain or TLS. Returns its
/// port.
async fn server(tls: Option<&pki::Pki>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls.map(|p| {
        ServerTls::from_pem(p.server_cert_pem.as_bytes(), p.server_key_pem.as_bytes())
            .unwrap()
            .acceptor()
            .unwrap()
    });
    tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let hello = Message::text(format!("from {}", peer.ip()));
                match acceptor {
                    None => {
                        if let Ok(ws) = ServerBuilder::new().accept(tcp).await {
                            greet_and_echo(ws, hello).await;
                        }
                    }
                    Some(a) => {
                        let Ok(tls) = a.accept(tcp).await else { return };
                        if let Ok(ws) = ServerBuilder::new().accept(tls).await {
                            greet_and_echo(ws, hello).await;
                        }
                    }
                }
            });
        }
    });
    port
}

async fn greet_and_echo<S>(mut ws: wspc_tokio::WebSocket<S>, hello: Message)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if ws.send(hello).await.is_err() {
        return;
    }
    while let Some(Ok(m)) = ws.recv().await {
        if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
            return;
        }
    }
}

/// Connects with `builder`, checks the source address the server saw and an echo,
/// closes.
async fn round_trip(builder: ClientBuilder, expected_source: &str) {
    let (mut ws, _) = builder.connect().await.unwrap();
    let hello = ws.recv().await.unwrap().unwrap();
    assert_eq!(
        hello.as_text(),
        Some(format!("from {expected_source}").as_str())
    );
    ws.send(Message::text("through")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("through"));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
}

fn ws_url(port: u16) -> String {
    format!("ws://127.0.0.1:{port}/")
}

fn wss_builder(pki: &pki::Pki, url: &str) -> ClientBuilder {
    ClientBuilder::new(url)
        .unwrap()
        .only_custom_roots()
        .tls_root_ca_pem(pki.ca_pem.as_bytes())
        .unwrap()
}

#[tokio::test]
async fn http_connect_carries_ws_and_wss() {
    let Some(tiny) = proxies::tinyproxy(None, &[]) else {
        return;
    };
    bounded(async {
        let proxy = Proxy::new(&format!("http://127.0.0.1:{}", tiny.port)).unwrap();
        let plain = server(None).await;
        let builder = ClientBuilder::new(&ws_url(plain)).unwrap().no_proxy();
        round_trip(builder, "127.0.0.1").await;
        let builder = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(proxy.clone());
        round_trip(builder, TINYPROXY_SOURCE).await;

        // wss: TLS end to end through the tunnel (the CA check is the client's).
        let pki = pki::pki();
        let secure = server(Some(&pki)).await;
        let builder = wss_builder(&pki, &format!("wss://localhost:{secure}/")).proxy(proxy);
        round_trip(builder, TINYPROXY_SOURCE).await;
    })
    .await;
    assert!(tiny.log().contains("CONNECT"), "{}", tiny.output());
}

#[tokio::test]
async fn http_connect_basic_auth_and_its_failures() {
    let Some(tiny) = proxies::tinyproxy(Some(("alice", "s3cret")), &[]) else {
        return;
    };
    bounded(async {
        let plain = server(None).await;
        let at =
            |creds: &str| Proxy::new(&format!("http://{creds}127.0.0.1:{}", tiny.port)).unwrap();
        let builder = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at("alice:s3cret@"));
        round_trip(builder, TINYPROXY_SOURCE).await;
        // Credentials set on the value, percent-decoding not involved.
        let builder = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at("").credentials("alice", "s3cret"));
        round_trip(builder, TINYPROXY_SOURCE).await;

        let err = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at(""))
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::AuthRequired { status, .. }) if *status == 407),
            "{err:?}"
        );
        let err = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at("alice:wrong@"))
            .connect()
            .await
            .unwrap_err();
        // tinyproxy answers wrong credentials with 401 (squid with 407): both are
        // AuthFailed.
        assert!(
            matches!(&err, Error::Proxy(ProxyError::AuthFailed { status, .. })
                if *status == 401 || *status == 407),
            "{err:?}"
        );
        assert!(
            !err.to_string().contains("wrong"),
            "no password in messages: {err}"
        );
    })
    .await;
}

#[tokio::test]
async fn squid_basic_auth_ws_wss_and_407() {
    let Some(squid) = proxies::squid("carol", "pa55 word") else {
        return;
    };
    bounded(async {
        let at =
            |creds: &str| Proxy::new(&format!("http://{creds}127.0.0.1:{}", squid.port)).unwrap();
        let plain = server(None).await;
        let builder = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at("carol:pa55%20word@"));
        round_trip(builder, SQUID_SOURCE).await;
        let pki = pki::pki();
        let secure = server(Some(&pki)).await;
        let builder = wss_builder(&pki, &format!("wss://localhost:{secure}/"))
            .proxy(at("").credentials("carol", "pa55 word"));
        round_trip(builder, SQUID_SOURCE).await;

        // A wrong password: 407.
        let err = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at("carol:wrong@"))
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::AuthFailed { status, .. }) if *status == 407),
            "{err:?}"
        );
        let err = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at(""))
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::AuthRequired { status, .. }) if *status == 407),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn http_connect_refused_with_its_status() {
    // Tunnels only to port 443: our server's port is refused (403).
    let Some(tiny) = proxies::tinyproxy(None, &[443]) else {
        return;
    };
    bounded(async {
        let plain = server(None).await;
        let err = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(Proxy::new(&format!("127.0.0.1:{}", tiny.port)).unwrap())
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::ConnectRefused { status, .. }) if *status == 403),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn socks5_carries_ws_and_wss() {
    let Some(dante) = proxies::dante(false) else {
        return;
    };
    bounded(async {
        let plain = server(None).await;
        let pki = pki::pki();
        let secure = server(Some(&pki)).await;
        for scheme in ["socks5", "socks5h"] {
            let proxy = Proxy::new(&format!("{scheme}://127.0.0.1:{}", dante.port)).unwrap();
            let builder = ClientBuilder::new(&format!("ws://localhost:{plain}/"))
                .unwrap()
                .proxy(proxy.clone());
            round_trip(builder, DANTE_SOURCE).await;
            let builder = wss_builder(&pki, &format!("wss://localhost:{secure}/")).proxy(proxy);
            round_trip(builder, DANTE_SOURCE).await;
        }
        // Where the name is resolved: a name nobody can resolve fails here (DNS) with
        // socks5, and at the proxy (a SOCKS reply) with socks5h.
        let nowhere = "ws://wspc-no-such-host.invalid/";
        let err = ClientBuilder::new(nowhere)
            .unwrap()
            .proxy(Proxy::new(&format!("socks5://127.0.0.1:{}", dante.port)).unwrap())
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(&err, Error::Dns { .. }), "{err:?}");
        let err = ClientBuilder::new(nowhere)
            .unwrap()
            .proxy(Proxy::new(&format!("socks5h://127.0.0.1:{}", dante.port)).unwrap())
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::Socks { .. })),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn socks5_username_and_its_failures() {
    let Some(dante) = proxies::dante(true) else {
        return;
    };
    bounded(async {
        let plain = server(None).await;
        let at = |creds: &str| {
            Proxy::new(&format!("socks5h://{creds}127.0.0.1:{}", dante.port)).unwrap()
        };
        let builder = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at(&format!("{SOCKS_USER}:{SOCKS_PASSWORD}@")));
        round_trip(builder, DANTE_SOURCE).await;

        let err = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at(&format!("{SOCKS_USER}:wrong@")))
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::SocksAuthFailed { .. })),
            "{err:?}"
        );
        let err = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(at(""))
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Proxy(ProxyError::SocksNoAcceptableMethod { .. })
            ),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn socks5_reply_codes_by_name() {
    let Some(dante) = proxies::dante(false) else {
        return;
    };
    bounded(async {
        // Nothing listens on the target: dante answers "connection refused" (5).
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = dead.local_addr().unwrap().port();
        drop(dead);
        let err = ClientBuilder::new(&ws_url(port))
            .unwrap()
            .proxy(Proxy::new(&format!("socks5://127.0.0.1:{}", dante.port)).unwrap())
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Proxy(ProxyError::Socks {
                    reply: SocksReply::ConnectionRefused,
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("connection refused"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn unreachable_proxy_and_bypass() {
    bounded(async {
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_port = dead.local_addr().unwrap().port();
        drop(dead);
        let plain = server(None).await;
        let proxy = Proxy::new(&format!("http://127.0.0.1:{dead_port}")).unwrap();
        let err = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(proxy.clone())
            .connect()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::Unreachable { proxy, .. })
                if proxy == &format!("http://127.0.0.1:{dead_port}")),
            "{err:?}"
        );
        // The bypass list reaches 127.0.0.1 directly; no_proxy() ignores the proxy.
        let builder = ClientBuilder::new(&ws_url(plain))
            .unwrap()
            .proxy(proxy.bypass("localhost, 127.0.0.0/8"));
        round_trip(builder, "127.0.0.1").await;
    })
    .await;
}
