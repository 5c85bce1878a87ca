//! WebSockets over HTTP/2 (RFC 8441) through `wspc serve` (TLS, ALPN h2) and `wspc
//! connect --http2`, with independent peers: headless Chromium (whose WebSocket reuses
//! the HTTP/2 connection the page came over), Node's own `http2` module (client and
//! server, with the `ws` package speaking RFC 6455 on the stream), and our own client.
//! Every test proves the WebSocket went over HTTP/2 from the server's own record: its
//! "open" log line names the HTTP/2 stream.
//!
//! A missing node, chromium or npm package skips with a printed reason, except under CI
//! (or WSPC_REQUIRE_TOOLS=1), where it is a failure.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Server, TempDir, WSPC, crate_path, run_with_input, wait_child};

const LIMIT: Duration = Duration::from_secs(90);

fn available(what: &str, ok: bool) -> bool {
    if !ok {
        let required = common::in_ci() || std::env::var_os("WSPC_REQUIRE_TOOLS").is_some();
        assert!(
            !required,
            "{what} is missing (CI installs it with .ci/install.sh)"
        );
        eprintln!("SKIP: {what} is missing (run .ci/install.sh)");
    }
    ok
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
    cmd.env("NODE_PATH", node_modules()).arg(crate_path(script));
    cmd
}

/// A CA, and a certificate for `localhost` / 127.0.0.1 signed by it, as PEM files.
struct Pki {
    _dir: TempDir,
    ca: String,
    cert: String,
    key: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let dir = TempDir::new("h2-tls");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: OpenSSL (Node) takes a leaf whose issuer is its own subject for
    // self-signed.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "wspc test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &ca).unwrap();
    let path = |name: &str, pem: String| {
        let p = dir.path(name);
        std::fs::write(&p, pem).unwrap();
        p.to_string_lossy().into_owned()
    };
    Pki {
        ca: path("ca.pem", ca.pem()),
        cert: path("cert.pem", cert.pem()),
        key: path("key.pem", key.serialize_pem()),
        _dir: dir,
    }
}

fn tls_server(pki: &Pki, extra: &[&str]) -> Server {
    let mut args = vec!["--tls-cert", &pki.cert, "--tls-key", &pki.key];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn chromium_runs_the_console_websocket_over_http2() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ok = available("node", common::have("node"))
        && available("chromium", std::path::Path::new(&chromium).exists())
        && available(
            "playwright-core (npm install in .ci/node)",
            node_modules().join("playwright-core/package.json").exists(),
        );
    if !ok {
        return;
    }
    let pki = pki();
    let server = tls_server(&pki, &[]);
    let out = run_with_input(
        node("tests/browser/http2.js")
            .env("CHROMIUM", &chromium)
            .arg(format!("https://127.0.0.1:{}/", server.port)),
        b"",
        LIMIT,
    );
    let stdout = text(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}\nserver log:\n{}",
        text(&out.stderr),
        server.log()
    );
    assert!(
        stdout.contains("browser h2: 4 passed, 0 failed"),
        "{stdout}"
    );
    // The server's record: the page and the WebSocket on the same HTTP/2 connection,
    // the WebSocket on a stream of it.
    server.wait_log("closed 4000 \"h2 done\"");
    let log = server.log();
    let page = log
        .lines()
        .find(|l| l.contains("HTTP/2 GET / -> 200"))
        .unwrap_or_else(|| panic!("no HTTP/2 page load in:\n{log}"));
    let open = log
        .lines()
        .find(|l| l.contains(" open ") && l.contains("http=\"2 (stream"))
        .unwrap_or_else(|| panic!("no WebSocket over HTTP/2 in:\n{log}"));
    let conn_id = |line: &str| {
        line.split_whitespace()
            .find(|w| w.starts_with("id="))
            .map(str::to_string)
    };
    assert_eq!(conn_id(page), conn_id(open), "{log}");
    assert!(open.contains("deflate=true"), "{open}");
}

#[test]
fn node_http2_client_against_serve() {
    if !node_ws() {
        return;
    }
    let pki = pki();
    let server = tls_server(&pki, &[]);
    let out = run_with_input(
        node("tests/interop/node_h2_client.js")
            .arg(format!("https://127.0.0.1:{}/node", server.port))
            .args(["--ca", &pki.ca])
            .args(["first", "second", "ünïcödé"]),
        b"",
        LIMIT,
    );
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\n{}",
        text(&out.stderr),
        server.log()
    );
    assert!(stdout.contains("protocol: h2 stream 1"), "{stdout}");
    assert!(stdout.contains("echo: ünïcödé"), "{stdout}");
    // The close handshake, from the server's side: Node's Close came with its code and
    // reason and was answered (Node's own view is in `close:`; see node_h2_client.js).
    assert!(
        stdout.contains("close: 1000") || stdout.contains("aborted by Node"),
        "{stdout}"
    );
    server.wait_log("closed 1000 \"bye\"");
    assert!(
        server
            .log()
            .contains("path=\"/node\" http=\"2 (stream 1)\""),
        "{}",
        server.log()
    );
}

