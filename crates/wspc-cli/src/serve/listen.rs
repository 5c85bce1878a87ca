//! Listeners and the accept loop.
//!
//! With `--runtime per-core` every thread has its own listening socket on the same
//! address (`SO_REUSEPORT`): the kernel spreads new connections over them by a hash of
//! the addresses, and each thread accepts and serves its own, with no shared queue.
//! Before binding them, the address is bound once without `SO_REUSEPORT`, so an address
//! another process already uses (even one that set `SO_REUSEPORT` itself, such as another
//! `wspc serve`) fails as "address in use" instead of being silently shared.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

use super::{ServeError, State, conn};

/// Pending connections the kernel queues per listener.
const BACKLOG: i32 = 1024;

fn bind_error(addr: &str, source: std::io::Error) -> ServeError {
    ServeError::Bind {
        addr: addr.to_string(),
        source,
    }
}

fn socket(addr: SocketAddr, reuse_port: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// `n` listeners on `addr` (one without `SO_REUSEPORT` when `n` is 1).
pub(crate) fn bind(addr: &str, n: usize) -> Result<Vec<std::net::TcpListener>, ServeError> {
    let resolved = addr
        .to_socket_addrs()
        .map_err(|e| bind_error(addr, e))?
        .next()
        .ok_or_else(|| {
            bind_error(
                addr,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
            )
        })?;
    let first = socket(resolved, false).map_err(|e| bind_error(addr, e))?;
    if n <= 1 {
        return Ok(vec![first]);
    }
    // The probe told us the address is ours (and the port, if 0 was asked for).
    let actual = first.local_addr().map_err(|e| bind_error(addr, e))?;
    drop(first);
    (0..n)
        .map(|_| socket(actual, true).map_err(|e| bind_error(addr, e)))
        .collect()
}

/// Accepts connections until the server stops, each served by its own task.
pub(crate) async fn accept_loop(state: &Arc<State>, listener: TcpListener) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off a little.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                tokio::spawn(conn::serve(state.clone(), tcp, peer));
            }
            _ = state.shutdown.wait() => break,
        }
    }
}
