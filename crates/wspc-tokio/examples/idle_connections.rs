//! Measures the memory an idle connection costs: opens N WebSocket connections over
//! loopback (server in this process, clients in a child process), leaves them idle,
//! and reports the growth of each process's resident set size per connection.
//!
//! ```text
//! cargo run --release -p wspc-tokio --example idle_connections -- [N] [--deflate] [--message] [--no-context-takeover]
//! ```
//! N defaults to 1000. `--deflate` negotiates permessage-deflate (compression state is
//! allocated lazily); `--message` exchanges one 1 KiB text message each way on every
//! connection before it goes idle (so compression contexts exist with `--deflate`);
//! `--no-context-takeover` makes the server demand no context takeover in both
//! directions, so no compression state outlives a message.
//! Each process needs N file descriptors: raise `ulimit -n` if accepting fails. Linux
//! only (reads /proc/self/status).
//!
//! Two figures per side: the growth of the live heap (counted by a global allocator
//! wrapper: exactly what the connections hold) and of the RSS (what the OS sees,
//! including the allocator's fragmentation and the tasks' stacks of futures; kernel
//! socket buffers are in neither).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wspc_tokio::{ClientBuilder, DeflateOptions, DeflateServer, Message, ServerBuilder};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds the
// GlobalAlloc contract; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same layout as given to us, forwarded to System.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by System with `layout` (through `alloc`).
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr`/`layout` come from this allocator; forwarded to System.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn heap() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Resident set size of this process, in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn payload() -> String {
    r#"{"id":1234,"user":"someone","text":"an idle connection sends little","tags":["a","b"]}"#
        .repeat(12)[..1024]
        .to_string()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    let message = args.iter().any(|a| a == "--message");
    if let Some(i) = args.iter().position(|a| a == "--client-mode") {
        let addr = args[i + 1].clone();
        let n: usize = args[i + 2].parse()?;
        return clients(&addr, n, deflate, message).await;
    }
    let n: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1000);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let no_takeover = args.iter().any(|a| a == "--no-context-takeover");
    let server = if deflate && no_takeover {
        ServerBuilder::new().deflate_policy(DeflateServer {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..DeflateServer::default()
        })
    } else {
        ServerBuilder::new().deflate(deflate.then(DeflateOptions::default))
    };
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(n.max(1));
    let before = rss();
    let heap_before = heap();

    let mut child = Command::new(std::env::current_exe()?)
        .args(["--client-mode", &addr, &n.to_string()])
        .args(deflate.then_some("--deflate"))
        .args(message.then_some("--message"))
        .stdout(Stdio::piped())
        .spawn()?;
    for _ in 0..n {
        let (tcp, _) = listener.accept().await?;
        let server = server.clone();
        let ready = ready_tx.clone();
        tokio::spawn(async move {
            let Ok(mut ws) = server.accept(tcp).await else {
                eprintln!("handshake failed");
                return;
            };
            if message && let Some(Ok(m)) = ws.recv().await {
                let _ = ws.send(m).await;
            }
            let _ = ready.send(()).await;
            // Idle: wait for whatever comes (nothing will).
            while let Some(Ok(_)) = ws.recv().await {}
        });
    }
    for _ in 0..n {
        ready_rx.recv().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = rss();
    let heap_after = heap();
    let mut client_report = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut client_report)?;
    let mut parts = client_report
        .split_whitespace()
        .filter_map(|s| s.parse::<usize>().ok());
    let mut next = || parts.next().unwrap_or(0);
    let (c_before, c_after, c_heap_before, c_heap_after) = (next(), next(), next(), next());
    let _ = child.kill();
    let _ = child.wait();

    let per = |a: usize, b: usize| (b.saturating_sub(a)) as f64 / n as f64;
    println!(
        "{n} idle connections (deflate {}, {}):",
        match (deflate, no_takeover) {
            (false, _) => "off",
            (true, false) => "on",
            (true, true) => "on, no context takeover",
        },
        if message {
            "one 1 KiB message each way first"
        } else {
            "no message"
        }
    );
    println!(
        "  server: heap {:.0} B, RSS {:.0} B per connection (RSS {:.1} -> {:.1} MiB)",
        per(heap_before, heap_after),
        per(before, after),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
    );
    println!(
        "  client: heap {:.0} B, RSS {:.0} B per connection (RSS {:.1} -> {:.1} MiB)",
        per(c_heap_before, c_heap_after),
        per(c_before, c_after),
        c_before as f64 / 1048576.0,
        c_after as f64 / 1048576.0,
    );
    Ok(())
}

/// The child: opens `n` connections, leaves them idle, reports its RSS before and
/// after, then waits to be killed.
async fn clients(
    addr: &str,
    n: usize,
    deflate: bool,
    message: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let before = rss();
    let heap_before = heap();
    let url = format!("ws://{addr}/");
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        let (mut ws, _) = ClientBuilder::new(&url)?
            .deflate(deflate.then(DeflateOptions::default))
            .connect()
            .await?;
        if message {
            ws.send(Message::text(payload())).await?;
            let _ = ws.recv().await;
        }
        sockets.push(ws);
    }
    // Each idle socket is read by a task, as in a real client.
    for mut ws in sockets {
        tokio::spawn(async move { while let Some(Ok(_)) = ws.recv().await {} });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("{before} {} {heap_before} {}", rss(), heap());
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(())
}
