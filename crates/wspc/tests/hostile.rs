//! Hostile input at the engine level: memory follows the bytes received, the shared
//! buffer budget, the progress deadline, the empty-frame budget and the close reasons we
//! send (issue 16).

mod common;

use std::time::{Duration, Instant};

use common::{client_frame, close_payload, events, parse_frames, sent_close_code, take_output};
use wspc::deflate::{Deflate, DeflateOptions, DeflateParams};
use wspc::extension::ExtensionHeader;
use wspc::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use wspc::mask::apply_mask;
use wspc::{Budget, CloseCode, Config, Connection, Error, Event, Limits, Message, Role};

/// A masked client frame header announcing `len` bytes (the payload follows separately).
fn header(fin: bool, opcode: OpCode, rsv: u8, len: u64) -> Vec<u8> {
    let h = FrameHeader {
        fin,
        rsv,
        opcode,
        mask: Some([0; 4]),
        payload_len: len,
    };
    let mut raw = [0u8; MAX_HEADER_LEN];
    let n = h.encode(&mut raw);
    raw[..n].to_vec()
}

fn server(config: Config) -> Connection {
    Connection::new(Role::Server, config)
}

fn failure(events: &[Event]) -> Option<&Error> {
    events.iter().find_map(|e| match e {
        Event::Failed(err) => Some(err),
        _ => None,
    })
}

/// The reason of the Close frame in `wire`.
fn sent_close_reason(wire: &[u8]) -> String {
    parse_frames(wire)
        .into_iter()
        .find(|(op, _, _)| *op == OpCode::Close)
        .map(|(_, _, p)| String::from_utf8(p[2..].to_vec()).unwrap())
        .expect("a Close frame")
}

#[test]
fn the_read_hint_follows_the_bytes_received_not_the_announced_length() {
    let mut s = server(Config::default());
    s.feed(&header(true, OpCode::Binary, 0, 16 << 20));
    s.feed(&[0]);
    assert_eq!(s.poll_event(), None);
    assert_eq!(
        s.read_hint(),
        4096,
        "one byte arrived: no large reservation"
    );
    // As the payload arrives, the hint grows with it (doubling at most), up to 1 MiB.
    s.feed(&vec![0; 100_000]);
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.read_hint(), 100_001);
    s.feed(&vec![0; 3 << 20]);
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.read_hint(), 1 << 20);
}

#[test]
fn read_from_never_reserves_what_a_header_merely_announces() {
    let mut s = server(Config::default());
    let mut input: &[u8] = &header(true, OpCode::Binary, 0, 16 << 20);
    s.read_from(&mut input).unwrap();
    assert_eq!(s.poll_event(), None);
    let mut drip: &[u8] = &[1];
    s.read_from(&mut drip).unwrap();
    assert_eq!(s.poll_event(), None);
    assert!(
        s.recv_buffer_mut().capacity() < 64 * 1024,
        "{} bytes reserved for one byte received",
        s.recv_buffer_mut().capacity()
    );
}

#[test]
fn the_budget_refuses_large_messages_past_the_cap_with_1009() {
    let budget = Budget::with_allowance(1 << 20, 32 * 1024);
    let config = Config {
        budget: Some(budget.clone()),
        ..Config::default()
    };
    let mut a = server(config.clone());
    let mut b = server(config.clone());
    // `a` holds 900 KiB of an unfinished 2 MiB frame: within the budget.
    a.feed(&header(true, OpCode::Binary, 0, 2 << 20));
    a.feed(&vec![0; 900 << 10]);
    assert_eq!(a.poll_event(), None);
    assert_eq!(budget.used(), (900 << 10) - (32 << 10));
    // `b` wants 200 KiB more than is left: refused with 1009, its memory released.
    b.feed(&header(true, OpCode::Binary, 0, 300 << 10));
    b.feed(&vec![0; 200 << 10]);
    let ev = events(&mut b);
    assert_eq!(failure(&ev), Some(&Error::BudgetExhausted));
    let wire = take_output(&mut b);
    assert_eq!(sent_close_code(&wire), Some(CloseCode::MESSAGE_TOO_BIG));
    assert_eq!(sent_close_reason(&wire), "server busy");
    assert_eq!(budget.refusals(), 1);
    // Small messages still flow on a third connection while the budget is taken.
    let mut c = server(config);
    c.feed(&client_frame(true, 2, &[7; 1000]));
    assert_eq!(
        c.poll_event(),
        Some(Event::Message(Message::binary(vec![7; 1000])))
    );
    // Everything is given back when connections finish or are dropped.
    drop(a);
    drop(c);
    assert_eq!(budget.used(), 0);
    assert!(budget.peak() >= (900 << 10) - (32 << 10) && budget.peak() < 900 << 10);
}

