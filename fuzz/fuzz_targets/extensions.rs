//! `Sec-WebSocket-Extensions` parsing and permessage-deflate negotiation.
//!
//! Invariants: a parsed header formats back to text that parses to the same elements;
//! the server's answer to any client's offers is one the client accepts, and the two
//! negotiated codecs carry messages both ways unchanged; whatever the server does with
//! arbitrary offers, it never answers with parameters outside RFC 7692.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use wspc::MessageKind;
use wspc::deflate::{DeflateClient, DeflateOffer, DeflateOptions, DeflateServer};
use wspc::extension::{ClientExtension, ExtensionHeader, ServerExtension};

#[derive(Arbitrary, Debug)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    header: String,
    offers: Vec<Offer>,
    server_bits: u8,
    client_bits: u8,
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    messages: Vec<Vec<u8>>,
}

fn check_answer(answer: &ExtensionHeader) {
    assert_eq!(answer.name, "permessage-deflate");
    let mut seen = Vec::new();
    for (name, value) in &answer.params {
        assert!(!seen.contains(name), "parameter {name} repeated");
        seen.push(name.clone());
        match name.as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => assert!(value.is_none()),
            "server_max_window_bits" | "client_max_window_bits" => {
                let bits: u8 = value
                    .as_deref()
                    .expect("a value")
                    .parse()
                    .expect("a number");
                assert!((8..=15).contains(&bits), "{name}={bits}");
            }
            other => panic!("unknown parameter {other}"),
        }
    }
}

fuzz_target!(|input: Input| {
    // Parsing arbitrary text: format and parse again gives the same elements.
    if let Ok(list) = ExtensionHeader::parse_list(&input.header) {
        let text = ExtensionHeader::format_list(&list);
        assert_eq!(
            ExtensionHeader::parse_list(&text).as_ref(),
            Ok(&list),
            "{text}"
        );
        // The server on arbitrary offers: declines, or answers within RFC 7692.
        if let Some((answer, _)) = DeflateServer::default().negotiate(&list) {
            check_answer(&answer);
        }
    }
    // A client's offers, a server's policy: what the server answers, the client takes.
    let client = DeflateClient {
        offers: input
            .offers
            .iter()
            .take(4)
            .map(|o| DeflateOffer {
                server_no_context_takeover: o.server_no_context_takeover,
                client_no_context_takeover: o.client_no_context_takeover,
                server_max_window_bits: o.server_max_window_bits.map(|b| 8 + b % 8),
                client_max_window_bits: o.client_max_window_bits.map(|b| b.map(|b| 8 + b % 8)),
            })
            .collect(),
        options: DeflateOptions::default(),
    };
    let server = DeflateServer {
        server_max_window_bits: 8 + input.server_bits % 8,
        client_max_window_bits: 8 + input.client_bits % 8,
        server_no_context_takeover: input.server_no_context_takeover,
        client_no_context_takeover: input.client_no_context_takeover,
        ..DeflateServer::default()
    };
    let offered = ExtensionHeader::parse_list(&ExtensionHeader::format_list(&client.offers()))
        .expect("our own offers parse");
    let Some((answer, mut server_codec)) = server.negotiate(&offered) else {
        return;
    };
    check_answer(&answer);
    let reparsed = ExtensionHeader::parse_list(&answer.to_string()).expect("the answer parses");
    assert_eq!(reparsed.len(), 1);
    let mut client_codec = match client.accept(&reparsed[0]) {
        Ok(codec) => codec,
        Err(e) => panic!("the client refused the server's answer {answer}: {e}"),
    };
    // Messages both ways, unchanged.
    for (i, msg) in input.messages.iter().take(8).enumerate() {
        let (tx, rx) = if i % 2 == 0 {
            (&mut client_codec, &mut server_codec)
        } else {
            (&mut server_codec, &mut client_codec)
        };
        let mut wire = bytes::BytesMut::new();
        match tx.begin_encode(MessageKind::Binary, Some(msg.len())) {
            Some(_) => tx.encode(msg, true, &mut wire).expect("encode"),
            None => continue, // sent uncompressed: nothing to decode
        }
        let mut out = bytes::BytesMut::new();
        rx.begin_decode(wspc::frame::RSV1).expect("begin");
        let used = rx.decode(&wire, &mut out, usize::MAX).expect("decode");
        assert_eq!(used, wire.len());
        assert!(rx.finish_decode(&mut out, usize::MAX).expect("finish"));
        assert_eq!(&out[..], &msg[..], "message {i} changed");
    }
});
