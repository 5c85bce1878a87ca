//! The opening handshake as the generator sends and checks it (RFC 6455 §4.1–4.2).

/// The key of RFC 6455 §1.3's example, and the accept value the RFC gives for it: every
/// connection uses them (the server's work is the same for any key).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &[u8] = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The upgrade request for `path` on `host` (host:port).
pub fn request(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// The response so far: `None` while incomplete; then whether it is a valid 101 for our
/// key, and how many bytes of `buf` it took (frames may follow it in the same read).
pub fn check_response(buf: &[u8]) -> Option<(Result<(), &'static str>, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = &buf[..end];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status = lines.next().unwrap_or_default();
    if !status.starts_with(b"HTTP/1.1 101") {
        return Some((Err("the server did not answer 101"), end));
    }
    let mut accept_ok = false;
    let mut upgrade_ok = false;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"sec-websocket-accept") {
            accept_ok = value == ACCEPT;
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            upgrade_ok = value.eq_ignore_ascii_case(b"websocket");
        }
    }
    let result = match (accept_ok, upgrade_ok) {
        (true, true) => Ok(()),
        (false, _) => Err("wrong or missing Sec-WebSocket-Accept"),
        (_, false) => Err("missing Upgrade: websocket"),
    };
    Some((result, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_rfc_answer_only() {
        let good =
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x82\x00";
        assert_eq!(check_response(&good[..20]), None);
        assert_eq!(check_response(good), Some((Ok(()), good.len() - 2)));
        let wrong = b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n\r\n";
        assert!(check_response(wrong).unwrap().0.is_err());
        let refused = b"HTTP/1.1 400 Bad Request\r\n\r\n";
        assert!(check_response(refused).unwrap().0.is_err());
    }
}
