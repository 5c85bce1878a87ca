//! The extension seam, exercised with two toy extensions: negotiation in the handshake,
//! RSV bits claimed, payloads transformed per message in both directions, and the
//! message-size limit applied to the decoded size.

mod common;

use std::sync::Arc;

use common::*;
use wspc::bytes::{BufMut, BytesMut};
use wspc::extension::{
    ClientExtension, Extension, ExtensionError, ExtensionHeader, ServerExtension,
};
use wspc::frame::RSV1;
use wspc::{
    Accept, ClientHandshake, ClientRequest, CloseCode, Config, Connection, Delivery, Error, Event,
    HandshakeError, Limits, Message, MessageKind, ProtocolError, Role, ServerHandshake,
};

/// Inverts every payload byte; claims RSV1; transforms every message.
#[derive(Debug, Default)]
struct Invert;

impl Extension for Invert {
    fn name(&self) -> &'static str {
        "x-invert"
    }
    fn rsv_bits(&self) -> u8 {
        RSV1
    }
    fn begin_decode(&mut self, _rsv: u8) -> Result<(), ExtensionError> {
        Ok(())
    }
    fn decode(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<usize, ExtensionError> {
        let n = input.len().min(max_out);
        out.extend(input[..n].iter().map(|b| !b));
        Ok(n)
    }
    fn finish_decode(
        &mut self,
        _out: &mut BytesMut,
        _max_out: usize,
    ) -> Result<bool, ExtensionError> {
        Ok(true)
    }
    fn begin_encode(&mut self, _kind: MessageKind, _size_hint: Option<usize>) -> Option<u8> {
        Some(RSV1)
    }
    fn encode(
        &mut self,
        input: &[u8],
        _fin: bool,
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        out.extend(input.iter().map(|b| !b));
        Ok(())
    }
}

/// Decodes each byte into 1000 copies (a "decompression bomb"); finishing adds a trailer.
#[derive(Debug, Default)]
struct Expand {
    owed: usize,
    byte: u8,
}

impl Extension for Expand {
    fn name(&self) -> &'static str {
        "x-expand"
    }
    fn rsv_bits(&self) -> u8 {
        RSV1
    }
    fn begin_decode(&mut self, _rsv: u8) -> Result<(), ExtensionError> {
        Ok(())
    }
    fn decode(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<usize, ExtensionError> {
        let mut produced = 0;
        let mut consumed = 0;
        loop {
            while self.owed > 0 && produced < max_out {
                out.put_u8(self.byte);
                self.owed -= 1;
                produced += 1;
            }
            if self.owed > 0 || consumed == input.len() {
                return Ok(consumed);
            }
            self.byte = input[consumed];
            self.owed = 1000;
            consumed += 1;
        }
    }
    fn finish_decode(
        &mut self,
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<bool, ExtensionError> {
        self.decode(&[], out, max_out)?;
        Ok(self.owed == 0)
    }
    fn begin_encode(&mut self, _kind: MessageKind, _size_hint: Option<usize>) -> Option<u8> {
        None
    }
    fn encode(
        &mut self,
        input: &[u8],
        _fin: bool,
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        out.extend_from_slice(input);
        Ok(())
    }
}

#[derive(Debug)]
struct InvertOffer;

impl ClientExtension for InvertOffer {
    fn name(&self) -> &'static str {
        "x-invert"
    }
    fn offers(&self) -> Vec<ExtensionHeader> {
        vec![ExtensionHeader::new("x-invert").with_param("mode", Some("all".into()))]
    }
    fn accept(&self, response: &ExtensionHeader) -> Result<Box<dyn Extension>, String> {
        if response.params.is_empty() {
            Ok(Box::new(Invert))
        } else {
            Err("unexpected parameter".into())
        }
    }
}

#[derive(Debug)]
struct InvertPolicy;

impl ServerExtension for InvertPolicy {
    fn name(&self) -> &'static str {
        "x-invert"
    }
    fn negotiate(
        &self,
        offers: &[ExtensionHeader],
    ) -> Option<(ExtensionHeader, Box<dyn Extension>)> {
        offers
            .iter()
            .find(|o| o.param("mode") == Some(Some("all")))
            .map(|_| {
                (
                    ExtensionHeader::new("x-invert"),
                    Box::new(Invert) as Box<dyn Extension>,
                )
            })
    }
}

