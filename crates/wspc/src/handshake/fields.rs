//! Header fields as the handshake's rules read them: the `http` map of a request, or the
//! parser's fields of a head that never became `http` values (a server that answers
//! nothing but upgrades does not need the map: building it is about a seventh of a
//! handshake).
//! One set of rules reads both.

use http::HeaderMap;
use http::header::{
    CONNECTION, HOST, HeaderName, HeaderValue, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};

/// The fields the upgrade rules read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    Host,
    Upgrade,
    Connection,
    Key,
    Version,
    Protocol,
    Extensions,
}

impl Known {
    /// The field a name (in any case) is, if the rules read it. The names all differ in
    /// length: one comparison each.
    #[inline]
    fn of_bytes(name: &[u8]) -> Option<Known> {
        let (known, wanted) = match name.len() {
            4 => (Known::Host, HOST),
            7 => (Known::Upgrade, UPGRADE),
            10 => (Known::Connection, CONNECTION),
            17 => (Known::Key, SEC_WEBSOCKET_KEY),
            21 => (Known::Version, SEC_WEBSOCKET_VERSION),
            22 => (Known::Protocol, SEC_WEBSOCKET_PROTOCOL),
            24 => (Known::Extensions, SEC_WEBSOCKET_EXTENSIONS),
            _ => return None,
        };
        name.eq_ignore_ascii_case(wanted.as_str().as_bytes())
            .then_some(known)
    }

    /// The field an `http` name is (standard names compare as numbers).
    #[inline]
    fn of_name(name: &HeaderName) -> Option<Known> {
        Some(if name == HOST {
            Known::Host
        } else if name == UPGRADE {
            Known::Upgrade
        } else if name == CONNECTION {
            Known::Connection
        } else if name == SEC_WEBSOCKET_KEY {
            Known::Key
        } else if name == SEC_WEBSOCKET_VERSION {
            Known::Version
        } else if name == SEC_WEBSOCKET_PROTOCOL {
            Known::Protocol
        } else if name == SEC_WEBSOCKET_EXTENSIONS {
            Known::Extensions
        } else {
            return None;
        })
    }
}

/// A request's header fields, in order.
pub(crate) trait Fields {
    /// The fields the upgrade rules read, in order: which one, and its value.
    fn known(&self) -> impl Iterator<Item = (Known, &[u8])>;

    /// The values of the fields named `name`, in order.
    fn values_of(&self, name: &HeaderName) -> impl Iterator<Item = &[u8]>;
}

impl Fields for HeaderMap {
    fn known(&self) -> impl Iterator<Item = (Known, &[u8])> {
        self.iter()
            .filter_map(|(name, value)| Some((Known::of_name(name)?, value.as_bytes())))
    }

    fn values_of(&self, name: &HeaderName) -> impl Iterator<Item = &[u8]> {
        self.get_all(name).iter().map(HeaderValue::as_bytes)
    }
}

impl Fields for [httparse::Header<'_>] {
    fn known(&self) -> impl Iterator<Item = (Known, &[u8])> {
        self.iter()
            .filter_map(|h| Some((Known::of_bytes(h.name.as_bytes())?, h.value)))
    }

    fn values_of(&self, name: &HeaderName) -> impl Iterator<Item = &[u8]> {
        let name = name.as_str().as_bytes();
        self.iter()
            .filter(move |h| h.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }
}

/// Whether a field value is text: what [`HeaderValue::to_str`] accepts (visible ASCII,
/// space, tab).
pub(crate) fn is_text(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// A field value as text (see [`is_text`]), `None` for anything else.
pub(crate) fn text(value: &[u8]) -> Option<&str> {
    // Only ASCII when it is text: `from_utf8` cannot fail then.
    if is_text(value) {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

/// A value without the spaces and tabs around it (what `str::trim` leaves of text).
pub(crate) fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_accepts_what_header_value_to_str_accepts() {
        for b in 0..=255u8 {
            let value = [b'a', b, b'z'];
            let ours = text(&value).is_some();
            let http = HeaderValue::from_bytes(&value).is_ok_and(|v| v.to_str().is_ok());
            // (Values `HeaderValue` refuses, control characters, are not text either.)
            assert_eq!(ours, http, "byte {b:#04x}");
        }
    }

    #[test]
    fn trim_ows_is_str_trim_on_text() {
        for value in ["", " ", "\t13 ", " 1 3\t", "x", "\t\t", "a b"] {
            assert!(is_text(value.as_bytes()));
            assert_eq!(
                trim_ows(value.as_bytes()),
                value.trim().as_bytes(),
                "{value:?}"
            );
        }
        // Not text: only spaces and tabs go.
        assert_eq!(trim_ows(b"\x0ck\r"), b"\x0ck\r");
    }

    #[test]
    fn both_kinds_of_fields_read_the_same() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\nX-One: 1\r\nhost: b\r\nSEC-WEBSOCKET-PROTOCOL: p\r\n\r\n";
        let mut slots = [httparse::EMPTY_HEADER; 8];
        let mut req = httparse::Request::new(&mut slots);
        assert!(req.parse(head).unwrap().is_complete());
        let raw: &[httparse::Header<'_>] = req.headers;
        let map = crate::handshake::http1::parse_request(head, 8)
            .unwrap()
            .headers;
        for name in [http::header::HOST, http::header::SEC_WEBSOCKET_PROTOCOL] {
            let a: Vec<&[u8]> = raw.values_of(&name).collect();
            let b: Vec<&[u8]> = map.values_of(&name).collect();
            assert_eq!(a, b, "{name}");
        }
        assert_eq!(raw.values_of(&http::header::HOST).count(), 2);
        // (The map groups a name's fields: compare in one order.)
        fn sorted<'a>(fields: impl Iterator<Item = (Known, &'a [u8])>) -> Vec<(Known, &'a [u8])> {
            let mut v: Vec<_> = fields.collect();
            v.sort_by_key(|&(k, v)| (k as u8, v));
            v
        }
        let a = sorted(raw.known());
        let b = sorted(map.known());
        assert_eq!(a, b);
        assert_eq!(
            a,
            [
                (Known::Host, &b"a"[..]),
                (Known::Host, b"b"),
                (Known::Protocol, b"p"),
            ]
        );
    }
}
