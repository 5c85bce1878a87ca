//! Property tests: any sequence of messages, fragments, pings, pongs and a close
//! round-trips client→server and server→client for any split of the byte stream; and
//! arbitrary bytes never panic and never grow memory past the limits.

mod common;

use common::*;
use proptest::prelude::*;
use wspc::bytes::Bytes;
use wspc::frame::{MAX_HEADER_LEN, OpCode};
use wspc::{CloseCode, Config, Connection, Delivery, Event, Limits, Message, MessageKind, Role};

#[derive(Clone, Debug)]
enum Op {
    Whole(Message),
    /// A message sent in fragments (text may be split inside code points).
    Fragmented(MessageKind, Vec<Vec<u8>>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn split_bytes(bytes: Vec<u8>, cuts: Vec<usize>) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut pieces = Vec::new();
    let mut at = 0;
    for p in points {
        pieces.push(bytes[at..p].to_vec());
        at = p;
    }
    pieces.push(bytes[at..].to_vec());
    pieces
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        ".{0,40}".prop_map(|s| Op::Whole(Message::text(s))),
        prop::collection::vec(any::<u8>(), 0..3000).prop_map(|b| Op::Whole(Message::binary(b))),
        (".{0,60}", prop::collection::vec(any::<usize>(), 0..5)).prop_map(|(s, cuts)| {
            Op::Fragmented(MessageKind::Text, split_bytes(s.into_bytes(), cuts))
        }),
        (
            prop::collection::vec(any::<u8>(), 0..500),
            prop::collection::vec(any::<usize>(), 0..5)
        )
            .prop_map(|(b, cuts)| Op::Fragmented(MessageKind::Binary, split_bytes(b, cuts))),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Pong),
    ]
}

fn close() -> impl Strategy<Value = Option<(u16, String)>> {
    prop::option::of((
        prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999],
        "[a-z ]{0,40}",
    ))
}

/// Feeds `wire` to `to` in pieces of the given sizes (cycled), collecting events.
fn feed_split(to: &mut Connection, wire: &[u8], sizes: &[usize]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < wire.len() {
        let n = sizes[i % sizes.len()].max(1).min(wire.len() - at);
        to.feed(&wire[at..at + n]);
        out.extend(events(to));
        at += n;
        i += 1;
    }
    out.extend(events(to));
    out
}

fn run_roundtrip(
    sender_role: Role,
    ops: &[Op],
    close: &Option<(u16, String)>,
    sizes: &[usize],
    chunked: bool,
) {
    let receiver_role = if sender_role == Role::Client {
        Role::Server
    } else {
        Role::Client
    };
    let mut sender = Connection::new(sender_role, Config::default());
    let delivery = if chunked {
        Delivery::Chunks { max_chunk: 700 }
    } else {
        Delivery::Messages
    };
    let mut receiver = Connection::new(
        receiver_role,
        Config {
            deliver_pings: true,
            delivery,
            ..Config::default()
        },
    );
    let mut expected = Vec::new();
    let mut pings = Vec::new();
    for op in ops {
        match op {
            Op::Whole(m) => {
                sender.send(m.clone()).unwrap();
                expected.push(Expect::Message(m.kind(), m.as_bytes().to_vec()));
            }
            Op::Fragmented(kind, pieces) => {
                for (i, piece) in pieces.iter().enumerate() {
                    sender
                        .send_fragment(*kind, piece.clone(), i + 1 == pieces.len())
                        .unwrap();
                }
                expected.push(Expect::Message(*kind, pieces.concat()));
            }
            Op::Ping(p) => {
                sender.ping(p.clone()).unwrap();
                expected.push(Expect::Ping(p.clone()));
                pings.push(p.clone());
            }
            Op::Pong(p) => {
                sender.pong(p.clone()).unwrap();
                expected.push(Expect::Pong(p.clone()));
            }
        }
    }
    if let Some((code, reason)) = close {
        sender.close(CloseCode::new(*code), reason).unwrap();
        expected.push(Expect::Close(*code, reason.clone()));
    }
    let wire = take_output(&mut sender);
    let got = feed_split(&mut receiver, &wire, sizes);
    assert_eq!(collapse(got), expected);
    // Every Ping was answered, in order, with its payload.
    let pongs: Vec<Vec<u8>> = parse_frames(&take_output(&mut receiver))
        .into_iter()
        .filter(|(op, _, _)| *op == OpCode::Pong)
        .map(|(_, _, p)| p)
        .collect();
    assert_eq!(pongs, pings);
}

#[derive(Debug, PartialEq)]
enum Expect {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
}

