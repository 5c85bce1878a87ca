//! A connection's peer address with its text, rendered once when the connection is
//! accepted: every log line of the connection names the peer, and `std`'s
//! `SocketAddr` formatting (seven pieces through `fmt`, each a call chain) cost about
//! 1,250 instructions a line in the handshake profile (issue 13).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Room for the longest text of a socket address,
/// `[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535` (58 bytes).
const MAX: usize = 64;

/// A peer's address and how the log writes it (`127.0.0.1:4000`, `[::1]:4000`).
#[derive(Clone, Copy)]
pub(crate) struct Peer {
    addr: SocketAddr,
    text: [u8; MAX],
    len: u8,
}

impl Peer {
    /// The peer's address, `std`'s text of it.
    pub(crate) fn new(addr: SocketAddr) -> Self {
        let mut peer = Peer {
            addr,
            text: [0; MAX],
            len: 0,
        };
        match addr {
            SocketAddr::V4(v4) => {
                for (i, octet) in v4.ip().octets().into_iter().enumerate() {
                    if i > 0 {
                        peer.push(b".");
                    }
                    peer.push_decimal(u32::from(octet));
                }
                peer.push(b":");
                peer.push_decimal(u32::from(v4.port()));
            }
            SocketAddr::V6(_) => {
                if fmt::Write::write_fmt(&mut peer, format_args!("{addr}")).is_err() {
                    // Not reached: the longest text fits.
                    peer.len = 0;
                    peer.push(b"?");
                }
            }
        }
        peer
    }

    /// The peer's IP address.
    pub(crate) fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    fn as_str(&self) -> &str {
        // Only ASCII was copied in.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or("?")
    }

    /// Appends `bytes`; false (nothing appended) when they do not fit.
    fn push(&mut self, bytes: &[u8]) -> bool {
        let at = usize::from(self.len);
        match self.text.get_mut(at..at + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len += bytes.len() as u8;
                true
            }
            None => false,
        }
    }

    fn push_decimal(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[start..]);
    }
}

impl fmt::Write for Peer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.push(s.as_bytes()) {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};

    use super::*;

    fn same_as_std(addr: SocketAddr) {
        assert_eq!(Peer::new(addr).to_string(), addr.to_string());
        assert_eq!(Peer::new(addr).ip(), addr.ip());
    }

    #[test]
    fn writes_what_std_writes() {
        for addr in [
            "0.0.0.0:0",
            "127.0.0.1:4000",
            "255.255.255.255:65535",
            "10.0.100.9:80",
            "[::1]:4000",
            "[::]:0",
            "[fe80::1%2]:443",
            "[::ffff:192.0.2.1]:8080",
            "[2001:db8::ff00:42:8329]:1",
        ] {
            same_as_std(addr.parse().unwrap());
        }
        // The longest text there is.
        let widest = Ipv6Addr::from(u128::MAX);
        same_as_std(SocketAddr::V6(SocketAddrV6::new(
            widest,
            65535,
            0,
            u32::MAX,
        )));
        // A spread of IPv4 addresses and ports (a fixed xorshift sequence).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ip = Ipv4Addr::from((x >> 16) as u32);
            same_as_std(SocketAddr::from((ip, x as u16)));
        }
    }
}
