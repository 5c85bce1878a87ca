//! Real proxy servers for the tests, started on loopback with generated configuration
//! files and stopped on drop: tinyproxy and squid (HTTP CONNECT) and dante (SOCKS5). Both come
//! from Debian packages that `.ci/install.sh` installs. Under `CI=true` a missing
//! binary fails the test; elsewhere the test is skipped with a printed reason.
//!
//! Each proxy binds its outgoing connections to its own loopback address (tinyproxy
//! 127.0.0.2, dante 127.0.0.3, squid 127.0.0.4), so a server sees by the peer address which way a
//! connection came.
//!
//! SOCKS5 username authentication in dante checks the system's password database:
//! [`socks_user`] creates a dedicated system user, `wspc-proxy-test` (no home, no
//! shell), with a fixed password — which needs root, as CI runs.
//!
//! Shared with crates/wspc-cli's tests (included by path); std only.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Loopback address tinyproxy connects from.
pub const TINYPROXY_SOURCE: &str = "127.0.0.2";
/// Loopback address dante connects from.
pub const DANTE_SOURCE: &str = "127.0.0.3";
/// Loopback address squid connects from.
pub const SQUID_SOURCE: &str = "127.0.0.4";
/// The system user [`socks_user`] creates for dante's username authentication.
pub const SOCKS_USER: &str = "wspc-proxy-test";
/// Its password.
pub const SOCKS_PASSWORD: &str = "wspc-Pr0xy-pw";

/// Finds `binary` (in PATH, /usr/sbin, /usr/bin). Missing: panics under `CI=true`,
/// otherwise prints why the test is skipped and returns `None`.
pub fn require(binary: &str, package: &str) -> Option<PathBuf> {
    let dirs = std::env::var("PATH").unwrap_or_default();
    let found = dirs
        .split(':')
        .chain(["/usr/sbin", "/usr/bin", "/sbin"])
        .map(|d| Path::new(d).join(binary))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "{binary} (Debian package {package}) is required under CI=true: .ci/install.sh installs it"
            );
        }
        println!("SKIPPED: {binary} not found (apt-get install {package})");
    }
    found
}

