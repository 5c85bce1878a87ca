//! The server's TLS: an acceptor from PEM files, optionally verifying client
//! certificates against the application's CAs (mutual TLS).

use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use super::{ALPN_HTTP11, certs_from_pem, provider};
use crate::error::{Error, Result};

/// A server's TLS settings: its certificate chain and key, and whether (and against
/// which CAs) clients must present a certificate. [`acceptor`](ServerTls::acceptor)
/// gives a `tokio_rustls::TlsAcceptor` (ALPN `http/1.1`); accept the WebSocket over the
/// streams it yields, where [`TlsInfo::peer_certificates`](crate::TlsInfo) shows the
/// client's certificate.
///
/// The crypto provider is the process-wide default when one is installed, else `ring`
/// (feature `ring`, on by default).
///
/// ```no_run
/// use wspc_tokio::{ServerTls, TlsInfo};
///
/// # async fn f() -> wspc_tokio::Result<()> {
/// let acceptor = ServerTls::from_pem(&std::fs::read("cert.pem")?, &std::fs::read("key.pem")?)?
///     .client_ca_pem(&std::fs::read("clients-ca.pem")?)? // mutual TLS
///     .acceptor()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
/// let (tcp, _) = listener.accept().await?;
/// let tls = acceptor.accept(tcp).await?; // fails for a client without a valid certificate
/// let client_cert = tls.peer_certificates().and_then(|chain| chain.first()).cloned();
/// let ws = wspc_tokio::accept(tls).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ServerTls {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_auth: ClientAuth,
    /// ALPN offers `h2` before `http/1.1`.
    http2: bool,
}

/// Whether clients must show a certificate.
#[derive(Debug)]
enum ClientAuth {
    /// No client certificate is asked for.
    Off,
    /// A certificate signed by one of these CAs is required (or, with `optional`,
    /// verified when the client shows one).
    Verify {
        roots: RootCertStore,
        optional: bool,
    },
}

impl Clone for ServerTls {
    fn clone(&self) -> Self {
        ServerTls {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            client_auth: match &self.client_auth {
                ClientAuth::Off => ClientAuth::Off,
                ClientAuth::Verify { roots, optional } => ClientAuth::Verify {
                    roots: roots.clone(),
                    optional: *optional,
                },
            },
            http2: self.http2,
        }
    }
}

impl ServerTls {
    /// The server's certificate chain and private key, both PEM (the key in PKCS#8,
    /// PKCS#1 or SEC1 form). No client certificate is asked for.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<ServerTls> {
        let chain = certs_from_pem(cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| Error::TlsConfig(format!("PEM private key: {e}")))?;
        Ok(ServerTls {
            chain,
            key,
            client_auth: ClientAuth::Off,
            http2: false,
        })
    }

    /// Requires a client certificate issued by one of the CA certificates in `ca_pem`
    /// (call again to add more CAs). A client without one, or with another, fails the
    /// TLS handshake.
    pub fn client_ca_pem(mut self, ca_pem: &[u8]) -> Result<Self> {
        let certs = certs_from_pem(ca_pem)?;
        let (mut roots, optional) = match std::mem::replace(&mut self.client_auth, ClientAuth::Off)
        {
            ClientAuth::Off => (RootCertStore::empty(), false),
            ClientAuth::Verify { roots, optional } => (roots, optional),
        };
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| Error::TlsConfig(format!("client CA certificate: {e}")))?;
        }
        self.client_auth = ClientAuth::Verify { roots, optional };
        Ok(self)
    }

    /// With [`client_ca_pem`](Self::client_ca_pem): clients without a certificate are
    /// let in too (the application sees no peer certificate); one that shows a
    /// certificate must still show a valid one.
    pub fn client_cert_optional(mut self) -> Self {
        if let ClientAuth::Verify { optional, .. } = &mut self.client_auth {
            *optional = true;
        }
        self
    }

    /// Offers HTTP/2 in ALPN (`h2`, then `http/1.1`), for servers that serve WebSockets
    /// over HTTP/2 too (see [`h2::serve_connection`](crate::h2::serve_connection)); check
    /// the negotiated protocol on each TLS stream.
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// The rustls configuration (ALPN `http/1.1`, with `h2` first when
    /// [`http2`](Self::http2) is on), for callers who adjust it further.
    pub fn config(&self) -> Result<ServerConfig> {
        let provider = provider()?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(Error::Tls)?;
        let builder = match &self.client_auth {
            ClientAuth::Off => builder.with_no_client_auth(),
            ClientAuth::Verify { roots, optional } => {
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots.clone()), provider);
                let verifier = if *optional {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| Error::TlsConfig(format!("client certificate verifier: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(Error::Tls)?;
        config.alpn_protocols = if self.http2 {
            vec![b"h2".to_vec(), ALPN_HTTP11.to_vec()]
        } else {
            vec![ALPN_HTTP11.to_vec()]
        };
        Ok(config)
    }

    /// The acceptor: accept TCP connections with it, then the WebSocket over the TLS
    /// stream.
    pub fn acceptor(&self) -> Result<TlsAcceptor> {
        Ok(TlsAcceptor::from(Arc::new(self.config()?)))
    }
}

/// A TLS acceptor for a server: its certificate chain and private key, both PEM (the key
/// in PKCS#8, PKCS#1 or SEC1 form), with ALPN `http/1.1`, no client certificates (see
/// [`ServerTls`] for mutual TLS). Use it on accepted TCP streams, then
/// [`accept`](crate::accept) the WebSocket over the TLS stream.
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
    ServerTls::from_pem(cert_pem, key_pem)?.acceptor()
}