/// Events with streamed pieces joined back into messages.
fn collapse(events: Vec<Event>) -> Vec<Expect> {
    let mut out = Vec::new();
    let mut partial: Option<(MessageKind, Vec<u8>)> = None;
    for e in events {
        match e {
            Event::Message(m) => out.push(Expect::Message(m.kind(), m.as_bytes().to_vec())),
            Event::Chunk(c) => {
                assert_eq!(c.first, partial.is_none());
                let entry = partial.get_or_insert((c.kind, Vec::new()));
                assert_eq!(entry.0, c.kind);
                entry.1.extend_from_slice(&c.data);
                if c.fin {
                    let (kind, data) = partial.take().unwrap();
                    if kind == MessageKind::Text {
                        assert!(std::str::from_utf8(&data).is_ok());
                    }
                    out.push(Expect::Message(kind, data));
                }
            }
            Event::Ping(p) => out.push(Expect::Ping(p.to_vec())),
            Event::Pong(p) => out.push(Expect::Pong(p.to_vec())),
            Event::Close(f) => out.push(Expect::Close(f.code.as_u16(), f.reason.to_string())),
            Event::Failed(e) => panic!("unexpected failure: {e}"),
        }
    }
    assert!(partial.is_none());
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn client_to_server(ops in prop::collection::vec(op(), 0..12), close in close(), sizes in prop::collection::vec(1usize..300, 1..8)) {
        run_roundtrip(Role::Client, &ops, &close, &sizes, false);
    }

    #[test]
    fn server_to_client(ops in prop::collection::vec(op(), 0..12), close in close(), sizes in prop::collection::vec(1usize..300, 1..8)) {
        run_roundtrip(Role::Server, &ops, &close, &sizes, false);
    }

    #[test]
    fn streamed_both_ways(ops in prop::collection::vec(op(), 0..12), close in close(), sizes in prop::collection::vec(1usize..300, 1..8)) {
        run_roundtrip(Role::Client, &ops, &close, &sizes, true);
        run_roundtrip(Role::Server, &ops, &close, &sizes, true);
    }

    #[test]
    fn one_byte_at_a_time(ops in prop::collection::vec(op(), 0..6), close in close()) {
        run_roundtrip(Role::Client, &ops, &close, &[1], false);
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_grow_memory(
        data in prop::collection::vec(any::<u8>(), 0..4000),
        sizes in prop::collection::vec(1usize..100, 1..6),
        client in any::<bool>(),
        chunked in any::<bool>(),
    ) {
        let limits = Limits { max_frame_size: 512, max_message_size: 1024, max_fragments: 8, max_write_buffer: 256, ..Limits::default() };
        let delivery = if chunked { Delivery::Chunks { max_chunk: 64 } } else { Delivery::Messages };
        let role = if client { Role::Client } else { Role::Server };
        let mut conn = Connection::new(role, Config { limits, delivery, accept_unmasked_frames: !client, ..Config::default() });
        let mut at = 0;
        let mut i = 0;
        let mut failed = false;
        while at < data.len() {
            let n = sizes[i % sizes.len()].min(data.len() - at);
            conn.feed(&data[at..at + n]);
            for e in events(&mut conn) {
                prop_assert!(!failed, "no event after the failure");
                if let Event::Failed(_) = e { failed = true; }
                if let Event::Message(m) = &e { prop_assert!(m.len() <= 1024); }
                if let Event::Chunk(c) = &e { prop_assert!(c.data.len() <= 64); }
            }
            prop_assert!(conn.recv_buffer_mut().len() <= 512 + MAX_HEADER_LEN);
            prop_assert!(conn.buffered_amount() <= 256 + 2 * (125 + MAX_HEADER_LEN));
            at += n;
            i += 1;
        }
        conn.handle_eof();
        let _ = events(&mut conn);
        prop_assert!(conn.poll_event().is_none());
    }
}

/// Plausible frames: mostly valid headers with random fields, so the engine gets deep
/// into its states before something breaks.
fn raw_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        prop_oneof![8 => Just(0u8), 1 => Just(0x40u8), 1 => any::<u8>().prop_map(|r| r & 0x70)],
        prop_oneof![Just(0u8), Just(1), Just(2), Just(8), Just(9), Just(10), 0u8..16],
        prop_oneof![3 => "[a-zé€🦀]{0,30}".prop_map(String::into_bytes), 1 => prop::collection::vec(any::<u8>(), 0..200)],
        prop::option::of(any::<[u8; 4]>()),
    )
        .prop_map(|(fin, rsv, opcode, payload, key)| frame(fin, rsv, opcode, &payload, key))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn plausible_frames_never_panic_or_grow_memory(
        frames in prop::collection::vec(raw_frame(), 0..30),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        sizes in prop::collection::vec(1usize..64, 1..6),
        client in any::<bool>(),
        chunked in any::<bool>(),
    ) {
        let mut wire = frames.concat();
        for (at, byte) in flips {
            if !wire.is_empty() {
                let i = at % wire.len();
                wire[i] ^= byte;
            }
        }
        let limits = Limits { max_frame_size: 150, max_message_size: 300, max_fragments: 6, max_write_buffer: 200, ..Limits::default() };
        let delivery = if chunked { Delivery::Chunks { max_chunk: 16 } } else { Delivery::Messages };
        let role = if client { Role::Client } else { Role::Server };
        let mut conn = Connection::new(role, Config { limits, delivery, accept_unmasked_frames: true, deliver_pings: true, ..Config::default() });
        let mut at = 0;
        let mut i = 0;
        while at < wire.len() {
            let n = sizes[i % sizes.len()].min(wire.len() - at);
            conn.feed(&wire[at..at + n]);
            for e in events(&mut conn) {
                match e {
                    Event::Message(m) => {
                        prop_assert!(m.len() <= 300);
                        if let Message::Text(t) = m { prop_assert!(std::str::from_utf8(t.as_bytes()).is_ok()); }
                    }
                    Event::Chunk(c) => prop_assert!(c.data.len() <= 16),
                    _ => {}
                }
            }
            prop_assert!(conn.recv_buffer_mut().len() <= 150 + MAX_HEADER_LEN);
            prop_assert!(conn.buffered_amount() <= 200 + 2 * (125 + MAX_HEADER_LEN));
            at += n;
            i += 1;
        }
    }
}

#[test]
fn large_messages_round_trip_in_both_modes() {
    for len in [0usize, 125, 126, 65535, 65536, 3 << 20] {
        let payload = Bytes::from((0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
        for chunked in [false, true] {
            run_roundtrip(
                Role::Client,
                &[Op::Whole(Message::Binary(payload.clone()))],
                &None,
                &[65536, 7, 100_000],
                chunked,
            );
        }
    }
}
