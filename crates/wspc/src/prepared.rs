//! [`PreparedMessage`]: one message sent by many connections (broadcast, fan-out), its
//! payload shared by all of them and its extension-encoded form (a permessage-deflate
//! compressed payload) made at most once.

use std::sync::OnceLock;

use bytes::Bytes;

use crate::message::{Message, MessageKind};

/// A message to send on many connections with
/// [`Connection::send_prepared`](crate::Connection::send_prepared).
///
/// The payload is a [`Bytes`] every connection references (a server copies only payloads
/// of at most 1 KiB, next to their frame header, so that they leave in one slice). A
/// connection whose negotiated extension can encode the message independently of its own
/// context (permessage-deflate: a message compressed on its own is a valid continuation
/// of any context) shares the encoded payload: the first such connection encodes it, the
/// others reuse it ([`PreparedCache`]).
///
/// ```
/// use std::sync::Arc;
/// use wspc::deflate::{DeflateClient, DeflateServer};
/// use wspc::{Accept, ClientHandshake, ClientRequest, Config, Event, Message, PreparedMessage, ServerHandshake};
///
/// // Two deflate connections, server side, and their clients.
/// let mut pairs = Vec::new();
/// for _ in 0..2 {
///     let request = ClientRequest::new("ws://localhost/").unwrap().extension(Arc::new(DeflateClient::default()));
///     let mut client = ClientHandshake::new(request).unwrap();
///     let mut hs = ServerHandshake::new(Config::default()).with_extension(Arc::new(DeflateServer::default()));
///     let req = hs.feed(client.request_bytes()).unwrap().unwrap();
///     let (response, server) = hs.accept(&req, Accept::default()).unwrap();
///     let client = client.feed(&response).unwrap().unwrap().connection;
///     pairs.push((server, client));
/// }
///
/// let json = r#"{"topic":"lobby","text":"hello everyone"}"#.repeat(10);
/// let message = PreparedMessage::new(Message::text(json.as_str()));
/// let mut wires = Vec::new();
/// for (server, client) in &mut pairs {
///     server.send_prepared(&message).unwrap();
///     let mut wire = Vec::new();
///     server.write_to(&mut wire).unwrap();
///     client.feed(&wire);
///     assert_eq!(client.poll_event(), Some(Event::Message(Message::text(json.as_str()))));
///     wires.push(wire);
/// }
/// // Compressed once, the same bytes on both connections.
/// assert_eq!(wires[0], wires[1]);
/// assert!(wires[0].len() < json.len() / 4);
/// ```
#[derive(Debug)]
pub struct PreparedMessage {
    kind: MessageKind,
    payload: Bytes,
    cache: PreparedCache,
}

impl PreparedMessage {
    /// Prepares `message` (no work is done until a connection sends it).
    pub fn new(message: impl Into<Message>) -> PreparedMessage {
        let message = message.into();
        PreparedMessage {
            kind: message.kind(),
            payload: message.into_bytes(),
            cache: PreparedCache::default(),
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The payload as the application gave it.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The shared encoding, for [`Extension::encode_prepared`](crate::Extension::encode_prepared).
    pub fn cache(&self) -> &PreparedCache {
        &self.cache
    }

    /// Whether an extension already encoded it (for tests and statistics).
    pub fn is_encoded(&self) -> bool {
        self.cache.0.get().is_some()
    }
}

/// The encoded form of a [`PreparedMessage`], made once by the first connection that asks
/// for it: the RSV bits and payload, tagged with a key that says which encoding it is
/// (an extension's name and parameters hashed together, chosen by the extension).
#[derive(Debug, Default)]
pub struct PreparedCache(OnceLock<Result<(u64, u8, Bytes), String>>);

impl PreparedCache {
    /// The encoding with `key`: made by `encode` if nothing is cached yet; `Ok(None)` when
    /// another encoding (a different key) was cached first — the caller then encodes the
    /// message some other way. An error from `encode` is cached too (every caller gets it).
    pub fn get_or_encode(
        &self,
        key: u64,
        encode: impl FnOnce() -> Result<(u8, Bytes), String>,
    ) -> Result<Option<(u8, Bytes)>, String> {
        let entry = self
            .0
            .get_or_init(|| encode().map(|(rsv, payload)| (key, rsv, payload)));
        match entry {
            Ok((k, rsv, payload)) if *k == key => Ok(Some((*rsv, payload.clone()))),
            Ok(_) => Ok(None),
            Err(e) => Err(e.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_once_and_refuses_another_key() {
        let message = PreparedMessage::new(Message::binary(vec![1u8; 10]));
        let mut calls = 0;
        let first = message.cache().get_or_encode(7, || {
            calls += 1;
            Ok((0x40, Bytes::from_static(b"x")))
        });
        assert_eq!(first, Ok(Some((0x40, Bytes::from_static(b"x")))));
        let again = message.cache().get_or_encode(7, || {
            calls += 1;
            Ok((0, Bytes::new()))
        });
        assert_eq!(again, Ok(Some((0x40, Bytes::from_static(b"x")))));
        assert_eq!(calls, 1);
        assert_eq!(
            message
                .cache()
                .get_or_encode(8, || unreachable!("cached already")),
            Ok(None)
        );
        assert!(message.is_encoded());
    }
}
