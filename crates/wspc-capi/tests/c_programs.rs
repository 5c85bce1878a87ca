//! C and C++ programs against `libwebsocket`, compiled with gcc/g++ during `cargo test` and
//! linked with the library cargo just built (static, and shared for one of them): the
//! compile-time ABI checks (§15.70–71), the header in strict C99/C++98 and, with gcc and
//! clang, as C99, C11, C++11 and C++17 under `-Wall -Wextra -Werror -pedantic`, the
//! in-memory sample flow, the §15 ABI suite, a C client over loopback TCP against a server
//! on the engine, and the C echo server example against a client on the engine (with and
//! without the deflate property). The programs that run also run under valgrind
//! (`--leak-check=full`, definite and indirect leaks are errors) when it is installed.
//!
//! The product is tested as users get it: `install.sh` installs into a temporary prefix,
//! the installed shared library is checked (SONAME, only the 13 functions exported, each
//! versioned), and the examples are built against the installed copy through pkg-config
//! and through CMake (`find_package(websocket)`) and run.
//!
//! Tools that are missing (valgrind, clang, pkg-config, cmake) are skipped with a printed
//! reason locally; under `CI` they are required (`.ci/install.sh` installs them).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wspc::{
    Accept, ClientHandshake, ClientRequest, CloseCode, Config, Connection, Event, Message,
    ServerHandshake,
};

/// Longest any program may run (valgrind included).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest a socket read may block in the helpers here.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// What a Rust static library needs from the system (`--print native-static-libs`).
const NATIVE_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

