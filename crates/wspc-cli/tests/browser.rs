//! The console page in a real headless Chromium: tests/browser/console.js (Node +
//! playwright-core driving Debian's /usr/bin/chromium) loads the page from `wspc serve`,
//! sends a message and sees the echo, closes with 4000 and sees it reported.
//!
//! Skipped with a printed reason when node, chromium or playwright-core is missing,
//! except under CI (or WSPC_REQUIRE_TOOLS=1), where that is a failure.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, crate_path, run_with_input};

#[test]
fn console_page_in_headless_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let modules = crate_path("../../.ci/node/node_modules");
    let missing: Vec<&str> = [
        ("node", common::have("node")),
        ("chromium", std::path::Path::new(&chromium).exists()),
        (
            "playwright-core (npm install in .ci/node)",
            modules.join("playwright-core/package.json").exists(),
        ),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        let required = common::in_ci() || std::env::var_os("WSPC_REQUIRE_TOOLS").is_some();
        assert!(
            !required,
            "missing: {missing:?} (CI installs them with .ci/install.sh)"
        );
        eprintln!("SKIP: missing {missing:?} (run .ci/install.sh)");
        return;
    }
    let server = Server::start(&[]);
    let out = run_with_input(
        Command::new("node")
            .env("NODE_PATH", &modules)
            .env("CHROMIUM", &chromium)
            .arg(crate_path("tests/browser/console.js"))
            .arg(format!("http://127.0.0.1:{}/", server.port)),
        b"",
        Duration::from_secs(90),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(stdout.contains("browser: 8 passed, 0 failed"), "{stdout}");
    server.wait_log("HTTP GET / -> 200");
    server.wait_log("closed 4000 \"done testing\"");
}
