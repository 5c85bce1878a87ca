//! `Connection::send_prepared`: one message sent on many connections — the payload shared,
//! a permessage-deflate compression made once and reused, and the connection's own
//! compression context still valid around shared messages.
#![cfg(feature = "deflate")]

use std::sync::Arc;

use wspc::deflate::{DeflateClient, DeflateOffer, DeflateServer};
use wspc::frame::{FrameHeader, RSV1};
use wspc::{
    Accept, ClientHandshake, ClientRequest, Config, Connection, Event, Message, PreparedMessage,
    ServerHandshake,
};

/// A (server, client) pair; `offer` is the client's permessage-deflate offer, if any.
fn pair(offer: Option<DeflateOffer>) -> (Connection, Connection) {
    let mut request = ClientRequest::new("ws://localhost/").unwrap();
    if let Some(offer) = offer {
        request = request.extension(Arc::new(DeflateClient {
            offers: vec![offer],
            ..DeflateClient::default()
        }));
    }
    let mut client = ClientHandshake::new(request).unwrap();
    let mut hs =
        ServerHandshake::new(Config::default()).with_extension(Arc::new(DeflateServer::default()));
    let req = hs.feed(client.request_bytes()).unwrap().unwrap();
    let (response, server) = hs.accept(&req, Accept::default()).unwrap();
    (server, client.feed(&response).unwrap().unwrap().connection)
}

/// Moves what `server` queued to `client`; returns the wire bytes.
fn deliver(server: &mut Connection, client: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    server.write_to(&mut wire).unwrap();
    client.feed(&wire);
    wire
}

fn rsv_of(wire: &[u8]) -> u8 {
    FrameHeader::parse(wire).unwrap().unwrap().0.rsv
}

fn json(n: usize) -> String {
    r#"{"room":"lobby","from":"ada","text":"hello, everyone in the lobby"}"#.repeat(n)
}

#[test]
fn one_compression_serves_every_deflate_connection() {
    let takeover = DeflateOffer {
        client_max_window_bits: Some(None),
        ..DeflateOffer::default()
    };
    let no_takeover = DeflateOffer {
        server_no_context_takeover: true,
        ..takeover
    };
    let mut pairs = vec![pair(Some(takeover)), pair(Some(no_takeover)), pair(None)];
    let text = json(20);
    let message = PreparedMessage::new(Message::text(text.as_str()));
    let mut wires = Vec::new();
    for (server, client) in &mut pairs {
        server.send_prepared(&message).unwrap();
        wires.push(deliver(server, client));
        assert_eq!(
            client.poll_event(),
            Some(Event::Message(Message::text(text.as_str())))
        );
    }
    assert!(message.is_encoded());
    assert_eq!(
        wires[0], wires[1],
        "both deflate connections send the same bytes"
    );
    assert_eq!(rsv_of(&wires[0]), RSV1);
    assert!(wires[0].len() < text.len() / 4);
    assert_eq!(rsv_of(&wires[2]), 0, "no deflate: sent as it is");
    assert_eq!(wires[2].len(), text.len() + 4);
}

#[test]
fn own_messages_stay_valid_around_shared_ones() {
    // Context takeover both ways: the connection's own compressor must not refer to a
    // history the peer's window does not have (or lacks a shared message it does have).
    let (mut server, mut client) = pair(Some(DeflateOffer {
        client_max_window_bits: Some(None),
        ..DeflateOffer::default()
    }));
    for round in 0..5 {
        let own = json(3 + round);
        server.send(Message::text(own.as_str())).unwrap();
        deliver(&mut server, &mut client);
        assert_eq!(
            client.poll_event(),
            Some(Event::Message(Message::text(own.as_str())))
        );
        // Unlike `own`: a wrong back-reference cannot land on equal bytes.
        let shared_text: String = (0..700 + 50 * round)
            .map(|i| char::from(b'a' + ((i * 7 + i / 13) % 26) as u8))
            .collect();
        let shared = PreparedMessage::new(Message::text(shared_text.as_str()));
        server.send_prepared(&shared).unwrap();
        server.send(Message::text(own.as_str())).unwrap();
        deliver(&mut server, &mut client);
        assert_eq!(
            client.poll_event(),
            Some(Event::Message(Message::text(shared_text.as_str())))
        );
        assert_eq!(
            client.poll_event(),
            Some(Event::Message(Message::text(own.as_str())))
        );
    }
    // Parking in between (the compressor rebuilt from the kept window) stays valid too.
    let later = std::time::Instant::now() + std::time::Duration::from_secs(5);
    server.handle_timeout(later);
    let own = json(2);
    server.send(Message::text(own.as_str())).unwrap();
    deliver(&mut server, &mut client);
    assert_eq!(
        client.poll_event(),
        Some(Event::Message(Message::text(own.as_str())))
    );
}

#[test]
fn a_small_peer_window_gets_long_messages_uncompressed() {
    let (mut server, mut client) = pair(Some(DeflateOffer {
        server_max_window_bits: Some(9),
        client_max_window_bits: Some(None),
        ..DeflateOffer::default()
    }));
    // Longer than 2^9: a 15-bit-window encoding may refer further back than the peer reads.
    let long = json(20);
    let message = PreparedMessage::new(Message::text(long.as_str()));
    server.send_prepared(&message).unwrap();
    let wire = deliver(&mut server, &mut client);
    assert_eq!(rsv_of(&wire), 0);
    assert_eq!(
        client.poll_event(),
        Some(Event::Message(Message::text(long.as_str())))
    );
    // Shorter than the window: the shared compressed form is readable.
    let short = PreparedMessage::new(Message::text("x".repeat(300)));
    server.send_prepared(&short).unwrap();
    let wire = deliver(&mut server, &mut client);
    assert_eq!(rsv_of(&wire), RSV1);
    assert_eq!(
        client.poll_event(),
        Some(Event::Message(Message::text("x".repeat(300))))
    );
}

#[test]
fn binary_and_empty_messages() {
    let (mut server, mut client) = pair(Some(DeflateOffer::default()));
    for payload in [vec![], vec![0u8; 5000], (0..=255u8).collect::<Vec<_>>()] {
        let message = PreparedMessage::new(Message::binary(payload.clone()));
        server.send_prepared(&message).unwrap();
        deliver(&mut server, &mut client);
        assert_eq!(
            client.poll_event(),
            Some(Event::Message(Message::binary(payload)))
        );
    }
}
