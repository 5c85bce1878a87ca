//! wss:// with a CA generated at test time (rcgen): success, wrong host, unknown CA,
//! and the opt-out for invalid certificates.

mod common;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
use rustls::CertificateError;
use wspc_tokio::{ClientBuilder, CloseCode, Error, Message, ServerBuilder};

struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

/// A CA and a server certificate signed by it for `sans` (IP addresses or DNS names).
fn pki(sans: &[&str]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = sans
        .iter()
        .map(|s| match s.parse() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*s).try_into().unwrap()),
        })
        .collect();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A TLS echo server; returns its port.
async fn tls_echo_server(pki: &Pki) -> u16 {
    let acceptor =
        wspc_tokio::tls_acceptor_from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes()).unwrap();
    let (l, _) = listener().await;
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = l.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = ServerBuilder::new().accept(tls).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.recv().await {
                    if is_data(&m) && ws.send(m).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn wss_echo_with_test_ca() {
    bounded(async {
        let pki = pki(&["127.0.0.1"]);
        let port = tls_echo_server(&pki).await;
        let (mut ws, _) = ClientBuilder::new(&format!("wss://127.0.0.1:{port}/"))
            .unwrap()
            .tls_root_ca_pem(pki.ca_pem.as_bytes())
            .unwrap()
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.get_ref().alpn_protocol(), Some(&b"http/1.1"[..]));
        let big = Message::binary(bytes(300_000, 3));
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), big);
        let reply = ws.close(CloseCode::NORMAL, "tls bye").await.unwrap();
        assert_eq!(reply.unwrap().code, CloseCode::NORMAL);
    })
    .await;
}

#[tokio::test]
async fn wrong_host_is_a_tls_error() {
    bounded(async {
        // The certificate names another host than the one we connect to.
        let pki = pki(&["other.example"]);
        let port = tls_echo_server(&pki).await;
        let err = ClientBuilder::new(&format!("wss://127.0.0.1:{port}/"))
            .unwrap()
            .tls_root_ca_pem(pki.ca_pem.as_bytes())
            .unwrap()
            .connect()
            .await
            .unwrap_err();
        match &err {
            Error::Tls(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => {}
            other => panic!("expected a wrong-name TLS error, got {other:?}"),
        }
        assert!(err.to_string().starts_with("TLS error"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn unknown_ca_is_a_tls_error() {
    bounded(async {
        let pki = pki(&["127.0.0.1"]);
        let port = tls_echo_server(&pki).await;
        // Only the webpki roots: the test CA is unknown.
        let err = wspc_tokio::connect(&format!("wss://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Tls(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer
                ))
            ),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn insecure_accepts_any_certificate() {
    bounded(async {
        let pki = pki(&["other.example"]);
        let port = tls_echo_server(&pki).await;
        let (mut ws, _) = ClientBuilder::new(&format!("wss://127.0.0.1:{port}/"))
            .unwrap()
            .danger_accept_invalid_certs()
            .connect()
            .await
            .unwrap();
        ws.send(Message::text("ok")).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("ok"));
    })
    .await;
}

#[tokio::test]
async fn bad_pem_is_a_config_error() {
    let err = ClientBuilder::new("wss://127.0.0.1/")
        .unwrap()
        .tls_root_ca_pem(b"not a pem")
        .unwrap_err();
    assert!(matches!(err, Error::TlsConfig(_)), "{err:?}");
    assert!(matches!(
        wspc_tokio::tls_acceptor_from_pem(b"", b""),
        Err(Error::TlsConfig(_))
    ));
}