#[test]
fn fragments_gathered_count_against_the_budget() {
    let budget = Budget::with_allowance(256 << 10, 16 << 10);
    let mut s = server(Config {
        budget: Some(budget.clone()),
        ..Config::default()
    });
    let mut refused = false;
    for i in 0..100 {
        // A message of 8 KiB fragments that never ends.
        s.feed(&client_frame(false, if i == 0 { 2 } else { 0 }, &[1; 8192]));
        let ev = events(&mut s);
        if let Some(e) = failure(&ev) {
            assert_eq!(e, &Error::BudgetExhausted);
            refused = true;
            break;
        }
    }
    assert!(refused, "a message larger than the budget was not refused");
    assert!(budget.peak() <= 256 << 10);
    assert_eq!(budget.used(), 0, "the failed connection holds nothing");
}

fn deflate_server(config: Config) -> Connection {
    let params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let ext = Deflate::new(
        Role::Server,
        params,
        DeflateOptions::default(),
        ExtensionHeader::new("permessage-deflate"),
    );
    Connection::with_extension(Role::Server, config, Some(Box::new(ext)))
}

/// A raw deflate stream (sync-flushed, tail removed) of `n` zero bytes.
fn compressed_zeros(n: usize) -> Vec<u8> {
    use wspc::extension::Extension;
    let mut tx = Deflate::new(
        Role::Client,
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        },
        DeflateOptions::default(),
        ExtensionHeader::new("permessage-deflate"),
    );
    let mut out = bytes::BytesMut::new();
    tx.begin_encode(wspc::MessageKind::Binary, None).unwrap();
    tx.encode(&vec![0; n], false, &mut out).unwrap();
    out.to_vec()
}

#[test]
fn an_unfinished_compressed_message_counts_its_inflated_size() {
    // The first fragment of a compressed message that inflates to 32 MiB: within the
    // 64 MiB message limit, but not within a 4 MiB budget.
    let budget = Budget::new(4 << 20);
    let mut s = deflate_server(Config {
        budget: Some(budget.clone()),
        ..Config::default()
    });
    let payload = compressed_zeros(32 << 20);
    assert!(payload.len() < 1 << 20);
    let mut wire = header(false, OpCode::Binary, 0x40, payload.len() as u64);
    wire.extend_from_slice(&payload);
    s.feed(&wire);
    let ev = events(&mut s);
    assert_eq!(failure(&ev), Some(&Error::BudgetExhausted));
    assert!(
        budget.peak() <= 4 << 20,
        "peak {} over the budget",
        budget.peak()
    );
    assert_eq!(budget.used(), 0);
}

#[test]
fn an_incomplete_message_fails_with_1008_after_the_message_timeout() {
    let config = Config {
        message_timeout: Some(Duration::from_secs(10)),
        ..Config::default()
    };
    let t0 = Instant::now();
    let mut s = server(config);
    s.handle_timeout(t0);
    assert_eq!(s.poll_timeout(), None, "nothing incomplete: no deadline");
    s.feed(&header(true, OpCode::Binary, 0, 1000));
    s.feed(&[0; 10]);
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(10)));
    // More bytes of the same frame do not move the deadline.
    s.handle_timeout(t0 + Duration::from_secs(9));
    s.feed(&[0; 10]);
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(10)));
    s.handle_timeout(t0 + Duration::from_secs(10));
    assert_eq!(s.poll_event(), Some(Event::Failed(Error::MessageTimeout)));
    let wire = take_output(&mut s);
    assert_eq!(sent_close_code(&wire), Some(CloseCode::POLICY_VIOLATION));
    assert_eq!(sent_close_reason(&wire), "message timeout");
}

