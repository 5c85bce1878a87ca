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
