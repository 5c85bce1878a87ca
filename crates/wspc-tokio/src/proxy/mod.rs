//! Proxies: HTTP `CONNECT` (with Basic authentication) and SOCKS5 (no authentication
//! or user name and password; `socks5h` resolves the name at the proxy), given
//! explicitly or taken from the environment variables curl reads.
//!
//! The tunnel carries the bytes of the WebSocket connection as they are: for `wss://`
//! the TLS session runs end to end, from the client to the server, through it.

mod env;
mod error;
mod http_connect;
mod socks5;

use std::fmt;
use std::time::Duration;

use http::Uri;
use percent_encoding::percent_decode_str;
use tokio::net::TcpStream;

use crate::error::{Error, Result};
use crate::happy_eyeballs;

pub use env::NoProxy;
pub use error::{ProxyError, SocksReply};

/// The kind of proxy a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyKind {
    /// `http://`: an HTTP proxy, asked for a tunnel with `CONNECT host:port`.
    Http,
    /// `socks5://`: SOCKS5, the client resolves the server's name.
    Socks5,
    /// `socks5h://`: SOCKS5, the proxy resolves the server's name.
    Socks5h,
}

impl ProxyKind {
    fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        }
    }
}

/// A proxy to reach servers through: `http://[user:password@]host[:port]`,
/// `socks5://…`, `socks5h://…`, or a bare `host:port` (HTTP). Without a port, 1080 (as
/// curl). User name and password are percent-decoded; they are sent as HTTP Basic
/// credentials or as SOCKS5 user name and password (RFC 1929), and never shown by
/// `Display` or `Debug`.
///
/// ```
/// use wspc_tokio::{Proxy, ProxyKind};
///
/// let proxy = Proxy::new("http://alice:p%40ss@proxy.example:3128").unwrap();
/// assert_eq!(proxy.kind(), ProxyKind::Http);
/// assert_eq!((proxy.host(), proxy.port()), ("proxy.example", 3128));
/// assert_eq!(proxy.to_string(), "http://proxy.example:3128");
///
/// let socks = Proxy::new("socks5h://127.0.0.1").unwrap().bypass("localhost, .internal");
/// assert_eq!(socks.port(), 1080);
/// ```
#[derive(Clone)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<Credentials>,
    bypass: NoProxy,
}

/// A user name and password.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.to_string())
            .field("credentials", &self.credentials.as_ref().map(|_| "…"))
            .field("bypass", &self.bypass)
            .finish()
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}",
            self.kind.scheme(),
            authority(&self.host, self.port)
        )
    }
}

impl Proxy {
    /// Parses a proxy URL (see the type's documentation).
    pub fn new(url: &str) -> std::result::Result<Proxy, ProxyError> {
        let invalid = |reason: &str| ProxyError::InvalidUrl {
            url: redact(url),
            reason: reason.to_string(),
        };
        let with_scheme = if url.contains("://") {
            url.to_string()
        } else {
            format!("http://{url}")
        };
        let uri: Uri = with_scheme
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
        let kind = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => ProxyKind::Http,
            Some("socks5") => ProxyKind::Socks5,
            Some("socks5h") => ProxyKind::Socks5h,
            Some("https") => {
                return Err(invalid(
                    "TLS to the proxy itself is not supported (use http:// — wss:// still runs TLS end to end through the tunnel)",
                ));
            }
            _ => return Err(invalid("the scheme must be http, socks5 or socks5h")),
        };
        if uri
            .path_and_query()
            .is_some_and(|p| !matches!(p.as_str(), "" | "/"))
        {
            return Err(invalid("a proxy URL has no path"));
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        // After the host (and the brackets of an IPv6 one), only a port may follow.
        let host_port = authority
            .as_str()
            .rsplit_once('@')
            .map_or(authority.as_str(), |(_, r)| r);
        let after_host = host_port.rsplit_once(']').map_or(host_port, |(_, r)| r);
        let port = match after_host.rsplit_once(':') {
            None => 1080,
            Some((_, p)) => p.parse().map_err(|_| invalid("invalid port"))?,
        };
        let credentials = match authority.as_str().rsplit_once('@') {
            None => None,
            Some((userinfo, _)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |s: &str| {
                    percent_decode_str(s)
                        .decode_utf8()
                        .map(|c| c.into_owned())
                        .map_err(|_| invalid("the credentials are not UTF-8"))
                };
                Some(Credentials {
                    user: decode(user)?,
                    password: decode(password)?,
                })
            }
        };
        Ok(Proxy {
            kind,
            host: host.to_string(),
            port,
            credentials,
            bypass: NoProxy::default(),
        })
    }