/// A loopback port in 19500–19599 (this area's range) that nothing listens on; ports
/// are handed out once per process.
pub fn free_port() -> u16 {
    static NEXT: Mutex<u16> = Mutex::new(0);
    let mut next = NEXT.lock().unwrap_or_else(|p| p.into_inner());
    for _ in 0..100 {
        let port = 19500 + (*next % 100);
        *next += 1;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 19500-19599");
}

/// A directory for one proxy's files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("wspc-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running proxy daemon, stopped (SIGTERM, then SIGKILL) on drop.
pub struct Daemon {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    log: PathBuf,
    _dir: Dir,
}

impl Daemon {
    fn spawn(mut cmd: Command, port: u16, log: PathBuf, dir: Dir, what: &str) -> Daemon {
        let out = std::fs::File::create(dir.0.join("stdout")).expect("stdout file");
        let err = std::fs::File::create(dir.0.join("stderr")).expect("stderr file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let mut daemon = Daemon {
            child,
            port,
            log,
            _dir: dir,
        };
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return daemon;
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("{what} exited ({status}):\n{}", daemon.output());
            }
            assert!(
                Instant::now() < until,
                "{what} did not listen on {port}:\n{}",
                daemon.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the daemon wrote: its log, stdout and stderr.
    pub fn output(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!(
            "{}{}{}",
            read(&self.log),
            read(&self._dir.0.join("stdout")),
            read(&self._dir.0.join("stderr"))
        )
    }

    /// Its log file.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tinyproxy on 127.0.0.1, connecting out from [`TINYPROXY_SOURCE`]; with `auth`,
/// Basic credentials are required; with `connect_ports`, CONNECT only to those ports
/// (otherwise to any). `None`: tinyproxy is missing (outside CI).
pub fn tinyproxy(auth: Option<(&str, &str)>, connect_ports: &[u16]) -> Option<Daemon> {
    let bin = require("tinyproxy", "tinyproxy")?;
    let dir = Dir::new("tinyproxy");
    let port = free_port();
    let log = dir.0.join("tinyproxy.log");
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nBind {TINYPROXY_SOURCE}\nTimeout 30\nMaxClients 64\n\
         Allow 127.0.0.1\nLogLevel Connect\nLogFile \"{}\"\nPidFile \"{}\"\n",
        log.display(),
        dir.0.join("tinyproxy.pid").display()
    );
    if let Some((user, password)) = auth {
        conf.push_str(&format!("BasicAuth {user} {password}\n"));
    }
    for p in connect_ports {
        conf.push_str(&format!("ConnectPort {p}\n"));
    }
    let conf_path = dir.0.join("tinyproxy.conf");
    std::fs::write(&conf_path, conf).expect("write tinyproxy.conf");
    let mut cmd = Command::new(bin);
    cmd.arg("-d").arg("-c").arg(&conf_path);
    Some(Daemon::spawn(cmd, port, log, dir, "tinyproxy"))
}

/// squid on 127.0.0.1, connecting out from [`SQUID_SOURCE`], requiring Basic
/// credentials `user`/`password` (checked by squid's `basic_ncsa_auth` against an
/// apr1-hashed password file made with `openssl passwd`). Unlike tinyproxy, squid
/// answers wrong credentials with 407. `None`: squid is missing (outside CI).
pub fn squid(user: &str, password: &str) -> Option<Daemon> {
    let bin = require("squid", "squid")?;
    let dir = Dir::new("squid");
    // squid drops root for its own user ("proxy"), which writes the logs here.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o777))
            .expect("chmod the squid directory");
    }
    let hash = Command::new("openssl")
        .args(["passwd", "-apr1", password])
        .output()
        .expect("run openssl passwd");
    assert!(hash.status.success(), "openssl passwd failed");
    let passwd = dir.0.join("passwd");
    std::fs::write(
        &passwd,
        format!("{user}:{}", String::from_utf8_lossy(&hash.stdout).trim()),
    )
    .expect("write the password file");
    let port = free_port();
    let log = dir.0.join("cache.log");
    let conf = format!(
        "http_port 127.0.0.1:{port}
pid_filename {d}/squid.pid
cache_log {log}
         access_log {d}/access.log
cache deny all
shutdown_lifetime 0 seconds
         auth_param basic program /usr/lib/squid/basic_ncsa_auth {passwd}
         auth_param basic realm wspc-test
acl authed proxy_auth REQUIRED
         http_access allow authed
http_access deny all
         tcp_outgoing_address {SQUID_SOURCE}
coredump_dir {d}
",
        d = dir.0.display(),
        log = log.display(),
        passwd = passwd.display(),
    );
    let conf_path = dir.0.join("squid.conf");
    std::fs::write(&conf_path, conf).expect("write squid.conf");
    let mut cmd = Command::new(bin);
    cmd.arg("-N").arg("-f").arg(&conf_path);
    Some(Daemon::spawn(cmd, port, log, dir, "squid"))
}

/// dante (danted) on 127.0.0.1, connecting out from [`DANTE_SOURCE`]; with
/// `username_auth`, SOCKS5 user name and password are required (the system user of
/// [`socks_user`]). `None`: danted is missing (outside CI).
pub fn dante(username_auth: bool) -> Option<Daemon> {
    let bin = require("danted", "dante-server")?;
    if username_auth {
        socks_user();
    }
    let dir = Dir::new("dante");
    let port = free_port();
    let log = dir.0.join("danted.log");
    let method = if username_auth { "username" } else { "none" };
    let conf = format!(
        "logoutput: {}\ninternal: 127.0.0.1 port = {port}\nexternal: {DANTE_SOURCE}\n\
         clientmethod: none\nsocksmethod: {method}\nuser.privileged: root\n\
         user.unprivileged: nobody\n\
         client pass {{\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: error\n}}\n\
         socks pass {{\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  command: connect\n  log: connect error\n}}\n",
        log.display()
    );
    let conf_path = dir.0.join("danted.conf");
    std::fs::write(&conf_path, conf).expect("write danted.conf");
    let mut cmd = Command::new(bin);
    cmd.arg("-f")
        .arg(&conf_path)
        .arg("-p")
        .arg(dir.0.join("danted.pid"))
        .arg("-N")
        .arg("1");
    Some(Daemon::spawn(cmd, port, log, dir, "danted"))
}

/// Makes sure the system user [`SOCKS_USER`] exists with [`SOCKS_PASSWORD`] (dante's
/// `socksmethod: username` checks the system password database). Needs root.
pub fn socks_user() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    if *done {
        return;
    }
    let exists = Command::new("id")
        .arg(SOCKS_USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !exists {
        let status = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SOCKS_USER,
            ])
            .status()
            .expect("run useradd");
        assert!(status.success(), "useradd {SOCKS_USER} failed (not root?)");
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("run chpasswd");
    {
        use std::io::Write as _;
        let mut stdin = chpasswd.stdin.take().expect("stdin");
        writeln!(stdin, "{SOCKS_USER}:{SOCKS_PASSWORD}").expect("write to chpasswd");
    }
    assert!(
        chpasswd.wait().expect("chpasswd").success(),
        "chpasswd failed"
    );
    *done = true;
}