fn inverted_pair(config: Config) -> (Connection, Connection) {
    (
        Connection::with_extension(Role::Client, config.clone(), Some(Box::new(Invert))),
        Connection::with_extension(Role::Server, config, Some(Box::new(Invert))),
    )
}

#[test]
fn negotiated_in_the_handshake() {
    let request = ClientRequest::new("ws://localhost/")
        .unwrap()
        .extension(Arc::new(InvertOffer));
    let mut client = ClientHandshake::new(request).unwrap();
    assert!(
        String::from_utf8_lossy(client.request_bytes())
            .contains("\r\nsec-websocket-extensions: x-invert; mode=all\r\n")
    );
    let mut server = ServerHandshake::new(Config::default()).with_extension(Arc::new(InvertPolicy));
    let req = server.feed(client.request_bytes()).unwrap().unwrap();
    let (response, mut s) = server.accept(&req, Accept::default()).unwrap();
    assert!(
        String::from_utf8_lossy(&response).contains("\r\nsec-websocket-extensions: x-invert\r\n")
    );
    let mut c = client.feed(&response).unwrap().unwrap().connection;
    assert_eq!(c.extension().map(|e| e.name()), Some("x-invert"));
    assert_eq!(s.extension().map(|e| e.name()), Some("x-invert"));
    c.send(Message::text("through the seam")).unwrap();
    let wire = take_output(&mut c);
    assert_eq!(wire[0], 0x80 | RSV1 | 1, "RSV1 on the frame");
    s.feed(&wire);
    assert_eq!(
        events(&mut s),
        [Event::Message(Message::text("through the seam"))]
    );
}

#[test]
fn a_server_without_the_extension_declines_and_the_client_refuses_unknown_answers() {
    let request = ClientRequest::new("ws://localhost/")
        .unwrap()
        .extension(Arc::new(InvertOffer));
    let client = ClientHandshake::new(request).unwrap();
    let mut server = ServerHandshake::new(Config::default());
    let req = server.feed(client.request_bytes()).unwrap().unwrap();
    let (response, s) = server.accept(&req, Accept::default()).unwrap();
    assert!(!String::from_utf8_lossy(&response).contains("Extensions"));
    assert!(s.extension().is_none());
    // A response naming a parameter the client did not expect fails the handshake.
    let request = ClientRequest::new("ws://localhost/")
        .unwrap()
        .extension(Arc::new(InvertOffer));
    let mut client = ClientHandshake::with_key(request, "dGhlIHNhbXBsZSBub25jZQ==".into()).unwrap();
    let bad = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: x-invert; extra=1\r\n\r\n";
    assert_eq!(
        client.feed(bad.as_bytes()).unwrap_err(),
        HandshakeError::Extension("unexpected parameter".into())
    );
}

#[test]
fn transforms_whole_and_fragmented_messages_both_ways() {
    let (mut c, mut s) = inverted_pair(Config::default());
    c.send(Message::binary(vec![1u8, 2, 3])).unwrap();
    c.send_fragment(MessageKind::Text, &b"hel"[..], false)
        .unwrap();
    c.ping(&b"mid"[..]).unwrap();
    c.send_fragment(MessageKind::Text, &b"lo"[..], true)
        .unwrap();
    let wire = take_output(&mut c);
    // RSV1 only on first frames; continuation and control frames carry none.
    let rsv: Vec<u8> = {
        let mut at = 0;
        let mut v = Vec::new();
        while at < wire.len() {
            let (h, n) = wspc::frame::FrameHeader::parse(&wire[at..])
                .unwrap()
                .unwrap();
            v.push(h.rsv);
            at += n + h.payload_len as usize;
        }
        v
    };
    assert_eq!(rsv, [RSV1, RSV1, 0, 0]);
    for piece in wire.chunks(3) {
        s.feed(piece);
    }
    assert_eq!(
        events(&mut s),
        [
            Event::Message(Message::binary(vec![1u8, 2, 3])),
            Event::Message(Message::text("hello"))
        ]
    );
    s.send(Message::text("back")).unwrap();
    pump(&mut s, &mut c);
    // The server's automatic Pong comes first; neither is transformed.
    assert_eq!(
        events(&mut c),
        [
            Event::Pong(wspc::bytes::Bytes::from_static(b"mid")),
            Event::Message(Message::text("back"))
        ]
    );
}