#[derive(Clone, Copy)]
enum Lang {
    C(&'static str),
    Cxx(&'static str),
}

#[derive(Clone, Copy)]
enum Link {
    Static,
    Shared,
}

/// `WSPC_SANITIZE` (e.g. `address,undefined`): compile the C/C++ programs with these
/// sanitizers (`-fsanitize=…`, every finding fatal) instead of running them under
/// valgrind (the two do not mix). `.ci/steps/misc-21-capi-sanitizers.sh` sets it.
fn sanitizers() -> Option<String> {
    std::env::var("WSPC_SANITIZE")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Where the library, the header and the sources are.
struct Build {
    lib_dir: PathBuf,
    crate_dir: PathBuf,
    out_dir: PathBuf,
}

impl Build {
    fn new(test: &str) -> Build {
        // The test binary lives in target/<profile>/deps, next to libwebsocket.{a,so}.
        let exe = std::env::current_exe().expect("test executable path");
        let lib_dir = exe.parent().expect("deps directory").to_path_buf();
        assert!(
            lib_dir.join("libwebsocket.a").exists() && lib_dir.join("libwebsocket.so").exists(),
            "libwebsocket.a/.so not found in {}",
            lib_dir.display()
        );
        let tests_dir = match sanitizers() {
            Some(_) => "capi-tests-sanitized",
            None => "capi-tests",
        };
        let out_dir = lib_dir.parent().unwrap().join(tests_dir).join(test);
        std::fs::create_dir_all(&out_dir).unwrap();
        Build {
            lib_dir,
            crate_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            out_dir,
        }
    }

    /// Compiles `source` (relative to the crate) into an executable named `name`.
    fn compile(&self, name: &str, source: &str, lang: Lang, extra: &[&str], link: Link) -> PathBuf {
        let (compiler, language, std) = match lang {
            Lang::C(std) => ("gcc", "c", std),
            Lang::Cxx(std) => ("g++", "c++", std),
        };
        let out = self.out_dir.join(name);
        let mut cmd = Command::new(compiler);
        cmd.arg(format!("-std={std}"))
            .args(["-g", "-O1", "-Wall", "-Wextra", "-Werror"])
            .arg("-I")
            .arg(self.crate_dir.join("include"))
            .arg("-I")
            .arg(self.crate_dir.join("tests/c"))
            .args(extra);
        if let Some(list) = sanitizers() {
            cmd.arg(format!("-fsanitize={list}"))
                .args(["-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]);
        }
        cmd.args(["-x", language])
            .arg(self.crate_dir.join(source))
            .args(["-x", "none"]);
        match link {
            Link::Static => {
                cmd.arg(self.lib_dir.join("libwebsocket.a"))
                    .args(NATIVE_LIBS);
            }
            Link::Shared => {
                cmd.arg("-L")
                    .arg(&self.lib_dir)
                    .arg("-lwebsocket")
                    .arg(format!("-Wl,-rpath,{}", self.lib_dir.display()));
            }
        }
        cmd.arg("-o").arg(&out);
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("{compiler} is required for the C API tests: {e}"));
        assert!(
            output.status.success(),
            "compiling {source} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    }
}

/// Waits for `child` at most [`RUN_TIMEOUT`], killing it if it takes longer.
fn wait(mut child: Child, what: &str) -> Output {
    let deadline = Instant::now() + RUN_TIMEOUT;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} did not finish in time\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn check(output: &Output, what: &str) {
    print!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(
        output.status.success(),
        "{what} failed ({})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The command that runs `exe` under valgrind, or `None` (with a notice) when valgrind is
/// not installed and this is not CI, or when the programs are built with sanitizers.
fn valgrind(exe: &Path) -> Option<Command> {
    if sanitizers().is_some() {
        return None;
    }
    let available = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "valgrind is required in CI (.ci/install.sh installs it)"
        );
        eprintln!(
            "valgrind not installed: skipping the valgrind run of {}",
            exe.display()
        );
        return None;
    }
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "-q",
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite,indirect",
    ])
    .arg(exe);
    Some(cmd)
}

/// Runs `exe` (with `args`), then again under valgrind.
fn run_checked(exe: &Path, args: &[String]) {
    let what = exe.file_name().unwrap().to_string_lossy().into_owned();
    let child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check(&wait(child, &what), &what);
    if let Some(mut cmd) = valgrind(exe) {
        let child = cmd
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        check(&wait(child, &what), &format!("{what} under valgrind"));
    }
}

#[test]
fn s15_70_71_abi_checks_in_c_and_cpp() {
    let b = Build::new("abi");
    let c = b.compile("abi_c", "tests/c/abi.c", Lang::C("c11"), &[], Link::Static);
    run_checked(&c, &[]);
    // C++, linked with the shared library.
    let cpp = b.compile(
        "abi_cpp",
        "tests/c/abi.c",
        Lang::Cxx("c++11"),
        &[],
        Link::Shared,
    );
    let out = wait(
        Command::new(&cpp)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        "abi_cpp",
    );
    check(&out, "abi_cpp");
}

#[test]
fn header_is_valid_pedantic_c99_and_cpp98() {
    let b = Build::new("header");
    for (name, lang) in [("c99", Lang::C("c99")), ("cpp98", Lang::Cxx("c++98"))] {
        let exe = b.compile(
            name,
            "tests/c/header_c99.c",
            lang,
            &["-pedantic"],
            Link::Static,
        );
        let out = wait(
            Command::new(&exe)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
            name,
        );
        check(&out, name);
    }
}

#[test]
fn sample_flow_in_cpp_in_memory() {
    let b = Build::new("sample");
    let exe = b.compile(
        "sample",
        "tests/c/sample.cpp",
        Lang::Cxx("c++11"),
        &[],
        Link::Static,
    );
    run_checked(&exe, &[]);
}

#[test]
fn s15_abi_suite_in_c() {
    let b = Build::new("s15");
    let exe = b.compile(
        "s15_abi",
        "tests/c/s15_abi.c",
        Lang::C("c11"),
        &[],
        Link::Static,
    );
    run_checked(&exe, &[]);
}

#[test]
fn two_threads_per_handle_in_c() {
    let b = Build::new("threads");
    let exe = b.compile(
        "threads",
        "tests/c/threads.c",
        Lang::C("c11"),
        &["-pthread"],
        Link::Static,
    );
    run_checked(&exe, &[]);
}

/// An echo server on the engine for one connection: echoes every message, answers Pings
/// and the Close, and closes TCP first. Returns its port and a handle to join.
fn engine_echo_server() -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + RUN_TIMEOUT;
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Err(e) => panic!("no connection: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut handshake = ServerHandshake::new(Config::default());
        let mut buf = [0u8; 4096];
        let request = loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "connection closed during the handshake");
            if let Some(request) = handshake.feed(&buf[..n]).unwrap() {
                break request;
            }
        };
        assert_eq!(request.uri().path(), "/chat");
        let (response, mut conn) = handshake.accept(&request, Accept::default()).unwrap();
        stream.write_all(&response).unwrap();
        loop {
            while let Some(event) = conn.poll_event() {
                if let Event::Message(message) = event {
                    conn.send(message).unwrap();
                }
            }
            conn.write_to(&mut stream).unwrap();
            if conn.should_close_transport() {
                let _ = stream.shutdown(Shutdown::Write);
                break;
            }
            if conn.read_from(&mut stream).is_err() {
                conn.handle_eof();
            }
        }
    });
    (port, handle)
}