#[test]
fn the_deadline_starts_over_with_each_complete_message() {
    let config = Config {
        message_timeout: Some(Duration::from_secs(10)),
        ..Config::default()
    };
    let t0 = Instant::now();
    let mut s = server(config);
    s.handle_timeout(t0);
    // A fragmented message whose fragments keep coming, but that never ends, still fails.
    s.feed(&client_frame(false, 2, b"a"));
    assert_eq!(s.poll_event(), None);
    for i in 1..10 {
        s.handle_timeout(t0 + Duration::from_secs(i));
        s.feed(&client_frame(false, 0, b"b"));
        assert_eq!(s.poll_event(), None);
        // Control frames inside the message do not reset its deadline.
        s.feed(&client_frame(true, 9, b"ping"));
        assert_eq!(s.poll_event(), None);
    }
    s.handle_timeout(t0 + Duration::from_secs(10));
    assert_eq!(s.poll_event(), Some(Event::Failed(Error::MessageTimeout)));

    // Messages that complete, each split across reads, never time out.
    let mut s = server(Config {
        message_timeout: Some(Duration::from_secs(10)),
        ..Config::default()
    });
    s.handle_timeout(t0);
    let frame = client_frame(true, 2, &[5; 100]);
    s.feed(&frame[..50]);
    for i in 0..30u64 {
        s.handle_timeout(t0 + Duration::from_secs(i));
        // The end of one message and the start of the next in one read.
        s.feed(&frame[50..]);
        s.feed(&frame[..50]);
        assert!(
            matches!(s.poll_event(), Some(Event::Message(_))),
            "round {i}"
        );
        assert_eq!(s.poll_event(), None);
        assert!(s.poll_timeout().unwrap() > t0 + Duration::from_secs(i));
    }
}

#[test]
fn the_deadline_waits_for_the_first_time_given() {
    let mut s = server(Config {
        message_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    });
    s.feed(&header(true, OpCode::Text, 0, 10));
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.poll_timeout(), None);
    let t0 = Instant::now();
    s.handle_timeout(t0);
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(5)));
}

#[test]
fn unsolicited_pongs_past_the_empty_frame_budget_fail_with_1008() {
    let t0 = Instant::now();
    let mut s = server(Config::default());
    s.handle_timeout(t0);
    let pong = client_frame(true, 0xA, b"");
    let max = Limits::DEFAULT.max_empty_frames as usize;
    for _ in 0..max {
        s.feed(&pong);
    }
    let ev = events(&mut s);
    assert_eq!(ev.len(), max, "every Pong up to the limit is delivered");
    assert!(failure(&ev).is_none());
    s.feed(&pong);
    assert_eq!(
        s.poll_event(),
        Some(Event::Failed(Error::Protocol(
            wspc::ProtocolError::TooManyEmptyFrames { max: max as u32 }
        )))
    );
    let wire = take_output(&mut s);
    assert_eq!(sent_close_code(&wire), Some(CloseCode::POLICY_VIOLATION));
    assert_eq!(sent_close_reason(&wire), "too many empty frames");
}

#[test]
fn the_empty_frame_count_starts_over_each_second_and_with_each_message() {
    let t0 = Instant::now();
    let limits = Limits {
        max_empty_frames: 10,
        ..Limits::default()
    };
    let mut s = server(Config {
        limits,
        ..Config::default()
    });
    s.handle_timeout(t0);
    for second in 0..5u64 {
        s.handle_timeout(t0 + Duration::from_secs(second));
        for _ in 0..10 {
            s.feed(&client_frame(true, 0xA, b""));
        }
        assert!(failure(&events(&mut s)).is_none(), "second {second}");
    }
    // Endless empty continuations: the count starts over only when a message ends.
    s.handle_timeout(t0 + Duration::from_secs(10));
    for _ in 0..3 {
        s.feed(&client_frame(false, 1, b""));
        for _ in 0..9 {
            s.feed(&client_frame(false, 0, b""));
        }
        s.feed(&client_frame(true, 0, b"x"));
        let ev = events(&mut s);
        assert_eq!(ev, vec![Event::Message(Message::text("x"))]);
    }
    s.feed(&client_frame(false, 1, b""));
    for _ in 0..10 {
        s.feed(&client_frame(false, 0, b""));
    }
    assert!(matches!(
        failure(&events(&mut s)),
        Some(Error::Protocol(
            wspc::ProtocolError::TooManyEmptyFrames { .. }
        ))
    ));
}

