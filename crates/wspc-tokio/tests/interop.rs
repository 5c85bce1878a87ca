//! Interop with the Python `websockets` package (installed by `.ci/install.sh`): its
//! client against our server and our client against its server, with permessage-deflate
//! negotiated. Skipped, with a message, only where `import websockets` fails.

mod common;

use std::path::PathBuf;
use std::process::Stdio;

use common::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use wspc_tokio::{ClientBuilder, CloseCode, CloseFrame, DeflateOptions, Message, ServerBuilder};

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

async fn have_websockets() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import websockets"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !ok {
        println!("SKIPPED: python3 with the `websockets` package is not available");
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_against_our_server() {
    if !have_websockets().await {
        return;
    }
    bounded(async {
        let (l, addr) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut ws = ServerBuilder::new()
                .deflate(Some(DeflateOptions::default()))
                .accept(tcp)
                .await
                .unwrap();
            let negotiated = ws.deflate().copied();
            let mut echoed = 0;
            let close = loop {
                match ws.recv().await.unwrap().unwrap() {
                    Message::Close(f) => break f,
                    m if is_data(&m) => {
                        ws.send(m).await.unwrap();
                        echoed += 1;
                    }
                    _ => {}
                }
            };
            (negotiated, echoed, close)
        });
        let out = Command::new("python3")
            .arg(script("echo_client.py"))
            .arg(format!("ws://{addr}/"))
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("OK"),
            "python client failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (negotiated, echoed, close) = server.await.unwrap();
        assert!(negotiated.is_some(), "deflate not negotiated");
        assert_eq!(echoed, 17);
        assert_eq!(
            close,
            Some(CloseFrame::new(CloseCode::new(4000), "bye").unwrap())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_python_server() {
    if !have_websockets().await {
        return;
    }
    bounded(async {
        let mut child = Command::new("python3")
            .arg(script("echo_server.py"))
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines.next_line().await.unwrap().expect("server exited");
            if let Some(p) = line.strip_prefix("PORT ") {
                break p.trim().to_string();
            }
        };
        let (mut ws, _) = ClientBuilder::new(&format!("ws://127.0.0.1:{port}/"))
            .unwrap()
            .deflate(Some(DeflateOptions::default()))
            .connect()
            .await
            .unwrap();
        assert!(ws.deflate().is_some(), "deflate not negotiated");
        for (i, size) in [0usize, 1, 125, 126, 65_535, 65_536, 1 << 20, 4 << 20]
            .into_iter()
            .enumerate()
        {
            let t = Message::text(text(size));
            ws.send(t.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), t, "text {size}");
            let b = Message::binary(bytes(size, i as u32));
            ws.send(b.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), b, "binary {size}");
        }
        // Fragmented, compressed.
        ws.send_fragment(wspc_tokio::MessageKind::Text, "frag", false)
            .await
            .unwrap();
        ws.send_fragment(wspc_tokio::MessageKind::Text, "mented", true)
            .await
            .unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::text("fragmented")
        );
        let reply = ws.close(CloseCode::new(4001), "from rust").await.unwrap();
        assert_eq!(reply.unwrap().code, CloseCode::new(4001));
        let mut ext = None;
        let mut close = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(e) = line.strip_prefix("EXT ") {
                ext = Some(e.to_string());
            }
            if let Some(c) = line.strip_prefix("CLOSE ") {
                close = Some(c.to_string());
            }
        }
        assert!(
            ext.as_deref()
                .is_some_and(|e| e.starts_with("permessage-deflate")),
            "{ext:?}"
        );
        assert_eq!(close.as_deref(), Some("4001 from rust"));
        assert!(child.wait().await.unwrap().success());
    })
    .await;
}