    /// The proxy the environment names for `url` (`ws://` or `wss://`), as
    /// [`ClientBuilder`](crate::ClientBuilder) uses it by default: `https_proxy` /
    /// `HTTPS_PROXY` for `wss://`, `http_proxy` / `HTTP_PROXY` for `ws://`, else
    /// `all_proxy` / `ALL_PROXY`; `None` when none is set or `no_proxy` / `NO_PROXY`
    /// ([`NoProxy`]) matches the host.
    pub fn from_env(url: &Uri) -> std::result::Result<Option<Proxy>, ProxyError> {
        let is_tls = url
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("wss") || s.eq_ignore_ascii_case("https"));
        let host = url.host().unwrap_or("");
        env::from_lookup(|name| std::env::var(name).ok(), is_tls, host)
    }

    /// Sets the user name and password (replacing those of the URL).
    pub fn credentials(mut self, user: &str, password: &str) -> Proxy {
        self.credentials = Some(Credentials {
            user: user.to_string(),
            password: password.to_string(),
        });
        self
    }

    /// Hosts reached directly rather than through this proxy, in `no_proxy` syntax
    /// ([`NoProxy`]).
    pub fn bypass(mut self, no_proxy: &str) -> Proxy {
        self.bypass = NoProxy::parse(no_proxy);
        self
    }

    /// The kind of proxy.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether connections to `host` go through this proxy (not bypassed).
    pub fn applies_to(&self, host: &str) -> bool {
        !self.bypass.matches(host)
    }
}

/// Which proxy a client uses.
#[derive(Clone, Debug, Default)]
pub(crate) enum ProxySetting {
    /// The environment's (the default).
    #[default]
    FromEnv,
    /// None at all.
    Off,
    /// This one, whatever the environment says.
    Fixed(Proxy),
}

impl ProxySetting {
    /// The proxy for a connection to `host`, if any.
    pub(crate) fn resolve(&self, is_tls: bool, host: &str) -> Result<Option<Proxy>> {
        match self {
            ProxySetting::Off => Ok(None),
            ProxySetting::Fixed(p) => Ok(p.applies_to(host).then(|| p.clone())),
            ProxySetting::FromEnv => {
                env::from_lookup(|name| std::env::var(name).ok(), is_tls, host)
                    .map_err(Error::Proxy)
            }
        }
    }
}

/// Opens a TCP connection to `proxy` and a tunnel through it to `host:port`; the
/// stream returned carries the tunnel. Reaching the proxy is bounded per attempt by
/// `timeout` (Happy Eyeballs over its addresses), and so is the proxy's handshake.
pub(crate) async fn connect_via(
    proxy: &Proxy,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream> {
    let tcp = happy_eyeballs::connect_host(&proxy.host, proxy.port, timeout)
        .await
        .map_err(|e| unreachable(proxy, e))?;
    let tunnel = async {
        match proxy.kind {
            ProxyKind::Http => http_connect::tunnel(tcp, proxy, host, port).await,
            ProxyKind::Socks5h => {
                socks5::tunnel(tcp, proxy, socks5::Target::Name(host, port)).await
            }
            ProxyKind::Socks5 => {
                let addr = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
                    .await
                    .map_err(|_| Error::Timeout("connect"))?
                    .map_err(|source| Error::Dns {
                        host: host.to_string(),
                        source,
                    })?
                    .next()
                    .ok_or_else(|| Error::Dns {
                        host: host.to_string(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "no address found",
                        ),
                    })?;
                socks5::tunnel(tcp, proxy, socks5::Target::Addr(addr)).await
            }
        }
    };
    tokio::time::timeout(timeout, tunnel)
        .await
        .map_err(|_| Error::Timeout("proxy handshake"))?
}

/// Reaching the proxy failed: [`ProxyError::Unreachable`].
fn unreachable(proxy: &Proxy, e: Error) -> Error {
    let source = match e {
        Error::Dns { source, .. } | Error::Connect { source, .. } | Error::Io(source) => source,
        Error::Timeout(_) => std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"),
        other => std::io::Error::other(other.to_string()),
    };
    Error::Proxy(ProxyError::Unreachable {
        proxy: proxy.to_string(),
        source,
    })
}

/// `host:port`, IPv6 in brackets.
pub(crate) fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A URL with its credentials replaced, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        (None, Some(at)) => format!("…@{}", &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let p = Proxy::new("socks5://u%3Ax:p%20w@[::1]:1081").unwrap();
        assert_eq!(p.kind(), ProxyKind::Socks5);
        assert_eq!((p.host(), p.port()), ("::1", 1081));
        let c = p.credentials.as_ref().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("u:x", "p w"));
        assert_eq!(p.to_string(), "socks5://[::1]:1081");
        assert!(!format!("{p:?}").contains("p w"));
        assert_eq!(Proxy::new("HTTP://h").unwrap().port(), 1080);
        assert_eq!(Proxy::new("http://u:p@h").unwrap().port(), 1080);
        assert_eq!(Proxy::new("http://u:p@[::1]").unwrap().port(), 1080);
        for bad in [
            "https://h:1",
            "ftp://h",
            "http://",
            "http://h:1/path",
            "http://h:99999",
        ] {
            assert!(Proxy::new(bad).is_err(), "{bad}");
        }
        let err = Proxy::new("ftp://user:secret@h").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn bypass_and_setting() {
        let p = Proxy::new("http://p:3128").unwrap().bypass("localhost");
        assert!(!p.applies_to("localhost"));
        assert!(p.applies_to("example.com"));
        let fixed = ProxySetting::Fixed(p);
        assert!(fixed.resolve(true, "localhost").unwrap().is_none());
        assert!(fixed.resolve(true, "example.com").unwrap().is_some());
        assert!(
            ProxySetting::Off
                .resolve(true, "example.com")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn authorities() {
        assert_eq!(authority("::1", 80), "[::1]:80");
        assert_eq!(authority("example.com", 443), "example.com:443");
    }
}
