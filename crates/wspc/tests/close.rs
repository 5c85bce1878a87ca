//! The closing handshake (RFC 6455 §7) in every direction, timeouts, and the transport
//! lost without a Close frame.

mod common;

use std::time::{Duration, Instant};

use common::*;
use wspc::close::CloseFrameError;
use wspc::frame::OpCode;
use wspc::{CloseCode, CloseState, Config, Connection, Error, Event, Message, Role, SendError};

fn close_event(conn: &mut Connection) -> (u16, String) {
    match events(conn).pop() {
        Some(Event::Close(f)) => (f.code.as_u16(), f.reason.to_string()),
        other => panic!("expected Close, got {other:?}"),
    }
}

#[test]
fn client_initiated_close_is_echoed_and_the_server_closes_first() {
    let (mut c, mut s) = pair(Config::default());
    c.close(CloseCode::new(4000), "done").unwrap();
    assert_eq!(c.close_state(), CloseState::CloseSent);
    pump(&mut c, &mut s);
    assert_eq!(close_event(&mut s), (4000, "done".into()));
    assert_eq!(s.close_state(), CloseState::Closed);
    // The reply is written before the server may close the transport.
    assert!(!s.should_close_transport());
    let reply = take_output(&mut s);
    assert_eq!(sent_close_code(&reply), Some(CloseCode::new(4000)));
    assert!(s.should_close_transport());
    c.feed(&reply);
    // Answered with the same code and reason (as python `websockets` and node `ws` do).
    assert_eq!(close_event(&mut c), (4000, "done".into()));
    assert_eq!(c.close_state(), CloseState::Closed);
    assert!(
        !c.should_close_transport(),
        "the client waits for the server to close TCP"
    );
    c.handle_eof();
    assert_eq!(c.poll_event(), None, "a clean end is not a failure");
    assert!(c.should_close_transport());
}

#[test]
fn server_initiated_close() {
    let (mut c, mut s) = pair(Config::default());
    s.close(CloseCode::GOING_AWAY, "restart").unwrap();
    pump(&mut s, &mut c);
    assert_eq!(close_event(&mut c), (1001, "restart".into()));
    pump(&mut c, &mut s);
    assert_eq!(close_event(&mut s), (1001, "restart".into()));
    assert!(s.should_close_transport());
    assert_eq!(c.close_state(), CloseState::Closed);
}

#[test]
fn empty_close_is_reported_as_1005_and_answered_empty() {
    let mut s = Connection::new(Role::Server, Config::default());
    s.feed(&client_frame(true, 8, b""));
    assert_eq!(close_event(&mut s), (1005, String::new()));
    assert_eq!(
        parse_frames(&take_output(&mut s)),
        [(OpCode::Close, true, vec![])]
    );
    // And sending 1005 means an empty Close frame.
    let mut c = Connection::new(Role::Client, Config::default());
    c.close(CloseCode::EMPTY, "").unwrap();
    assert_eq!(
        parse_frames(&take_output(&mut c)),
        [(OpCode::Close, true, vec![])]
    );
}

#[test]
fn the_caller_may_choose_another_reply_before_it_is_written() {
    let mut s = Connection::new(Role::Server, Config::default());
    s.feed(&client_frame(true, 8, &close_payload(1000, b"")));
    assert_eq!(close_event(&mut s), (1000, String::new()));
    s.close(CloseCode::TRY_AGAIN_LATER, "busy").unwrap();
    let frames = parse_frames(&take_output(&mut s));
    assert_eq!(
        frames,
        [(OpCode::Close, true, close_payload(1013, b"busy"))]
    );
    // Once written, no second Close.
    assert_eq!(s.close(CloseCode::SUCCESS, ""), Err(SendError::Closed));
}

#[test]
fn without_auto_reply_the_caller_answers() {
    let config = Config {
        auto_close_reply: false,
        ..Config::default()
    };
    let mut s = Connection::new(Role::Server, config);
    s.feed(&client_frame(true, 8, &close_payload(1000, b"bye")));
    assert_eq!(close_event(&mut s), (1000, "bye".into()));
    assert_eq!(s.close_state(), CloseState::CloseReceived);
    assert!(take_output(&mut s).is_empty());
    // Data may still be sent before the reply (RFC 6455 §5.5.1).
    s.send(Message::text("last words")).unwrap();
    s.close(CloseCode::SUCCESS, "").unwrap();
    assert_eq!(s.close_state(), CloseState::Closed);
    let frames = parse_frames(&take_output(&mut s));
    assert_eq!(frames[0].0, OpCode::Text);
    assert_eq!(frames[1], (OpCode::Close, true, close_payload(1000, b"")));
    assert!(s.should_close_transport());
}

#[test]
fn after_our_close_no_data_but_control_frames_and_received_data_still_flow() {
    let (mut c, mut s) = pair(Config::default());
    c.close(CloseCode::SUCCESS, "").unwrap();
    assert_eq!(c.send(Message::text("x")), Err(SendError::Closed));
    assert_eq!(
        c.send_fragment(wspc::MessageKind::Binary, &b"x"[..], true),
        Err(SendError::Closed)
    );
    c.ping(&b"still here"[..]).unwrap();
    assert_eq!(c.close(CloseCode::SUCCESS, ""), Err(SendError::Closed));
    // The server's messages sent before it saw our Close are still delivered.
    s.send(Message::text("in flight")).unwrap();
    pump(&mut s, &mut c);
    assert_eq!(events(&mut c), [Event::Message(Message::text("in flight"))]);
}

