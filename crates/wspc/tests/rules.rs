//! One test per rule of RFC 6455 §5 the engine enforces, each checking the typed error,
//! the close code on the wire, and that nothing after the violation is processed.

mod common;

use common::*;
use wspc::bytes::Bytes;
use wspc::frame::OpCode;
use wspc::{
    CloseCode, CloseState, Config, Connection, Error, Event, Message, ProtocolError, Role,
    SendError,
};

fn server() -> Connection {
    Connection::new(Role::Server, Config::default())
}

fn client() -> Connection {
    Connection::new(Role::Client, Config::default())
}

/// Feeds `wire` and expects exactly `before` events, then a failure with `error`; checks
/// the Close frame on the wire carries the error's code and that later input is ignored.
fn expect_failure(conn: &mut Connection, wire: &[u8], error: ProtocolError, code: u16) {
    conn.feed(wire);
    let events = events(conn);
    let Some(Event::Failed(Error::Protocol(got))) = events.last() else {
        panic!("expected a failure, got {events:?}")
    };
    assert_eq!(got, &error);
    assert_eq!(got.close_code().as_u16(), code);
    assert_eq!(conn.close_state(), CloseState::Failed);
    let out = take_output(conn);
    assert_eq!(
        sent_close_code(&out),
        Some(CloseCode::new(code)),
        "close frame on the wire"
    );
    // Nothing more is processed or answered.
    conn.feed(&client_frame(true, 9, b"ping"));
    conn.feed(&server_frame(true, 9, b"ping"));
    assert_eq!(conn.poll_event(), None);
    assert!(take_output(conn).is_empty());
    assert_eq!(conn.send(Message::text("late")), Err(SendError::Closed));
}

