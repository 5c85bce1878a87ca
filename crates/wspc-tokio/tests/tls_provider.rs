//! Without a TLS config, the client and ServerTls use the process-wide default
//! CryptoProvider when the application installed one. Its own test binary: installing
//! the default is once per process.

mod common;

#[path = "common/pki.rs"]
mod pki;

use std::sync::Arc;

use common::bounded;
use rustls::CipherSuite;
use rustls::crypto::CryptoProvider;
use wspc_tokio::{ClientBuilder, CloseCode, MaybeTlsStream, ServerTls};

#[tokio::test]
async fn the_installed_default_provider_is_used() {
    // A provider that knows one cipher suite only: a connection that negotiates it
    // was built from this provider.
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .retain(|s| s.suite() == CipherSuite::TLS13_CHACHA20_POLY1305_SHA256);
    assert_eq!(provider.cipher_suites.len(), 1);
    CryptoProvider::install_default(provider).expect("first install");
    let installed = CryptoProvider::get_default().unwrap().clone();

    bounded(async {
        let pki = pki::pki();
        let acceptor = ServerTls::from_pem(
            pki.server_cert_pem.as_bytes(),
            pki.server_key_pem.as_bytes(),
        )
        .unwrap()
        .acceptor()
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(tcp).await.unwrap();
            let suite = tls.get_ref().1.negotiated_cipher_suite().unwrap().suite();
            let mut ws = wspc_tokio::accept(tls).await.unwrap();
            while ws.recv().await.is_some() {}
            suite
        });
        let (mut ws, _) = ClientBuilder::new(&format!("wss://127.0.0.1:{port}/"))
            .unwrap()
            .only_custom_roots()
            .tls_root_ca_pem(pki.ca_pem.as_bytes())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let MaybeTlsStream::Tls(tls) = ws.get_ref() else {
            panic!("not TLS")
        };
        assert_eq!(
            tls.get_ref().1.negotiated_cipher_suite().unwrap().suite(),
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(
            server.await.unwrap(),
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
        );
    })
    .await;
    assert!(Arc::ptr_eq(
        &installed,
        CryptoProvider::get_default().unwrap()
    ));
}
