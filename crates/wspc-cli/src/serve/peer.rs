//! A connection's peer address with its text, rendered once when the connection is
//! accepted: every log line of the connection names the peer, and `std`'s
//! `SocketAddr` formatting (seven pieces through `fmt`, each a call chain) cost about
//! 1,250 instructions a line in the handshake profile (issue 13).

use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr, SocketAddrV4};

use crate::stack_text::StackText;

/// Room for the longest text of a socket address,
/// `[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535` (58 bytes).
const MAX: usize = 64;

/// A peer's address and how the log writes it (`127.0.0.1:4000`, `[::1]:4000`).
#[derive(Clone, Copy)]
pub(crate) struct Peer {
    addr: SocketAddr,
    text: StackText<MAX>,
}

impl Peer {
    /// The peer's address, `std`'s text of it.
    pub(crate) fn new(addr: SocketAddr) -> Self {
        let mut text = StackText::new();
        // The longest text fits: neither can fail.
        let _ = match addr {
            SocketAddr::V4(v4) => write_v4(&mut text, v4),
            SocketAddr::V6(_) => write!(text, "{addr}"),
        };
        Peer { addr, text }
    }

    /// The peer's IP address.
    pub(crate) fn ip(&self) -> IpAddr {
        self.addr.ip()
    }
}

/// `a.b.c.d:port` without `fmt`'s machinery.
fn write_v4(text: &mut StackText<MAX>, v4: SocketAddrV4) -> fmt::Result {
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            text.write_str(".")?;
        }
        text.push_decimal(octet.into())?;
    }
    text.write_str(":")?;
    text.push_decimal(v4.port().into())
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.as_str())
    }
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.as_str())
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