#[test]
fn c_client_over_loopback_tcp_against_the_engine() {
    let b = Build::new("tcp_client");
    let exe = b.compile(
        "tcp_client",
        "tests/c/tcp_client.c",
        Lang::C("c11"),
        &[],
        Link::Static,
    );
    let (port, server) = engine_echo_server();
    let child = Command::new(&exe)
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check(&wait(child, "tcp_client"), "tcp_client");
    server.join().unwrap();
    if let Some(mut cmd) = valgrind(&exe) {
        let (port, server) = engine_echo_server();
        let child = cmd
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        check(
            &wait(child, "tcp_client under valgrind"),
            "tcp_client under valgrind",
        );
        server.join().unwrap();
    }
}

/// A client on the engine against the C echo server at `port`: text, a large binary
/// message, a ping, then the close handshake (the server must close TCP first). With
/// `deflate` the client offers permessage-deflate and the server must accept it.
fn engine_client_session(port: u16, deflate: bool) {
    let url = format!("ws://127.0.0.1:{port}/");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut request = ClientRequest::new(&url).unwrap();
    if deflate {
        request = request.extension(std::sync::Arc::new(wspc::deflate::DeflateClient::default()));
    }
    let mut handshake = ClientHandshake::new(request).unwrap();
    stream.write_all(handshake.request_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let mut conn: Connection = loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "server closed during the handshake");
        if let Some(established) = handshake.feed(&buf[..n]).unwrap() {
            break established.connection;
        }
    };
    assert_eq!(
        conn.extension().is_some(),
        deflate,
        "permessage-deflate negotiated"
    );
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 31) as u8).collect();
    conn.send(Message::text("hello from the engine")).unwrap();
    conn.send(Message::binary(big.clone())).unwrap();
    conn.ping(&b"are you there"[..]).unwrap();
    let mut messages = Vec::new();
    let mut pongs = 0;
    let mut closed = None;
    for _ in 0..100_000 {
        conn.write_to(&mut stream).unwrap();
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Message(m) => {
                    messages.push(m);
                    if messages.len() == 2 {
                        conn.close(CloseCode::new(4001), "bye").unwrap();
                    }
                }
                Event::Pong(p) => {
                    assert_eq!(&p[..], b"are you there");
                    pongs += 1;
                }
                Event::Close(frame) => closed = Some(frame.code),
                Event::Failed(e) => panic!("connection failed: {e}"),
                _ => {}
            }
        }
        conn.write_to(&mut stream).unwrap();
        if closed.is_some() {
            break;
        }
        conn.read_from(&mut stream).unwrap();
    }
    assert_eq!(
        messages,
        [Message::text("hello from the engine"), Message::binary(big)]
    );
    assert_eq!(pongs, 1);
    assert_eq!(closed, Some(CloseCode::new(4001)));
    // The server closes TCP first.
    assert_eq!(stream.read(&mut buf).unwrap(), 0);
}

