//! The proxy environment variables, as curl reads them: `https_proxy`/`HTTPS_PROXY` for
//! `wss://`, `http_proxy`/`HTTP_PROXY` for `ws://`, `all_proxy`/`ALL_PROXY` for both,
//! `no_proxy`/`NO_PROXY` for the hosts that bypass them (lowercase first).

use std::net::IpAddr;

use ipnet::IpNet;

use super::{Proxy, ProxyError};

/// The proxy the environment names for a target (`is_tls`: `wss://`), `None` when no
/// variable applies or `no_proxy` matches `host`. `lookup` reads one variable (empty
/// values count as unset).
pub(crate) fn from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
    is_tls: bool,
    host: &str,
) -> Result<Option<Proxy>, ProxyError> {
    let get = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| lookup(n).filter(|v| !v.trim().is_empty()))
    };
    let scheme_vars: &[&str] = if is_tls {
        &["https_proxy", "HTTPS_PROXY"]
    } else {
        &["http_proxy", "HTTP_PROXY"]
    };
    let Some(url) = get(scheme_vars).or_else(|| get(&["all_proxy", "ALL_PROXY"])) else {
        return Ok(None);
    };
    if let Some(no_proxy) = get(&["no_proxy", "NO_PROXY"])
        && NoProxy::parse(&no_proxy).matches(host)
    {
        return Ok(None);
    }
    Proxy::new(url.trim()).map(Some)
}

/// A `no_proxy` list: hosts that are reached directly.
///
/// Comma- (or space-) separated entries, as curl reads them: `*` matches every host; a
/// host name matches itself and its subdomains (`example.com` and `.example.com` both
/// match `example.com` and `api.example.com`, not `badexample.com`); an IP address
/// matches itself (`::1`, `[::1]`); a CIDR block matches the addresses in it
/// (`10.0.0.0/8`, `fd00::/8`). Names are compared without resolving them, ignoring
/// case and a trailing dot; a `:port` on an entry is ignored.
///
/// ```
/// use wspc_tokio::NoProxy;
///
/// let list = NoProxy::parse("localhost, .internal.example, 10.0.0.0/8, ::1");
/// assert!(list.matches("localhost"));
/// assert!(list.matches("api.internal.example"));
/// assert!(list.matches("10.1.2.3"));
/// assert!(list.matches("[::1]"));
/// assert!(!list.matches("example.com"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    names: Vec<String>,
    nets: Vec<IpNet>,
}

impl NoProxy {
    /// Parses a `no_proxy` value; entries that are none of the forms above are ignored.
    pub fn parse(list: &str) -> NoProxy {
        let mut out = NoProxy::default();
        for entry in list.split([',', ' ', '\t']).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                out.all = true;
                continue;
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                out.nets.push(net);
            } else if let Some(ip) = parse_ip(entry) {
                out.nets.push(IpNet::from(ip));
            } else {
                let name = strip_port(entry)
                    .trim_start_matches('.')
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                if !name.is_empty() {
                    out.names.push(name);
                }
            }
        }
        out
    }

    /// Whether `host` (a name or an IP address, IPv6 with or without brackets) is to be
    /// reached directly.
    pub fn matches(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        if let Some(ip) = parse_ip(host) {
            return self.nets.iter().any(|n| n.contains(&ip));
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.names.iter().any(|name| {
            host == *name
                || host
                    .strip_suffix(name.as_str())
                    .is_some_and(|head| head.ends_with('.'))
        })
    }
}

/// An IP address, with or without brackets (and a port after brackets).
fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    let inner = s.strip_prefix('[')?;
    let (inner, _) = inner.split_once(']')?;
    inner.parse().ok()
}

/// `name:port` → `name` (not for IPv6, handled before).
fn strip_port(s: &str) -> &str {
    match s.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::ProxyKind;
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn pick(vars: &[(&str, &str)], tls: bool, host: &str) -> Option<String> {
        from_lookup(env(vars), tls, host)
            .unwrap()
            .map(|p| p.to_string())
    }

    #[test]
    fn scheme_variables_then_all_proxy() {
        let vars = [
            ("https_proxy", "http://secure:3128"),
            ("http_proxy", "http://plain:3128"),
            ("ALL_PROXY", "socks5h://fallback:1080"),
        ];
        assert_eq!(
            pick(&vars, true, "x").as_deref(),
            Some("http://secure:3128")
        );
        assert_eq!(
            pick(&vars, false, "x").as_deref(),
            Some("http://plain:3128")
        );
        let only_all = [("ALL_PROXY", "socks5h://fallback:1080")];
        assert_eq!(
            pick(&only_all, true, "x").as_deref(),
            Some("socks5h://fallback:1080")
        );
        assert_eq!(pick(&[], true, "x"), None);
        // An empty value is unset.
        assert_eq!(pick(&[("https_proxy", " ")], true, "x"), None);
    }

    #[test]
    fn lowercase_wins_over_uppercase() {
        let vars = [
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
        ];
        assert_eq!(pick(&vars, true, "x").as_deref(), Some("http://lower:2"));
        let vars = [("HTTP_PROXY", "http://upper:1")];
        assert_eq!(pick(&vars, false, "x").as_deref(), Some("http://upper:1"));
    }

    #[test]
    fn no_proxy_bypasses() {
        let vars = [
            ("https_proxy", "http://p:3128"),
            ("NO_PROXY", "internal.example, 127.0.0.0/8,::1"),
        ];
        assert_eq!(pick(&vars, true, "api.internal.example"), None);
        assert_eq!(pick(&vars, true, "127.0.0.1"), None);
        assert_eq!(pick(&vars, true, "::1"), None);
        assert!(pick(&vars, true, "example.com").is_some());
        let star = [("https_proxy", "http://p:3128"), ("no_proxy", "*")];
        assert_eq!(pick(&star, true, "anything"), None);
    }

    #[test]
    fn invalid_urls_are_errors() {
        let bad = [("https_proxy", "ftp://p:21")];
        assert!(matches!(
            from_lookup(env(&bad), true, "x"),
            Err(ProxyError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn bare_host_port_is_http() {
        let p = from_lookup(env(&[("http_proxy", "proxy.local:8080")]), false, "x")
            .unwrap()
            .unwrap();
        assert_eq!(p.kind(), ProxyKind::Http);
        assert_eq!((p.host(), p.port()), ("proxy.local", 8080));
    }

    #[test]
    fn no_proxy_forms() {
        let l = NoProxy::parse(".example.com, Host.Local:8080 10.0.0.0/8 [fd00::1] 192.0.2.7");
        assert!(l.matches("example.com"));
        assert!(l.matches("a.b.example.com"));
        assert!(l.matches("EXAMPLE.com."));
        assert!(!l.matches("badexample.com"));
        assert!(l.matches("host.local"));
        assert!(l.matches("10.255.0.1"));
        assert!(!l.matches("11.0.0.1"));
        assert!(l.matches("fd00::1"));
        assert!(l.matches("[fd00::1]"));
        assert!(!l.matches("fd00::2"));
        assert!(l.matches("192.0.2.7"));
        assert!(!l.matches("192.0.2.8"));
        assert!(!NoProxy::parse("").matches("x"));
        assert!(NoProxy::parse("*").matches("x"));
        assert!(!NoProxy::parse("a*").matches("a"));
    }
}
