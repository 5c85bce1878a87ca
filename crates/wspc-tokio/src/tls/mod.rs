//! TLS through rustls, as the application wants it: the client's trust and identity
//! ([`client`]), a server acceptor with optional client-certificate verification
//! ([`server`]), the peer's certificate on any stream ([`peer`]), and the choice of the
//! crypto provider (here).

mod client;
mod insecure;
mod peer;
mod server;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, Result};

pub(crate) use client::{ClientTls, Given};

pub use peer::TlsInfo;
pub use server::{ServerTls, tls_acceptor_from_pem};

/// ALPN protocol id of HTTP/1.1, which carries the WebSocket handshake.
pub(crate) const ALPN_HTTP11: &[u8] = b"http/1.1";

/// The crypto provider for configurations this crate builds: the process-wide default
/// when the application installed one ([`CryptoProvider::install_default`]), otherwise
/// the built-in `ring` provider (feature `ring`, on by default); without either, a
/// [`Error::TlsConfig`] — never a panic.
pub(crate) fn provider() -> Result<Arc<CryptoProvider>> {
    choose_provider(CryptoProvider::get_default().cloned(), builtin_provider)
}

/// The built-in provider, made once (so configurations built from it can be cached).
#[cfg(feature = "ring")]
fn builtin_provider() -> Option<Arc<CryptoProvider>> {
    static RING: std::sync::OnceLock<Arc<CryptoProvider>> = std::sync::OnceLock::new();
    Some(
        RING.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
            .clone(),
    )
}

#[cfg(not(feature = "ring"))]
fn builtin_provider() -> Option<Arc<CryptoProvider>> {
    None
}

/// The decision of [`provider`], apart from the process state it reads.
fn choose_provider(
    installed: Option<Arc<CryptoProvider>>,
    builtin: impl FnOnce() -> Option<Arc<CryptoProvider>>,
) -> Result<Arc<CryptoProvider>> {
    if let Some(p) = installed {
        return Ok(p);
    }
    match builtin() {
        Some(p) => Ok(p),
        None => Err(Error::TlsConfig(
            "no rustls CryptoProvider: install one with CryptoProvider::install_default, \
             enable wspc-tokio's `ring` feature, or pass a ClientConfig"
                .into(),
        )),
    }
}

/// Parses every certificate in a PEM buffer (at least one).
pub(crate) fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::TlsConfig(format!("PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(Error::TlsConfig("no certificate in the PEM data".into()));
    }
    Ok(certs)
}

#[cfg(test)]
#[cfg(feature = "ring")]
mod tests {
    use super::*;

    #[test]
    fn provider_choice() {
        let installed = Arc::new(rustls::crypto::ring::default_provider());
        let chosen = choose_provider(Some(installed.clone()), || None).unwrap();
        assert!(
            Arc::ptr_eq(&chosen, &installed),
            "the installed default wins"
        );
        assert!(choose_provider(None, builtin_provider).is_ok());
        // Neither: an error, not a panic.
        assert!(matches!(
            choose_provider(None, || None),
            Err(Error::TlsConfig(m)) if m.contains("CryptoProvider")
        ));
    }

    #[test]
    fn pem_without_certificates_is_an_error() {
        assert!(certs_from_pem(b"").is_err());
        assert!(
            certs_from_pem(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }
}
