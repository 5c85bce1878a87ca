//! Opening a TCP connection to a host name: every resolved address, IPv6 and IPv4 taking
//! turns, attempts started 250 ms apart or as soon as the previous one failed, the first
//! to connect wins (Happy Eyeballs, RFC 8305 §4–5). Each attempt is bounded by the
//! connect timeout.
//!
//! Names are resolved with the system resolver (`getaddrinfo`, both families in one
//! query, already sorted by RFC 6724), so the separate AAAA/A queries of RFC 8305 §3
//! are not made; the attempts follow §4 (interleaved families, the first address's
//! family first) and §5 (the staggered start).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::net::TcpStream;

use crate::error::{Error, Result};

/// RFC 8305 §5's recommended Connection Attempt Delay.
pub(crate) const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Resolves `host` (bounded by `timeout`) and connects to one of its addresses, each
/// attempt bounded by `timeout`. `TCP_NODELAY` is set on the stream.
pub(crate) async fn connect_host(host: &str, port: u16, timeout: Duration) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> =
        tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| Error::Timeout("connect"))?
            .map_err(|source| Error::Dns {
                host: host.to_string(),
                source,
            })?
            .collect();
    if addrs.is_empty() {
        return Err(Error::Dns {
            host: host.to_string(),
            source: io::Error::new(io::ErrorKind::NotFound, "no address found"),
        });
    }
    let tcp = race(addrs, ATTEMPT_DELAY, timeout, TcpStream::connect)
        .await
        .map_err(|(addr, source)| {
            if source.kind() == io::ErrorKind::TimedOut {
                Error::Timeout("connect")
            } else {
                Error::Connect {
                    addr: addr.to_string(),
                    source,
                }
            }
        })?;
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// The addresses in attempt order (RFC 8305 §4): families alternate, starting with the
/// family of the first (most preferred) address; order within a family is kept.
pub(crate) fn interleave(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return addrs;
    };
    let first_is_v6 = first.is_ipv6();
    let (mut preferred, mut other): (Vec<_>, Vec<_>) =
        addrs.into_iter().partition(|a| a.is_ipv6() == first_is_v6);
    let mut out = Vec::with_capacity(preferred.len() + other.len());
    preferred.reverse();
    other.reverse();
    loop {
        match (preferred.pop(), other.pop()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

/// Races connection attempts: the next address is tried `delay` after the previous
/// attempt started, or at once when it failed; each attempt is bounded by
/// `attempt_timeout` (`TimedOut`). The first success wins and the other attempts are
/// dropped. All failed: the last error, with its address.
pub(crate) async fn race<T, F, Fut>(
    addrs: Vec<SocketAddr>,
    delay: Duration,
    attempt_timeout: Duration,
    mut connect: F,
) -> std::result::Result<T, (SocketAddr, io::Error)>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut next = interleave(addrs).into_iter();
    let mut attempts = FuturesUnordered::new();
    let mut last: Option<(SocketAddr, io::Error)> = None;
    loop {
        // Each pass starts the next attempt: the first, or after the previous one
        // failed, or after the attempt delay passed.
        if let Some(addr) = next.next() {
            let attempt = tokio::time::timeout(attempt_timeout, connect(addr));
            attempts.push(async move {
                let result = attempt.await.unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection attempt timed out",
                    ))
                });
                (addr, result)
            });
        }
        if attempts.is_empty() {
            return Err(last.unwrap_or_else(|| {
                let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
                (
                    unspecified,
                    io::Error::new(io::ErrorKind::NotFound, "no address to connect to"),
                )
            }));
        }
        let more = next.len() > 0;
        tokio::select! {
            Some((addr, result)) = attempts.next() => match result {
                Ok(stream) => return Ok(stream),
                Err(e) => {
                    tracing::debug!("connecting to {addr} failed: {e}");
                    last = Some((addr, e));
                }
            },
            () = tokio::time::sleep(delay), if more => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::time::Instant;

    use super::*;

    fn v4(last: u8) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, last], 80))
    }

    fn v6(last: u16) -> SocketAddr {
        SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, last], 80))
    }

    #[test]
    fn families_alternate_starting_with_the_first() {
        assert_eq!(
            interleave(vec![v6(1), v6(2), v6(3), v4(1), v4(2)]),
            vec![v6(1), v4(1), v6(2), v4(2), v6(3)]
        );
        assert_eq!(
            interleave(vec![v4(1), v6(1), v4(2)]),
            vec![v4(1), v6(1), v4(2)]
        );
        assert_eq!(interleave(vec![]), vec![]);
    }

    /// What each fake address does: answer after a time, fail after a time, or never.
    #[derive(Clone, Copy)]
    enum Behaviour {
        ConnectAfter(u64),
        FailAfter(u64),
        Hang,
    }

    /// Runs `race` on paused time against addresses that behave as given; returns the
    /// winner (or error), when it was decided, and when each attempt started (ms).
    async fn run(
        plan: Vec<(SocketAddr, Behaviour)>,
        attempt_timeout: u64,
    ) -> (
        std::result::Result<SocketAddr, (SocketAddr, io::ErrorKind)>,
        u64,
        Vec<(SocketAddr, u64)>,
    ) {
        let start = Instant::now();
        let started = Arc::new(Mutex::new(Vec::new()));
        let addrs = plan.iter().map(|(a, _)| *a).collect();
        let log = started.clone();
        let result = race(
            addrs,
            ATTEMPT_DELAY,
            Duration::from_millis(attempt_timeout),
            |addr| {
                let behaviour = plan.iter().find(|(a, _)| *a == addr).unwrap().1;
                log.lock()
                    .unwrap()
                    .push((addr, start.elapsed().as_millis() as u64));
                async move {
                    match behaviour {
                        Behaviour::ConnectAfter(ms) => {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            Ok(addr)
                        }
                        Behaviour::FailAfter(ms) => {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            Err(io::ErrorKind::ConnectionRefused.into())
                        }
                        Behaviour::Hang => std::future::pending().await,
                    }
                }
            },
        )
        .await
        .map_err(|(a, e)| (a, e.kind()));
        let at = start.elapsed().as_millis() as u64;
        let started = started.lock().unwrap().clone();
        (result, at, started)
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_first_address_costs_one_attempt_delay() {
        let (result, at, started) = run(
            vec![
                (v6(1), Behaviour::Hang),
                (v4(1), Behaviour::ConnectAfter(10)),
            ],
            10_000,
        )
        .await;
        assert_eq!(result, Ok(v4(1)));
        assert_eq!(started, vec![(v6(1), 0), (v4(1), 250)]);
        assert_eq!(at, 260);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_attempt_starts_the_next_at_once() {
        let (result, at, started) = run(
            vec![
                (v6(1), Behaviour::FailAfter(20)),
                (v4(1), Behaviour::FailAfter(30)),
                (v6(2), Behaviour::ConnectAfter(5)),
            ],
            10_000,
        )
        .await;
        assert_eq!(result, Ok(v6(2)));
        // Order v6(1), v4(1), v6(2) (families interleaved).
        assert_eq!(started, vec![(v6(1), 0), (v4(1), 20), (v6(2), 50)]);
        assert_eq!(at, 55);
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_to_connect_wins_even_if_started_later() {
        let (result, _, started) = run(
            vec![
                (v6(1), Behaviour::ConnectAfter(1_000)),
                (v4(1), Behaviour::ConnectAfter(100)),
            ],
            10_000,
        )
        .await;
        assert_eq!(result, Ok(v4(1)));
        assert_eq!(started.len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn every_attempt_is_bounded_by_the_timeout() {
        let (result, at, started) = run(
            vec![(v6(1), Behaviour::Hang), (v4(1), Behaviour::Hang)],
            1_000,
        )
        .await;
        assert_eq!(result, Err((v4(1), io::ErrorKind::TimedOut)));
        assert_eq!(started, vec![(v6(1), 0), (v4(1), 250)]);
        // The last attempt started at 250 ms and was given its full second.
        assert_eq!(at, 1_250);
    }

    #[tokio::test]
    async fn real_sockets_fall_back_from_a_refusing_address() {
        // [::1] with nothing listening refuses; 127.0.0.1 accepts.
        let closed = std::net::TcpListener::bind("[::1]:0").unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        let live = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let live_addr = live.local_addr().unwrap();
        let tcp = race(
            vec![dead, live_addr],
            ATTEMPT_DELAY,
            Duration::from_secs(10),
            TcpStream::connect,
        )
        .await
        .unwrap();
        assert_eq!(tcp.peer_addr().unwrap(), live_addr);
    }
}
