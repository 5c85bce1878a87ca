//! `WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE` (a wspc extension): permessage-deflate on
//! component handles — negotiated both roles, against handles and against the engine's
//! own deflate peers; absent, exactly Windows' behaviour (nothing offered, nothing
//! accepted).

mod common;

use std::sync::Arc;

use common::*;
use websocket::component::{Handle, OwnedHeader, Property};
use websocket::{ActionQueue, BufferType, Hresult};
use wspc::deflate::{DeflateClient, DeflateServer};
use wspc::frame::{FrameHeader, RSV1};
use wspc::{Accept, ClientHandshake, ClientRequest, Config, Event, Message, ServerHandshake};

const DEFLATE: Property = Property::PerMessageDeflate(true);

fn extensions_header(headers: &[OwnedHeader]) -> Option<&str> {
    headers
        .iter()
        .find(|h| h.name == "Sec-WebSocket-Extensions")
        .map(|h| h.value.as_str())
}

/// The RSV bits and payload length of the single frame in `wire`.
fn frame_info(wire: &[u8]) -> (u8, usize) {
    let (h, n) = FrameHeader::parse(wire).unwrap().unwrap();
    assert_eq!(n + h.payload_len as usize, wire.len(), "one frame");
    (h.rsv, h.payload_len as usize)
}

fn json() -> String {
    r#"{"id":42,"name":"wspc","tags":["a","b","c"],"ok":true}"#.repeat(40)
}

