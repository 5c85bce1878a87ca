//! One test per limit: each fails the connection as soon as the bytes that break it
//! arrive (a header announcing too much is enough), with its close code.

mod common;

use common::*;
use wspc::frame::OpCode;
use wspc::{CloseCode, Config, Connection, Error, Event, Limits, Message, ProtocolError, Role};

fn server_with(limits: Limits) -> Connection {
    Connection::new(
        Role::Server,
        Config {
            limits,
            ..Config::default()
        },
    )
}

fn failure(conn: &mut Connection) -> ProtocolError {
    match events(conn).pop() {
        Some(Event::Failed(Error::Protocol(e))) => e,
        other => panic!("expected a protocol failure, got {other:?}"),
    }
}

#[test]
fn max_frame_size_fails_on_the_header_with_1009() {
    let mut s = server_with(Limits {
        max_frame_size: 1000,
        ..Limits::default()
    });
    let wire = client_frame(true, 2, &[0; 1001]);
    // Only the 4-byte header (+ key) has arrived: that is enough.
    s.feed(&wire[..8]);
    assert_eq!(
        failure(&mut s),
        ProtocolError::FrameTooLarge {
            len: 1001,
            max: 1000
        }
    );
    assert_eq!(
        sent_close_code(&take_output(&mut s)),
        Some(CloseCode::MESSAGE_TOO_BIG)
    );
    // Exactly at the limit is fine.
    let mut s = server_with(Limits {
        max_frame_size: 1000,
        ..Limits::default()
    });
    s.feed(&client_frame(true, 2, &[0; 1000]));
    assert_eq!(events(&mut s).len(), 1);
}

#[test]
fn max_message_size_fails_on_the_fragment_that_exceeds_it() {
    let limits = Limits {
        max_message_size: 100,
        ..Limits::default()
    };
    let mut s = server_with(limits);
    s.feed(&client_frame(false, 2, &[1; 60]));
    s.feed(&client_frame(false, 0, &[1; 40]));
    assert!(events(&mut s).is_empty());
    s.feed(&client_frame(true, 0, &[1; 1])[..6]); // just the header of the 101st byte
    assert_eq!(failure(&mut s), ProtocolError::MessageTooLarge { max: 100 });
    assert_eq!(
        sent_close_code(&take_output(&mut s)),
        Some(CloseCode::MESSAGE_TOO_BIG)
    );

    let mut s = server_with(limits);
    s.feed(&client_frame(true, 1, &[b'a'; 101])[..8]);
    assert_eq!(failure(&mut s), ProtocolError::MessageTooLarge { max: 100 });

    let mut s = server_with(limits);
    s.feed(
        &[
            client_frame(false, 2, &[1; 50]),
            client_frame(true, 0, &[1; 50]),
        ]
        .concat(),
    );
    assert_eq!(
        events(&mut s),
        [Event::Message(Message::binary(vec![1u8; 100]))]
    );
}

#[test]
fn max_fragments_fails_with_1008() {
    let mut s = server_with(Limits {
        max_fragments: 3,
        ..Limits::default()
    });
    let mut wire = client_frame(false, 1, b"a");
    wire.extend(client_frame(false, 0, b"b"));
    wire.extend(client_frame(false, 0, b"c"));
    s.feed(&wire);
    assert!(events(&mut s).is_empty());
    s.feed(&client_frame(true, 0, b"d"));
    assert_eq!(failure(&mut s), ProtocolError::TooManyFragments { max: 3 });
    assert_eq!(
        sent_close_code(&take_output(&mut s)),
        Some(CloseCode::POLICY_VIOLATION)
    );
    // Empty fragments count too: an endless stream of them cannot run forever.
    let mut s = server_with(Limits {
        max_fragments: 1000,
        ..Limits::default()
    });
    s.feed(&client_frame(false, 2, b""));
    for _ in 0..2000 {
        s.feed(&client_frame(false, 0, b""));
    }
    assert_eq!(
        failure(&mut s),
        ProtocolError::TooManyFragments { max: 1000 }
    );
}

#[test]
fn write_buffer_limit_bounds_pongs_and_asks_to_stop_reading() {
    let mut s = server_with(Limits {
        max_write_buffer: 1000,
        ..Limits::default()
    });
    assert!(s.wants_read());
    // A peer that sends pings but never reads our pongs.
    for i in 0..10_000u32 {
        s.feed(&client_frame(true, 9, &i.to_be_bytes()));
        assert!(events(&mut s).is_empty());
    }
    // Memory stayed bounded: about the limit plus one pong held back.
    assert!(
        s.buffered_amount() <= 1000 + 2 * 8,
        "{}",
        s.buffered_amount()
    );
    assert!(!s.wants_read());
    // Once drained, the latest pong (only) follows.
    let frames = parse_frames(&take_output(&mut s));
    let last = frames.last().unwrap();
    assert_eq!(
        (last.0, last.2.as_slice()),
        (OpCode::Pong, &9999u32.to_be_bytes()[..])
    );
    assert!(frames.len() < 200);
    assert!(s.wants_read());
}

#[test]
fn default_limits_are_documented_values() {
    let l = Limits::default();
    assert_eq!(
        (
            l.max_head_size,
            l.max_headers,
            l.max_frame_size,
            l.max_message_size,
            l.max_fragments,
            l.max_write_buffer
        ),
        (8 * 1024, 128, 16 << 20, 64 << 20, 1 << 17, 1 << 20)
    );
}

#[test]
fn a_huge_announced_frame_allocates_nothing_up_front() {
    // 16 MiB announced, 14 bytes sent: the engine must not reserve the payload eagerly.
    let mut s = server_with(Limits::default());
    s.feed(&[0x82, 0xFF, 0, 0, 0, 0, 0x01, 0, 0, 0, 1, 2, 3, 4]);
    assert!(events(&mut s).is_empty());
    assert!(
        s.recv_buffer_mut().capacity() < 64 * 1024,
        "{}",
        s.recv_buffer_mut().capacity()
    );
    assert!(s.read_hint() <= 1 << 20);
}
