//! The opening handshake on `http` values (issue 11): `Upgrade::from_parts` (HTTP/1.1) and
//! `Upgrade::from_extended_connect` (HTTP/2, RFC 8441) on fuzzer-built requests — method,
//! version, `:protocol` and header fields drawn from the input — then negotiation and
//! `accept`. Invariants: a refusal always says how to answer (a status and a response fit
//! for the HTTP version: no connection-specific fields over HTTP/2); an acceptance answers
//! 101 with the right `Sec-WebSocket-Accept` (HTTP/1.1) or 200 without it (HTTP/2), never
//! selects a subprotocol the client did not offer, and a negotiated permessage-deflate is
//! the connection's.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use wspc::Config;
use wspc::deflate::DeflateServer;
use wspc::extension::{ExtensionHeader, ServerExtension};
use wspc::handshake::{Accept, HandshakeError, Upgrade, accept_key};
use wspc::http::{self, HeaderValue, Method, StatusCode, Version};

const NAMES: [&str; 9] = [
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "origin",
    "cookie",
];

#[derive(Arbitrary, Debug)]
struct Input {
    http2: bool,
    method: u8,
    version: u8,
    protocol: Option<String>,
    fields: Vec<(u8, String)>,
    /// Which offered subprotocol to pick (none, an offered one, or one never offered).
    pick: Option<u8>,
    negotiate: bool,
}

fuzz_target!(|input: Input| {
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = [Method::GET, Method::CONNECT, Method::POST, Method::HEAD]
        [usize::from(input.method % 4)]
    .clone();
    parts.version =
        [Version::HTTP_10, Version::HTTP_11, Version::HTTP_2][usize::from(input.version % 3)];
    for (name, value) in input.fields.iter().take(32) {
        if let Ok(value) = HeaderValue::from_str(value) {
            parts.headers.append(NAMES[usize::from(name % 9)], value);
        }
    }
    let result = if input.http2 {
        Upgrade::from_extended_connect(&parts, input.protocol.as_deref())
    } else {
        Upgrade::from_parts(&parts)
    };
    let form = if input.http2 {
        Version::HTTP_2
    } else {
        Version::HTTP_11
    };
    let upgrade = match result {
        Err(e) => {
            let status = e.status().expect("a refused request has a status");
            let response = e.response_for(form).expect("and a response");
            assert_eq!(response.status(), status);
            if form == Version::HTTP_2 {
                assert!(response.headers().get("connection").is_none());
                assert!(response.headers().get("upgrade").is_none());
            }
            if status == StatusCode::UPGRADE_REQUIRED {
                assert_eq!(response.headers()["sec-websocket-version"], "13");
            }
            return;
        }
        Ok(upgrade) => upgrade,
    };
    assert_eq!(upgrade.version(), form);
    let offered: Vec<String> = upgrade.subprotocols().map(String::from).collect();
    let chosen = match input.pick {
        None => None,
        Some(i) if !offered.is_empty() && i % 2 == 0 => {
            Some(offered[usize::from(i) % offered.len()].clone())
        }
        Some(_) => Some("never-offered-by-anyone".to_string()),
    };
    let policy: Arc<dyn ServerExtension> = Arc::new(DeflateServer::default());
    let negotiated = if input.negotiate {
        upgrade.negotiate(&[policy])
    } else {
        None
    };
    let deflate = negotiated.is_some();
    let accept = Accept::default()
        .with_subprotocol(chosen.clone())
        .with_extension(negotiated);
    let (response, connection) = match upgrade.accept(accept, Config::default()) {
        Ok(answer) => answer,
        Err(HandshakeError::UnofferedSubprotocol(p)) => {
            assert!(!offered.contains(&p));
            return;
        }
        Err(HandshakeError::InvalidHeader(_)) => return,
        Err(e) => panic!("accept of a valid upgrade failed: {e:?}"),
    };
    if let Some(p) = &chosen {
        assert!(offered.contains(p), "{p:?} not in {offered:?}");
        assert_eq!(response.headers()["sec-websocket-protocol"], p.as_str());
    }
    match form {
        Version::HTTP_11 => {
            assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
            let key = parts.headers["sec-websocket-key"].to_str().unwrap();
            assert_eq!(
                response.headers()["sec-websocket-accept"],
                accept_key(key).as_str()
            );
        }
        _ => {
            assert_eq!(response.status(), StatusCode::OK);
            assert!(response.headers().get("sec-websocket-accept").is_none());
            assert!(response.headers().get("upgrade").is_none());
        }
    }
    assert_eq!(connection.deflate().is_some(), deflate);
    if deflate {
        let value = response.headers()["sec-websocket-extensions"]
            .to_str()
            .unwrap();
        let answer = ExtensionHeader::parse_list(value).expect("our answer parses");
        assert_eq!(answer.len(), 1);
    }
});
