//! [`ProxyError`]: how reaching a server through a proxy failed.

use std::io;

use http::StatusCode;

/// Why a connection through a proxy failed (inside [`Error::Proxy`](crate::Error::Proxy)).
/// `proxy` names the proxy as `scheme://host:port` (never with its credentials).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL (given, or from the environment) is not usable.
    #[error("invalid proxy URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, credentials removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The proxy's name did not resolve, or nothing accepted a TCP connection on it.
    #[error("proxy {proxy} is unreachable: {source}")]
    Unreachable {
        /// The proxy.
        proxy: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The HTTP proxy requires credentials and none were given (`407`).
    #[error("proxy {proxy} requires authentication (HTTP {status})")]
    AuthRequired {
        /// The proxy.
        proxy: String,
        /// Its answer (407).
        status: StatusCode,
    },
    /// The HTTP proxy refused the credentials given (`407`; some proxies, tinyproxy
    /// among them, answer `401`).
    #[error("proxy {proxy} refused the credentials (HTTP {status})")]
    AuthFailed {
        /// The proxy.
        proxy: String,
        /// Its answer.
        status: StatusCode,
    },
    /// The HTTP proxy answered the `CONNECT` with another status than 2xx (403 for a
    /// port it does not tunnel to, 502 when it cannot reach the server, …).
    #[error("proxy {proxy} refused to connect: HTTP {status}")]
    ConnectRefused {
        /// The proxy.
        proxy: String,
        /// Its answer.
        status: StatusCode,
    },
    /// The SOCKS5 proxy refused the connection with this reply code.
    #[error("SOCKS5 proxy {proxy}: {reply}")]
    Socks {
        /// The proxy.
        proxy: String,
        /// The reply code, by name (RFC 1928 §6).
        reply: SocksReply,
    },
    /// The SOCKS5 proxy accepts none of the authentication methods offered: it wants
    /// a user name and password and none were given (or another method).
    #[error(
        "SOCKS5 proxy {proxy} accepts none of the offered authentication methods (credentials required?)"
    )]
    SocksNoAcceptableMethod {
        /// The proxy.
        proxy: String,
    },
    /// The SOCKS5 proxy refused the user name and password (RFC 1929).
    #[error("SOCKS5 proxy {proxy} refused the user name and password")]
    SocksAuthFailed {
        /// The proxy.
        proxy: String,
    },
    /// The proxy broke its protocol (a malformed answer, the connection closed in the
    /// middle, data before the tunnel was used).
    #[error("proxy {proxy}: {detail}")]
    Protocol {
        /// The proxy.
        proxy: String,
        /// What went wrong.
        detail: String,
    },
}

/// A SOCKS5 reply code that refuses a connection (RFC 1928 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SocksReply {
    /// X'01' general SOCKS server failure.
    #[error("general SOCKS server failure (1)")]
    GeneralFailure,
    /// X'02' connection not allowed by ruleset.
    #[error("connection not allowed by ruleset (2)")]
    NotAllowedByRuleset,
    /// X'03' network unreachable.
    #[error("network unreachable (3)")]
    NetworkUnreachable,
    /// X'04' host unreachable.
    #[error("host unreachable (4)")]
    HostUnreachable,
    /// X'05' connection refused.
    #[error("connection refused (5)")]
    ConnectionRefused,
    /// X'06' TTL expired.
    #[error("TTL expired (6)")]
    TtlExpired,
    /// X'07' command not supported.
    #[error("command not supported (7)")]
    CommandNotSupported,
    /// X'08' address type not supported.
    #[error("address type not supported (8)")]
    AddressTypeNotSupported,
    /// A code RFC 1928 does not assign.
    #[error("unassigned reply code")]
    Unassigned,
}
