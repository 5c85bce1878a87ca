//! `wspc connect` on real networks: through real proxies (tinyproxy for HTTP CONNECT,
//! dante for SOCKS5, started here on loopback) chosen by the environment variables curl
//! reads — set only on the child process — or by `--proxy`, bypassed by `no_proxy` and
//! `--no-proxy`; and `wspc serve --tls-client-ca` (mutual TLS).
//!
//! `wspc serve` logs each connection's peer address: tinyproxy connects from
//! 127.0.0.2, dante from 127.0.0.3, a direct connection from 127.0.0.1.

mod common;

#[path = "../../wspc-tokio/tests/common/pki.rs"]
mod pki;
#[path = "../../wspc-tokio/tests/common/proxies.rs"]
mod proxies;

use std::process::{Command, Output};
use std::time::Duration;

use common::{Server, TempDir, WSPC, run_with_input};
use proxies::{DANTE_SOURCE, TINYPROXY_SOURCE};

const LIMIT: Duration = Duration::from_secs(30);
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// `wspc connect URL ARGS…` with exactly the proxy variables `env` (the rest removed),
/// sending one line.
fn connect(url: &str, args: &[&str], env: &[(&str, String)], line: &str) -> Output {
    let mut cmd = Command::new(WSPC);
    cmd.arg("connect").arg(url).args(args);
    for v in PROXY_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_with_input(&mut cmd, format!("{line}\n").as_bytes(), LIMIT)
}

fn assert_echoed(out: &Output, line: &str, server: &Server) {
    assert!(
        out.status.success(),
        "stderr: {}\nserver: {}",
        text(&out.stderr),
        server.log()
    );
    assert_eq!(text(&out.stdout), format!("{line}\n"));
}

/// A port nothing listens on (a proxy that is down).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A CA and a server certificate as files; returns (ca, cert, key) paths.
fn tls_files(dir: &TempDir, pki: &pki::Pki) -> (String, String, String) {
    (
        write_pem(dir, "ca.pem", &pki.ca_pem),
        write_pem(dir, "cert.pem", &pki.server_cert_pem),
        write_pem(dir, "key.pem", &pki.server_key_pem),
    )
}