#[test]
fn rsv_rules_still_apply_with_an_extension() {
    // RSV1 on a continuation frame.
    let (_, mut s) = inverted_pair(Config::default());
    s.feed(
        &[
            frame(false, RSV1, 2, b"a", Some([1, 2, 3, 4])),
            frame(true, RSV1, 0, b"b", Some([1, 2, 3, 4])),
        ]
        .concat(),
    );
    assert_eq!(
        events(&mut s).pop(),
        Some(Event::Failed(Error::Protocol(ProtocolError::ReservedBits(
            RSV1
        ))))
    );
    // A bit the extension does not claim.
    let (_, mut s) = inverted_pair(Config::default());
    s.feed(&frame(true, 0x20, 2, b"a", Some([1, 2, 3, 4])));
    assert_eq!(
        events(&mut s).pop(),
        Some(Event::Failed(Error::Protocol(ProtocolError::ReservedBits(
            0x20
        ))))
    );
    // RSV1 on a control frame.
    let (_, mut s) = inverted_pair(Config::default());
    s.feed(&frame(true, RSV1, 9, b"", Some([1, 2, 3, 4])));
    assert_eq!(
        events(&mut s).pop(),
        Some(Event::Failed(Error::Protocol(ProtocolError::ReservedBits(
            RSV1
        ))))
    );
    // A message without RSV1 passes through untouched.
    let (_, mut s) = inverted_pair(Config::default());
    s.feed(&client_frame(true, 2, b"plain"));
    assert_eq!(
        events(&mut s),
        [Event::Message(Message::binary(&b"plain"[..]))]
    );
}

#[test]
fn decoded_size_is_what_the_message_limit_bounds() {
    let limits = Limits {
        max_message_size: 10_000,
        ..Limits::default()
    };
    // 10 bytes decode to exactly 10 000: allowed.
    let mut s = Connection::with_extension(
        Role::Server,
        Config {
            limits,
            ..Config::default()
        },
        Some(Box::new(Expand::default())),
    );
    s.feed(&frame(true, RSV1, 2, &[7; 10], Some([1, 2, 3, 4])));
    let Some(Event::Message(m)) = s.poll_event() else {
        panic!()
    };
    assert_eq!(m.len(), 10_000);
    // 1 000 bytes would decode to 1 000 000: fails with 1009 without producing it all.
    let mut s = Connection::with_extension(
        Role::Server,
        Config {
            limits,
            ..Config::default()
        },
        Some(Box::new(Expand::default())),
    );
    s.feed(&frame(true, RSV1, 2, &[7; 1000], Some([1, 2, 3, 4])));
    let Some(Event::Failed(e)) = s.poll_event() else {
        panic!()
    };
    assert_eq!(
        e,
        Error::Protocol(ProtocolError::MessageTooLarge { max: 10_000 })
    );
    assert_eq!(e.close_code(), CloseCode::MESSAGE_TOO_BIG);
}

#[test]
fn decoded_messages_stream_in_bounded_chunks() {
    let config = Config {
        delivery: Delivery::Chunks { max_chunk: 4096 },
        limits: Limits {
            max_message_size: u64::MAX,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut s = Connection::with_extension(Role::Server, config, Some(Box::new(Expand::default())));
    s.feed(&frame(true, RSV1, 2, &[5; 100], Some([9, 9, 9, 9])));
    let mut total = 0;
    let mut fins = 0;
    for e in events(&mut s) {
        let Event::Chunk(c) = e else { panic!("{e:?}") };
        assert!(c.data.len() <= 4096);
        assert!(c.data.iter().all(|b| *b == 5));
        total += c.data.len();
        fins += usize::from(c.fin);
    }
    assert_eq!((total, fins), (100_000, 1));
}

#[test]
fn decoded_text_is_validated() {
    let mut s = Connection::with_extension(Role::Server, Config::default(), Some(Box::new(Invert)));
    let inverted: Vec<u8> = b"ok \xff".iter().map(|b| !b).collect();
    s.feed(&frame(true, RSV1, 1, &inverted, Some([1, 2, 3, 4])));
    assert_eq!(
        s.poll_event(),
        Some(Event::Failed(Error::Protocol(ProtocolError::InvalidUtf8)))
    );
}
