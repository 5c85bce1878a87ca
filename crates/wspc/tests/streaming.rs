//! Streaming delivery: pieces of messages as soon as their bytes arrive, bounded in size,
//! without buffering the whole message.

mod common;

use common::*;
use wspc::bytes::Bytes;
use wspc::{
    Chunk, Config, Connection, Delivery, Error, Event, Limits, MessageKind, ProtocolError, Role,
};

fn streaming(max_chunk: usize) -> Connection {
    Connection::new(
        Role::Server,
        Config {
            delivery: Delivery::Chunks { max_chunk },
            limits: Limits {
                max_message_size: u64::MAX,
                ..Limits::default()
            },
            ..Config::default()
        },
    )
}

fn chunks(conn: &mut Connection) -> Vec<Chunk> {
    events(conn)
        .into_iter()
        .map(|e| match e {
            Event::Chunk(c) => c,
            other => panic!("expected a chunk, got {other:?}"),
        })
        .collect()
}

#[test]
fn pieces_arrive_as_the_bytes_do() {
    let payload: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let wire = client_frame(true, 2, &payload);
    let mut s = streaming(4096);
    let mut got = Vec::new();
    let mut seen = Vec::new();
    for piece in wire.chunks(1500) {
        s.feed(piece);
        for c in chunks(&mut s) {
            assert!(c.data.len() <= 4096);
            assert_eq!(c.kind, MessageKind::Binary);
            seen.push((c.first, c.fin));
            got.extend_from_slice(&c.data);
        }
        // Nothing beyond one read is held back.
        assert!(s.recv_buffer_mut().len() <= 1500);
    }
    assert_eq!(got, payload);
    assert!(seen.first().unwrap().0 && seen.last().unwrap().1);
    assert_eq!(seen.iter().filter(|(first, _)| *first).count(), 1);
    assert_eq!(seen.iter().filter(|(_, fin)| *fin).count(), 1);
}

#[test]
fn chunks_are_capped_at_max_chunk() {
    let mut s = streaming(100);
    s.feed(&client_frame(true, 2, &[9; 1000]));
    let cs = chunks(&mut s);
    assert_eq!(cs.len(), 10);
    assert!(cs.iter().all(|c| c.data.len() == 100));
}

#[test]
fn fragmented_messages_and_empty_fragments() {
    let mut s = streaming(1 << 20);
    let wire = [
        client_frame(false, 1, b""),
        client_frame(false, 0, b"ab"),
        client_frame(false, 0, b""),
        client_frame(true, 0, b""),
    ]
    .concat();
    s.feed(&wire);
    let cs = chunks(&mut s);
    assert_eq!(
        cs,
        [
            Chunk {
                kind: MessageKind::Text,
                data: Bytes::from_static(b"ab"),
                first: true,
                fin: false
            },
            Chunk {
                kind: MessageKind::Text,
                data: Bytes::new(),
                first: false,
                fin: true
            },
        ]
    );
    // An empty message is one empty, first-and-last piece.
    s.feed(&client_frame(true, 2, b""));
    assert_eq!(
        chunks(&mut s),
        [Chunk {
            kind: MessageKind::Binary,
            data: Bytes::new(),
            first: true,
            fin: true
        }]
    );
}

#[test]
fn text_is_still_validated_as_it_streams() {
    let mut s = streaming(1 << 20);
    let wire = client_frame(true, 1, b"valid start \xc3\x28 rest");
    s.feed(&wire[..wire.len() - 4]);
    let evs = events(&mut s);
    assert!(
        matches!(
            evs.last(),
            Some(Event::Failed(Error::Protocol(ProtocolError::InvalidUtf8)))
        ),
        "{evs:?}"
    );
}

#[test]
fn validation_can_be_disabled_when_streaming() {
    let config = Config {
        delivery: Delivery::Chunks { max_chunk: 1024 },
        validate_utf8: false,
        ..Config::default()
    };
    let mut s = Connection::new(Role::Server, config);
    s.feed(&client_frame(true, 1, b"\xff\xfe"));
    assert_eq!(chunks(&mut s)[0].data, Bytes::from_static(b"\xff\xfe"));
    // In message mode a Text message is always valid UTF-8, whatever the flag says.
    let mut s = Connection::new(
        Role::Server,
        Config {
            validate_utf8: false,
            ..Config::default()
        },
    );
    s.feed(&client_frame(true, 1, b"\xff\xfe"));
    assert!(matches!(
        s.poll_event(),
        Some(Event::Failed(Error::Protocol(ProtocolError::InvalidUtf8)))
    ));
}

#[test]
fn control_frames_interleave_streamed_messages() {
    let mut s = Connection::new(
        Role::Server,
        Config {
            delivery: Delivery::Chunks { max_chunk: 64 },
            ..Config::default()
        },
    );
    s.feed(
        &[
            client_frame(false, 2, b"one"),
            client_frame(true, 10, b"pong"),
            client_frame(true, 0, b"two"),
        ]
        .concat(),
    );
    let evs = events(&mut s);
    assert_eq!(evs.len(), 3);
    assert!(matches!(&evs[1], Event::Pong(p) if p == "pong"));
}
