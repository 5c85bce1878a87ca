//! permessage-deflate through whole connections: negotiation in the handshake,
//! compressed messages both ways (whole, fragmented, interleaved with control frames,
//! split anywhere), the decompression bomb bounded by the message limit (peak memory
//! measured by a counting allocator), and fail-fast UTF-8 of compressed text.
#![cfg(feature = "deflate")]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use common::*;
use proptest::prelude::*;
use wspc::bytes::BytesMut;
use wspc::deflate::{
    Deflate, DeflateClient, DeflateOffer, DeflateOptions, DeflateParams, DeflateServer,
};
use wspc::extension::{Extension, ExtensionHeader};
use wspc::frame::{FrameHeader, OpCode, RSV1};
use wspc::{
    Accept, Chunk, ClientHandshake, ClientRequest, CloseCode, Config, Connection, Delivery, Error,
    Event, Limits, Message, MessageKind, ProtocolError, Role, ServerHandshake,
};

/// Counts the live heap bytes of each thread and their peak (a test runs on a thread of
/// its own, so its counts are exact whatever other tests do at the same time).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(n: isize) {
    // `try_with`: nothing to count while the thread's locals are torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + n;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

/// This thread's live heap bytes.
fn live() -> isize {
    LIVE.with(Cell::get)
}

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes in
// thread-local `Cell`s (const-initialised, no destructor: touching them never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn params(reset: bool, server_bits: u8, client_bits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: reset,
        client_no_context_takeover: reset,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    }
}

fn codec(role: Role, p: DeflateParams) -> Option<Box<dyn Extension>> {
    Some(Box::new(Deflate::new(
        role,
        p,
        DeflateOptions::default(),
        ExtensionHeader::new("permessage-deflate"),
    )))
}

fn deflate_pair(p: DeflateParams, config: Config) -> (Connection, Connection) {
    (
        Connection::with_extension(Role::Client, config.clone(), codec(Role::Client, p)),
        Connection::with_extension(Role::Server, config, codec(Role::Server, p)),
    )
}

/// Opens a connection through both handshakes with the given deflate sides.
fn handshake(client: DeflateClient, server: DeflateServer) -> (Connection, Connection, String) {
    let request = ClientRequest::new("ws://localhost/")
        .unwrap()
        .extension(Arc::new(client));
    let mut c = ClientHandshake::new(request).unwrap();
    let mut s = ServerHandshake::new(Config::default()).with_extension(Arc::new(server));
    let req = s.feed(c.request_bytes()).unwrap().unwrap();
    let (response, server) = s.accept(&req, Accept::default()).unwrap();
    let text = String::from_utf8(response.clone()).unwrap();
    let client = c.feed(&response).unwrap().unwrap().connection;
    (client, server, text)
}

fn frame_rsv(wire: &[u8]) -> Vec<(OpCode, u8)> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < wire.len() {
        let (h, n) = FrameHeader::parse(&wire[at..]).unwrap().unwrap();
        out.push((h.opcode, h.rsv));
        at += n + h.payload_len as usize;
    }
    out
}

#[test]
fn negotiated_end_to_end_and_compresses() {
    let (mut c, mut s, response) = handshake(DeflateClient::default(), DeflateServer::default());
    assert!(
        response.contains("\r\nsec-websocket-extensions: permessage-deflate\r\n"),
        "{response}"
    );
    let json = r#"{"user":"ada","action":"update","fields":{"a":1,"b":[1,2,3]}}"#.repeat(16);
    c.send(Message::text(json.as_str())).unwrap();
    let wire = take_output(&mut c);
    assert_eq!(frame_rsv(&wire), [(OpCode::Text, RSV1)]);
    assert!(
        wire.len() * 5 < json.len(),
        "{} → {}",
        json.len(),
        wire.len()
    );
    s.feed(&wire);
    assert_eq!(
        events(&mut s),
        [Event::Message(Message::text(json.as_str()))]
    );
    // And back, with the server's own context.
    for _ in 0..3 {
        s.send(Message::text(json.as_str())).unwrap();
    }
    pump(&mut s, &mut c);
    assert_eq!(events(&mut c).len(), 3);
}