#[test]
fn connect_http2_against_serve_and_falls_back_without_it() {
    let pki = pki();
    let input = "over h2\nsecond line\n";
    for (extra, over) in [(&[][..], "HTTP/2.0"), (&["--no-http2"][..], "HTTP/1.1")] {
        let server = tls_server(&pki, extra);
        let url = format!("wss://localhost:{}/", server.port);
        let out = run_with_input(
            Command::new(WSPC).args(["-v", "connect", "--http2", "--ca", &pki.ca, &url]),
            input.as_bytes(),
            LIMIT,
        );
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}\n{}", server.log());
        assert_eq!(text(&out.stdout), input);
        assert!(stderr.contains(&format!("over {over}")), "{stderr}");
        server.wait_log("closed 1000");
        let h2 = server.log().contains("http=\"2 (stream");
        assert_eq!(h2, over == "HTTP/2.0", "{}", server.log());
    }
}

#[test]
fn connect_http2_against_node_http2_server() {
    if !node_ws() {
        return;
    }
    let pki = pki();
    let mut child = node("tests/interop/node_h2_server.js")
        .args([&pki.cert, &pki.key])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn node");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    let port = first
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("node did not start: {first:?}"))
        .to_string();
    let input = "to node over h2\n{\"n\": 1}\n";
    let out = run_with_input(
        Command::new(WSPC).args([
            "-v",
            "connect",
            "--http2",
            "--ca",
            &pki.ca,
            &format!("wss://localhost:{port}/from-wspc"),
        ]),
        input.as_bytes(),
        LIMIT,
    );
    let _ = child.kill();
    let _ = wait_child(&mut child, Duration::from_secs(5));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout), input);
    assert!(stderr.contains("over HTTP/2.0"), "{stderr}");
    let seen: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        seen.iter().any(|l| l == "stream 1 /from-wspc"),
        "node saw: {seen:?}"
    );
}

#[test]
fn several_websockets_share_one_http2_connection_to_serve() {
    use std::sync::Arc;
    use wspc_tokio::h2::Http2Connection;
    use wspc_tokio::{ClientRequest, CloseCode, Message};

    let pki = pki();
    let server = tls_server(&pki, &[]);
    let port = server.port;
    let ca = std::fs::read(&pki.ca).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let run = async {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pki_types::pem::PemObject::pem_slice_iter(&ca) {
                roots.add(cert.unwrap()).unwrap();
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"h2".to_vec()];
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
            let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .unwrap();
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
            let connection = Http2Connection::handshake(tls).await.unwrap();
            assert!(connection.supports_websockets());
            let mut sockets = Vec::new();
            for i in 0..3 {
                let url = format!("wss://localhost:{port}/room/{i}");
                let (ws, response) = connection
                    .websocket(ClientRequest::new(&url).unwrap())
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                sockets.push(ws);
            }
            for round in 0..10 {
                for (i, ws) in sockets.iter_mut().enumerate() {
                    let payload = vec![i as u8; 1000 * (round + 1)];
                    ws.send(Message::binary(payload)).await.unwrap();
                }
                for (i, ws) in sockets.iter_mut().enumerate() {
                    let got = ws.recv().await.unwrap().unwrap();
                    assert_eq!(got.into_bytes(), vec![i as u8; 1000 * (round + 1)]);
                }
            }
            for ws in &mut sockets {
                let reply = ws.close(CloseCode::NORMAL, "done").await.unwrap();
                assert_eq!(reply.unwrap().code, CloseCode::NORMAL);
            }
        };
        tokio::time::timeout(LIMIT, run).await.expect("timed out");
    });
    // The server's record: three WebSockets, streams 1, 3 and 5 of one connection.
    server.wait_log("closed 1000 \"done\"");
    let log = server.log();
    let opens: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" open ") && l.contains("http=\"2 (stream"))
        .collect();
    assert_eq!(opens.len(), 3, "{log}");
    for stream in [1, 3, 5] {
        assert!(
            opens
                .iter()
                .any(|l| l.contains(&format!("(stream {stream})"))),
            "{log}"
        );
    }
    let id = |l: &str| {
        l.split_whitespace()
            .find(|w| w.starts_with("id="))
            .map(String::from)
    };
    assert!(opens.iter().all(|l| id(l) == id(opens[0])), "{log}");
}
