//! The error type: every way a connection, a handshake or a call can fail, as a value a
//! program can match on and a message a person can read.

use std::io;

use http::{HeaderMap, StatusCode};
use wspc::CloseCode;
use wspc::handshake::HandshakeError;

/// Why a call failed.
///
/// The variants say what happened from the user's point of view: the name could not be
/// resolved ([`Error::Dns`]), nothing answered ([`Error::Connect`]), TLS failed
/// ([`Error::Tls`], with rustls' reason), the server said no ([`Error::Status`]), the peer
/// vanished without a close handshake ([`Error::ResetWithoutClose`]), broke the protocol
/// ([`Error::Protocol`], with the close code that was sent), stopped answering
/// ([`Error::KeepaliveTimeout`]), or something took too long ([`Error::Timeout`]). Once
/// the close handshake is over, every call returns [`Error::Closed`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error of the underlying stream not covered by a more specific variant.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The URL is not a usable `ws://` or `wss://` URL.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The host name could not be resolved.
    #[error("cannot resolve host {host}: {source}")]
    Dns {
        /// The host that was looked up.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// No TCP connection could be made to any address of the host.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address (or host:port) that was tried last.
        addr: String,
        /// The error of the last attempt.
        #[source]
        source: io::Error,
    },
    /// The TLS handshake failed (certificate not trusted, wrong host name, protocol
    /// mismatch, …); rustls' error says which.
    #[error("TLS error: {0}")]
    Tls(#[from] rustls::Error),
    /// A TLS certificate, key or CA could not be loaded.
    #[error("TLS configuration: {0}")]
    TlsConfig(String),
    /// The opening handshake failed (malformed HTTP, bad `Sec-WebSocket-Accept`,
    /// extension negotiation, invalid request on the server side, …).
    #[error("WebSocket handshake failed: {0}")]
    Handshake(HandshakeError),
    /// The server answered the upgrade request with a status other than `101`.
    #[error("server answered HTTP {status} instead of 101 Switching Protocols")]
    Status {
        /// The response's status.
        status: StatusCode,
        /// The response's headers.
        headers: Box<HeaderMap>,
    },
    /// An HTTP/2 connection or stream failed (the `h2` crate's error text).
    #[error("HTTP/2: {0}")]
    Http2(String),
    /// The HTTP/2 server does not allow WebSockets: it did not advertise
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441 §3).
    #[error("the HTTP/2 server does not accept WebSockets (no extended CONNECT)")]
    Http2Unsupported,
    /// The server's own callback rejected the upgrade with this status (the response
    /// was sent).
    #[error("upgrade rejected with HTTP {status}")]
    Rejected {
        /// The status sent to the client.
        status: StatusCode,
    },
    /// The peer closed or reset the connection without a close handshake (close code
    /// 1006).
    #[error("connection reset without a close handshake (1006)")]
    ResetWithoutClose,
    /// The peer broke the protocol; a Close frame with `code` was sent to it.
    #[error("protocol error (sent close code {code}): {reason}")]
    Protocol {
        /// The close code sent to the peer (1002, 1007, 1009, …).
        code: CloseCode,
        /// What the peer did wrong.
        reason: String,
    },
    /// The peer did not answer a keepalive Ping in time (a Close with 1011 was sent).
    #[error("keepalive timeout: the peer did not answer a ping in time")]
    KeepaliveTimeout,
    /// Reaching the server through a proxy failed: the proxy is unreachable, wants
    /// (other) credentials, refused the tunnel, or broke its protocol.
    #[error("{0}")]
    Proxy(#[from] crate::proxy::ProxyError),
    /// A redirect of the upgrade request could not be followed (too many, a downgrade
    /// from `wss://` to `ws://`, an unusable `Location`).
    #[error("{0}")]
    Redirect(#[from] crate::redirect::RedirectError),
    /// An operation took longer than its timeout: `"connect"` (resolving, or one
    /// connection attempt), `"proxy handshake"`, `"TLS handshake"`, `"WebSocket
    /// handshake"` or `"close handshake"`.
    #[error("{0} timed out")]
    Timeout(&'static str),
    /// The connection is closed (or closing, for sends): the close handshake completed,
    /// the connection failed, or a Close was already sent.
    #[error("the WebSocket connection is closed")]
    Closed,
    /// The message cannot be sent (a control payload over 125 bytes, a close code that
    /// may not be sent, a compression failure, …).
    #[error("cannot send: {0}")]
    Send(wspc::SendError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        match e {
            HandshakeError::Rejected { status, headers } => Error::Status { status, headers },
            HandshakeError::InvalidUrl(u) => Error::InvalidUrl(u),
            other => Error::Handshake(other),
        }
    }
}

impl From<wspc::SendError> for Error {
    fn from(e: wspc::SendError) -> Self {
        match e {
            wspc::SendError::Closed => Error::Closed,
            other => Error::Send(other),
        }
    }
}

impl From<wspc::Error> for Error {
    fn from(e: wspc::Error) -> Self {
        match e {
            wspc::Error::Protocol(p) => Error::Protocol {
                code: p.close_code(),
                reason: p.to_string(),
            },
            wspc::Error::KeepaliveTimeout => Error::KeepaliveTimeout,
            wspc::Error::CloseTimeout => Error::Timeout("close handshake"),
            wspc::Error::ConnectionLost => Error::ResetWithoutClose,
            // A future engine failure: report it with its close code.
            other => Error::Protocol {
                code: other.close_code(),
                reason: other.to_string(),
            },
        }
    }
}

impl Error {
    /// The close code that describes this failure, if it is a connection failure: the
    /// code sent for a protocol error, 1011 for a keepalive timeout, 1006 for a reset.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol { code, .. } => Some(*code),
            Error::KeepaliveTimeout => Some(CloseCode::SERVER_ERROR),
            Error::ResetWithoutClose => Some(CloseCode::ABORTED),
            _ => None,
        }
    }

    /// Maps an error of a TLS stream: rustls' own errors become [`Error::Tls`].
    pub(crate) fn from_tls_io(e: io::Error) -> Error {
        let is_rustls = e
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
        if is_rustls {
            let inner = e.into_inner().expect("checked above");
            match inner.downcast::<rustls::Error>() {
                Ok(tls) => Error::Tls(*tls),
                Err(other) => Error::Io(io::Error::other(other)),
            }
        } else {
            Error::Io(e)
        }
    }
}