/// Starts the C echo server (`--once`, port 0, and `extra` flags) with `cmd` and returns
/// it with its port.
fn start_echo_server(mut cmd: Command, extra: &[&str]) -> (Child, u16) {
    let mut child = cmd
        .args(["127.0.0.1:0", "--once"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, port)
}

#[test]
fn c_echo_server_example_against_an_engine_client() {
    let b = Build::new("echo_server");
    let exe = b.compile(
        "echo_server",
        "examples/c/echo_server.c",
        Lang::C("c11"),
        &["-pthread"],
        Link::Static,
    );
    for deflate in [false, true] {
        let flags: &[&str] = if deflate { &["--deflate"] } else { &[] };
        let (child, port) = start_echo_server(Command::new(&exe), flags);
        engine_client_session(port, deflate);
        check(&wait(child, "echo_server"), "echo_server");
        if let Some(cmd) = valgrind(&exe) {
            let (child, port) = start_echo_server(cmd, flags);
            engine_client_session(port, deflate);
            check(
                &wait(child, "echo_server under valgrind"),
                "echo_server under valgrind",
            );
        }
    }
}

/// Whether `tool` runs (`tool --version`). Under `CI` a missing tool fails the test; locally
/// the caller skips with a printed reason.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI (.ci/install.sh installs it)"
        );
        eprintln!("{tool} not installed: skipping what needs it");
    }
    ok
}

#[test]
fn header_compiles_cleanly_with_gcc_and_clang_as_c99_c11_cxx11_cxx17() {
    // -Wall -Wextra -Werror -pedantic, syntax only: the header in every standard an
    // application may use, and the static ABI checks where the standard has
    // static assertions.
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut compiled = 0;
    for (c, cxx) in [("gcc", "g++"), ("clang", "clang++")] {
        if !have(c) || !have(cxx) {
            continue;
        }
        let mut runs: Vec<(&str, &str, &str)> = vec![
            (c, "c99", "tests/c/header_c99.c"),
            (c, "c11", "tests/c/header_c99.c"),
            (c, "c11", "tests/c/abi.c"),
        ];
        for std in ["c++11", "c++17"] {
            runs.push((cxx, std, "tests/c/header_c99.c"));
            runs.push((cxx, std, "tests/c/abi.c"));
        }
        for (compiler, std, source) in runs {
            let language = if compiler == cxx { "c++" } else { "c" };
            let out = Command::new(compiler)
                .arg(format!("-std={std}"))
                .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"])
                .arg("-I")
                .arg(crate_dir.join("include"))
                .args(["-x", language])
                .arg(crate_dir.join(source))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{compiler} -std={std} {source}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            compiled += 1;
        }
    }
    assert!(compiled > 0 || std::env::var_os("CI").is_none());
}

/// An installation of the library into a temporary prefix by `install.sh` (once per
/// test run), from the static library cargo just built.
struct Installed {
    prefix: PathBuf,
    build: Build,
}

impl Installed {
    fn get() -> &'static Installed {
        static INSTALLED: std::sync::OnceLock<Installed> = std::sync::OnceLock::new();
        INSTALLED.get_or_init(|| {
            let build = Build::new("install");
            let prefix = build.out_dir.join("prefix");
            let _ = std::fs::remove_dir_all(&prefix);
            let out = Command::new("bash")
                .arg(build.crate_dir.join("install.sh"))
                .arg("--from")
                .arg(&build.lib_dir)
                .env("PREFIX", &prefix)
                .env_remove("DESTDIR")
                .output()
                .unwrap();
            check(&out, "install.sh");
            Installed { prefix, build }
        })
    }

    fn lib(&self) -> PathBuf {
        self.prefix.join("lib")
    }

    fn pkg_config(&self, args: &[&str]) -> Vec<String> {
        let out = Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", self.lib().join("pkgconfig"))
            .env_remove("PKG_CONFIG_SYSROOT_DIR")
            .args(args)
            .arg("websocket")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pkg-config {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// Compiles `example` (in examples/c) with gcc and `link` flags into `name`.
    fn cc(&self, name: &str, example: &str, link: &[String]) -> PathBuf {
        let exe = self.build.out_dir.join(name);
        let out = Command::new("gcc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread"])
            .args(self.pkg_config(&["--cflags"]))
            .arg(self.build.crate_dir.join("examples/c").join(example))
            .args(link)
            .arg("-o")
            .arg(&exe)
            .output()
            .unwrap();
        check(&out, &format!("gcc {example} ({name})"));
        exe
    }
}