/// Writes `pem` to `dir/name`; returns the path.
fn write_pem(dir: &TempDir, name: &str, pem: &str) -> String {
    let path = dir.path(name);
    std::fs::write(&path, pem).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn environment_proxies_for_ws_and_wss() {
    let Some(tiny) = proxies::tinyproxy(None, &[]) else {
        return;
    };
    let Some(dante) = proxies::dante(false) else {
        return;
    };
    let tiny_url = format!("http://127.0.0.1:{}", tiny.port);
    let dante_url = format!("socks5h://127.0.0.1:{}", dante.port);

    // ws:// uses http_proxy (HTTP_PROXY too).
    let plain = Server::start(&[]);
    for var in ["http_proxy", "HTTP_PROXY"] {
        let out = connect(
            &plain.url(),
            &[],
            &[(var, tiny_url.clone())],
            "via http proxy",
        );
        assert_echoed(&out, "via http proxy", &plain);
    }
    plain.wait_log(&format!("peer={TINYPROXY_SOURCE}"));
    // https_proxy is not for ws://: connected directly.
    let out = connect(
        &plain.url(),
        &[],
        &[("https_proxy", format!("http://127.0.0.1:{}", dead_port()))],
        "direct",
    );
    assert_echoed(&out, "direct", &plain);

    // wss:// uses HTTPS_PROXY, with TLS end to end through the tunnel.
    let dir = TempDir::new("proxy-tls");
    let pki = pki::pki();
    let (ca, cert, key) = tls_files(&dir, &pki);
    let secure = Server::start(&["--tls-cert", &cert, "--tls-key", &key]);
    let wss = format!("wss://localhost:{}/", secure.port);
    let out = connect(
        &wss,
        &["--ca", &ca],
        &[("HTTPS_PROXY", tiny_url.clone())],
        "tls via http proxy",
    );
    assert_echoed(&out, "tls via http proxy", &secure);
    secure.wait_log(&format!("peer={TINYPROXY_SOURCE}"));

    // ALL_PROXY for both when no scheme variable is set: SOCKS5, name resolved there.
    let out = connect(
        &wss,
        &["--ca", &ca],
        &[("ALL_PROXY", dante_url.clone())],
        "tls via socks",
    );
    assert_echoed(&out, "tls via socks", &secure);
    secure.wait_log(&format!("peer={DANTE_SOURCE}"));
    assert!(dante.log().contains("pass"), "{}", dante.output());
}

#[test]
fn no_proxy_flags_and_explicit_proxy() {
    let Some(tiny) = proxies::tinyproxy(None, &[]) else {
        return;
    };
    let server = Server::start(&[]);
    let down = format!("http://127.0.0.1:{}", dead_port());

    // The environment's proxy is down: the connection fails, naming it.
    let out = connect(&server.url(), &[], &[("http_proxy", down.clone())], "x");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("proxy") && stderr.contains("unreachable"),
        "{stderr}"
    );

    // NO_PROXY bypasses it: by IP, by CIDR, by name, or everything.
    for no_proxy in ["127.0.0.1", "127.0.0.0/8", "*"] {
        let out = connect(
            &server.url(),
            &[],
            &[("http_proxy", down.clone()), ("NO_PROXY", no_proxy.into())],
            "bypassed",
        );
        assert_echoed(&out, "bypassed", &server);
    }
    let by_name = format!("ws://localhost:{}/", server.port);
    let out = connect(
        &by_name,
        &[],
        &[
            ("http_proxy", down.clone()),
            ("no_proxy", "example.com,localhost".into()),
        ],
        "by name",
    );
    assert_echoed(&out, "by name", &server);

    // --no-proxy ignores the environment; --proxy overrides it.
    let out = connect(
        &server.url(),
        &["--no-proxy"],
        &[("http_proxy", down.clone())],
        "flag",
    );
    assert_echoed(&out, "flag", &server);
    let explicit = format!("http://127.0.0.1:{}", tiny.port);
    let out = connect(
        &server.url(),
        &["--proxy", &explicit],
        &[("http_proxy", down.clone()), ("NO_PROXY", "*".into())],
        "explicit",
    );
    assert_echoed(&out, "explicit", &server);
    server.wait_log(&format!("peer={TINYPROXY_SOURCE}"));

    // A bad --proxy is a usage error.
    let out = connect(&server.url(), &["--proxy", "ftp://x"], &[], "x");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--proxy"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn proxy_authentication_failures_are_reported() {
    let Some(tiny) = proxies::tinyproxy(Some(("bob", "hunter2")), &[]) else {
        return;
    };
    let server = Server::start(&[]);
    let at = |creds: &str| format!("http://{creds}127.0.0.1:{}", tiny.port);
    let out = connect(
        &server.url(),
        &["--proxy", &at("bob:hunter2@")],
        &[],
        "authorized",
    );
    assert_echoed(&out, "authorized", &server);
    let out = connect(&server.url(), &["--proxy", &at("")], &[], "x");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("requires authentication (HTTP 407"),
        "{}",
        text(&out.stderr)
    );
    let out = connect(&server.url(), &[], &[("http_proxy", at("bob:nope@"))], "x");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(
        !stderr.contains("nope"),
        "no password in messages: {stderr}"
    );
}

#[tokio::test]
async fn serve_requires_client_certificates_with_tls_client_ca() {
    let dir = TempDir::new("mtls");
    let pki = pki::pki();
    let (ca, cert, key) = tls_files(&dir, &pki);
    let server = Server::start(&[
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--tls-client-ca",
        &ca,
    ]);
    let url = format!("wss://localhost:{}/", server.port);
    let client = || {
        wspc_tokio::ClientBuilder::new(&url)
            .unwrap()
            .no_proxy()
            .only_custom_roots()
            .tls_root_ca_pem(pki.ca_pem.as_bytes())
            .unwrap()
    };
    tokio::time::timeout(LIMIT, async {
        let (mut ws, _) = client()
            .tls_client_auth_pem(
                pki.client_cert_pem.as_bytes(),
                pki.client_key_pem.as_bytes(),
            )
            .unwrap()
            .connect()
            .await
            .unwrap();
        ws.send(wspc_tokio::Message::text("mutual")).await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            wspc_tokio::Message::text("mutual")
        );
        ws.close(wspc_tokio::CloseCode::NORMAL, "").await.unwrap();

        let err = client().connect().await.unwrap_err();
        assert!(matches!(err, wspc_tokio::Error::Tls(_)), "{err:?}");
    })
    .await
    .expect("test timed out");
    server.wait_log("TLS handshake failed");
    // wspc connect without a client certificate: refused too; with --cert/--key: served.
    let out = connect(&url, &["--ca", &ca], &[], "x");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let client_cert = write_pem(&dir, "client-cert.pem", &pki.client_cert_pem);
    let client_key = write_pem(&dir, "client-key.pem", &pki.client_key_pem);
    let out = connect(
        &url,
        &["--ca", &ca, "--cert", &client_cert, "--key", &client_key],
        &[],
        "mutual, from the command line",
    );
    assert_echoed(&out, "mutual, from the command line", &server);
    // --cert needs --key.
    let out = connect(&url, &["--ca", &ca, "--cert", &client_cert], &[], "x");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
