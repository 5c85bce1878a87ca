//! `wspc`: a WebSocket server, client and load generator on the wspc engine.
//!
//! - `wspc serve` — echo (or broadcast) server with a browser console on `GET /`.
//! - `wspc connect URL` — stdin lines out as text messages, messages in on stdout.
//! - `wspc bench URL` — closed-loop load generator (uWebSockets `load_test` style).
//!
//! See the crate README for every flag.

mod bench;
mod connect;
mod cpu;
mod histogram;
mod log;
mod serve;
mod stack_text;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use wspc::Limits;

/// mimalloc instead of glibc's allocator (`--features mimalloc`; see docs/security.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A WebSocket server, client and load generator (RFC 6455 + permessage-deflate).
#[derive(Debug, Parser)]
#[command(name = "wspc", version, about, propagate_version = true)]
struct Cli {
    /// More logging on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Echo (or broadcast) WebSocket server, with a browser console on GET /.
    Serve(ServeArgs),
    /// Connect to a WebSocket server: stdin lines out as text messages, messages in on stdout.
    Connect(ConnectArgs),
    /// Closed-loop load generator: N connections, P messages in flight each, echoes verified.
    Bench(BenchArgs),
}

/// `wspc serve` flags.
#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(short, long, default_value = "127.0.0.1:9001")]
    listen: String,
    /// echo: every message back to its sender; broadcast: to every client of the
    /// sender's topic (the URL path).
    #[arg(short, long, value_enum, default_value_t = serve::Mode::Echo)]
    mode: serve::Mode,
    /// Threads serving connections (1–1024). Default: the cores this process may use.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// per-core: a single-threaded runtime and an SO_REUSEPORT listener per thread;
    /// work-stealing: one tokio multi-thread runtime.
    #[arg(long, value_enum, default_value_t = serve::Runtime::PerCore)]
    runtime: serve::Runtime,
    /// TLS certificate chain (PEM); with --tls-key, serves wss:// and https://.
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Require a client certificate issued by a CA in this PEM file (mutual TLS).
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_client_ca: Option<PathBuf>,
    /// With TLS, do not offer HTTP/2 (ALPN h2): WebSockets over HTTP/2 (RFC 8441) are
    /// served by default next to HTTP/1.1 upgrades.
    #[arg(long, requires = "tls_cert")]
    no_http2: bool,
    /// Accept this subprotocol when a client offers it (repeatable; first match in the
    /// client's order wins).
    #[arg(long = "subprotocol", value_name = "NAME")]
    subprotocols: Vec<String>,
    /// Largest message accepted, in bytes after decompression (larger: close 1009).
    #[arg(long, default_value_t = Limits::DEFAULT.max_message_size as usize, value_name = "BYTES")]
    max_message_size: usize,
    /// Largest frame accepted, in bytes (larger: close 1009).
    #[arg(long, default_value_t = Limits::DEFAULT.max_frame_size as usize, value_name = "BYTES")]
    max_frame_size: usize,
    /// Most frames in one message (more: close 1008).
    #[arg(long, default_value_t = Limits::DEFAULT.max_fragments, value_name = "N")]
    max_fragments: u32,
    /// Most Pongs and empty non-final frames per second and between two messages (more:
    /// close 1008).
    #[arg(long, default_value_t = Limits::DEFAULT.max_empty_frames, value_name = "N")]
    max_empty_frames: u32,
    /// Cap on the message data all connections buffer together, and on their
    /// permessage-deflate state: beyond 32 KiB of data per connection, a message that
    /// would need more than is left is refused (close 1009); a compressor is made only
    /// within half of it (otherwise the message goes out uncompressed).
    #[arg(long, default_value_t = serve::DEFAULT_MAX_BUFFERED_BYTES, value_name = "BYTES")]
    max_buffered_bytes: usize,
    /// A frame or message not complete this long after its first byte closes the
    /// connection (1008); 0 turns it off.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    message_timeout: Duration,
    /// Ping a client after this much silence; no Pong within the same time closes it (1011).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    keepalive: Option<Duration>,
    /// Close (1001) a client that sent no message for this long.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    idle_timeout: Option<Duration>,
    /// Most simultaneous WebSocket connections, whole process; more get HTTP 503.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    max_connections: usize,
    /// Most connections in the opening handshake (TLS + HTTP request) at once; a new one
    /// beyond it takes the slot of the oldest, which is closed.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    max_handshakes: usize,
    /// Most connections in the opening handshake from one IP address; more are closed at
    /// once. 0: no limit (the default: clients behind one NAT or proxy share an address).
    #[arg(long, default_value_t = 0, value_name = "N")]
    max_handshakes_per_ip: usize,
    /// Longest opening handshake (TLS and the HTTP request).
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DURATION")]
    handshake_timeout: Duration,
    /// Refuse permessage-deflate (accepted by default).
    #[arg(long)]
    no_deflate: bool,
    /// Broadcast mode: messages queued per client before it is closed as too slow (1008);
    /// 1 to 1,048,576.
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1 << 20))]
    broadcast_queue: u32,
    /// Broadcast mode: do not send a message back to its sender.
    #[arg(long)]
    no_echo_to_sender: bool,
    /// Broadcast mode: join the servers using this Redis (redis://[:PASSWORD@]HOST:PORT[/DB]
    /// or rediss:// for TLS), so topics span all of them.
    #[arg(long, value_name = "URL")]
    broker: Option<String>,
    /// Trust the CA certificate(s) in this PEM file for a rediss:// broker (instead of
    /// the system's and the webpki roots).
    #[arg(long, requires = "broker", value_name = "FILE")]
    broker_ca: Option<PathBuf>,
}