#[test]
fn the_peer_close_is_answered_with_its_code_and_reason() {
    let mut s = server(Config::default());
    s.feed(&client_frame(true, 8, &close_payload(4001, b"bye now")));
    assert!(matches!(s.poll_event(), Some(Event::Close(_))));
    let wire = take_output(&mut s);
    assert_eq!(sent_close_code(&wire), Some(CloseCode::new(4001)));
    assert_eq!(sent_close_reason(&wire), "bye now");
}

#[test]
fn close_reasons_we_originate_are_short_and_free_of_internal_detail() {
    let limits = Limits {
        max_frame_size: 1000,
        ..Limits::default()
    };
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            header(true, OpCode::Binary, 0, 5000),
            1009,
            "message too big",
        ),
        (client_frame(true, 1, b"\xff"), 1007, "invalid UTF-8"),
        (client_frame(true, 3, b""), 1002, "protocol error"),
        (client_frame(false, 9, b""), 1002, "protocol error"),
    ];
    for (input, code, reason) in cases {
        let mut s = server(Config {
            limits,
            ..Config::default()
        });
        s.feed(&input);
        assert!(failure(&events(&mut s)).is_some());
        let wire = take_output(&mut s);
        assert_eq!(sent_close_code(&wire), Some(CloseCode::new(code)));
        assert_eq!(sent_close_reason(&wire), reason);
    }
}

#[test]
fn corrupt_compressed_data_is_1007_without_the_library_message() {
    let mut s = deflate_server(Config::default());
    let mut garbage = vec![0xff, 0xff, 0xff, 0xff];
    let mut wire = header(true, OpCode::Binary, 0x40, 4);
    apply_mask(&mut garbage, [0; 4], 0);
    wire.extend_from_slice(&garbage);
    s.feed(&wire);
    assert!(failure(&events(&mut s)).is_some());
    let out = take_output(&mut s);
    assert_eq!(sent_close_code(&out), Some(CloseCode::INVALID_PAYLOAD));
    assert_eq!(sent_close_reason(&out), "invalid compressed data");
}

#[test]
fn streaming_keeps_the_message_limit() {
    // Chunks are handed out as they arrive, but the message as a whole still may not
    // pass max_message_size: plain fragments fail on the header that would pass it,
    // compressed ones as the inflated size does.
    let limits = Limits {
        max_message_size: 10_000,
        ..Limits::default()
    };
    let config = Config {
        limits,
        delivery: wspc::Delivery::Chunks { max_chunk: 1024 },
        ..Config::default()
    };
    let mut s = server(config.clone());
    let mut delivered = 0;
    let mut failed = None;
    for i in 0..20 {
        s.feed(&client_frame(false, if i == 0 { 2 } else { 0 }, &[1; 1000]));
        for e in events(&mut s) {
            match e {
                Event::Chunk(c) => delivered += c.data.len(),
                Event::Failed(err) => failed = Some(err),
                other => panic!("{other:?}"),
            }
        }
        if failed.is_some() {
            break;
        }
    }
    assert_eq!(
        failed,
        Some(Error::Protocol(wspc::ProtocolError::MessageTooLarge {
            max: 10_000
        }))
    );
    assert_eq!(delivered, 10_000);

    let mut s = deflate_server(config);
    let payload = compressed_zeros(1 << 20);
    let mut wire = header(false, OpCode::Binary, 0x40, payload.len() as u64);
    wire.extend_from_slice(&payload);
    s.feed(&wire);
    let ev = events(&mut s);
    let streamed: usize = ev
        .iter()
        .map(|e| match e {
            Event::Chunk(c) => c.data.len(),
            _ => 0,
        })
        .sum();
    assert!(
        streamed <= 10_000,
        "{streamed} bytes streamed past the limit"
    );
    assert!(matches!(
        failure(&ev),
        Some(Error::Protocol(wspc::ProtocolError::MessageTooLarge { .. }))
    ));
}
