//! Header fields as the handshake's rules read them: the `http` map of a request, or the
//! parser's fields of a head that never became `http` values (a server that answers
//! nothing but upgrades does not need the map: building it is about a seventh of a
//! handshake).
//! One set of rules reads both.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

/// A request's header fields, in order.
pub(crate) trait Fields {
    /// Every field: its name (in any case) and its value.
    fn each(&self) -> impl Iterator<Item = (&[u8], &[u8])>;

    /// The values of the fields named `name`, in order.
    fn values_of(&self, name: &HeaderName) -> impl Iterator<Item = &[u8]>;
}

impl Fields for HeaderMap {
    fn each(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.iter()
            .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes()))
    }

    fn values_of(&self, name: &HeaderName) -> impl Iterator<Item = &[u8]> {
        self.get_all(name).iter().map(HeaderValue::as_bytes)
    }
}

impl Fields for [httparse::Header<'_>] {
    fn each(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.iter().map(|h| (h.name.as_bytes(), h.value))
    }

    fn values_of(&self, name: &HeaderName) -> impl Iterator<Item = &[u8]> {
        let name = name.as_str().as_bytes();
        self.iter()
            .filter(move |h| h.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }
}

/// A field value as text: what [`HeaderValue::to_str`] accepts (visible ASCII, space,
/// tab), `None` for anything else.
pub(crate) fn text(value: &[u8]) -> Option<&str> {
    if value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        // Only ASCII: this cannot fail.
        std::str::from_utf8(value).ok()
    } else {
        None
    }
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
        let mut a: Vec<(Vec<u8>, &[u8])> = raw
            .each()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect();
        let mut b: Vec<(Vec<u8>, &[u8])> = map.each().map(|(n, v)| (n.to_vec(), v)).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
}
