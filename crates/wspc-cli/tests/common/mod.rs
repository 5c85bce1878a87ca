//! Helpers shared by the CLI integration tests: free loopback ports, a `wspc serve`
//! child that is killed on drop, temporary directories, bounded child runs, `/metrics`.

#![allow(dead_code)] // each test file uses part of this

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `wspc` binary under test.
pub const WSPC: &str = env!("CARGO_BIN_EXE_wspc");

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("wspc-cli-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `wspc serve`, killed on drop; its stderr goes to a log file shown by
/// [`Server::log`].
pub struct Server {
    pub child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl Server {
    /// Starts `wspc serve --listen 127.0.0.1:PORT ARGS...` and waits until it accepts.
    pub fn start(args: &[&str]) -> Server {
        let port = free_port();
        let dir = TempDir::new("serve");
        let log = dir.path("serve.log");
        let child = Command::new(WSPC)
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn wspc serve");
        let server = Server {
            child,
            port,
            log,
            _dir: dir,
        };
        server.wait_listening();
        server
    }

    fn wait_listening(&self) {
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "wspc serve did not listen on {}:\n{}",
            self.port,
            self.log()
        );
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (bounded) until the log contains `needle`: the server logs a close once its
    /// side is done, which may be just after the client saw it. Panics with the log if
    /// it never appears.
    pub fn wait_log(&self, needle: &str) {
        let until = Instant::now() + Duration::from_secs(20);
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < until,
                "{needle:?} not in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        wait_child(&mut self.child, Duration::from_secs(10))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a child at most `limit`; `None` (and the child killed) if it did not exit.
pub fn wait_child(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cmd` with `stdin` as its input, bounded by `limit` (killed after it). Output
/// is collected through files so a chatty child cannot block on a full pipe.
pub fn run_with_input(cmd: &mut Command, stdin: &[u8], limit: Duration) -> Output {
    let dir = TempDir::new("run");
    let (out_path, err_path) = (dir.path("stdout"), dir.path("stderr"));
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn");
    {
        let mut input = child.stdin.take().expect("stdin");
        // The child may exit before reading its input (e.g. a refused connection).
        let _ = input.write_all(stdin);
    } // closed: end of input
    let status = wait_child(&mut child, limit)
        .unwrap_or_else(|| panic!("{cmd:?} did not finish within {limit:?}"));
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    }
}

/// Like [`run_with_input`], but keeps stdin open until stdout holds `expected` (or
/// `limit` passes), as a person typing would: the end of input (and so the Close) comes
/// only after every echo arrived. Peers may stop echoing once they see a Close, as RFC
/// 6455 allows.
pub fn run_interactive(
    cmd: &mut Command,
    input: &[u8],
    expected: &[u8],
    limit: Duration,
) -> Output {
    let dir = TempDir::new("run");
    let (out_path, err_path) = (dir.path("stdout"), dir.path("stderr"));
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(input);
    let until = Instant::now() + limit;
    while Instant::now() < until
        && std::fs::read(&out_path).unwrap_or_default().len() < expected.len()
        && child.try_wait().ok().flatten().is_none()
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(stdin);
    let status = wait_child(&mut child, limit)
        .unwrap_or_else(|| panic!("{cmd:?} did not finish within {limit:?}"));
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    }
}

/// `Path` of a file in this crate.
pub fn crate_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Whether `program --version` runs.
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether CI asked for tools to be present (then a missing tool is a failure, not a skip).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// `GET /metrics` of the `wspc serve` on `port`, parsed: `name{labels}` → value. Checks the text format on the way.
pub fn metrics(port: u16) -> HashMap<String, f64> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\ncontent-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let mut map = HashMap::new();
    let mut typed = std::collections::HashSet::new();
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect("name value");
        let name = key.split('{').next().unwrap();
        assert!(typed.contains(name), "{name} has no # TYPE line");
        map.insert(key.to_string(), value.parse::<f64>().expect("a number"));
    }
    map
}

pub fn metric(port: u16, key: &str) -> f64 {
    metrics(port).get(key).copied().unwrap_or(0.0)
}