#[test]
fn unsendable_codes_and_long_reasons_are_refused() {
    let mut c = Connection::new(Role::Client, Config::default());
    for code in [999u16, 1004, 1006, 1015, 1016, 2999, 5000] {
        assert_eq!(
            c.close(CloseCode::new(code), ""),
            Err(SendError::Close(CloseFrameError::UnsendableCode(code)))
        );
    }
    assert_eq!(
        c.close(CloseCode::EMPTY, "why"),
        Err(SendError::Close(CloseFrameError::ReasonWithoutCode))
    );
    assert_eq!(
        c.close(CloseCode::SUCCESS, &"r".repeat(124)),
        Err(SendError::Close(CloseFrameError::ReasonTooLong(124)))
    );
    assert_eq!(c.close_state(), CloseState::Open);
    c.close(CloseCode::SUCCESS, &"r".repeat(123)).unwrap();
    let frames = parse_frames(&take_output(&mut c));
    assert_eq!(frames[0].2.len(), 125);
}

#[test]
fn a_peer_that_never_answers_a_close_is_cut_off() {
    let mut c = Connection::new(
        Role::Client,
        Config {
            close_timeout: Duration::from_secs(3),
            ..Config::default()
        },
    );
    let t0 = Instant::now();
    c.handle_timeout(t0);
    c.close(CloseCode::SUCCESS, "").unwrap();
    take_output(&mut c);
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(3)));
    c.handle_timeout(t0 + Duration::from_secs(2));
    assert_eq!(c.poll_event(), None);
    assert!(!c.should_close_transport());
    c.handle_timeout(t0 + Duration::from_secs(3));
    assert_eq!(c.poll_event(), Some(Event::Failed(Error::CloseTimeout)));
    assert_eq!(Error::CloseTimeout.close_code(), CloseCode::ABORTED);
    assert!(c.should_close_transport());
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn the_close_timer_starts_at_the_next_time_given_if_none_was_known() {
    let mut s = Connection::new(
        Role::Server,
        Config {
            close_timeout: Duration::from_secs(1),
            ..Config::default()
        },
    );
    s.close(CloseCode::SUCCESS, "").unwrap();
    assert_eq!(s.poll_timeout(), None);
    let t0 = Instant::now();
    s.handle_timeout(t0);
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(1)));
}

#[test]
fn the_client_stops_waiting_for_the_server_to_close_tcp() {
    let (mut c, mut s) = pair(Config {
        close_timeout: Duration::from_secs(2),
        ..Config::default()
    });
    let t0 = Instant::now();
    c.handle_timeout(t0);
    s.close(CloseCode::SUCCESS, "").unwrap();
    pump(&mut s, &mut c);
    close_event(&mut c);
    take_output(&mut c);
    assert!(!c.should_close_transport());
    c.handle_timeout(t0 + Duration::from_secs(2));
    assert_eq!(c.poll_event(), None, "the handshake completed: no failure");
    assert!(c.should_close_transport());
}

#[test]
fn transport_lost_without_close_is_1006() {
    let (mut c, mut s) = pair(Config::default());
    c.send(Message::text("bye")).unwrap();
    pump(&mut c, &mut s);
    s.handle_eof();
    // Bytes that arrived before the end are still handed out first.
    assert_eq!(s.poll_event(), Some(Event::Message(Message::text("bye"))));
    let Some(Event::Failed(e)) = s.poll_event() else {
        panic!()
    };
    assert_eq!(e, Error::ConnectionLost);
    assert_eq!(e.close_code(), CloseCode::ABORTED);
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.close_state(), CloseState::Failed);
    assert!(s.should_close_transport());
    assert!(take_output(&mut s).is_empty(), "no Close frame for 1006");
}

#[test]
fn eof_after_our_close_without_reply_is_1006() {
    let mut c = Connection::new(Role::Client, Config::default());
    c.close(CloseCode::SUCCESS, "").unwrap();
    c.handle_eof();
    assert_eq!(c.poll_event(), Some(Event::Failed(Error::ConnectionLost)));
}

#[test]
fn a_failing_server_closes_first_and_a_failing_client_waits() {
    let mut s = Connection::new(Role::Server, Config::default());
    s.feed(&server_frame(true, 1, b"unmasked"));
    assert!(matches!(s.poll_event(), Some(Event::Failed(_))));
    take_output(&mut s);
    assert!(s.should_close_transport());

    let mut c = Connection::new(Role::Client, Config::default());
    c.feed(&client_frame(true, 1, b"masked"));
    assert!(matches!(c.poll_event(), Some(Event::Failed(_))));
    take_output(&mut c);
    assert!(!c.should_close_transport());
    c.handle_eof();
    assert_eq!(c.poll_event(), None);
    assert!(c.should_close_transport());
}

#[test]
fn data_after_the_peers_close_is_ignored() {
    let mut s = Connection::new(Role::Server, Config::default());
    s.feed(
        &[
            client_frame(true, 8, &close_payload(1000, b"")),
            client_frame(true, 1, b"late"),
        ]
        .concat(),
    );
    assert_eq!(close_event(&mut s), (1000, String::new()));
    s.feed(&client_frame(true, 1, b"later"));
    assert_eq!(s.poll_event(), None);
}
