//! permessage-deflate interop with third-party implementations (issue 7): Python
//! `websockets` and Node `ws`, each as a client of `wspc serve` and as a server for
//! `wspc connect`, asserting that compression was negotiated.
//!
//! The scripts live in tests/interop/. A test whose tool is missing is skipped with a
//! printed reason, except under CI (or WSPC_REQUIRE_TOOLS=1), where that is a failure:
//! `.ci/install.sh` installs them.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Server, WSPC, crate_path, free_port, run_interactive, run_with_input, wait_child};

const LIMIT: Duration = Duration::from_secs(60);

fn required() -> bool {
    common::in_ci() || std::env::var_os("WSPC_REQUIRE_TOOLS").is_some()
}

/// Whether the tool is there; when it is not: skip (printing why) or, in CI, fail.
fn available(what: &str, ok: bool) -> bool {
    if !ok {
        assert!(
            !required(),
            "{what} is missing (CI installs it with .ci/install.sh)"
        );
        eprintln!("SKIP: {what} is missing (run .ci/install.sh)");
    }
    ok
}

fn python_websockets() -> bool {
    available(
        "python3 with the `websockets` package",
        Command::new("python3")
            .args(["-c", "import websockets.asyncio.client"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
    )
}

fn node_modules() -> std::path::PathBuf {
    crate_path("../../.ci/node/node_modules")
}

fn node_ws() -> bool {
    available(
        "node with the `ws` package in .ci/node",
        common::have("node") && node_modules().join("ws/package.json").exists(),
    )
}

fn node(script: &str) -> Command {
    let mut cmd = Command::new("node");
    cmd.env("NODE_PATH", node_modules())
        .arg(crate_path(&format!("tests/interop/{script}")));
    cmd
}

fn python(script: &str) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(crate_path(&format!("tests/interop/{script}")));
    cmd
}

/// Runs a third-party client against `wspc serve` (deflate on by default).
fn client_against_serve(mut client: Command) {
    let server = Server::start(&[]);
    let out = run_with_input(client.arg(server.url()), b"", LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(
        stdout.contains("negotiated: permessage-deflate"),
        "{stdout}"
    );
    assert!(server.log().contains("deflate=true"), "{}", server.log());
}

/// Runs `wspc connect` against a third-party server started with `server PORT`.
fn connect_against(mut server: Command) {
    let port = free_port();
    let mut child = server
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    assert_eq!(first, "listening", "the server did not start");
    let input = "first line\n{\"json\": [1, 2, 3]}\nünïcödé\n";
    let out = run_interactive(
        Command::new(WSPC).args(["-v", "connect", &format!("ws://127.0.0.1:{port}/")]),
        input.as_bytes(),
        input.as_bytes(),
        LIMIT,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), input);
    assert!(stderr.contains("permessage-deflate ("), "{stderr}");
    let status = wait_child(&mut child, LIMIT).expect("the server exits");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.success(), "server: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("permessage-deflate")),
        "{rest:?}"
    );
}

#[test]
fn python_websockets_client_against_serve() {
    if python_websockets() {
        client_against_serve(python("py_client.py"));
    }
}

#[test]
fn connect_against_python_websockets_server() {
    if python_websockets() {
        connect_against(python("py_server.py"));
    }
}

#[test]
fn node_ws_client_against_serve() {
    if node_ws() {
        client_against_serve(node("node_client.js"));
    }
}

#[test]
fn connect_against_node_ws_server() {
    if node_ws() {
        connect_against(node("node_server.js"));
    }
}
