//! Mutual TLS with a CA made at test time (rcgen): the server (ServerTls with a client
//! CA) accepts a client that shows a certificate from that CA — given as a whole
//! rustls ClientConfig, or as PEM to the builder — and sees that certificate; a client
//! without one is rejected, with a typed TLS error on both sides.

mod common;

#[path = "common/pki.rs"]
mod pki;

use std::sync::Arc;

use common::bounded;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wspc_tokio::{ClientBuilder, CloseCode, Error, Message, ServerTls, TlsInfo};

/// What the server saw of one connection.
#[derive(Debug)]
enum Seen {
    /// Accepted, with this client certificate (DER).
    Client(Option<Vec<u8>>),
    /// The TLS handshake failed.
    TlsFailed(String),
}

/// An echo server requiring client certificates from `pki`'s CA; reports each
/// connection.
async fn mtls_server(pki: &pki::Pki, optional: bool) -> (u16, mpsc::UnboundedReceiver<Seen>) {
    let mut tls = ServerTls::from_pem(
        pki.server_cert_pem.as_bytes(),
        pki.server_key_pem.as_bytes(),
    )
    .unwrap()
    .client_ca_pem(pki.ca_pem.as_bytes())
    .unwrap();
    if optional {
        tls = tls.client_cert_optional();
    }
    let acceptor = tls.acceptor().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                let tls = match acceptor.accept(tcp).await {
                    Ok(tls) => tls,
                    Err(e) => {
                        let _ = tx.send(Seen::TlsFailed(e.to_string()));
                        return;
                    }
                };
                let Ok(mut ws) = wspc_tokio::accept(tls).await else {
                    return;
                };
                let _ = tx.send(Seen::Client(ws.peer_certificate().map(|c| c.to_vec())));
                while let Some(Ok(m)) = ws.recv().await {
                    if m.is_text() && ws.send(m).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, rx)
}

fn client_config(pki: &pki::Pki, with_cert: bool) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    Arc::new(if with_cert {
        builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(pki.client_cert_pem.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(pki.client_key_pem.as_bytes()).unwrap(),
            )
            .unwrap()
    } else {
        builder.with_no_client_auth()
    })
}

async fn echo_once(builder: ClientBuilder) -> wspc_tokio::Result<()> {
    let (mut ws, _) = builder.connect().await?;
    // The client sees the server's certificate, and the ALPN the builder added.
    assert!(ws.get_ref().peer_certificates().is_some());
    assert_eq!(TlsInfo::alpn_protocol(ws.get_ref()), Some(&b"http/1.1"[..]));
    ws.send(Message::text("mutual")).await?;
    assert_eq!(ws.recv().await.unwrap()?, Message::text("mutual"));
    ws.close(CloseCode::NORMAL, "").await?;
    Ok(())
}

#[tokio::test]
async fn accepted_with_the_right_client_certificate() {
    bounded(async {
        let pki = pki::pki();
        let (port, mut seen) = mtls_server(&pki, false).await;
        let client_der = CertificateDer::from_pem_slice(pki.client_cert_pem.as_bytes())
            .unwrap()
            .to_vec();
        let url = format!("wss://localhost:{port}/");

        // A whole rustls ClientConfig (no ALPN in it: the builder offers http/1.1).
        let builder = ClientBuilder::new(&url)
            .unwrap()
            .tls_config(client_config(&pki, true));
        echo_once(builder).await.unwrap();
        match seen.recv().await.unwrap() {
            Seen::Client(Some(der)) => assert_eq!(der, client_der),
            other => panic!("{other:?}"),
        }

        // The same identity as PEM on the builder.
        let builder = ClientBuilder::new(&url)
            .unwrap()
            .only_custom_roots()
            .tls_root_ca_pem(pki.ca_pem.as_bytes())
            .unwrap()
            .tls_client_auth_pem(
                pki.client_cert_pem.as_bytes(),
                pki.client_key_pem.as_bytes(),
            )
            .unwrap();
        echo_once(builder).await.unwrap();
        assert!(matches!(seen.recv().await.unwrap(), Seen::Client(Some(der)) if der == client_der));

        // A connector.
        let connector = tokio_rustls::TlsConnector::from(client_config(&pki, true));
        let builder = ClientBuilder::new(&url).unwrap().tls_connector(connector);
        let (mut ws, _) = builder.connect().await.unwrap();
        // A connector is used as it is: no ALPN was added.
        assert_eq!(TlsInfo::alpn_protocol(ws.get_ref()), None);
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn rejected_without_a_client_certificate() {
    bounded(async {
        let pki = pki::pki();
        let (port, mut seen) = mtls_server(&pki, false).await;
        let builder = ClientBuilder::new(&format!("wss://localhost:{port}/"))
            .unwrap()
            .tls_config(client_config(&pki, false));
        let err = builder.connect().await.unwrap_err();
        // TLS 1.3: the client learns it from the server's alert, as a rustls error.
        assert!(
            matches!(
                &err,
                Error::Tls(rustls::Error::AlertReceived(
                    rustls::AlertDescription::CertificateRequired
                ))
            ),
            "{err:?}"
        );
        match seen.recv().await.unwrap() {
            Seen::TlsFailed(reason) => assert!(reason.contains("certificate"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // A certificate from another CA is refused too.
        let other = pki::pki();
        let mut stranger = pki::pki();
        stranger.ca_pem = pki.ca_pem.clone(); // trusts the server
        stranger.client_cert_pem = other.client_cert_pem;
        stranger.client_key_pem = other.client_key_pem;
        let builder = ClientBuilder::new(&format!("wss://localhost:{port}/"))
            .unwrap()
            .tls_config(client_config(&stranger, true));
        let err = builder.connect().await.unwrap_err();
        assert!(
            matches!(&err, Error::Tls(rustls::Error::AlertReceived(_))),
            "{err:?}"
        );
        assert!(matches!(seen.recv().await.unwrap(), Seen::TlsFailed(_)));
    })
    .await;
}

#[tokio::test]
async fn optional_client_certificates() {
    bounded(async {
        let pki = pki::pki();
        let (port, mut seen) = mtls_server(&pki, true).await;
        let url = format!("wss://localhost:{port}/");
        echo_once(
            ClientBuilder::new(&url)
                .unwrap()
                .tls_config(client_config(&pki, false)),
        )
        .await
        .unwrap();
        assert!(matches!(seen.recv().await.unwrap(), Seen::Client(None)));
        echo_once(
            ClientBuilder::new(&url)
                .unwrap()
                .tls_config(client_config(&pki, true)),
        )
        .await
        .unwrap();
        assert!(matches!(seen.recv().await.unwrap(), Seen::Client(Some(_))));
    })
    .await;
}
