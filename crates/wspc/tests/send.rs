//! The send side: framing of whole messages and fragments, masking, control frames, and
//! the frame-at-a-time transmit mode.

mod common;

use std::collections::HashSet;

use common::*;
use wspc::bytes::Bytes;
use wspc::frame::{FrameHeader, OpCode};
use wspc::{Config, Connection, Event, Message, MessageKind, Role, SendError};

#[test]
fn server_frames_are_unmasked_and_minimal() {
    let mut s = Connection::new(Role::Server, Config::default());
    s.send(Message::text("Hello")).unwrap();
    assert_eq!(
        take_output(&mut s),
        [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']
    );
    s.send(Message::binary(vec![0u8; 256])).unwrap();
    assert_eq!(&take_output(&mut s)[..4], [0x82, 0x7E, 0x01, 0x00]);
    s.send(Message::binary(vec![0u8; 65536])).unwrap();
    assert_eq!(
        &take_output(&mut s)[..10],
        [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]
    );
}

#[test]
fn client_frames_are_masked_with_a_fresh_key_each() {
    let mut c = Connection::new(Role::Client, Config::default());
    let mut keys = HashSet::new();
    for _ in 0..64 {
        c.send(Message::text("same payload")).unwrap();
        let wire = take_output(&mut c);
        let (h, n) = FrameHeader::parse(&wire).unwrap().unwrap();
        let key = h.mask.expect("masked");
        keys.insert(key);
        assert_ne!(&wire[n..], b"same payload");
        assert_eq!(parse_frames(&wire)[0].2, b"same payload");
    }
    assert!(keys.len() > 60, "keys repeat: {}", keys.len());
}

#[test]
fn zero_mask_key_sends_plaintext_with_the_mask_bit() {
    // Windows' DISABLE_MASKING on a client handle.
    let mut c = Connection::new(
        Role::Client,
        Config {
            zero_mask_key: true,
            ..Config::default()
        },
    );
    c.send(Message::text("Hello World")).unwrap();
    let wire = take_output(&mut c);
    assert_eq!(&wire[..6], [0x81, 0x80 | 11, 0, 0, 0, 0]);
    assert_eq!(&wire[6..], b"Hello World");
}

#[test]
fn fragments_become_first_continuation_and_fin() {
    let (mut c, mut s) = pair(Config::default());
    c.send_fragment(MessageKind::Text, &b"frag"[..], false)
        .unwrap();
    c.ping(&b"between"[..]).unwrap();
    c.send_fragment(MessageKind::Text, &b"men"[..], false)
        .unwrap();
    c.send_fragment(MessageKind::Text, &b"ted"[..], true)
        .unwrap();
    let wire = take_output(&mut c);
    let frames = parse_frames(&wire);
    let shape: Vec<(OpCode, bool)> = frames.iter().map(|(op, fin, _)| (*op, *fin)).collect();
    assert_eq!(
        shape,
        [
            (OpCode::Text, false),
            (OpCode::Ping, true),
            (OpCode::Continuation, false),
            (OpCode::Continuation, true)
        ]
    );
    s.feed(&wire);
    assert_eq!(
        events(&mut s),
        [Event::Message(Message::text("fragmented"))]
    );
}

#[test]
fn fragment_rules() {
    let mut c = Connection::new(Role::Client, Config::default());
    c.send_fragment(MessageKind::Text, &b"a"[..], false)
        .unwrap();
    assert_eq!(
        c.send_fragment(MessageKind::Binary, &b"b"[..], true),
        Err(SendError::KindMismatch)
    );
    assert_eq!(
        c.send(Message::text("whole")),
        Err(SendError::MessageInProgress)
    );
    // A code point split across fragments is fine; invalid UTF-8 is refused and changes nothing.
    c.send_fragment(MessageKind::Text, &b"\xe2\x82"[..], false)
        .unwrap();
    assert_eq!(
        c.send_fragment(MessageKind::Text, &b"\xff"[..], true),
        Err(SendError::InvalidUtf8)
    );
    c.send_fragment(MessageKind::Text, &b"\xac"[..], true)
        .unwrap();
    let text: Vec<u8> = parse_frames(&take_output(&mut c))
        .into_iter()
        .flat_map(|f| f.2)
        .collect();
    assert_eq!(text, "a€".as_bytes());
    // A text message may not end inside a code point.
    assert_eq!(
        c.send_fragment(MessageKind::Text, &b"\xe2"[..], true),
        Err(SendError::InvalidUtf8)
    );
    c.send(Message::text("next")).unwrap();
}

#[test]
fn control_payloads_are_capped() {
    let mut c = Connection::new(Role::Client, Config::default());
    assert_eq!(
        c.ping(vec![0u8; 126]),
        Err(SendError::ControlPayloadTooLong(126))
    );
    assert_eq!(
        c.pong(vec![0u8; 126]),
        Err(SendError::ControlPayloadTooLong(126))
    );
    c.ping(vec![0u8; 125]).unwrap();
    c.pong(Bytes::new()).unwrap();
    let frames = parse_frames(&take_output(&mut c));
    assert_eq!((frames[0].0, frames[0].2.len()), (OpCode::Ping, 125));
    assert_eq!((frames[1].0, frames[1].2.len()), (OpCode::Pong, 0));
}

#[test]
fn everything_queued_leaves_in_few_slices() {
    let mut s = Connection::new(Role::Server, Config::default());
    for i in 0..16 {
        s.send(Message::binary(vec![i as u8; 20])).unwrap();
    }
    s.feed(&client_frame(true, 9, b"p"));
    assert!(events(&mut s).is_empty());
    let mut slices = [std::io::IoSlice::new(&[]); 64];
    assert_eq!(
        s.poll_transmit(&mut slices),
        1,
        "17 small frames in one slice"
    );
    // Large payloads are referenced, not copied.
    let big = Bytes::from(vec![3u8; 100_000]);
    let mut s = Connection::new(Role::Server, Config::default());
    s.send(Message::Binary(big.clone())).unwrap();
    let mut slices = [std::io::IoSlice::new(&[]); 64];
    assert_eq!(s.poll_transmit(&mut slices), 2);
    assert_eq!(slices[1].as_ptr(), big.as_ptr());
}

#[test]
fn framed_transmit_hands_out_whole_frames() {
    let mut c = Connection::new(
        Role::Client,
        Config {
            framed_transmit: true,
            ..Config::default()
        },
    );
    c.send(Message::text("Hello World")).unwrap();
    c.pong(&b"hb"[..]).unwrap();
    let first = c.pop_frame().unwrap();
    assert_eq!(first.opcode(), OpCode::Text);
    assert_eq!(first.header().len(), 6);
    let mut wire = first.header().to_vec();
    wire.extend_from_slice(first.payload());
    assert_eq!(
        parse_frames(&wire),
        [(OpCode::Text, true, b"Hello World".to_vec())]
    );
    let second = c.pop_frame().unwrap();
    assert_eq!((second.opcode(), second.len()), (OpCode::Pong, 2 + 4 + 2));
    assert!(c.pop_frame().is_none());
    assert!(!c.has_transmit());
    // Without framed mode, frames are packed and not handed out one by one.
    let mut packed = Connection::new(Role::Client, Config::default());
    packed.send(Message::text("x")).unwrap();
    assert!(packed.pop_frame().is_none());
}

/// The wire bytes of a frame from `frame_fragment`: its header, then its transformed
/// payload or the data as given.
fn framed_wire(conn: &mut Connection, kind: MessageKind, data: &[u8], fin: bool) -> Vec<u8> {
    let framed = conn.frame_fragment(kind, data, fin).unwrap();
    let mut wire = framed.header().to_vec();
    wire.extend_from_slice(framed.payload().map_or(data, |p| &p[..]));
    wire
}

#[test]
fn frame_fragment_frames_like_send_fragment_without_queuing() {
    // Server: the same bytes as send_fragment, the payload left to the caller.
    let mut framed = Connection::new(Role::Server, Config::default());
    let mut queued = Connection::new(Role::Server, Config::default());
    for (kind, data, fin) in [
        (MessageKind::Text, &b"Hel"[..], false),
        (MessageKind::Text, &b"lo"[..], true),
        (MessageKind::Binary, &[7u8; 300][..], true),
    ] {
        let f = framed.frame_fragment(kind, data, fin).unwrap();
        assert!(f.payload().is_none());
        assert_eq!(f.fin(), fin);
        let mut wire = f.header().to_vec();
        wire.extend_from_slice(data);
        queued
            .send_fragment(kind, Bytes::copy_from_slice(data), fin)
            .unwrap();
        assert_eq!(wire, take_output(&mut queued));
        assert!(!framed.has_transmit(), "nothing is queued");
    }

    // Client: masked into a payload of its own that a server reads back.
    let mut client = Connection::new(Role::Client, Config::default());
    let mut server = Connection::new(Role::Server, Config::default());
    let f = client
        .frame_fragment(MessageKind::Text, b"masked", true)
        .unwrap();
    let (h, _) = FrameHeader::parse(f.header()).unwrap().unwrap();
    assert!(h.mask.is_some_and(|k| k != [0; 4]));
    assert_ne!(f.payload().map(|p| &p[..]), Some(&b"masked"[..]));
    server.feed(&framed_wire(&mut client, MessageKind::Binary, b"xyz", true));
    server.feed(&framed_wire(&mut client, MessageKind::Text, b"ok", true));
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::binary(&b"xyz"[..])))
    );
    assert_eq!(
        server.poll_event(),
        Some(Event::Message(Message::text("ok")))
    );

    // A zero masking key leaves the payload as given.
    let zero = Config {
        zero_mask_key: true,
        ..Config::default()
    };
    let mut client = Connection::new(Role::Client, zero);
    let f = client
        .frame_fragment(MessageKind::Binary, b"plain", true)
        .unwrap();
    assert!(f.payload().is_none());
    assert_eq!(f.header(), [0x82, 0x85, 0, 0, 0, 0]);
}

#[test]
fn frame_fragment_keeps_the_rules_of_send_fragment() {
    let mut s = Connection::new(Role::Server, Config::default());
    // A refused fragment changes nothing.
    assert_eq!(
        s.frame_fragment(MessageKind::Text, &[0xC3], true),
        Err(SendError::InvalidUtf8)
    );
    s.frame_fragment(MessageKind::Text, &[0xC3], false).unwrap();
    assert_eq!(
        s.frame_fragment(MessageKind::Binary, b"x", true),
        Err(SendError::KindMismatch)
    );
    let last = s.frame_fragment(MessageKind::Text, &[0xA9], true).unwrap();
    assert_eq!(last.opcode(), OpCode::Continuation);
    s.close(wspc::CloseCode::SUCCESS, "").unwrap();
    assert_eq!(
        s.frame_fragment(MessageKind::Binary, b"late", true),
        Err(SendError::Closed)
    );
}