/// The 13 functions `websocket.h` declares.
fn header_functions(crate_dir: &Path) -> Vec<String> {
    let header = std::fs::read_to_string(crate_dir.join("include/websocket.h")).unwrap();
    let mut names: Vec<String> = header
        .lines()
        .filter_map(|l| l.split_once(" WINAPI ").map(|(_, rest)| rest))
        .filter_map(|rest| {
            rest.split_once('(')
                .map(|(name, _)| name.trim().to_string())
        })
        .collect();
    names.sort();
    names
}

fn run_output(exe: &Path, env: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new(exe);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = wait(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        &exe.display().to_string(),
    );
    check(&out, &exe.display().to_string());
    String::from_utf8(out.stdout).unwrap()
}

const HELLO_OUTPUT: &str =
    "server: Hello World\nclient: Hello yourself\nserver: close 1000\nclient: close 1000\n";

#[test]
fn installed_library_has_a_soname_and_exports_only_the_versioned_api() {
    let installed = Installed::get();
    let lib = installed.lib();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        std::fs::read_link(lib.join("libwebsocket.so")).unwrap(),
        Path::new("libwebsocket.so.0")
    );
    assert_eq!(
        std::fs::read_link(lib.join("libwebsocket.so.0")).unwrap(),
        PathBuf::from(format!("libwebsocket.so.{version}"))
    );
    for file in [
        "libwebsocket.a",
        "pkgconfig/websocket.pc",
        "cmake/websocket/websocket-config.cmake",
        "cmake/websocket/websocket-config-version.cmake",
    ] {
        assert!(lib.join(file).is_file(), "{file}");
    }
    assert!(installed.prefix.join("include/websocket.h").is_file());
    let so = lib.join(format!("libwebsocket.so.{version}"));
    let dynamic = Command::new("readelf").arg("-d").arg(&so).output().unwrap();
    check(&dynamic, "readelf -d");
    assert!(
        String::from_utf8_lossy(&dynamic.stdout).contains("Library soname: [libwebsocket.so.0]"),
        "no SONAME"
    );
    // Exactly the functions of websocket.h, each versioned WSPC_0.1 (the version node
    // itself shows as an absolute symbol).
    let nm = Command::new("nm")
        .args(["-D", "--defined-only", "--with-symbol-versions"])
        .arg(&so)
        .output()
        .unwrap();
    check(&nm, "nm -D");
    let mut exported: Vec<String> = String::from_utf8(nm.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.len() == 3 && fields[1] != "A").then(|| fields[2].to_string())
        })
        .collect();
    exported.sort();
    let expected: Vec<String> = header_functions(&installed.build.crate_dir)
        .iter()
        .map(|f| format!("{f}@@WSPC_0.1"))
        .collect();
    assert_eq!(expected.len(), 13);
    assert_eq!(exported, expected);

    // Staged (DESTDIR): the files land under DESTDIR, configured for PREFIX.
    let stage = installed.build.out_dir.join("stage");
    let _ = std::fs::remove_dir_all(&stage);
    let out = Command::new("bash")
        .arg(installed.build.crate_dir.join("install.sh"))
        .arg("--from")
        .arg(&installed.build.lib_dir)
        .env("DESTDIR", &stage)
        .env("PREFIX", "/usr")
        .output()
        .unwrap();
    check(&out, "install.sh with DESTDIR");
    let pc = std::fs::read_to_string(stage.join("usr/lib/pkgconfig/websocket.pc")).unwrap();
    assert!(pc.starts_with("prefix=/usr\nlibdir=/usr/lib\n"), "{pc}");
    assert!(stage.join("usr/include/websocket.h").is_file());
    assert!(stage.join("usr/lib/libwebsocket.so.0").exists());
}

