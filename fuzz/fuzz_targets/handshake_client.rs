//! The client's opening-handshake parser (`ClientHandshake::feed`) on a server response
//! that is either arbitrary bytes or a valid 101 with fuzzer-chosen changes, split at
//! fuzzer-chosen points. Invariants: the verdict does not depend on the split; a response
//! without the right `Sec-WebSocket-Accept` is never taken; an accepted deflate answer
//! gives a connection that round-trips a message.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use wspc::deflate::{DeflateClient, DeflateOffer};
use wspc::{ClientHandshake, ClientRequest, Config, Limits};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

#[derive(Arbitrary, Debug)]
struct Input {
    /// Send these bytes as they are instead of the built response.
    raw: Option<Vec<u8>>,
    status: u16,
    accept_ok: bool,
    upgrade: bool,
    extensions: Option<String>,
    protocol: Option<String>,
    extra: Vec<(String, String)>,
    trailing: Vec<u8>,
    cuts: Vec<u8>,
    subprotocols: Vec<String>,
    head: u16,
}

fn client(input: &Input, limits: Limits) -> Option<ClientHandshake> {
    let mut request = ClientRequest::new("ws://localhost/chat")
        .ok()?
        .config(Config {
            limits,
            ..Config::default()
        })
        .extension(Arc::new(DeflateClient {
            offers: vec![
                DeflateOffer {
                    client_max_window_bits: Some(None),
                    ..DeflateOffer::default()
                },
                DeflateOffer {
                    server_no_context_takeover: true,
                    ..DeflateOffer::default()
                },
            ],
            ..DeflateClient::default()
        }));
    for p in input.subprotocols.iter().take(4) {
        request = request.subprotocol(p.clone());
    }
    ClientHandshake::with_key(request, KEY.to_string()).ok()
}

fuzz_target!(|data: &[u8]| {
    // Input: a mode byte; odd: a head-limit u16, a split-pattern byte and the raw
    // response (a recorded response is a seed); even: the structured `Input`.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = if mode & 1 == 1 {
        let (prefix, mut r) = wspc_fuzz::Reader::new(rest, 3);
        Input {
            raw: Some(r.bytes(usize::MAX).to_vec()),
            status: 0,
            accept_ok: false,
            upgrade: false,
            extensions: None,
            protocol: None,
            extra: Vec::new(),
            trailing: Vec::new(),
            cuts: wspc_fuzz::cut_pattern(prefix[2])
                .iter()
                .map(|&c| c.min(255) as u8)
                .collect(),
            subprotocols: Vec::new(),
            head: u16::from_le_bytes([prefix[0], prefix[1]]),
        }
    } else {
        let Some(input) = wspc_fuzz::config_from::<Input>(rest) else {
            return;
        };
        input
    };
    let response = match &input.raw {
        Some(raw) => raw.clone(),
        None => {
            let mut r = format!("HTTP/1.1 {} Switching Protocols\r\n", input.status % 1000);
            if input.upgrade {
                r.push_str("Upgrade: websocket\r\nConnection: Upgrade\r\n");
            }
            let accept = if input.accept_ok {
                ACCEPT
            } else {
                "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
            };
            r.push_str(&format!("Sec-WebSocket-Accept: {accept}\r\n"));
            if let Some(e) = &input.extensions {
                r.push_str(&format!("Sec-WebSocket-Extensions: {e}\r\n"));
            }
            if let Some(p) = &input.protocol {
                r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
            }
            for (n, v) in input.extra.iter().take(8) {
                r.push_str(&format!("{n}: {v}\r\n"));
            }
            r.push_str("\r\n");
            let mut bytes = r.into_bytes();
            bytes.extend_from_slice(&input.trailing);
            bytes
        }
    };
    let limits = Limits {
        max_head_size: usize::from(input.head).max(64),
        ..Limits::default()
    };
    let Some(mut whole) = client(&input, limits) else {
        return;
    };
    let once = whole.feed(&response);
    let Some(mut split) = client(&input, limits) else {
        return;
    };
    let mut pieces = Ok(None);
    let mut at = 0;
    let mut steps = input.cuts.iter().cycle();
    while at < response.len() {
        let step = steps
            .next()
            .map_or(response.len(), |c| usize::from(*c).max(1));
        let end = (at + step).min(response.len());
        pieces = split.feed(&response[at..end]);
        at = end;
        if !matches!(pieces, Ok(None)) {
            break;
        }
    }
    match (&once, &pieces) {
        (Ok(None), Ok(None)) | (Err(_), Err(_)) | (Ok(Some(_)), Ok(Some(_))) => {}
        (a, b) => panic!(
            "split changed the verdict: {:?} vs {:?}",
            a.as_ref().map(|o| o.is_some()),
            b.as_ref().map(|o| o.is_some())
        ),
    }
    if let Ok(Some(established)) = once {
        let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
        assert!(
            text.contains(&ACCEPT.to_ascii_lowercase()),
            "taken without the right accept"
        );
        // (An `HTTP/1.0 101` was taken once: found by this target, now refused.)
        assert!(text.starts_with("http/1.1 101"), "taken without 101");
        // The connection works: a message to a plain server peer (no deflate) or, with
        // deflate, at least encodes without failing.
        let mut conn = established.connection;
        let _ = conn.send(wspc::Message::text("hello"));
        let wire = wspc_fuzz::drain(&mut conn, 0);
        wspc_fuzz::check_wire(wspc::Role::Client, &wire);
    }
});