/// `wspc connect` flags.
#[derive(Debug, Args)]
struct ConnectArgs {
    /// ws:// or wss:// URL.
    url: String,
    /// Extra request header (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    headers: Vec<String>,
    /// Offer this subprotocol (repeatable, most preferred first).
    #[arg(long = "subprotocol", value_name = "NAME")]
    subprotocols: Vec<String>,
    /// Also trust the CA certificate(s) in this PEM file.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Accept any server certificate (testing only).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Present this client certificate chain (PEM) to servers that require mutual TLS.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Connect through this proxy: http://[user:pass@]host:port (CONNECT),
    /// socks5://… or socks5h://… (the proxy resolves the name). Default: the proxy
    /// the environment names (https_proxy, http_proxy, all_proxy, no_proxy).
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    proxy: Option<String>,
    /// Connect directly, ignoring the proxy environment variables.
    #[arg(long)]
    no_proxy: bool,
    /// Open the WebSocket over HTTP/2 (RFC 8441): ALPN h2 for wss://, prior knowledge
    /// (h2c) for ws://; falls back to HTTP/1.1 when the server does not allow it.
    #[arg(long)]
    http2: bool,
    /// Ping after this much silence; no Pong within the same time fails the connection.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    ping_interval: Option<Duration>,
    /// Do not offer permessage-deflate (offered by default).
    #[arg(long)]
    no_deflate: bool,
    /// Write binary messages to stdout as they are (default: one hex line each).
    #[arg(long)]
    raw: bool,
    /// Close code sent at the end of input.
    #[arg(long, default_value_t = 1000, value_name = "CODE")]
    close_code: u16,
    /// Close reason sent at the end of input.
    #[arg(long, default_value = "", value_name = "TEXT")]
    close_reason: String,
    /// Largest message accepted, in bytes.
    #[arg(long, default_value_t = Limits::DEFAULT.max_message_size as usize, value_name = "BYTES")]
    max_message_size: usize,
}

/// `wspc bench` flags.
#[derive(Debug, Args)]
struct BenchArgs {
    /// ws://host:port/path of an echo server (with --raw: host:port or tcp://host:port).
    url: String,
    /// Number of connections.
    #[arg(short = 'c', long, default_value_t = 100)]
    connections: usize,
    /// Messages in flight per connection.
    #[arg(short = 'p', long = "in-flight", default_value_t = 1)]
    in_flight: usize,
    /// Payload size in bytes.
    #[arg(short = 's', long, default_value_t = 20)]
    size: usize,
    /// Send text messages (default: binary).
    #[arg(long)]
    text: bool,
    /// Measured time, e.g. 10s, 500ms, 1m.
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Warm-up before measuring (not counted).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Stop after this many echoes in total (no warm-up, no time limit; for callgrind).
    #[arg(long, conflicts_with = "duration")]
    count: Option<u64>,
    /// Plain TCP echo of SIZE-byte payloads, no WebSocket (the raw-TCP ceiling).
    #[arg(long, conflicts_with_all = ["deflate", "text"])]
    raw: bool,
    /// Offer permessage-deflate (messages then go through the engine's compressor).
    #[arg(long)]
    deflate: bool,
    /// Print one JSON object on stdout instead of the summary.
    #[arg(long)]
    json: bool,
    /// Also report this process's CPU busy share (the server under test), Linux only.
    #[arg(long, value_name = "PID")]
    watch_pid: Option<u32>,
}

