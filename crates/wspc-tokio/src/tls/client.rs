//! The client's TLS: a configuration the application gives (`ClientConfig` or a whole
//! `TlsConnector`), or one built here from trust settings (webpki roots, native roots,
//! extra CAs, a client certificate, or no verification at all).

use std::fmt;
use std::sync::{Arc, Mutex};

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsConnector;

use super::insecure::NoVerification;
use super::{certs_from_pem, provider};
use crate::error::{Error, Result};

/// What the client's TLS comes from.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientTls {
    /// Settings for the configuration built here.
    pub(crate) trust: Trust,
    /// The application's own configuration or connector; when set, `trust` is unused.
    pub(crate) given: Option<Given>,
}

/// The application's TLS, used as it is (a configuration without ALPN gets
/// `http/1.1`).
#[derive(Clone)]
pub(crate) enum Given {
    Config(Arc<ClientConfig>),
    Connector(TlsConnector),
}

impl fmt::Debug for Given {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Given::Config(c) => f.debug_tuple("Config").field(c).finish(),
            Given::Connector(_) => f.write_str("Connector(..)"),
        }
    }
}

/// Trust and identity for the configuration built here.
#[derive(Debug, Default)]
pub(crate) struct Trust {
    /// Extra CA certificates (DER).
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    /// Leave out the webpki (Mozilla) roots.
    pub(crate) no_webpki_roots: bool,
    /// Add the operating system's roots.
    pub(crate) native_roots: bool,
    /// Accept any certificate (testing only).
    pub(crate) insecure: bool,
    /// A client certificate chain and its key (mutual TLS).
    pub(crate) identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

impl Clone for Trust {
    fn clone(&self) -> Self {
        Trust {
            extra_roots: self.extra_roots.clone(),
            no_webpki_roots: self.no_webpki_roots,
            native_roots: self.native_roots,
            insecure: self.insecure,
            identity: self
                .identity
                .as_ref()
                .map(|(chain, key)| (chain.clone(), key.clone_key())),
        }
    }
}

impl Trust {
    fn is_default(&self) -> bool {
        self.extra_roots.is_empty()
            && !self.no_webpki_roots
            && !self.native_roots
            && !self.insecure
            && self.identity.is_none()
    }

    /// Sets the client certificate from PEM (chain, then key).
    pub(crate) fn set_identity_pem(&mut self, chain_pem: &[u8], key_pem: &[u8]) -> Result<()> {
        let chain = certs_from_pem(chain_pem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| Error::TlsConfig(format!("PEM private key: {e}")))?;
        self.identity = Some((chain, key));
        Ok(())
    }

    fn build(&self, provider: Arc<CryptoProvider>, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>> {
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(Error::Tls)?;
        let builder = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
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
            builder.with_root_certificates(roots)
        };
        let mut config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| Error::TlsConfig(format!("client certificate: {e}")))?,
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }
}

/// The default configuration (webpki roots), built once per provider and ALPN list.
type Cached = (Arc<CryptoProvider>, Vec<Vec<u8>>, Arc<ClientConfig>);
static DEFAULT: Mutex<Option<Cached>> = Mutex::new(None);

impl ClientTls {
    /// The connector for one connection, offering `alpn` unless the application's own
    /// configuration names protocols (a given connector is used as it is).
    pub(crate) fn connector(&self, alpn: &[&[u8]]) -> Result<TlsConnector> {
        match &self.given {
            Some(Given::Connector(c)) => Ok(c.clone()),
            Some(Given::Config(c)) if !c.alpn_protocols.is_empty() || alpn.is_empty() => {
                Ok(TlsConnector::from(c.clone()))
            }
            Some(Given::Config(c)) => {
                let mut config = ClientConfig::clone(c);
                config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
                Ok(TlsConnector::from(Arc::new(config)))
            }
            None => Ok(TlsConnector::from(self.config(alpn)?)),
        }
    }

    fn config(&self, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>> {
        let provider = provider()?;
        if !self.trust.is_default() {
            return self.trust.build(provider, alpn);
        }
        let mut cache = DEFAULT.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((p, a, c)) = cache.as_ref()
            && Arc::ptr_eq(p, &provider)
            && a.iter().map(Vec::as_slice).eq(alpn.iter().copied())
        {
            return Ok(c.clone());
        }
        let config = self.trust.build(provider.clone(), alpn)?;
        let alpn = alpn.iter().map(|p| p.to_vec()).collect();
        *cache = Some((provider, alpn, config.clone()));
        Ok(config)
    }
}