#[test]
fn rfc6455_5_7_examples_through_a_connection() {
    // A single-frame masked text message "Hello", received by a server.
    let mut s = server();
    s.feed(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    assert_eq!(events(&mut s), [Event::Message(Message::text("Hello"))]);
    // Unmasked, received by a client; fragmented "Hel" + "lo"; unmasked Ping.
    let mut c = client();
    c.feed(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    c.feed(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
    c.feed(&[0x80, 0x02, 0x6c, 0x6f]);
    c.feed(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(
        events(&mut c),
        [
            Event::Message(Message::text("Hello")),
            Event::Message(Message::text("Hello"))
        ]
    );
    // The Ping was answered with a masked Pong carrying "Hello".
    assert_eq!(
        parse_frames(&take_output(&mut c)),
        [(OpCode::Pong, true, b"Hello".to_vec())]
    );
    // 256 bytes and 64 KiB binary messages in single unmasked frames.
    for len in [256usize, 65536] {
        let mut wire = if len == 256 {
            vec![0x82, 0x7E, 0x01, 0x00]
        } else {
            vec![0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]
        };
        wire.extend(std::iter::repeat_n(7u8, len));
        c.feed(&wire);
        assert_eq!(
            events(&mut c),
            [Event::Message(Message::binary(vec![7u8; len]))]
        );
    }
}

#[test]
fn server_fails_an_unmasked_frame() {
    expect_failure(
        &mut server(),
        &server_frame(true, 1, b"hi"),
        ProtocolError::UnmaskedFrame,
        1002,
    );
}

#[test]
fn client_fails_a_masked_frame() {
    expect_failure(
        &mut client(),
        &client_frame(true, 1, b"hi"),
        ProtocolError::MaskedFrame,
        1002,
    );
}

#[test]
fn reserved_bits_fail_without_an_extension() {
    for rsv in [0x40, 0x20, 0x10, 0x70] {
        let wire = frame(true, rsv, 1, b"x", Some([1, 2, 3, 4]));
        expect_failure(&mut server(), &wire, ProtocolError::ReservedBits(rsv), 1002);
    }
    // Also on control frames.
    expect_failure(
        &mut server(),
        &frame(true, 0x40, 9, b"", Some([1, 2, 3, 4])),
        ProtocolError::ReservedBits(0x40),
        1002,
    );
}

#[test]
fn reserved_opcodes_fail() {
    for op in (3..=7).chain(0xB..=0xF) {
        expect_failure(
            &mut server(),
            &frame(true, 0, op, b"", Some([1, 2, 3, 4])),
            ProtocolError::ReservedOpcode(op),
            1002,
        );
    }
}

#[test]
fn control_frames_are_at_most_125_bytes() {
    for op in [8u8, 9, 10] {
        expect_failure(
            &mut server(),
            &client_frame(true, op, &[b'a'; 126]),
            ProtocolError::ControlFrameTooLong(126),
            1002,
        );
    }
    let mut s = server();
    s.feed(&client_frame(true, 9, &[b'a'; 125]));
    assert!(events(&mut s).is_empty());
    assert_eq!(
        parse_frames(&take_output(&mut s)),
        [(OpCode::Pong, true, vec![b'a'; 125])]
    );
}

#[test]
fn control_frames_are_never_fragmented() {
    for op in [8u8, 9, 10] {
        expect_failure(
            &mut server(),
            &client_frame(false, op, b""),
            ProtocolError::FragmentedControlFrame,
            1002,
        );
    }
}

#[test]
fn continuation_needs_an_open_message() {
    expect_failure(
        &mut server(),
        &client_frame(true, 0, b"x"),
        ProtocolError::UnexpectedContinuation,
        1002,
    );
    // … and after a message ended, too.
    let wire = [client_frame(true, 1, b"a"), client_frame(true, 0, b"b")].concat();
    let mut s = server();
    s.feed(&wire);
    let evs = events(&mut s);
    assert_eq!(evs[0], Event::Message(Message::text("a")));
    assert_eq!(
        evs[1],
        Event::Failed(Error::Protocol(ProtocolError::UnexpectedContinuation))
    );
}

#[test]
fn new_message_while_one_is_open_fails() {
    let wire = [client_frame(false, 1, b"a"), client_frame(true, 2, b"b")].concat();
    expect_failure(
        &mut server(),
        &wire,
        ProtocolError::ExpectedContinuation,
        1002,
    );
}

#[test]
fn length_top_bit_and_non_minimal_lengths_fail() {
    let top = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
    expect_failure(&mut server(), &top, ProtocolError::LengthTopBit, 1002);
    let non_minimal_16 = [0x82, 0xFE, 0x00, 0x05, 1, 2, 3, 4, 0, 0, 0, 0, 0];
    expect_failure(
        &mut server(),
        &non_minimal_16,
        ProtocolError::NonMinimalLength,
        1002,
    );
    let non_minimal_64 = [0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4];
    expect_failure(
        &mut server(),
        &non_minimal_64,
        ProtocolError::NonMinimalLength,
        1002,
    );
}

#[test]
fn invalid_utf8_fails_with_1007() {
    expect_failure(
        &mut server(),
        &client_frame(true, 1, b"\xff"),
        ProtocolError::InvalidUtf8,
        1007,
    );
    // Truncated at the end of the message.
    expect_failure(
        &mut server(),
        &client_frame(true, 1, b"ok\xe2\x82"),
        ProtocolError::InvalidUtf8,
        1007,
    );
    // Across fragments: the last fragment leaves the sequence open.
    let wire = [
        client_frame(false, 1, b"\xe2"),
        client_frame(true, 0, b"\x82"),
    ]
    .concat();
    expect_failure(&mut server(), &wire, ProtocolError::InvalidUtf8, 1007);
}

#[test]
fn invalid_utf8_fails_fast_in_the_middle_of_a_frame() {
    // Autobahn 6.4.x: the frame is incomplete, but the byte that breaks UTF-8 is in.
    let mut text = "κόσμε".as_bytes().to_vec();
    text.extend_from_slice(b"\xf4\x90\x80\x80edited");
    let wire = client_frame(true, 1, &text);
    let cut = 2 + 4 + "κόσμε".len() + 2; // header, key, valid prefix, F4 90
    let mut s = server();
    s.feed(&wire[..cut - 1]);
    assert!(events(&mut s).is_empty(), "F4 alone is a valid prefix");
    s.feed(&wire[cut - 1..cut]);
    assert_eq!(
        events(&mut s),
        [Event::Failed(Error::Protocol(ProtocolError::InvalidUtf8))]
    );
}

#[test]
fn code_points_split_across_frames_and_reads_are_fine() {
    let text = "κόσμε 🦀 €";
    let bytes = text.as_bytes();
    // Every split of the message into two fragments, every split of the byte stream.
    for at in 0..=bytes.len() {
        let wire = [
            client_frame(false, 1, &bytes[..at]),
            client_frame(true, 0, &bytes[at..]),
        ]
        .concat();
        let mut s = server();
        for b in &wire {
            s.feed(std::slice::from_ref(b));
            for e in events(&mut s) {
                assert_eq!(e, Event::Message(Message::text(text)), "split {at}");
            }
        }
    }
}

#[test]
fn close_frame_payload_rules() {
    expect_failure(
        &mut server(),
        &client_frame(true, 8, b"\x03"),
        ProtocolError::CloseFrameTooShort,
        1002,
    );
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        let wire = client_frame(true, 8, &close_payload(code, b""));
        expect_failure(
            &mut server(),
            &wire,
            ProtocolError::InvalidCloseCode(code),
            1002,
        );
    }
    let wire = client_frame(true, 8, &close_payload(1000, b"\xce\xba\xed\xa0\x80"));
    expect_failure(
        &mut server(),
        &wire,
        ProtocolError::InvalidCloseReason,
        1007,
    );
    // Every code that may be on the wire is accepted and echoed.
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ] {
        let mut s = server();
        s.feed(&client_frame(true, 8, &close_payload(code, b"why")));
        let evs = events(&mut s);
        let Event::Close(f) = &evs[0] else {
            panic!("{evs:?}")
        };
        assert_eq!((f.code.as_u16(), f.reason.as_str()), (code, "why"));
        assert_eq!(
            sent_close_code(&take_output(&mut s)),
            Some(CloseCode::new(code))
        );
    }
}

#[test]
fn control_frames_interleave_a_fragmented_message() {
    let wire = [
        client_frame(false, 1, b"frag"),
        client_frame(true, 9, b"p1"),
        client_frame(false, 0, b"men"),
        client_frame(true, 10, b"unsolicited"),
        client_frame(true, 0, b"ted"),
    ]
    .concat();
    let mut s = server();
    s.feed(&wire);
    assert_eq!(
        events(&mut s),
        [
            Event::Pong(Bytes::from_static(b"unsolicited")),
            Event::Message(Message::text("fragmented"))
        ]
    );
    assert_eq!(
        parse_frames(&take_output(&mut s)),
        [(OpCode::Pong, true, b"p1".to_vec())]
    );
}

#[test]
fn ping_policies() {
    // Default: answered with the identical payload, not handed out.
    let mut s = server();
    s.feed(&client_frame(true, 9, b"\x00\xffbin"));
    assert!(events(&mut s).is_empty());
    assert_eq!(
        parse_frames(&take_output(&mut s)),
        [(OpCode::Pong, true, b"\x00\xffbin".to_vec())]
    );
    // Handed out as well, on request.
    let config = Config {
        deliver_pings: true,
        ..Config::default()
    };
    let mut s = Connection::new(Role::Server, config);
    s.feed(&client_frame(true, 9, b"p"));
    assert_eq!(events(&mut s), [Event::Ping(Bytes::from_static(b"p"))]);
    assert_eq!(parse_frames(&take_output(&mut s)).len(), 1);
    // Not answered when auto_pong is off: the caller decides.
    let config = Config {
        deliver_pings: true,
        auto_pong: false,
        ..Config::default()
    };
    let mut s = Connection::new(Role::Server, config);
    s.feed(&client_frame(true, 9, b"p"));
    assert_eq!(events(&mut s), [Event::Ping(Bytes::from_static(b"p"))]);
    assert!(take_output(&mut s).is_empty());
    s.pong(Bytes::from_static(b"p")).unwrap();
    assert_eq!(
        parse_frames(&take_output(&mut s)),
        [(OpCode::Pong, true, b"p".to_vec())]
    );
}

#[test]
fn every_ping_in_a_burst_is_answered_in_order() {
    let mut s = server();
    let wire: Vec<u8> = (0..10u8)
        .flat_map(|i| client_frame(true, 9, &[i; 3]))
        .collect();
    s.feed(&wire);
    assert!(events(&mut s).is_empty());
    let pongs = parse_frames(&take_output(&mut s));
    assert_eq!(pongs.len(), 10);
    for (i, (op, _, payload)) in pongs.iter().enumerate() {
        assert_eq!((*op, payload.as_slice()), (OpCode::Pong, &[i as u8; 3][..]));
    }
}

#[test]
fn messages_before_a_violation_are_delivered_and_answered_in_order() {
    // Autobahn 3.2: echo the first message, then fail; the Ping after is not answered.
    let wire = [
        client_frame(true, 1, b"first"),
        frame(true, 0x20, 1, b"bad", Some([9, 9, 9, 9])),
        client_frame(true, 9, b""),
    ]
    .concat();
    let mut s = server();
    s.feed(&wire);
    let evs = events(&mut s);
    assert_eq!(evs[0], Event::Message(Message::text("first")));
    assert_eq!(
        evs[1],
        Event::Failed(Error::Protocol(ProtocolError::ReservedBits(0x20)))
    );
    assert_eq!(evs.len(), 2);
    let frames = parse_frames(&take_output(&mut s));
    assert_eq!(frames.len(), 1, "only the close frame: {frames:?}");
}

#[test]
fn unmasked_frames_are_accepted_when_allowed() {
    // Windows' DISABLE_MASKING on a server handle.
    let config = Config {
        accept_unmasked_frames: true,
        ..Config::default()
    };
    let mut s = Connection::new(Role::Server, config);
    s.feed(&server_frame(true, 2, b"raw"));
    assert_eq!(
        events(&mut s),
        [Event::Message(Message::binary(&b"raw"[..]))]
    );
}

#[test]
fn every_protocol_error_has_its_close_code() {
    use ProtocolError as P;
    let cases: Vec<(P, u16)> = vec![
        (P::ReservedBits(0x40), 1002),
        (P::ReservedOpcode(3), 1002),
        (P::UnmaskedFrame, 1002),
        (P::MaskedFrame, 1002),
        (P::ControlFrameTooLong(200), 1002),
        (P::FragmentedControlFrame, 1002),
        (P::UnexpectedContinuation, 1002),
        (P::ExpectedContinuation, 1002),
        (P::LengthTopBit, 1002),
        (P::NonMinimalLength, 1002),
        (P::InvalidUtf8, 1007),
        (P::CloseFrameTooShort, 1002),
        (P::InvalidCloseCode(1005), 1002),
        (P::InvalidCloseReason, 1007),
        (P::FrameTooLarge { len: 2, max: 1 }, 1009),
        (P::MessageTooLarge { max: 1 }, 1009),
        (P::TooManyFragments { max: 1 }, 1008),
        (
            P::Extension {
                name: "x",
                reason: "bad".into(),
                code: CloseCode::INVALID_PAYLOAD,
            },
            1007,
        ),
    ];
    for (error, code) in cases {
        assert_eq!(error.close_code().as_u16(), code, "{error}");
        assert_eq!(Error::Protocol(error).close_code().as_u16(), code);
    }
    assert_eq!(
        Error::KeepaliveTimeout.close_code(),
        CloseCode::SERVER_ERROR
    );
    assert_eq!(Error::ConnectionLost.close_code(), CloseCode::ABORTED);
    assert_eq!(Error::CloseTimeout.close_code(), CloseCode::ABORTED);
}