#[test]
fn a_server_policy_of_no_context_and_small_windows_is_followed() {
    let policy = DeflateServer {
        client_no_context_takeover: true,
        server_no_context_takeover: true,
        server_max_window_bits: 10,
        client_max_window_bits: 9,
        ..DeflateServer::default()
    };
    let (mut c, mut s, response) = handshake(DeflateClient::default(), policy);
    assert!(
        response.contains("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"),
        "{response}"
    );
    assert_eq!(
        c.extension().unwrap().negotiated().to_string(),
        s.extension().unwrap().negotiated().to_string()
    );
    // Without context takeover, the same message compresses the same way every time.
    c.send(Message::text("hello hello hello")).unwrap();
    let first = take_output(&mut c);
    c.send(Message::text("hello hello hello")).unwrap();
    let second = take_output(&mut c);
    assert_eq!(first.len(), second.len());
    s.feed(&[first, second].concat());
    assert_eq!(events(&mut s).len(), 2);
}

#[test]
fn the_client_fails_the_handshake_on_a_bad_answer() {
    for bad in [
        "permessage-deflate; client_max_window_bits=10", // not offered
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", // repeated
        "permessage-deflate; server_max_window_bits=99", // invalid value
        "permessage-deflate; mystery",                   // unknown parameter
    ] {
        let request = ClientRequest::new("ws://x/")
            .unwrap()
            .extension(Arc::new(DeflateClient {
                offers: vec![DeflateOffer::default()],
                ..DeflateClient::default()
            }));
        let mut c = ClientHandshake::with_key(request, "dGhlIHNhbXBsZSBub25jZQ==".into()).unwrap();
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: {bad}\r\n\r\n"
        );
        assert!(
            matches!(
                c.feed(response.as_bytes()),
                Err(wspc::HandshakeError::Extension(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn malformed_offers_are_declined_not_fatal() {
    let mut s =
        ServerHandshake::new(Config::default()).with_extension(Arc::new(DeflateServer::default()));
    let req = s
        .feed(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; =;;\"\r\n\r\n")
        .unwrap()
        .unwrap();
    let (response, conn) = s.accept(&req, Accept::default()).unwrap();
    assert!(!String::from_utf8(response).unwrap().contains("Extensions"));
    assert!(conn.extension().is_none());
}

#[test]
fn rfc7692_hello_through_a_client_connection() {
    let mut c = Connection::with_extension(
        Role::Client,
        Config::default(),
        codec(Role::Client, params(false, 15, 15)),
    );
    // §7.2.3.1 as a frame: FIN, RSV1, text.
    c.feed(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    // §7.2.3.2: the second "Hello" shares the window.
    c.feed(&[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
    // A message may also arrive uncompressed (RSV1 clear).
    c.feed(&server_frame(true, 1, b"Hello"));
    assert_eq!(
        events(&mut c),
        vec![Event::Message(Message::text("Hello")); 3]
    );
}

#[test]
fn fragmented_compressed_messages_both_ways_with_control_frames() {
    let (mut c, mut s) = deflate_pair(params(false, 15, 15), Config::default());
    let text = "a fragmented, compressed, text message; ".repeat(50);
    let (a, b) = text.as_bytes().split_at(777);
    c.send_fragment(MessageKind::Text, a.to_vec(), false)
        .unwrap();
    c.ping(&b"in between"[..]).unwrap();
    c.send_fragment(MessageKind::Text, b.to_vec(), true)
        .unwrap();
    let wire = take_output(&mut c);
    assert_eq!(
        frame_rsv(&wire),
        [
            (OpCode::Text, RSV1),
            (OpCode::Ping, 0),
            (OpCode::Continuation, 0)
        ]
    );
    for piece in wire.chunks(5) {
        s.feed(piece);
    }
    assert_eq!(
        events(&mut s),
        [Event::Message(Message::text(text.as_str()))]
    );
    // The server answers the ping and sends a fragmented binary message back.
    s.send_fragment(MessageKind::Binary, vec![1u8; 3000], false)
        .unwrap();
    s.send_fragment(MessageKind::Binary, vec![2u8; 3000], true)
        .unwrap();
    let wire = take_output(&mut s);
    assert_eq!(
        frame_rsv(&wire),
        [
            (OpCode::Pong, 0),
            (OpCode::Binary, RSV1),
            (OpCode::Continuation, 0)
        ]
    );
    c.feed(&wire);
    let evs = events(&mut c);
    assert_eq!(
        evs[1],
        Event::Message(Message::binary([vec![1u8; 3000], vec![2u8; 3000]].concat()))
    );
}

#[test]
fn uncompressed_on_request_and_below_the_threshold() {
    let mut c = Connection::with_extension(
        Role::Client,
        Config::default(),
        Some(Box::new(Deflate::new(
            Role::Client,
            params(false, 15, 15),
            DeflateOptions {
                level: 6,
                threshold: 64,
                ..DeflateOptions::default()
            },
            ExtensionHeader::new("permessage-deflate"),
        ))),
    );
    c.send_uncompressed(Message::text("x".repeat(1000)))
        .unwrap();
    c.send(Message::text("short")).unwrap();
    c.send(Message::text("long ".repeat(20))).unwrap();
    let rsv: Vec<u8> = frame_rsv(&take_output(&mut c))
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(rsv, [0, 0, RSV1]);
}

#[test]
fn compressed_text_is_validated_and_fails_fast() {
    let mut tx = Deflate::new(
        Role::Client,
        params(false, 15, 15),
        DeflateOptions::default(),
        ExtensionHeader::new("permessage-deflate"),
    );
    let mut payload = BytesMut::new();
    assert_eq!(tx.begin_encode(MessageKind::Text, None), Some(RSV1));
    tx.encode(b"valid text, then \xf4\x90 and more", true, &mut payload)
        .unwrap();
    let mut s = Connection::with_extension(
        Role::Server,
        Config::default(),
        codec(Role::Server, params(false, 15, 15)),
    );
    s.feed(&frame(true, RSV1, 1, &payload, Some([1, 2, 3, 4])));
    assert_eq!(
        s.poll_event(),
        Some(Event::Failed(Error::Protocol(ProtocolError::InvalidUtf8)))
    );
    assert_eq!(
        sent_close_code(&take_output(&mut s)),
        Some(CloseCode::INVALID_PAYLOAD)
    );
}

#[test]
fn corrupt_deflate_data_fails_with_1007() {
    let mut s = Connection::with_extension(
        Role::Server,
        Config::default(),
        codec(Role::Server, params(false, 15, 15)),
    );
    s.feed(&frame(true, RSV1, 2, &[0xff; 16], Some([1, 2, 3, 4])));
    let Some(Event::Failed(e)) = s.poll_event() else {
        panic!()
    };
    assert_eq!(e.close_code(), CloseCode::INVALID_PAYLOAD);
}

/// A permessage-deflate payload that inflates to `mib` MiB of zeros, built without
/// compressing that much: after the first MiB the compressor's output per MiB repeats.
fn zero_bomb(mib: usize) -> Vec<u8> {
    let mut tx = Deflate::new(
        Role::Client,
        params(false, 15, 15),
        DeflateOptions {
            level: 9,
            threshold: 0,
            ..DeflateOptions::default()
        },
        ExtensionHeader::new("permessage-deflate"),
    );
    let zeros = vec![0u8; 1 << 20];
    let mut first = BytesMut::new();
    tx.begin_encode(MessageKind::Binary, None);
    tx.encode(&zeros, false, &mut first).unwrap();
    let mut second = BytesMut::new();
    tx.encode(&zeros, false, &mut second).unwrap();
    let mut third = BytesMut::new();
    tx.encode(&zeros, false, &mut third).unwrap();
    assert_eq!(second, third, "steady state");
    let mut bomb = first.to_vec();
    for _ in 1..mib {
        bomb.extend_from_slice(&second);
    }
    bomb.push(0x00); // an empty stored block's header, as the final flush would leave
    bomb
}

#[test]
fn a_decompression_bomb_fails_with_1009_without_inflating_past_the_limit() {
    // 1 GiB of zeros in about 1 MiB of compressed data.
    let bomb = zero_bomb(1024);
    assert!(bomb.len() < (1 << 20) + (64 << 10), "{}", bomb.len()); // deflate tops out near 1032:1
    let limit: u64 = 16 << 20;
    let config = Config {
        limits: Limits {
            max_message_size: limit,
            max_frame_size: 4 << 20,
            ..Limits::default()
        },
        ..Config::default()
    };
    let wire = frame(true, RSV1, 2, &bomb, Some([7, 7, 7, 7]));
    let mut s = Connection::with_extension(
        Role::Server,
        config,
        codec(Role::Server, params(false, 15, 15)),
    );
    let base = live();
    PEAK.with(|peak| peak.set(base));
    s.feed(&wire);
    let Some(Event::Failed(e)) = s.poll_event() else {
        panic!("the bomb must fail")
    };
    assert_eq!(
        e,
        Error::Protocol(ProtocolError::MessageTooLarge { max: limit })
    );
    assert_eq!(e.close_code(), CloseCode::MESSAGE_TOO_BIG);
    let peak = (PEAK.with(Cell::get) - base) as usize;
    // The limit, one output step, the compressed input and zlib's state: never the GiB.
    assert!(
        peak < (limit as usize) * 2 + (4 << 20),
        "peak {} MiB",
        peak >> 20
    );
}

#[test]
fn a_message_exactly_at_the_limit_inflates() {
    let bomb = zero_bomb(4);
    let config = Config {
        limits: Limits {
            max_message_size: 4 << 20,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut s = Connection::with_extension(
        Role::Server,
        config,
        codec(Role::Server, params(false, 15, 15)),
    );
    s.feed(&frame(true, RSV1, 2, &bomb, Some([7, 7, 7, 7])));
    let Some(Event::Message(m)) = s.poll_event() else {
        panic!()
    };
    assert_eq!(m.len(), 4 << 20);
}

#[test]
fn empty_messages_after_a_flush_stay_valid() {
    // zlib emits nothing for a flush with no new input; the codec must still send an
    // empty stored block (0x00) so the receiver's restored tail parses.
    let (mut c, mut s) = deflate_pair(params(false, 15, 15), Config::default());
    for _ in 0..3 {
        c.send(Message::text("")).unwrap();
    }
    c.send_fragment(MessageKind::Text, &b"abc"[..], false)
        .unwrap();
    c.send_fragment(MessageKind::Text, &b""[..], true).unwrap();
    c.send(Message::text("after")).unwrap();
    let wire = take_output(&mut c);
    for b in wire.chunks(1) {
        s.feed(b);
    }
    let expected = ["", "", "", "abc", "after"].map(|t| Event::Message(Message::text(t)));
    assert_eq!(events(&mut s), expected);
}

#[test]
fn a_streamed_message_that_fills_its_last_piece_exactly_ends_in_that_piece() {
    // The flush after the last frame adds nothing: the full piece is the message's last,
    // not a piece followed by an empty last one (the Windows component model hands a
    // fragment, then an empty message buffer, otherwise).
    for len in [1usize, 255, 256, 257, 512, 700] {
        let config = |max_chunk| Config {
            delivery: Delivery::Chunks { max_chunk },
            ..Config::default()
        };
        let (mut c, mut s) = deflate_pair(params(false, 15, 15), config(256));
        let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        c.send(Message::binary(payload.clone())).unwrap();
        pump(&mut c, &mut s);
        let pieces: Vec<Chunk> = events(&mut s)
            .into_iter()
            .map(|e| match e {
                Event::Chunk(c) => c,
                other => panic!("{other:?}"),
            })
            .collect();
        let joined: Vec<u8> = pieces.iter().flat_map(|c| c.data.to_vec()).collect();
        assert_eq!(joined, payload, "{len}");
        assert_eq!(pieces.len(), len.div_ceil(256), "{len}: {pieces:?}");
        assert!(pieces.iter().all(|c| !c.data.is_empty()), "{len}");
        assert!(pieces.last().unwrap().fin);
    }
}

#[test]
fn idle_connections_hold_no_compression_state() {
    let base = live();
    let (c, s) = deflate_pair(params(false, 15, 15), Config::default());
    let idle = live() - base;
    assert!(idle < 4096, "{idle} bytes for an idle pair");
    drop((c, s));
    // Without context takeover, the state is released after each message.
    let (mut c, mut s) = deflate_pair(params(true, 15, 15), Config::default());
    let before = live();
    c.send(Message::text("compress me ".repeat(100))).unwrap();
    pump(&mut c, &mut s);
    assert_eq!(events(&mut s).len(), 1);
    let after = live();
    assert!(
        after.saturating_sub(before) < 16 * 1024,
        "{} bytes kept",
        after.saturating_sub(before)
    );
}

/// Streamed pieces joined back into whole messages (each piece at most 333 bytes).
fn join_chunks(events: Vec<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    let mut partial: Option<(MessageKind, Vec<u8>)> = None;
    for e in events {
        match e {
            Event::Chunk(c) => {
                assert!(c.data.len() <= 333);
                let entry = partial.get_or_insert((c.kind, Vec::new()));
                entry.1.extend_from_slice(&c.data);
                if c.fin {
                    let (kind, data) = partial.take().unwrap();
                    out.push(Event::Message(match kind {
                        MessageKind::Text => Message::text(String::from_utf8(data).unwrap()),
                        MessageKind::Binary => Message::binary(data),
                    }));
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn bits() -> impl Strategy<Value = u8> {
    8u8..=15
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any messages round-trip through compressing client and server for every
    /// window-bits/takeover combination and any split of the byte stream.
    #[test]
    fn any_messages_round_trip_compressed(
        messages in prop::collection::vec(
            prop_oneof![
                ".{0,200}".prop_map(Message::text),
                prop::collection::vec(prop_oneof![Just(0u8), Just(b'a'), any::<u8>()], 0..3000).prop_map(Message::binary),
            ],
            1..8,
        ),
        server_bits in bits(),
        client_bits in bits(),
        reset in any::<bool>(),
        split in 1usize..500,
        chunked in any::<bool>(),
    ) {
        let delivery = if chunked { wspc::Delivery::Chunks { max_chunk: 333 } } else { wspc::Delivery::Messages };
        let (mut c, mut s) = deflate_pair(params(reset, server_bits, client_bits), Config { delivery, ..Config::default() });
        for m in &messages {
            c.send(m.clone()).unwrap();
            s.send(m.clone()).unwrap();
        }
        let (cw, sw) = (take_output(&mut c), take_output(&mut s));
        let mut got_s = Vec::new();
        for piece in cw.chunks(split) {
            s.feed(piece);
            got_s.extend(events(&mut s));
        }
        let mut got_c = Vec::new();
        for piece in sw.chunks(split) {
            c.feed(piece);
            got_c.extend(events(&mut c));
        }
        let expected: Vec<Event> = messages.iter().cloned().map(Event::Message).collect();
        prop_assert_eq!(join_chunks(got_s), expected.clone());
        prop_assert_eq!(join_chunks(got_c), expected);
    }
}

#[test]
fn an_idle_compressor_is_parked_by_the_timer_and_the_context_goes_on() {
    let (mut c, mut s, _) = handshake(DeflateClient::default(), DeflateServer::default());
    let compressing = |conn: &Connection| {
        let debug = format!("{:?}", conn.extension().unwrap());
        debug.contains("compressing: true")
    };
    let t0 = std::time::Instant::now();
    s.handle_timeout(t0);
    assert_eq!(s.poll_timeout(), None, "nothing to park yet");
    let json = r#"{"user":"ada","action":"update","fields":{"a":1,"b":[1,2,3]}}"#.repeat(4);
    s.send(Message::text(json.as_str())).unwrap();
    let first = take_output(&mut s);
    c.feed(&first);
    assert_eq!(
        events(&mut c),
        [Event::Message(Message::text(json.as_str()))]
    );
    assert!(compressing(&s));
    let due = s.poll_timeout().expect("the park timer is armed");
    assert_eq!(due, t0 + std::time::Duration::from_secs(1));
    // Before the deadline, nothing happens.
    s.handle_timeout(t0 + std::time::Duration::from_millis(900));
    assert!(compressing(&s));
    // Idle past the deadline: the compressor goes, the context stays on the wire.
    s.handle_timeout(due + std::time::Duration::from_millis(1));
    assert!(!compressing(&s), "parked");
    assert_eq!(s.poll_timeout(), None);
    s.send(Message::text(json.as_str())).unwrap();
    let again = take_output(&mut s);
    assert!(
        again.len() * 4 < first.len(),
        "{} then {} bytes: the kept window was not used",
        first.len(),
        again.len()
    );
    c.feed(&again);
    assert_eq!(
        events(&mut c),
        [Event::Message(Message::text(json.as_str()))]
    );
}

#[test]
fn frame_fragment_compresses_with_the_negotiated_extension() {
    let (mut client, mut server) = deflate_pair(params(false, 15, 15), Config::default());
    let text = "frame me, frame me, frame me, frame me".repeat(10);
    let framed = server
        .frame_fragment(MessageKind::Text, text.as_bytes(), true)
        .unwrap();
    let (h, _) = FrameHeader::parse(framed.header()).unwrap().unwrap();
    assert_eq!(h.rsv, RSV1);
    let payload = framed
        .payload()
        .expect("compressed into the engine's memory");
    assert!(payload.len() < text.len() / 4);
    let mut wire = framed.header().to_vec();
    wire.extend_from_slice(payload);
    client.feed(&wire);
    assert_eq!(
        client.poll_event(),
        Some(Event::Message(Message::text(text)))
    );
}
