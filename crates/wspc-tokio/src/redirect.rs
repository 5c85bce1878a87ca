//! Following a redirect of the upgrade request (opt-in,
//! [`ClientBuilder::max_redirects`](crate::ClientBuilder::max_redirects)): a 301, 302,
//! 303, 307 or 308 with a `Location` leads to a new request for that URL — `http://`
//! read as `ws://` and `https://` as `wss://`, relative references resolved against
//! the current URL — never from `wss://` down to `ws://`. Credentials (`Authorization`,
//! `Cookie`) go only to the same origin.

use http::header::{AUTHORIZATION, COOKIE, HeaderName, LOCATION, SEC_WEBSOCKET_PROTOCOL};
use http::{HeaderMap, StatusCode, Uri};
use wspc::ClientRequest;

/// Why a redirect was not followed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// More redirects than allowed.
    #[error("more than {max} redirects")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// The redirect leads from `wss://` to `ws://`.
    #[error("refusing the redirect from wss:// down to {location}")]
    Downgrade {
        /// Where it led.
        location: String,
    },
    /// The `Location` is missing or not a usable URL.
    #[error("unusable redirect Location {location:?}")]
    InvalidLocation {
        /// The field's value (empty when missing).
        location: String,
    },
}

/// Whether `status` is a redirect this client follows.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The request that follows `current`'s redirect to the response's `Location`.
pub(crate) fn next_request(
    current: &ClientRequest,
    headers: &HeaderMap,
) -> Result<ClientRequest, RedirectError> {
    let raw = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let invalid = || RedirectError::InvalidLocation {
        location: raw.to_string(),
    };
    let target = resolve(current, raw).ok_or_else(invalid)?;
    if current.is_tls() && target.scheme_str() == Some("ws") {
        return Err(RedirectError::Downgrade {
            location: target.to_string(),
        });
    }
    let next_origin = ClientRequest::from_uri(target.clone()).map_err(|_| invalid())?;
    let same_origin = next_origin.is_tls() == current.is_tls()
        && next_origin.host().eq_ignore_ascii_case(current.host())
        && next_origin.port() == current.port();
    let mut request = http::Request::get(target);
    if !current.subprotocols().is_empty() {
        request = request.header(SEC_WEBSOCKET_PROTOCOL, current.subprotocols().join(", "));
    }
    let sensitive: [HeaderName; 2] = [AUTHORIZATION, COOKIE];
    for (name, value) in current.headers() {
        if same_origin || !sensitive.contains(name) {
            request = request.header(name, value);
        }
    }
    let request = request.body(()).map_err(|_| invalid())?;
    ClientRequest::from_http(request).map_err(|_| invalid())
}

/// `location` as an absolute `ws://`/`wss://` URI, resolved against `current`'s URL.
fn resolve(current: &ClientRequest, location: &str) -> Option<Uri> {
    if location.is_empty() || location.starts_with('#') {
        return None;
    }
    let location = location.split('#').next().unwrap_or("");
    let scheme = if current.is_tls() { "wss" } else { "ws" };
    let absolute = if let Some((s, rest)) = location.split_once("://") {
        let s = match s.to_ascii_lowercase().as_str() {
            "ws" | "http" => "ws",
            "wss" | "https" => "wss",
            _ => return None,
        };
        format!("{s}://{rest}")
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else {
        let authority = current.uri().authority()?.as_str();
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            // A relative path: beside the current path's last segment.
            let base = current.uri().path();
            let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
            let dir = if dir.is_empty() { "/" } else { dir };
            format!("{dir}{location}")
        };
        format!("{scheme}://{authority}{path}")
    };
    absolute.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(LOCATION, value.parse().unwrap());
        h
    }

    fn current(url: &str) -> ClientRequest {
        ClientRequest::new(url)
            .unwrap()
            .subprotocol("chat")
            .header("authorization", "Bearer t")
            .unwrap()
            .header("origin", "https://app.example")
            .unwrap()
    }

    #[test]
    fn locations_resolve() {
        let cur = current("wss://a.example/rooms/1?x=1");
        let next = |l: &str| next_request(&cur, &location(l)).map(|r| r.uri().to_string());
        assert_eq!(next("https://b.example/x").unwrap(), "wss://b.example/x");
        assert_eq!(
            next("wss://b.example:8443/x").unwrap(),
            "wss://b.example:8443/x"
        );
        assert_eq!(next("/other?y=2").unwrap(), "wss://a.example/other?y=2");
        assert_eq!(next("2").unwrap(), "wss://a.example/rooms/2");
        assert_eq!(next("//c.example/z").unwrap(), "wss://c.example/z");
        assert!(matches!(
            next("ws://a.example/"),
            Err(RedirectError::Downgrade { .. })
        ));
        assert!(matches!(
            next("http://a.example/"),
            Err(RedirectError::Downgrade { .. })
        ));
        assert!(matches!(
            next("ftp://a.example/"),
            Err(RedirectError::InvalidLocation { .. })
        ));
        assert!(matches!(
            next_request(&cur, &HeaderMap::new()),
            Err(RedirectError::InvalidLocation { .. })
        ));
        // ws:// may go up to wss://.
        let plain = current("ws://a.example/");
        let up = next_request(&plain, &location("https://a.example/")).unwrap();
        assert!(up.is_tls());
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        let cur = current("wss://a.example/");
        let same = next_request(&cur, &location("/moved")).unwrap();
        assert_eq!(same.headers()["authorization"], "Bearer t");
        assert_eq!(same.subprotocols(), ["chat"]);
        let other = next_request(&cur, &location("wss://b.example/")).unwrap();
        assert!(other.headers().get("authorization").is_none());
        assert_eq!(other.headers()["origin"], "https://app.example");
        assert_eq!(other.subprotocols(), ["chat"]);
    }

    #[test]
    fn which_statuses_redirect() {
        for s in [301, 302, 303, 307, 308] {
            assert!(is_redirect(StatusCode::from_u16(s).unwrap()));
        }
        for s in [200, 300, 304, 305, 400] {
            assert!(!is_redirect(StatusCode::from_u16(s).unwrap()));
        }
    }
}
