//! [`TlsInfo`]: what TLS established on a stream (the peer's certificate, ALPN), for
//! plain and TLS streams alike.

use rustls_pki_types::CertificateDer;
use tokio::net::TcpStream;

use crate::socket::WebSocket;
use crate::stream::MaybeTlsStream;

/// What TLS established on a stream: the peer's certificate chain (a server sees the
/// client's under mutual TLS, a client the server's) and the ALPN protocol. Plain TCP
/// has neither.
///
/// ```no_run
/// use wspc_tokio::TlsInfo;
///
/// # async fn f(acceptor: tokio_rustls::TlsAcceptor, tcp: tokio::net::TcpStream) -> wspc_tokio::Result<()> {
/// let ws = wspc_tokio::accept(acceptor.accept(tcp).await?).await?;
/// if let Some(cert) = ws.peer_certificate() {
///     println!("client certificate: {} bytes of DER", cert.len());
/// }
/// # Ok(()) }
/// ```
pub trait TlsInfo {
    /// The peer's certificate chain, end-entity first; `None` without TLS or when the
    /// peer showed none.
    fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]>;

    /// The protocol ALPN selected, if any.
    fn alpn_protocol(&self) -> Option<&[u8]>;
}

impl TlsInfo for TcpStream {
    fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        None
    }

    fn alpn_protocol(&self) -> Option<&[u8]> {
        None
    }
}

impl<IO> TlsInfo for tokio_rustls::server::TlsStream<IO> {
    fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.get_ref().1.peer_certificates()
    }

    fn alpn_protocol(&self) -> Option<&[u8]> {
        self.get_ref().1.alpn_protocol()
    }
}

impl<IO> TlsInfo for tokio_rustls::client::TlsStream<IO> {
    fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.get_ref().1.peer_certificates()
    }

    fn alpn_protocol(&self) -> Option<&[u8]> {
        self.get_ref().1.alpn_protocol()
    }
}

impl TlsInfo for MaybeTlsStream {
    fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        match self {
            MaybeTlsStream::Plain(_) => None,
            MaybeTlsStream::Tls(s) => s.peer_certificates(),
            // The HTTP/2 stream does not carry its connection's TLS session.
            #[cfg(feature = "http2")]
            MaybeTlsStream::Http2(_) => None,
        }
    }

    fn alpn_protocol(&self) -> Option<&[u8]> {
        match self {
            MaybeTlsStream::Plain(_) => None,
            MaybeTlsStream::Tls(s) => TlsInfo::alpn_protocol(s),
            #[cfg(feature = "http2")]
            MaybeTlsStream::Http2(_) => Some(b"h2"),
        }
    }
}

impl<S: TlsInfo> WebSocket<S> {
    /// The peer's end-entity certificate (DER), if TLS carried one: on a server under
    /// mutual TLS, the client's certificate.
    pub fn peer_certificate(&self) -> Option<&CertificateDer<'static>> {
        self.get_ref().peer_certificates()?.first()
    }
}