#[test]
fn both_handles_with_the_property_compress_both_ways() {
    let (mut c, mut s) = pair_with(&[DEFLATE], &[DEFLATE]);
    assert_eq!(
        c.h.per_message_deflate().as_deref(),
        Some("permessage-deflate")
    );
    assert!(s.h.per_message_deflate().is_some());
    let text = json();
    for client_sends in [true, false] {
        let (from, to) = if client_sends {
            (&mut c, &mut s)
        } else {
            (&mut s, &mut c)
        };
        let wire = from.send(BufferType::Utf8Message, data(text.as_bytes()));
        let (rsv, len) = frame_info(&wire);
        assert_eq!(rsv, RSV1);
        assert!(len < text.len() / 10, "{len} bytes for {}", text.len());
        let got = to.receive_all(&wire).unwrap();
        let delivered: Vec<u8> = got
            .iter()
            .flat_map(|g| match g {
                Got::Data(_, d) => d.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(delivered, text.as_bytes());
        assert!(matches!(
            got.last(),
            Some(Got::Data(BufferType::Utf8Message, _))
        ));
    }
    // Fragments are compressed too, and control frames are left alone.
    c.h.send(BufferType::BinaryFragment, data(vec![7u8; 3000]), 1)
        .unwrap();
    c.h.send(
        BufferType::PingPong,
        websocket::component::SendPayload::None,
        2,
    )
    .unwrap();
    c.h.send(BufferType::BinaryMessage, data(vec![7u8; 3000]), 3)
        .unwrap();
    c.run(ActionQueue::Send).unwrap();
    let frames = parse_frames(&std::mem::take(&mut c.out));
    assert_eq!(
        frames.iter().map(|f| f.opcode).collect::<Vec<_>>(),
        [0x2, 0x9, 0x0]
    );
    assert!(frames[0].payload.len() < 100 && frames[2].payload.len() < 100);
    let mut wire = Vec::new();
    for f in &frames {
        // Re-encode as the client sent them (masked), for the server.
        let rsv = if f.opcode == 0x2 { 0x4 } else { 0 };
        wire.extend(frame(f.fin, rsv, f.opcode, &f.payload, Some([1, 2, 3, 4])));
    }
    let got = s.receive_all(&wire).unwrap();
    let total: usize = got
        .iter()
        .map(|g| match g {
            Got::Data(_, d) => d.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(total, 6000);
}

#[test]
fn without_the_property_nothing_is_offered_or_accepted() {
    // A client handle without the property offers nothing (as websocket.dll).
    let mut c = Handle::new_client(&[]).unwrap();
    let headers = c.begin_client_handshake(&[], &[], &[]).unwrap();
    assert_eq!(extensions_header(&headers), None);
    // A server handle without it ignores a client's offer.
    let mut deflating = Handle::new_client(&[DEFLATE]).unwrap();
    let offer = deflating.begin_client_handshake(&[], &[], &[]).unwrap();
    assert_eq!(
        extensions_header(&offer),
        Some("permessage-deflate; client_max_window_bits")
    );
    let mut request = owned(&offer);
    request.push((b"Host".to_vec(), b"localhost".to_vec()));
    let mut s = Handle::new_server(&[]).unwrap();
    let response = s
        .begin_server_handshake(None, &[], &borrowed(&request))
        .unwrap();
    assert_eq!(extensions_header(&response), None);
    deflating
        .end_client_handshake(&borrowed(&owned(&response)), None)
        .unwrap();
    assert_eq!(deflating.per_message_deflate(), None);
    assert_eq!(s.per_message_deflate(), None);
    // Then frames go uncompressed.
    let mut c = Peer::new(deflating);
    let wire = c.send(BufferType::Utf8Message, data(json()));
    assert_eq!(frame_info(&wire), (0, json().len()));
}

#[test]
fn the_property_keeps_the_application_extensions_by_name() {
    // The application's own extension names are still matched by name, next to the
    // component's offer; permessage-deflate itself is the component's.
    let mut c = Handle::new_client(&[DEFLATE]).unwrap();
    assert_eq!(
        c.begin_client_handshake(&[], &["permessage-deflate"], &[])
            .unwrap_err(),
        Hresult::E_INVALIDARG
    );
    let mut c = Handle::new_client(&[DEFLATE]).unwrap();
    let headers = c.begin_client_handshake(&[], &["x-custom"], &[]).unwrap();
    assert_eq!(
        extensions_header(&headers),
        Some("x-custom, permessage-deflate; client_max_window_bits")
    );
    let key = &headers
        .iter()
        .find(|h| h.name == "Sec-WebSocket-Key")
        .unwrap()
        .value;
    let accept = wspc::handshake::accept_key(key);
    let response = vec![
        (b"Upgrade".to_vec(), b"websocket".to_vec()),
        (b"Connection".to_vec(), b"Upgrade".to_vec()),
        (b"Sec-WebSocket-Accept".to_vec(), accept.into_bytes()),
        (
            b"Sec-WebSocket-Extensions".to_vec(),
            b"permessage-deflate; server_max_window_bits=10, x-custom".to_vec(),
        ),
    ];
    let negotiated = c
        .end_client_handshake(&borrowed(&response), Some(4))
        .unwrap();
    assert_eq!(negotiated.extensions, [0]);
    assert_eq!(
        c.per_message_deflate().as_deref(),
        Some("permessage-deflate; server_max_window_bits=10")
    );

    // A server handle with the property: the application may not select it itself.
    let mut s = Handle::new_server(&[DEFLATE]).unwrap();
    let mut client = Handle::new_client(&[DEFLATE]).unwrap();
    let mut request = owned(&client.begin_client_handshake(&[], &[], &[]).unwrap());
    request.push((b"Host".to_vec(), b"h".to_vec()));
    assert_eq!(
        s.begin_server_handshake(None, &["permessage-deflate"], &borrowed(&request))
            .unwrap_err(),
        Hresult::E_INVALIDARG
    );
    let response = s
        .begin_server_handshake(None, &["x-custom"], &borrowed(&request))
        .unwrap();
    assert_eq!(
        extensions_header(&response),
        Some("x-custom, permessage-deflate")
    );
}

#[test]
fn a_malformed_answer_fails_the_client_handshake() {
    let mut c = Handle::new_client(&[DEFLATE]).unwrap();
    let headers = c.begin_client_handshake(&[], &[], &[]).unwrap();
    let key = &headers
        .iter()
        .find(|h| h.name == "Sec-WebSocket-Key")
        .unwrap()
        .value;
    let accept = wspc::handshake::accept_key(key);
    for (answer, expected) in [
        (
            "permessage-deflate; server_max_window_bits=99",
            Hresult::E_INVALID_PROTOCOL_FORMAT,
        ),
        (
            "permessage-deflate, permessage-deflate",
            Hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED,
        ),
    ] {
        let response = vec![
            (b"Upgrade".to_vec(), b"websocket".to_vec()),
            (b"Connection".to_vec(), b"Upgrade".to_vec()),
            (
                b"Sec-WebSocket-Accept".to_vec(),
                accept.clone().into_bytes(),
            ),
            (
                b"Sec-WebSocket-Extensions".to_vec(),
                answer.as_bytes().to_vec(),
            ),
        ];
        assert_eq!(
            c.end_client_handshake(&borrowed(&response), None)
                .unwrap_err(),
            expected,
            "{answer}"
        );
    }
}

#[test]
fn a_server_handle_talks_to_the_engine_client_and_the_reverse() {
    // The engine's deflate client against a server handle with the property.
    let request = ClientRequest::new("ws://localhost/")
        .unwrap()
        .extension(Arc::new(DeflateClient::default()));
    let mut engine = ClientHandshake::new(request).unwrap();
    let text = String::from_utf8(engine.request_bytes().to_vec()).unwrap();
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let (n, v) = line.split_once(": ").unwrap();
        headers.push((n.as_bytes().to_vec(), v.as_bytes().to_vec()));
    }
    let mut s = Handle::new_server(&[DEFLATE]).unwrap();
    let response = s
        .begin_server_handshake(None, &[], &borrowed(&headers))
        .unwrap();
    let mut head = String::from("HTTP/1.1 101 Switching Protocols\r\n");
    for h in &response {
        head.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    head.push_str("\r\n");
    let mut engine = engine.feed(head.as_bytes()).unwrap().unwrap().connection;
    assert!(engine.extension().is_some());
    let mut s = Peer::new(s);
    engine.send(Message::text(json())).unwrap();
    let mut wire = Vec::new();
    engine.write_to(&mut wire).unwrap();
    assert_eq!(frame_info(&wire).0, RSV1);
    let got = s.receive_all(&wire).unwrap();
    assert_eq!(
        got,
        [Got::Data(BufferType::Utf8Message, json().into_bytes())]
    );
    let wire = s.send(BufferType::BinaryMessage, data(vec![1u8; 5000]));
    assert_eq!(frame_info(&wire).0, RSV1);
    engine.feed(&wire);
    assert_eq!(
        engine.poll_event(),
        Some(Event::Message(Message::binary(vec![1u8; 5000])))
    );

    // A client handle with the property against the engine's deflate server.
    let mut c = Handle::new_client(&[DEFLATE]).unwrap();
    let mut request = String::from("GET / HTTP/1.1\r\nHost: localhost\r\n");
    for h in c.begin_client_handshake(&[], &[], &[]).unwrap() {
        request.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    request.push_str("\r\n");
    let mut server =
        ServerHandshake::new(Config::default()).with_extension(Arc::new(DeflateServer::default()));
    let parsed = server.feed(request.as_bytes()).unwrap().unwrap();
    let (response, mut engine) = server.accept(&parsed, Accept::default()).unwrap();
    let text = String::from_utf8(response).unwrap();
    let mut headers = Vec::new();
    for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let (n, v) = line.split_once(": ").unwrap();
        headers.push((n.as_bytes().to_vec(), v.as_bytes().to_vec()));
    }
    c.end_client_handshake(&borrowed(&headers), None).unwrap();
    let mut c = Peer::new(c);
    let wire = c.send(BufferType::Utf8Message, data(json()));
    assert_eq!(frame_info(&wire).0, RSV1);
    engine.feed(&wire);
    assert_eq!(
        engine.poll_event(),
        Some(Event::Message(Message::text(json())))
    );
}

#[test]
fn a_compressed_bomb_is_delivered_in_receive_buffer_chunks() {
    // 8 MiB of zeros compress 100-fold at level 1; the component streams them out in chunks of
    // the receive buffer size (256 here) as they inflate, never the whole message at once.
    let (mut c, mut s) = pair_with(&[DEFLATE], &[DEFLATE, Property::ReceiveBufferSize(256)]);
    let wire = c.send(BufferType::BinaryMessage, data(vec![0u8; 8 << 20]));
    assert!(wire.len() < 128 << 10, "{}", wire.len());
    s.inbox.extend(wire);
    let mut total = 0;
    let mut last = None;
    for _ in 0..100_000 {
        s.got.clear();
        s.h.receive(None, 0).unwrap();
        s.run(ActionQueue::Receive).unwrap();
        for g in s.got.drain(..) {
            let Got::Data(t, d) = g else { panic!() };
            assert!(d.len() <= 256 && d.iter().all(|&b| b == 0));
            total += d.len();
            last = Some(t);
        }
        if last == Some(BufferType::BinaryMessage) {
            break;
        }
    }
    assert_eq!(total, 8 << 20);
}
