//! rustls configuration: client trust (webpki roots, native roots, custom CAs, or no
//! verification at all) and a server acceptor from PEM files.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};

/// ALPN: WebSocket runs over HTTP/1.1.
const ALPN_HTTP11: &[u8] = b"http/1.1";

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Which certificates a client trusts.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientTls {
    /// Extra CA certificates (DER).
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    /// Leave out the webpki (Mozilla) roots.
    pub(crate) no_webpki_roots: bool,
    /// Add the operating system's roots.
    pub(crate) native_roots: bool,
    /// Accept any certificate (testing only).
    pub(crate) insecure: bool,
}

impl ClientTls {
    pub(crate) fn config(&self) -> Result<Arc<ClientConfig>> {
        let is_default = self.extra_roots.is_empty()
            && !self.no_webpki_roots
            && !self.native_roots
            && !self.insecure;
        if is_default {
            static DEFAULT: OnceLock<Arc<ClientConfig>> = OnceLock::new();
            if let Some(c) = DEFAULT.get() {
                return Ok(c.clone());
            }
            let c = self.build()?;
            return Ok(DEFAULT.get_or_init(|| c).clone());
        }
        self.build()
    }

    fn build(&self) -> Result<Arc<ClientConfig>> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(Error::Tls)?;
        let mut config = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            if !self.no_webpki_roots {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            #[cfg(feature = "native-roots")]
            if self.native_roots {
                let native = rustls_native_certs::load_native_certs();
                for cert in native.certs {
                    let _ = roots.add(cert);
                }
            }
            for cert in &self.extra_roots {
                roots
                    .add(cert.clone())
                    .map_err(|e| Error::TlsConfig(format!("CA certificate: {e}")))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        Ok(Arc::new(config))
    }
}

/// Parses every certificate in a PEM buffer.
pub(crate) fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::TlsConfig(format!("PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(Error::TlsConfig("no certificate in the PEM data".into()));
    }
    Ok(certs)
}

/// A TLS acceptor for a server: its certificate chain and private key, both PEM (the key
/// in PKCS#8, PKCS#1 or SEC1 form), with ALPN `http/1.1`. Use it on accepted TCP
/// streams, then [`accept`](crate::accept) the WebSocket over the TLS stream.
///
/// ```no_run
/// # async fn f() -> wspc_tokio::Result<()> {
/// let acceptor = wspc_tokio::tls_acceptor_from_pem(
///     &std::fs::read("cert.pem")?,
///     &std::fs::read("key.pem")?,
/// )?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
/// let (tcp, _) = listener.accept().await?;
/// let tls = acceptor.accept(tcp).await?;
/// let ws = wspc_tokio::accept(tls).await?;
/// # Ok(()) }
/// ```
pub fn tls_acceptor_from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor> {
    let certs = certs_from_pem(cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| Error::TlsConfig(format!("PEM private key: {e}")))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(Error::Tls)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(Error::Tls)?;
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts any certificate but still checks the handshake signatures (so the session
/// is at least bound to the certificate shown). For `--insecure` only.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
