//! Keepalive: Pings after silence, a Pong timeout that fails with 1011, all driven by the
//! time the caller passes in.

mod common;

use std::time::{Duration, Instant};

use common::*;
use wspc::frame::OpCode;
use wspc::{CloseCode, Config, Connection, Error, Event, Keepalive, Role};

const INTERVAL: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(5);

fn with_keepalive(role: Role) -> Connection {
    Connection::new(
        role,
        Config {
            keepalive: Some(Keepalive {
                interval: INTERVAL,
                timeout: TIMEOUT,
            }),
            ..Config::default()
        },
    )
}

#[test]
fn a_ping_goes_out_after_silence_and_a_pong_answers_it() {
    let (mut c, mut s) = (
        with_keepalive(Role::Client),
        Connection::new(Role::Server, Config::default()),
    );
    let t0 = Instant::now();
    c.handle_timeout(t0);
    assert_eq!(c.poll_timeout(), Some(t0 + INTERVAL));
    c.handle_timeout(t0 + INTERVAL - Duration::from_millis(1));
    assert!(take_output(&mut c).is_empty());
    c.handle_timeout(t0 + INTERVAL);
    let ping = take_output(&mut c);
    assert_eq!(parse_frames(&ping)[0].0, OpCode::Ping);
    assert_eq!(c.poll_timeout(), Some(t0 + INTERVAL + TIMEOUT));
    // The peer answers.
    s.feed(&ping);
    assert!(events(&mut s).is_empty());
    pump(&mut s, &mut c);
    assert!(matches!(c.poll_event(), Some(Event::Pong(_))));
    c.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(c.poll_event(), None, "answered in time");
    // The next Ping comes one interval after the last one.
    c.handle_timeout(t0 + 2 * INTERVAL);
    assert_eq!(parse_frames(&take_output(&mut c))[0].0, OpCode::Ping);
}

#[test]
fn no_pong_fails_with_1011() {
    let mut s = with_keepalive(Role::Server);
    let t0 = Instant::now();
    s.handle_timeout(t0);
    s.handle_timeout(t0 + INTERVAL);
    take_output(&mut s);
    s.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(s.poll_event(), Some(Event::Failed(Error::KeepaliveTimeout)));
    assert_eq!(
        sent_close_code(&take_output(&mut s)),
        Some(CloseCode::SERVER_ERROR)
    );
    assert!(s.should_close_transport());
}

#[test]
fn traffic_from_the_peer_postpones_the_ping() {
    let mut s = with_keepalive(Role::Server);
    let t0 = Instant::now();
    s.handle_timeout(t0);
    s.handle_timeout(t0 + Duration::from_secs(8));
    s.feed(&client_frame(true, 2, b"alive"));
    assert_eq!(events(&mut s).len(), 1);
    assert_eq!(
        s.poll_timeout(),
        Some(t0 + Duration::from_secs(8) + INTERVAL)
    );
    s.handle_timeout(t0 + INTERVAL);
    assert!(take_output(&mut s).is_empty());
}

#[test]
fn keepalive_stops_once_closing() {
    let mut c = with_keepalive(Role::Client);
    let t0 = Instant::now();
    c.handle_timeout(t0);
    c.close(CloseCode::SUCCESS, "").unwrap();
    take_output(&mut c);
    // Only the close timer is left.
    assert_eq!(c.poll_timeout(), Some(t0 + Config::default().close_timeout));
    c.handle_timeout(t0 + INTERVAL - Duration::from_secs(6));
    assert!(take_output(&mut c).is_empty());
}

#[test]
fn no_timers_without_keepalive() {
    let mut c = Connection::new(Role::Client, Config::default());
    c.handle_timeout(Instant::now());
    assert_eq!(c.poll_timeout(), None);
}

/// A caller that skips the clock while nothing runs (`wants_time` false, `forget_time`)
/// still gets every timer measured from the time it gives next: nothing is measured
/// from an old time.
#[test]
fn timers_armed_without_a_known_time_start_at_the_next_one() {
    let config = Config {
        message_timeout: Some(Duration::from_secs(30)),
        ..Config::default()
    };
    let t0 = Instant::now();

    // A peer's Close at a client that had been given a time long ago.
    let mut c = Connection::new(Role::Client, config.clone());
    c.handle_timeout(t0);
    assert!(!c.wants_time(), "nothing runs: no keepalive, nothing armed");
    c.forget_time();
    c.feed(&server_frame(true, 0x8, &close_payload(1000, b"")));
    assert!(matches!(c.poll_event(), Some(Event::Close(_))));
    assert!(c.wants_time(), "the close timer waits for the time");
    assert_eq!(c.poll_timeout(), None);
    let t1 = t0 + Duration::from_secs(3600);
    c.handle_timeout(t1);
    assert_eq!(c.poll_timeout(), Some(t1 + c.config().close_timeout));

    // Part of a message: its progress deadline starts at the next time, too.
    let mut s = Connection::new(Role::Server, config);
    s.handle_timeout(t0);
    s.forget_time();
    let whole = client_frame(true, 0x2, b"0123456789");
    s.feed(&whole[..8]);
    assert_eq!(s.poll_event(), None);
    assert!(s.wants_time());
    s.handle_timeout(t1);
    assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(30)));
    s.feed(&whole[8..]);
    assert!(matches!(s.poll_event(), Some(Event::Message(_))));
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.poll_timeout(), None);
    assert!(!s.wants_time(), "the message is whole: nothing runs");
}

/// Frames counted against the empty-frame window keep the clock wanted until a message
/// ends the count, and with keepalive the clock is always wanted.
#[test]
fn the_clock_is_wanted_while_empty_frames_count_and_with_keepalive() {
    let mut s = Connection::new(Role::Server, Config::default());
    assert!(!s.wants_time());
    s.feed(&client_frame(true, 0xA, b""));
    assert!(matches!(s.poll_event(), Some(Event::Pong(_))));
    assert!(s.wants_time());
    s.feed(&client_frame(true, 0x1, b"hi"));
    assert!(matches!(s.poll_event(), Some(Event::Message(_))));
    assert!(!s.wants_time());
    assert!(with_keepalive(Role::Server).wants_time());
}
