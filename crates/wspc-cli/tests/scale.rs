//! `wspc serve` at scale (issue 14, and the serve side of issue 16): threads, topics,
//! metrics, slow consumers, handshake slots, and several servers joined through a real
//! `redis-server` (stopped and restarted mid-test).
//!
//! The Redis test starts Debian's `redis-server` on a free loopback port; without it the
//! test prints SKIP and passes, except under CI (or WSPC_REQUIRE_TOOLS=1), where that is a
//! failure (`.ci/install.sh` installs it).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, free_port, metric, metrics};
use tokio::task::JoinHandle;
use wspc_tokio::{ClientBuilder, MaybeTlsStream, Message, WebSocket};

const LIMIT: Duration = Duration::from_secs(60);

type Ws = WebSocket<MaybeTlsStream>;

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test timed out");
}

async fn connect(port: u16, path: &str) -> Ws {
    ClientBuilder::new(&format!("ws://127.0.0.1:{port}{path}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
        .0
}

/// Waits (bounded) until `cond` holds.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads text messages until `n` have arrived.
async fn take(ws: &mut Ws, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(LIMIT, ws.recv()).await {
            Ok(Some(Ok(Message::Text(t)))) => got.push(t.as_str().to_string()),
            Ok(Some(Ok(_))) => {}
            other => panic!("after {got:?}: {other:?}"),
        }
    }
    got
}

/// Nothing more arrives within a moment (no duplicates, nothing from other topics).
async fn quiet(ws: &mut Ws) {
    if let Ok(m) = tokio::time::timeout(Duration::from_millis(300), ws.recv()).await {
        panic!("unexpected {m:?}");
    }
}

#[tokio::test]
async fn echo_on_two_threads_spreads_connections_and_counts_everything() {
    let server = Server::start(&["--threads", "2", "--no-deflate"]);
    bounded(async {
        let mut clients = Vec::new();
        for _ in 0..24 {
            clients.push(connect(server.port, "/").await);
        }
        for (i, ws) in clients.iter_mut().enumerate() {
            for j in 0..10 {
                ws.send(Message::text(format!("{i}-{j}"))).await.unwrap();
            }
        }
        for (i, ws) in clients.iter_mut().enumerate() {
            let expected: Vec<String> = (0..10).map(|j| format!("{i}-{j}")).collect();
            assert_eq!(take(ws, 10).await, expected);
        }
        let m = metrics(server.port);
        assert_eq!(m["wspc_connections_open"], 24.0);
        let (t0, t1) = (
            m["wspc_thread_connections_open{thread=\"0\"}"],
            m["wspc_thread_connections_open{thread=\"1\"}"],
        );
        assert_eq!(t0 + t1, 24.0);
        assert!(
            t0 > 0.0 && t1 > 0.0,
            "both threads serve connections: {t0} + {t1}"
        );
        assert_eq!(m["wspc_messages_received_total"], 240.0);
        assert_eq!(m["wspc_messages_sent_total"], 240.0);
        assert_eq!(m["wspc_connections_total"], 24.0);
        for mut ws in clients {
            ws.close(wspc_tokio::CloseCode::NORMAL, "").await.unwrap();
        }
        wait_until("the closes counted", || {
            metric(server.port, "wspc_closes_total{code=\"1000\"}") == 24.0
        })
        .await;
        assert_eq!(metric(server.port, "wspc_connections_open"), 0.0);
    })
    .await;
}

#[tokio::test]
async fn broadcast_on_two_threads_reaches_every_subscriber_of_the_topic_only() {
    for runtime in ["per-core", "work-stealing"] {
        let server = Server::start(&[
            "--mode",
            "broadcast",
            "--threads",
            "2",
            "--runtime",
            runtime,
        ]);
        bounded(async {
            let mut subs = Vec::new();
            // 22 WebSockets: all on one thread by chance once in 2^21 runs.
            for _ in 0..20 {
                subs.push(connect(server.port, "/rooms/a").await);
            }
            let mut other = connect(server.port, "/rooms/b").await;
            let mut publisher = connect(server.port, "/rooms/a").await;
            wait_until("21 subscribers of rooms/a", || {
                metric(server.port, "wspc_topic_subscribers{topic=\"rooms/a\"}") == 21.0
            })
            .await;
            let expected: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
            for m in &expected {
                publisher.send(Message::text(m.as_str())).await.unwrap();
            }
            assert_eq!(take(&mut publisher, 50).await, expected, "sender included");
            for ws in subs.iter_mut() {
                assert_eq!(take(ws, 50).await, expected);
            }
            quiet(&mut other).await;
            let m = metrics(server.port);
            assert_eq!(m["wspc_messages_received_total"], 50.0, "{runtime}");
            assert_eq!(m["wspc_messages_sent_total"], 21.0 * 50.0, "{runtime}");
            assert_eq!(m["wspc_topics"], 2.0);
            assert_eq!(m["wspc_topic_subscribers{topic=\"rooms/b\"}"], 1.0);
            if runtime == "per-core" {
                let t0 = m["wspc_thread_connections_open{thread=\"0\"}"];
                let t1 = m["wspc_thread_connections_open{thread=\"1\"}"];
                assert!(
                    t0 > 0.0 && t1 > 0.0,
                    "subscribers on both threads: {t0} + {t1}"
                );
            }
        })
        .await;
    }
}

#[tokio::test]
async fn no_echo_to_sender() {
    let server = Server::start(&["--mode", "broadcast", "--no-echo-to-sender"]);
    bounded(async {
        let mut a = connect(server.port, "/").await;
        let mut b = connect(server.port, "/").await;
        wait_until("2 subscribers", || {
            metric(server.port, "wspc_topic_subscribers{topic=\"/\"}") == 2.0
        })
        .await;
        a.send(Message::text("from a")).await.unwrap();
        assert_eq!(take(&mut b, 1).await, ["from a"]);
        quiet(&mut a).await;
    })
    .await;
}

/// A raw WebSocket handshake on a plain TCP socket that then never reads.
fn silent_client(port: u16, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A small receive buffer, so the server's side fills quickly.
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    s.set_read_timeout(Some(LIMIT)).unwrap();
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    s
}

#[tokio::test]
async fn a_slow_consumer_is_closed_without_reading_and_the_others_keep_up() {
    let server = Server::start(&[
        "--mode",
        "broadcast",
        "--broadcast-queue",
        "8",
        "--no-deflate",
    ]);
    bounded(async {
        let _slow = silent_client(server.port, "/t");
        let mut fast = connect(server.port, "/t").await;
        let mut publisher = connect(server.port, "/t").await;
        wait_until("3 subscribers", || {
            metric(server.port, "wspc_topic_subscribers{topic=\"t\"}") == 3.0
        })
        .await;
        // 64 KiB messages: the silent client's socket buffers and 1 MiB write buffer fill,
        // then its queue of 8 overflows.
        let payload = "x".repeat(64 * 1024);
        for i in 0..200 {
            publisher
                .send(Message::text(format!("{i}{payload}")))
                .await
                .unwrap();
            assert_eq!(
                take(&mut fast, 1).await[0].len(),
                payload.len() + i.to_string().len()
            );
            assert_eq!(take(&mut publisher, 1).await.len(), 1);
        }
        assert_eq!(metric(server.port, "wspc_slow_consumers_total"), 1.0);
        // Closed (the close timeout cuts the TCP connection) although it never read.
        wait_until("the slow client closed", || {
            metric(server.port, "wspc_connections_open") == 2.0
        })
        .await;
        server.wait_log("broadcast queue full");
        assert_eq!(
            metric(server.port, "wspc_topic_subscribers{topic=\"t\"}"),
            2.0
        );
    })
    .await;
}

#[tokio::test]
async fn handshake_slots_keep_slowloris_from_locking_clients_out() {
    let server = Server::start(&[
        "--max-handshakes",
        "50",
        "--max-connections",
        "20",
        "--handshake-timeout",
        "30s",
    ]);
    bounded(async {
        // 400 sockets that send one byte of a request and stop: far more than the
        // connection cap and the handshake slots.
        let mut idle = Vec::new();
        for _ in 0..400 {
            let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            s.write_all(b"G").unwrap();
            idle.push(s);
        }
        wait_until("the oldest evicted", || {
            metric(server.port, "wspc_handshakes_evicted_total") >= 350.0
        })
        .await;
        assert!(metric(server.port, "wspc_handshakes_pending") <= 50.0);
        // A legitimate client still gets in (no 503), within the connection cap.
        let mut ws = connect(server.port, "/").await;
        ws.send(Message::text("still served")).await.unwrap();
        assert_eq!(take(&mut ws, 1).await, ["still served"]);
        assert_eq!(metric(server.port, "wspc_refused_total"), 0.0);
    })
    .await;
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_handshake_slots() {
    let server = Server::start(&["--max-handshakes", "50", "--max-handshakes-per-ip", "10"]);
    bounded(async {
        // 200 slowloris sockets from 127.0.0.2 (another loopback address).
        let mut idle = Vec::new();
        for _ in 0..200 {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
            let mut s = socket
                .connect(format!("127.0.0.1:{}", server.port).parse().unwrap())
                .await
                .unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut s, b"G")
                .await
                .unwrap();
            idle.push(s);
        }
        wait_until("the address's extra sockets refused", || {
            metric(server.port, "wspc_handshakes_refused_total") >= 190.0
        })
        .await;
        let m = metrics(server.port);
        assert_eq!(m["wspc_handshakes_refused_total"], 190.0);
        assert!(m["wspc_handshakes_pending"] <= 10.0, "{m:?}");
        assert_eq!(
            m["wspc_handshakes_evicted_total"], 0.0,
            "no one else pushed out"
        );
        // Another address is served.
        let mut ws = connect(server.port, "/").await;
        ws.send(Message::text("hello")).await.unwrap();
        assert_eq!(take(&mut ws, 1).await, ["hello"]);
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Three servers and a real Redis.

fn required() -> bool {
    common::in_ci() || std::env::var_os("WSPC_REQUIRE_TOOLS").is_some()
}

fn redis_server_path() -> Option<&'static str> {
    ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

/// A `redis-server` on a loopback port, killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(bin: &str, port: u16) -> Redis {
        let child = Command::new(bin)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let until = Instant::now() + LIMIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child, port }
    }

    /// Subscribers Redis has for `channel` (`PUBSUB NUMSUB`).
    async fn subscribers(&self, channel: &str) -> i64 {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let (_, n): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut c)
            .await
            .unwrap();
        n
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collects every text message a client receives, in a task.
fn collect(
    mut ws: Ws,
) -> (
    JoinHandle<()>,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    let task = tokio::spawn(async move {
        while let Some(Ok(m)) = ws.recv().await {
            if let Message::Text(t) = m {
                sink.lock().unwrap().push(t.as_str().to_string());
            }
        }
    });
    (task, got)
}

#[tokio::test]
async fn three_servers_share_topics_through_redis_and_survive_its_restart() {
    let Some(bin) = redis_server_path() else {
        assert!(
            !required(),
            "redis-server is missing (CI installs it with .ci/install.sh)"
        );
        eprintln!("SKIP: redis-server is missing (apt-get install redis-server)");
        return;
    };
    let redis_port = free_port();
    let redis = Redis::start(bin, redis_port);
    let url = format!("redis://127.0.0.1:{redis_port}/0");
    let servers: Vec<Server> = (0..3)
        .map(|_| Server::start(&["--mode", "broadcast", "--threads", "2", "--broker", &url]))
        .collect();
    bounded(async {
        for s in &servers {
            wait_until("the broker connected", || {
                metric(s.port, "wspc_broker_up") == 1.0
            })
            .await;
        }
        // Two subscribers of rooms/x and one of rooms/y on every server; a publisher on
        // server 0 and one on server 1, both subscribed to rooms/x too.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for s in &servers {
            for _ in 0..2 {
                x.push(collect(connect(s.port, "/rooms/x").await));
            }
            y.push(collect(connect(s.port, "/rooms/y").await));
        }
        let mut pub0 = connect(servers[0].port, "/rooms/x").await;
        let mut pub1 = connect(servers[1].port, "/rooms/x").await;
        for (i, s) in servers.iter().enumerate() {
            let expected = if i < 2 { 3.0 } else { 2.0 };
            wait_until("local subscribers", || {
                metric(s.port, "wspc_topic_subscribers{topic=\"rooms/x\"}") == expected
            })
            .await;
        }
        let until = Instant::now() + LIMIT;
        while redis.subscribers("wspc:rooms/x").await != 3
            || redis.subscribers("wspc:rooms/y").await != 3
        {
            assert!(Instant::now() < until, "servers did not subscribe");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let before0: Vec<String> = (0..30).map(|i| format!("a{i}")).collect();
        let before1: Vec<String> = (0..30).map(|i| format!("b{i}")).collect();
        for (a, b) in before0.iter().zip(&before1) {
            pub0.send(Message::text(a.as_str())).await.unwrap();
            pub1.send(Message::text(b.as_str())).await.unwrap();
        }
        // Everyone on rooms/x (the publishers too) gets all 60 exactly once, each
        // sender's in order.
        let check = |got: &[String], want0: &[String], want1: &[String]| {
            let from0: Vec<&String> = got.iter().filter(|m| m.starts_with('a')).collect();
            let from1: Vec<&String> = got.iter().filter(|m| m.starts_with('b')).collect();
            from0
                .iter()
                .map(|s| s.as_str())
                .eq(want0.iter().map(|s| s.as_str()))
                && from1
                    .iter()
                    .map(|s| s.as_str())
                    .eq(want1.iter().map(|s| s.as_str()))
        };
        let pub0_got = take(&mut pub0, 60).await;
        let pub1_got = take(&mut pub1, 60).await;
        assert!(check(&pub0_got, &before0, &before1), "{pub0_got:?}");
        assert!(check(&pub1_got, &before0, &before1), "{pub1_got:?}");
        wait_until("every rooms/x subscriber got 60", || {
            x.iter().all(|(_, got)| got.lock().unwrap().len() >= 60)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (_, got) in &x {
            let got = got.lock().unwrap();
            assert_eq!(got.len(), 60, "exactly once: {got:?}");
            assert!(check(&got, &before0, &before1), "{got:?}");
        }

        // Redis goes away: local delivery goes on, remote delivery stops (counted).
        redis.stop();
        for s in &servers {
            wait_until("the broker down", || {
                metric(s.port, "wspc_broker_up") == 0.0
            })
            .await;
        }
        let down: Vec<String> = (0..10).map(|i| format!("a-down{i}")).collect();
        for m in &down {
            pub0.send(Message::text(m.as_str())).await.unwrap();
        }
        assert_eq!(take(&mut pub0, 10).await, down);
        wait_until(
            "server 0's subscribers got the messages sent while Redis was down",
            || {
                x[..2]
                    .iter()
                    .all(|(_, got)| got.lock().unwrap().len() >= 70)
            },
        )
        .await;
        assert!(metric(servers[0].port, "wspc_broker_publish_dropped_total") >= 10.0);

        // Redis is back on the same port: the servers reconnect and resubscribe.
        let redis = Redis::start(bin, redis_port);
        for s in &servers {
            wait_until("the broker back", || {
                metric(s.port, "wspc_broker_up") == 1.0
            })
            .await;
        }
        let until = Instant::now() + LIMIT;
        while redis.subscribers("wspc:rooms/x").await != 3 {
            assert!(Instant::now() < until, "servers did not resubscribe");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after: Vec<String> = (0..10).map(|i| format!("b-after{i}")).collect();
        for m in &after {
            pub1.send(Message::text(m.as_str())).await.unwrap();
        }
        assert_eq!(take(&mut pub1, 10).await, after);
        // Server 0's two subscribers: 60 + 10 down + 10 after; the others: 60 + 10 after.
        let totals = [80usize, 80, 70, 70, 70, 70];
        wait_until(
            "every rooms/x subscriber got the messages after the restart",
            || {
                x.iter()
                    .zip(totals)
                    .all(|((_, got), n)| got.lock().unwrap().len() >= n)
            },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (i, ((_, got), n)) in x.iter().zip(totals).enumerate() {
            let got = got.lock().unwrap();
            assert_eq!(got.len(), n, "subscriber {i}: {got:?}");
            assert_eq!(&got[got.len() - 10..], &after[..], "subscriber {i}");
            let saw_down = got.iter().any(|m| m.starts_with("a-down"));
            assert_eq!(
                saw_down,
                i < 2,
                "only server 0's subscribers saw the down messages"
            );
        }
        for (_, got) in &y {
            assert!(got.lock().unwrap().is_empty(), "rooms/y got nothing");
        }
        let m0 = metrics(servers[0].port);
        assert!(m0["wspc_broker_reconnects_total"] >= 1.0);
        assert!(m0["wspc_broker_published_total"] >= 30.0);
        let m2 = metrics(servers[2].port);
        assert_eq!(m2["wspc_broker_received_total"], 70.0);
        for s in &servers {
            s.wait_log("connected again after");
        }
        drop(redis);
    })
    .await;
}

/// A CA, and a certificate for 127.0.0.1 signed by it (PEM files in `dir`).
fn tls_files(dir: &common::TempDir) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let paths = (
        dir.path("ca.pem"),
        dir.path("cert.pem"),
        dir.path("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    let s = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    (s(paths.0), s(paths.1), s(paths.2))
}

#[tokio::test]
async fn rediss_with_a_password_joins_two_servers() {
    let Some(bin) = redis_server_path() else {
        assert!(
            !required(),
            "redis-server is missing (CI installs it with .ci/install.sh)"
        );
        eprintln!("SKIP: redis-server is missing (apt-get install redis-server)");
        return;
    };
    let dir = common::TempDir::new("rediss");
    let (ca, cert, key) = tls_files(&dir);
    let port = free_port();
    // TLS only (no plain port), a password, no client certificates.
    let mut child = Command::new(bin)
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
        ])
        .args([
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
        ])
        .args(["--tls-auth-clients", "no", "--requirepass", "s3cret"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let until = Instant::now() + LIMIT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "redis-server (TLS) did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("rediss://:s3cret@127.0.0.1:{port}/");
    let a = Server::start(&["--mode", "broadcast", "--broker", &url, "--broker-ca", &ca]);
    let b = Server::start(&["--mode", "broadcast", "--broker", &url, "--broker-ca", &ca]);
    let wrong = format!("rediss://:wrong@127.0.0.1:{port}/");
    let refused = Server::start(&[
        "--mode",
        "broadcast",
        "--broker",
        &wrong,
        "--broker-ca",
        &ca,
    ]);
    bounded(async {
        for s in [&a, &b] {
            wait_until("the broker connected over TLS", || {
                metric(s.port, "wspc_broker_up") == 1.0
            })
            .await;
        }
        let mut sub = connect(b.port, "/secure").await;
        let mut publisher = connect(a.port, "/secure").await;
        wait_until("b subscribed", || {
            metric(b.port, "wspc_topic_subscribers{topic=\"secure\"}") == 1.0
        })
        .await;
        // The subscription reaches Redis shortly after; publish until one arrives.
        let mut got = None;
        for i in 0..200 {
            publisher
                .send(Message::text(format!("hello {i}")))
                .await
                .unwrap();
            if let Ok(Some(Ok(Message::Text(t)))) =
                tokio::time::timeout(Duration::from_millis(50), sub.recv()).await
            {
                got = Some(t.as_str().to_string());
                break;
            }
        }
        assert!(
            got.is_some_and(|t| t.starts_with("hello")),
            "nothing crossed over rediss://"
        );
        // A wrong password: never up, the reason logged, the password not.
        refused.wait_log("broker rediss://:***@127.0.0.1");
        assert_eq!(metric(refused.port, "wspc_broker_up"), 0.0);
        assert!(!refused.log().contains("wrong"), "{}", refused.log());
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
}
