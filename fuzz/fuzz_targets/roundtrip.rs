//! Round trips: what one side sends, the other decodes identically — whole messages and
//! fragmented ones, text and binary, Pings, plain or with permessage-deflate (parameters
//! from the input), the wire cut into arbitrary reads, in both directions, then a close
//! handshake with the same code and reason echoed.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use wspc::{CloseCode, CloseState, Config, Connection, Event, Message, MessageKind, Role};
use wspc_fuzz::{DeflateSetup, connection, drain};

#[derive(Arbitrary, Debug)]
enum Out {
    Whole { text: bool, data: Vec<u8> },
    Fragments { text: bool, parts: Vec<Vec<u8>> },
    Ping(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    deflate: Option<DeflateSetup>,
    messages: Vec<(bool, Out)>,
    cuts: Vec<u8>,
    close_code: u16,
    close_reason: String,
}

/// Moves `from`'s output to `to` in reads cut by `cuts`; returns `to`'s events.
fn carry(from: &mut Connection, to: &mut Connection, cuts: &[u8]) -> Vec<Event> {
    let wire = drain(from, 0);
    let mut events = Vec::new();
    let mut at = 0;
    let mut steps = cuts.iter().cycle();
    while at < wire.len() {
        let step = steps
            .next()
            .map_or(wire.len(), |c| usize::from(*c).max(1) * 7);
        let end = (at + step).min(wire.len());
        to.feed(&wire[at..end]);
        at = end;
        while let Some(e) = to.poll_event() {
            events.push(e);
        }
    }
    while let Some(e) = to.poll_event() {
        events.push(e);
    }
    events
}

fn text_of(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fuzz_target!(|input: Input| {
    let mut client = connection(Role::Client, Config::default(), input.deflate);
    let mut server = connection(Role::Server, Config::default(), input.deflate);
    for (to_server, out) in input.messages.into_iter().take(16) {
        let (tx, rx) = if to_server {
            (&mut client, &mut server)
        } else {
            (&mut server, &mut client)
        };
        let expected: Option<Message> = match out {
            Out::Whole { text, data } => {
                let m = if text {
                    Message::text(text_of(&data))
                } else {
                    Message::binary(data)
                };
                tx.send(m.clone()).expect("send");
                Some(m)
            }
            Out::Fragments { text, parts } => {
                if parts.is_empty() {
                    continue;
                }
                let n = parts.len().min(8);
                let mut whole = Vec::new();
                let kind = if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                // Text fragments split a valid string at arbitrary byte boundaries.
                let joined: Vec<u8> = if text {
                    text_of(&parts[..n].concat()).into_bytes()
                } else {
                    parts[..n].concat()
                };
                let mut at = 0;
                for (i, p) in parts[..n].iter().enumerate() {
                    let end = if i + 1 == n {
                        joined.len()
                    } else {
                        (at + p.len()).min(joined.len())
                    };
                    tx.send_fragment(kind, joined[at..end].to_vec(), i + 1 == n)
                        .expect("fragment");
                    whole.extend_from_slice(&joined[at..end]);
                    at = end;
                }
                Some(if text {
                    Message::text(text_of(&whole))
                } else {
                    Message::binary(whole)
                })
            }
            Out::Ping(mut p) => {
                p.truncate(125);
                tx.ping(p).expect("ping");
                None
            }
        };
        let events = carry(tx, rx, &input.cuts);
        match expected {
            Some(m) => assert_eq!(events, vec![Event::Message(m)]),
            None => assert!(events.is_empty(), "{events:?}"),
        }
        // Automatic Pongs go back.
        let _ = carry(rx, tx, &input.cuts);
    }
    // Closing: the server answers with the same code and reason.
    let code = CloseCode::new(input.close_code);
    let mut reason = input.close_reason;
    while reason.len() > 123 {
        reason.pop();
    }
    if client.close(code, &reason).is_err() {
        return;
    }
    let events = carry(&mut client, &mut server, &input.cuts);
    let [Event::Close(frame)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(frame.code, code);
    assert_eq!(frame.reason.as_str(), reason);
    let events = carry(&mut server, &mut client, &input.cuts);
    let [Event::Close(echo)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!((echo.code, echo.reason.as_str()), (code, reason.as_str()));
    assert_eq!(client.close_state(), CloseState::Closed);
    assert!(server.should_close_transport());
});
