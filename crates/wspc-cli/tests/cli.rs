//! Integration tests that run the built `wspc` binary: serve + connect, broadcast, close
//! codes, bench, TLS, the console page, graceful shutdown. Every test is bounded by a
//! timeout and uses its own loopback port.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{Server, TempDir, WSPC, run_with_input};
use wspc_tokio::{ClientBuilder, CloseCode, MaybeTlsStream, Message, WebSocket};

const LIMIT: Duration = Duration::from_secs(30);

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Bounds an async test body.
async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test timed out");
}

/// A plain client of `server` (no deflate offer, no subprotocol).
async fn connect(server: &Server) -> WebSocket<MaybeTlsStream> {
    ClientBuilder::new(&server.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
        .0
}

#[test]
fn connect_pipes_lines_through_serve() {
    let server = Server::start(&[]);
    let out = run_with_input(
        Command::new(WSPC).args(["connect", &server.url()]),
        "hello\nwörld\n\nlast line\n".as_bytes(),
        LIMIT,
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\nwörld\n\nlast line\n");
    assert!(
        text(&out.stderr).contains("close: 1000"),
        "{}",
        text(&out.stderr)
    );
    server.wait_log("open");
    server.wait_log("closed 1000");
}

#[test]
fn connect_reports_the_close_code_and_fails_when_not_1000() {
    let server = Server::start(&[]);
    let out = run_with_input(
        Command::new(WSPC).args([
            "connect",
            &server.url(),
            "--close-code",
            "4000",
            "--close-reason",
            "done here",
        ]),
        b"x\n",
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "x\n");
    let stderr = text(&out.stderr);
    // The server answers with the same code and reason.
    assert!(stderr.contains("close: 4000 done here"), "{stderr}");
    assert!(
        stderr.contains("wspc connect: closed with 4000"),
        "{stderr}"
    );
    server.wait_log("closed 4000 \"done here\"");

    // A code that may not be sent is refused before connecting.
    let out = run_with_input(
        Command::new(WSPC).args(["connect", &server.url(), "--close-code", "1006"]),
        b"",
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("may not be sent"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn connect_fails_with_a_one_line_reason_when_nothing_listens() {
    let port = common::free_port();
    let out = run_with_input(
        Command::new(WSPC).args(["connect", &format!("ws://127.0.0.1:{port}/")]),
        b"",
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("wspc connect: cannot connect"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn shutdown_closes_connections_with_1001() {
    shutdown_closes_connections_with_1001_on(&["--threads", "2"]);
}

#[test]
fn with_one_thread_the_main_thread_serves_and_shuts_down() {
    shutdown_closes_connections_with_1001_on(&["--threads", "1"]);
}

fn shutdown_closes_connections_with_1001_on(args: &[&str]) {
    let mut server = Server::start(args);
    let dir = TempDir::new("shutdown");
    // A client that stays connected (its stdin stays open) until the server stops.
    let mut child = Command::new(WSPC)
        .args(["connect", &server.url()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path("err")).unwrap())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    // Wait until the server has the connection open.
    let until = std::time::Instant::now() + LIMIT;
    while !server.log().contains("open") {
        assert!(std::time::Instant::now() < until, "{}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    #[cfg(target_os = "linux")]
    {
        // The worker threads, plus the main thread (signals) when there are several.
        let threads = std::fs::read_dir(format!("/proc/{}/task", server.pid()))
            .unwrap()
            .count();
        let expected = if args.contains(&"1") { 1 } else { 3 };
        assert_eq!(threads, expected, "{args:?}");
    }
    let status = server.terminate().expect("serve exits after SIGTERM");
    assert!(status.success(), "{status:?}\n{}", server.log());
    let client = common::wait_child(&mut child, LIMIT).expect("connect exits");
    drop(stdin);
    assert_eq!(client.code(), Some(1));
    let stderr = std::fs::read_to_string(dir.path("err")).unwrap();
    assert!(
        stderr.contains("close: 1001 server shutting down"),
        "{stderr}"
    );
    let log = server.log();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[tokio::test]
async fn broadcast_reaches_all_three_clients() {
    let server = Server::start(&["--mode", "broadcast", "--no-deflate"]);
    bounded(async {
        let mut clients = Vec::new();
        for _ in 0..3 {
            let ws = connect(&server).await;
            clients.push(ws);
        }
        // The server registers each client right after its handshake; wait for all.
        let until = std::time::Instant::now() + LIMIT;
        while server.log().matches(" open").count() < 3 {
            assert!(std::time::Instant::now() < until);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        clients[0].send(Message::text("from 0")).await.unwrap();
        clients[2]
            .send(Message::binary(&b"\x00\x01from 2"[..]))
            .await
            .unwrap();
        for ws in &mut clients {
            let mut got = vec![
                ws.recv().await.unwrap().unwrap(),
                ws.recv().await.unwrap().unwrap(),
            ];
            got.sort_by_key(|m| m.is_binary());
            assert_eq!(
                got,
                vec![
                    Message::text("from 0"),
                    Message::binary(&b"\x00\x01from 2"[..])
                ]
            );
        }
        for mut ws in clients {
            let reply = ws.close(CloseCode::NORMAL, "").await.unwrap();
            assert_eq!(reply.unwrap().code, CloseCode::NORMAL);
        }
    })
    .await;
}

#[tokio::test]
async fn echo_negotiates_deflate_and_subprotocols() {
    let server = Server::start(&["--subprotocol", "chat", "--subprotocol", "superchat"]);
    bounded(async {
        let (mut ws, _) = ClientBuilder::new(&server.url())
            .unwrap()
            .subprotocol("other")
            .subprotocol("superchat")
            .deflate(Some(Default::default()))
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.subprotocol(), Some("superchat"));
        assert!(ws.deflate().is_some(), "permessage-deflate negotiated");
        let big = "json-ish {\"k\": 1} ".repeat(10_000);
        ws.send(Message::text(big.clone())).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text(big));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;

    let server = Server::start(&["--no-deflate"]);
    bounded(async {
        let (mut ws, _) = ClientBuilder::new(&server.url())
            .unwrap()
            .deflate(Some(Default::default()))
            .connect()
            .await
            .unwrap();
        assert!(ws.deflate().is_none(), "--no-deflate refuses the offer");
        assert_eq!(ws.subprotocol(), None);
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn limits_close_with_1009() {
    let server = Server::start(&["--max-message-size", "1000"]);
    bounded(async {
        let mut ws = connect(&server).await;
        ws.send(Message::binary(vec![7u8; 1000])).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap().len(), 1000);
        ws.send(Message::binary(vec![7u8; 1001])).await.unwrap();
        match ws.recv().await.unwrap() {
            Ok(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::MESSAGE_TOO_BIG),
            other => panic!("expected a Close 1009, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn idle_timeout_closes_with_1001() {
    let server = Server::start(&["--idle-timeout", "300ms"]);
    bounded(async {
        let mut ws = connect(&server).await;
        match ws.recv().await.unwrap() {
            Ok(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CloseCode::GOING_AWAY);
                assert_eq!(frame.reason.as_str(), "idle timeout");
            }
            other => panic!("expected a Close 1001, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn max_connections_refuses_with_503() {
    let server = Server::start(&["--max-connections", "1"]);
    bounded(async {
        // The first WebSocket holds the only slot. (Retried: the probe that saw the
        // server listening may still hold the slot for a moment.)
        let mut first = None;
        for _ in 0..50 {
            match ClientBuilder::new(&server.url()).unwrap().connect().await {
                Ok((ws, _)) => {
                    first = Some(ws);
                    break;
                }
                Err(wspc_tokio::Error::Status { status, .. }) => assert_eq!(status, 503),
                Err(e) => panic!("{e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut first = first.expect("one connection is allowed");
        let port = server.port;
        let response = tokio::task::spawn_blocking(move || http_get(port, "/"))
            .await
            .unwrap();
        assert!(
            response.starts_with("HTTP/1.1 503"),
            "{response}\n{}",
            server.log()
        );
        match ClientBuilder::new(&server.url()).unwrap().connect().await {
            Err(wspc_tokio::Error::Status { status, .. }) => assert_eq!(status, 503),
            other => panic!("expected 503, got {:?}", other.map(|_| ())),
        }
        first.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn console_is_served_on_get_slash() {
    let server = Server::start(&[]);
    let page = http_get(server.port, "/");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(
        page.to_ascii_lowercase()
            .contains("\r\ncontent-type: text/html; charset=utf-8\r\n"),
        "{page}"
    );
    assert!(page.contains("<title>wspc console</title>"));
    // Self-contained: no external scripts, styles or images.
    for needle in ["src=\"http", "href=\"http", "src=\"//", "@import"] {
        assert!(!page.contains(needle), "external asset: {needle}");
    }
    let missing = http_get(server.port, "/favicon.ico");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

#[test]
fn bench_against_serve_reports_a_rate_and_no_errors() {
    let server = Server::start(&[]);
    let out = run_with_input(
        Command::new(WSPC).args([
            "bench",
            &server.url(),
            "-c",
            "4",
            "-p",
            "2",
            "-s",
            "100",
            "--duration",
            "1s",
            "--warmup",
            "200ms",
            "--json",
        ]),
        b"",
        LIMIT,
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    for field in [
        "connections",
        "in_flight",
        "size",
        "duration_s",
        "messages",
        "msgs_per_sec",
        "mib_per_sec",
        "p50_us",
        "p99_us",
        "max_us",
        "errors",
    ] {
        assert!(report.get(field).is_some(), "missing {field} in {report}");
    }
    assert_eq!(report["connections"], 4);
    assert_eq!(report["in_flight"], 2);
    assert_eq!(report["size"], 100);
    assert_eq!(report["errors"], 0);
    assert!(report["messages"].as_u64().unwrap() > 0, "{report}");
    assert!(report["msgs_per_sec"].as_f64().unwrap() > 0.0, "{report}");

    // --count: exactly that many echoes, text and deflate on the way.
    let out = run_with_input(
        Command::new(WSPC).args([
            "bench",
            &server.url(),
            "-c",
            "3",
            "--count",
            "3000",
            "--text",
            "--deflate",
            "-s",
            "1024",
            "--json",
        ]),
        b"",
        LIMIT,
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["messages"], 3000, "{report}");
    assert_eq!(report["errors"], 0);
}

#[tokio::test]
async fn bench_raw_mode_against_a_tcp_echo() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let out = tokio::task::spawn_blocking(move || {
        run_with_input(
            Command::new(WSPC).args([
                "bench",
                &format!("127.0.0.1:{port}"),
                "--raw",
                "-c",
                "2",
                "--count",
                "2000",
                "--json",
            ]),
            b"",
            LIMIT,
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["messages"], 2000, "{report}");
    assert_eq!(report["errors"], 0);
}

#[test]
fn bench_counts_errors_against_a_server_that_corrupts_echoes() {
    // A "server" that upgrades and then answers every frame with a wrong payload.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let mut hs = wspc::ServerHandshake::new(wspc::Config::default());
        let mut buf = [0u8; 4096];
        let request = loop {
            let n = s.read(&mut buf).unwrap_or(0);
            if n == 0 {
                return;
            }
            if let Ok(Some(r)) = hs.feed(&buf[..n]) {
                break r;
            }
        };
        let (response, mut conn) = hs.accept(&request, wspc::Accept::default()).unwrap();
        s.write_all(&response).unwrap();
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                return;
            }
            conn.feed(&buf[..n]);
            while let Some(event) = conn.poll_event() {
                if let wspc::Event::Message(m) = event {
                    let mut bytes = m.as_bytes().to_vec();
                    bytes[0] ^= 0xff;
                    let _ = conn.send(wspc::Message::binary(bytes));
                }
            }
            if conn.write_to(&mut s).is_err() {
                return;
            }
        }
    });
    let out = run_with_input(
        Command::new(WSPC).args([
            "bench",
            &format!("ws://127.0.0.1:{port}/"),
            "-c",
            "1",
            "--count",
            "10",
            "--json",
        ]),
        b"",
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2), "stderr: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"], 10, "{report}");
}

/// A CA, and a certificate for `localhost` / 127.0.0.1 signed by it, as PEM files.
fn tls_files(dir: &TempDir) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let (ca_path, cert_path, key_path) = (
        dir.path("ca.pem"),
        dir.path("cert.pem"),
        dir.path("key.pem"),
    );
    std::fs::write(&ca_path, ca.pem()).unwrap();
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let s = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    (s(ca_path), s(cert_path), s(key_path))
}

#[test]
fn tls_serve_and_connect_with_a_generated_ca() {
    let dir = TempDir::new("tls");
    let (ca, cert, key) = tls_files(&dir);
    let server = Server::start(&["--tls-cert", &cert, "--tls-key", &key]);
    let url = format!("wss://localhost:{}/", server.port);

    let out = run_with_input(
        Command::new(WSPC).args(["connect", &url, "--ca", &ca]),
        b"over tls\n",
        LIMIT,
    );
    assert!(
        out.status.success(),
        "stderr: {}\n{}",
        text(&out.stderr),
        server.log()
    );
    assert_eq!(text(&out.stdout), "over tls\n");

    // Without the CA the certificate is not trusted.
    let out = run_with_input(Command::new(WSPC).args(["connect", &url]), b"x\n", LIMIT);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("TLS") && stderr.contains("certificate"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // --insecure accepts it anyway.
    let out = run_with_input(
        Command::new(WSPC).args(["connect", &url, "--insecure"]),
        b"anyway\n",
        LIMIT,
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "anyway\n");

    // The console is served over https too.
    assert!(server.log().contains("wss://127.0.0.1"), "{}", server.log());
}

#[test]
fn connect_prints_binary_as_hex_and_sends_headers() {
    // A server that checks the header, then sends a binary message and closes 1000.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut hs = wspc::ServerHandshake::new(wspc::Config::default());
        let mut buf = [0u8; 4096];
        let request = loop {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0);
            if let Some(r) = hs.feed(&buf[..n]).unwrap() {
                break r;
            }
        };
        let token = request
            .headers()
            .get("x-token")
            .map(|v| v.as_bytes().to_vec());
        let (response, mut conn) = hs.accept(&request, wspc::Accept::default()).unwrap();
        s.write_all(&response).unwrap();
        conn.send(wspc::Message::binary(&b"\x00\xffAB"[..]))
            .unwrap();
        conn.close(wspc::CloseCode::NORMAL, "bye").unwrap();
        conn.write_to(&mut s).unwrap();
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            conn.feed(&buf[..n]);
            while conn.poll_event().is_some() {}
            if conn.should_close_transport() {
                break;
            }
        }
        token
    });
    let out = run_with_input(
        Command::new(WSPC).args([
            "connect",
            &format!("ws://127.0.0.1:{port}/"),
            "-H",
            "X-Token: secret 1",
        ]),
        b"",
        LIMIT,
    );
    assert_eq!(server.join().unwrap(), Some(b"secret 1".to_vec()));
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "00ff4142\n");
    assert!(
        text(&out.stderr).contains("close: 1000 bye"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn keepalive_pings_and_closes_a_silent_client_with_1011() {
    let server = Server::start(&["--keepalive", "200ms"]);
    bounded(async {
        // A client that sees Pings but does not answer them.
        let options = wspc_tokio::Options::new()
            .auto_pong(false)
            .deliver_pings(true);
        let (mut ws, _) = ClientBuilder::new(&server.url())
            .unwrap()
            .options(options)
            .connect()
            .await
            .unwrap();
        match ws.recv().await.unwrap() {
            Ok(Message::Ping(_)) => {}
            other => panic!("expected a Ping, got {other:?}"),
        }
        match ws.recv().await.unwrap() {
            Ok(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::SERVER_ERROR),
            other => panic!("expected a Close 1011, got {other:?}"),
        }
    })
    .await;
    server.wait_log("keepalive timeout");
}
