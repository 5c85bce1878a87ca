//! A SOCKS5 tunnel (RFC 1928), with user name and password (RFC 1929) when the proxy URL
//! has them, through `tokio-socks`; its failures become typed [`ProxyError`]s.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio_socks::Error as SocksError;
use tokio_socks::tcp::Socks5Stream;

use super::{Proxy, ProxyError, SocksReply};
use crate::error::{Error, Result};

/// Where the tunnel goes.
pub(super) enum Target<'a> {
    /// A name the proxy resolves (`socks5h`).
    Name(&'a str, u16),
    /// An address resolved here (`socks5`).
    Addr(SocketAddr),
}

/// Asks the SOCKS5 proxy on `tcp` for a tunnel to `target`.
pub(super) async fn tunnel(tcp: TcpStream, proxy: &Proxy, target: Target<'_>) -> Result<TcpStream> {
    let result = match (&proxy.credentials, target) {
        (None, Target::Name(host, port)) => {
            Socks5Stream::connect_with_socket(tcp, (host, port)).await
        }
        (None, Target::Addr(addr)) => Socks5Stream::connect_with_socket(tcp, addr).await,
        (Some(c), Target::Name(host, port)) => {
            Socks5Stream::connect_with_password_and_socket(tcp, (host, port), &c.user, &c.password)
                .await
        }
        (Some(c), Target::Addr(addr)) => {
            Socks5Stream::connect_with_password_and_socket(tcp, addr, &c.user, &c.password).await
        }
    };
    result
        .map(Socks5Stream::into_inner)
        .map_err(|e| Error::Proxy(typed(proxy.to_string(), e)))
}

/// A `tokio-socks` error as a [`ProxyError`].
fn typed(proxy: String, e: SocksError) -> ProxyError {
    let reply = |reply| ProxyError::Socks {
        proxy: proxy.clone(),
        reply,
    };
    match e {
        SocksError::GeneralSocksServerFailure => reply(SocksReply::GeneralFailure),
        SocksError::ConnectionNotAllowedByRuleset => reply(SocksReply::NotAllowedByRuleset),
        SocksError::NetworkUnreachable => reply(SocksReply::NetworkUnreachable),
        SocksError::HostUnreachable => reply(SocksReply::HostUnreachable),
        SocksError::ConnectionRefused => reply(SocksReply::ConnectionRefused),
        SocksError::TtlExpired => reply(SocksReply::TtlExpired),
        SocksError::CommandNotSupported => reply(SocksReply::CommandNotSupported),
        SocksError::AddressTypeNotSupported => reply(SocksReply::AddressTypeNotSupported),
        SocksError::UnknownError => reply(SocksReply::Unassigned),
        SocksError::NoAcceptableAuthMethods => ProxyError::SocksNoAcceptableMethod { proxy },
        SocksError::PasswordAuthFailure(_) => ProxyError::SocksAuthFailed { proxy },
        other => ProxyError::Protocol {
            proxy,
            detail: format!("SOCKS5: {other}"),
        },
    }
}