#[test]
fn installed_library_builds_the_examples_through_pkg_config() {
    if !have("pkg-config") {
        return;
    }
    let installed = Installed::get();
    let lib = installed.lib();
    // Shared: cc app.c $(pkg-config --cflags --libs websocket); the program needs the
    // SONAME.
    let hello = installed.cc("pc_hello", "hello.c", &installed.pkg_config(&["--libs"]));
    let needed = Command::new("readelf")
        .arg("-d")
        .arg(&hello)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&needed.stdout).contains("[libwebsocket.so.0]"));
    assert_eq!(
        run_output(&hello, &[("LD_LIBRARY_PATH", &lib)]),
        HELLO_OUTPUT
    );
    // Static: the archive and the private libraries pkg-config lists.
    let mut link = vec![lib.join("libwebsocket.a").display().to_string()];
    link.extend(
        installed
            .pkg_config(&["--static", "--libs-only-l"])
            .into_iter()
            .filter(|l| l != "-lwebsocket"),
    );
    let hello_static = installed.cc("pc_hello_static", "hello.c", &link);
    assert_eq!(run_output(&hello_static, &[]), HELLO_OUTPUT);
    // The echo server, shared, against a client on the engine.
    let echo = installed.cc(
        "pc_echo_server",
        "echo_server.c",
        &installed.pkg_config(&["--libs"]),
    );
    let mut cmd = Command::new(&echo);
    cmd.env("LD_LIBRARY_PATH", &lib);
    let (child, port) = start_echo_server(cmd, &["--deflate"]);
    engine_client_session(port, true);
    check(&wait(child, "pc_echo_server"), "pc_echo_server");
}

#[test]
fn installed_library_builds_the_examples_through_cmake() {
    if !have("cmake") {
        return;
    }
    let installed = Installed::get();
    let build_dir = installed.build.out_dir.join("cmake-build");
    let _ = std::fs::remove_dir_all(&build_dir);
    let out = Command::new("cmake")
        .arg("-S")
        .arg(installed.build.crate_dir.join("tests/cmake"))
        .arg("-B")
        .arg(&build_dir)
        .arg(format!(
            "-DCMAKE_PREFIX_PATH={}",
            installed.prefix.display()
        ))
        .arg(format!(
            "-DEXAMPLES={}",
            installed.build.crate_dir.join("examples/c").display()
        ))
        .output()
        .unwrap();
    check(&out, "cmake (configure)");
    let out = Command::new("cmake")
        .arg("--build")
        .arg(&build_dir)
        .output()
        .unwrap();
    check(&out, "cmake --build");
    // websocket::websocket is the shared library (found through the build's RUNPATH),
    // websocket::websocket_static the archive.
    assert_eq!(run_output(&build_dir.join("hello"), &[]), HELLO_OUTPUT);
    assert_eq!(
        run_output(&build_dir.join("hello_static"), &[]),
        HELLO_OUTPUT
    );
    let (child, port) = start_echo_server(Command::new(build_dir.join("echo_server")), &[]);
    engine_client_session(port, false);
    check(&wait(child, "cmake echo_server"), "cmake echo_server");
}

#[test]
fn hello_example_of_the_docs() {
    let b = Build::new("hello");
    let exe = b.compile(
        "hello",
        "examples/c/hello.c",
        Lang::C("c11"),
        &[],
        Link::Static,
    );
    let child = Command::new(&exe)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait(child, "hello");
    check(&out, "hello");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "server: Hello World\nclient: Hello yourself\nserver: close 1000\nclient: close 1000\n"
    );
    run_checked(&exe, &[]);
    // docs/c-api.md shows this very program, and its output.
    let docs = std::fs::read_to_string(b.crate_dir.join("../../docs/c-api.md")).unwrap();
    let source = std::fs::read_to_string(b.crate_dir.join("examples/c/hello.c")).unwrap();
    assert!(
        docs.contains(&format!("```c\n{source}```")),
        "docs/c-api.md shows an outdated hello.c"
    );
    assert!(docs.contains(&String::from_utf8_lossy(&out.stdout).into_owned()));
    // It is valid C++ too.
    b.compile(
        "hello_cpp",
        "examples/c/hello.c",
        Lang::Cxx("c++11"),
        &[],
        Link::Shared,
    );
}
