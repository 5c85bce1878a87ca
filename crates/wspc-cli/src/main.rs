//! `wspc`: a WebSocket server, client and load generator on the wspc engine.
//!
//! - `wspc serve` — echo (or broadcast) server with a browser console on `GET /`.
//! - `wspc connect URL` — stdin lines out as text messages, messages in on stdout.
//! - `wspc bench URL` — closed-loop load generator (uWebSockets `load_test` style).
//!
//! See the crate README for every flag.

mod bench;
mod histogram;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

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
    /// Closed-loop load generator: N connections, P messages in flight each, echoes verified.
    Bench(BenchArgs),
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

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match cli.command {
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
                Err(e) => {
                    eprintln!("wspc bench: {e}");
                    ExitCode::FAILURE
                }
            }
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