/// Parses `10s`, `500ms`, `2m`, `1.5s` or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (try 10s, 500ms, 2m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("invalid unit in {s:?} (ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("invalid duration {s:?}: {e}"))
}

/// Logging on stderr: `quiet` is the level without -v (info for the server, warn for
/// the clients, whose stdout and stderr carry their output).
fn init_logging(verbose: u8, quiet: &str) {
    let default = match verbose {
        0 => quiet,
        1 => "debug",
        _ => "trace",
    };
    log::init(default);
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    init_logging(cli.verbose, quiet);
    match cli.command {
        Command::Serve(a) => {
            let config = serve::ServeConfig {
                listen: a.listen,
                mode: a.mode,
                threads: a
                    .threads
                    .map(usize::from)
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                runtime: a.runtime,
                tls_cert: a.tls_cert,
                tls_key: a.tls_key,
                tls_client_ca: a.tls_client_ca,
                http2: !a.no_http2,
                subprotocols: a.subprotocols,
                max_message_size: a.max_message_size,
                max_frame_size: a.max_frame_size,
                max_fragments: a.max_fragments,
                max_empty_frames: a.max_empty_frames,
                max_buffered_bytes: a.max_buffered_bytes,
                message_timeout: (!a.message_timeout.is_zero()).then_some(a.message_timeout),
                keepalive: a.keepalive,
                idle_timeout: a.idle_timeout,
                max_connections: a.max_connections,
                max_handshakes: a.max_handshakes,
                max_handshakes_per_ip: a.max_handshakes_per_ip,
                handshake_timeout: a.handshake_timeout,
                deflate: !a.no_deflate,
                broadcast_queue: a.broadcast_queue as usize,
                no_echo_to_sender: a.no_echo_to_sender,
                broker: a.broker,
                broker_ca: a.broker_ca,
            };
            exit_status("serve", serve::run(config))
        }
        Command::Connect(a) => {
            let config = connect::ConnectConfig {
                url: a.url,
                headers: a.headers,
                subprotocols: a.subprotocols,
                ca: a.ca,
                insecure: a.insecure,
                client_cert: a.cert.zip(a.key),
                proxy: match (a.proxy, a.no_proxy) {
                    (Some(url), _) => connect::ProxyChoice::Url(url),
                    (None, true) => connect::ProxyChoice::Off,
                    (None, false) => connect::ProxyChoice::FromEnv,
                },
                http2: a.http2,
                ping_interval: a.ping_interval,
                deflate: !a.no_deflate,
                raw: a.raw,
                close_code: a.close_code,
                close_reason: a.close_reason,
                max_message_size: a.max_message_size,
            };
            exit_status("connect", connect::run(config))
        }
        Command::Bench(a) => {
            let config = bench::BenchConfig {
                url: a.url,
                connections: a.connections,
                in_flight: a.in_flight,
                size: a.size,
                text: a.text,
                duration: a.duration,
                warmup: a.warmup,
                count: a.count,
                raw: a.raw,
                deflate: a.deflate,
                json: a.json,
                watch_pid: a.watch_pid,
            };
            match bench::run(&config) {
                Ok(report) => {
                    if config.json {
                        println!("{}", report.to_json());
                    } else {
                        bench::print_human(&config, &report);
                    }
                    if report.errors > 0 {
                        eprintln!("wspc bench: {} errors", report.errors);
                        return ExitCode::from(2);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => exit_status("bench", Err(e)),
            }
        }
    }
}

/// Success, or the command's one-line error on stderr and a failure status.
fn exit_status(command: &str, result: Result<(), impl std::fmt::Display>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wspc {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
