//! permessage-deflate (RFC 7692), built on the [extension seam](crate::extension).
//!
//! - [`DeflateClient`] offers the extension (one or more [`DeflateOffer`]s, most preferred
//!   first) and checks the server's answer strictly: a response that selects something
//!   not offered, repeats a parameter, has an invalid value or names an unknown
//!   parameter fails the handshake.
//! - [`DeflateServer`] reads every offer in order and accepts the first it can honour
//!   under its policy; malformed offers are declined, never fatal.
//! - The negotiated codec compresses each message with RSV1 on its first frame, strips
//!   and restores the `00 00 ff ff` tail, keeps or resets the LZ77 context as
//!   negotiated, and decompresses in bounded steps so the message-size limit applies to
//!   the inflated size (a small bomb fails with 1009 without inflating past the limit).
//!
//! Compression state is allocated on the first message that needs it and, without
//! context takeover, released after each message: an idle connection holds none. With
//! context takeover, a compressor and a decompressor idle for
//! [`DeflateOptions::park_after`] are *parked*: freed, keeping what their successors
//! need to continue the context (the last [`park_window`](DeflateOptions::park_window)
//! bytes sent; the peer's whole window of what was inflated).
//!
//! **Memory under a [`Budget`](crate::Budget).** With [`Config::budget`](crate::Config),
//! the connection charges codec state to the budget before it is made (zlib-rs: 371 KiB
//! for a compressor with a 15-bit window, 46 KiB for a decompressor, whatever its
//! window) and gives it back as it is freed, parked or released. A compressor is made
//! only while the budget, counting it, stays within half its cap; otherwise that message
//! goes out uncompressed (RSV1 clear, as RFC 7692 always allows): with context takeover
//! the peer's window only holds compressed messages, so later compressed messages stay a
//! valid continuation. A decompressor the budget cannot hold fails the connection with
//! 1009 "server busy", as a message whose data does not fit would. The windows kept by
//! parked state (at most 8 KiB sent and 32 KiB received, by default) are per-connection
//! memory outside the budget.
//!
//! **Window bits 8.** zlib cannot compress with a 256-byte window. When a peer limits our
//! sending window to 8 bits, this side sends its messages uncompressed (RSV1 clear, which
//! RFC 7692 always allows); decompression of a peer's 8-bit window uses a 512-byte
//! window, which reads any stream made with a smaller one.
//!
//! ```
//! use std::sync::Arc;
//! use wspc::deflate::{DeflateClient, DeflateServer};
//! use wspc::{Accept, ClientHandshake, ClientRequest, Config, Event, Message, ServerHandshake};
//!
//! let request = ClientRequest::new("ws://localhost/").unwrap().extension(Arc::new(DeflateClient::default()));
//! let mut client = ClientHandshake::new(request).unwrap();
//! let mut server = ServerHandshake::new(Config::default()).with_extension(Arc::new(DeflateServer::default()));
//! let request = server.feed(client.request_bytes()).unwrap().unwrap();
//! let (response, mut server) = server.accept(&request, Accept::default()).unwrap();
//! let mut client = client.feed(&response).unwrap().unwrap().connection;
//! assert_eq!(client.extension().unwrap().negotiated().to_string(), "permessage-deflate");
//!
//! let json = r#"{"id":1,"name":"wspc","tags":["a","b"],"id2":1,"name2":"wspc"}"#.repeat(20);
//! client.send(Message::text(json.as_str())).unwrap();
//! let mut wire = Vec::new();
//! client.write_to(&mut wire).unwrap();
//! assert!(wire.len() < json.len() / 4, "{} bytes on the wire for {}", wire.len(), json.len());
//! server.feed(&wire);
//! assert_eq!(server.poll_event(), Some(Event::Message(Message::text(json))));
//! ```

mod codec;
mod negotiate;
mod tail;

pub use codec::Deflate;

use crate::extension::{ClientExtension, Extension, ExtensionHeader, ServerExtension};
use std::time::Duration;

/// The registered extension name.
pub const NAME: &str = "permessage-deflate";

/// How to compress: shared by both roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateOptions {
    /// zlib compression level, 0 (store) to 9 (best). Default 1: on messages of a few
    /// KiB, higher levels spend most of their time building Huffman tables for every
    /// message (`cargo bench -p wspc --bench deflate`: 1 KiB JSON compresses 4.1× at
    /// level 1 and 6.0× at level 6, but level 6 is about ten times slower).
    pub level: u32,
    /// Whole messages shorter than this are sent uncompressed (they rarely shrink and
    /// cost CPU). Default 0: compress everything.
    pub threshold: usize,
    /// With context takeover, free the compressor and the decompressor after this long
    /// without a compressed message either way (never inside a message). The compressor
    /// keeps only the last [`park_window`] bytes sent, with which the next message's
    /// compressor is primed as its dictionary, so the wire stays a valid continuation of
    /// the same context; the decompressor keeps the last bytes it inflated (the peer's
    /// window, at most 32 KiB), which become the next decompressor's window. zlib-rs's
    /// compressor holds about 370 KiB (its window, chains and a fixed 128 KiB hash
    /// table), its decompressor 46 KiB; parked, an idle connection holds the kept bytes
    /// instead. `None` keeps both for the connection's life. Default: 1 s (driven by
    /// [`Connection::handle_timeout`](crate::Connection::handle_timeout)).
    ///
    /// [`park_window`]: DeflateOptions::park_window
    pub park_after: Option<Duration>,
    /// How much of what was sent a parked compressor keeps (at most the window; default
    /// 8 KiB). Messages after a park can refer back this far instead of the whole window.
    pub park_window: usize,
}

impl Default for DeflateOptions {
    fn default() -> Self {
        DeflateOptions {
            level: 1,
            threshold: 0,
            park_after: Some(Duration::from_secs(1)),
            park_window: 8 * 1024,
        }
    }
}

/// One permessage-deflate offer, as a client makes it (RFC 7692 §7.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateOffer {
    /// Ask the server not to keep its LZ77 context between messages
    /// (`server_no_context_takeover`).
    pub server_no_context_takeover: bool,
    /// Tell the server this client will not keep its context between messages
    /// (`client_no_context_takeover`); the client then resets after every message.
    pub client_no_context_takeover: bool,
    /// Ask the server to compress with at most this window (8–15,
    /// `server_max_window_bits=N`).
    pub server_max_window_bits: Option<u8>,
    /// Offer `client_max_window_bits`: `Some(None)` without a value (the server may pick a
    /// window for us), `Some(Some(n))` with one (we will use at most `n`).
    pub client_max_window_bits: Option<Option<u8>>,
}

impl DeflateOffer {
    /// This offer as a `Sec-WebSocket-Extensions` element.
    pub fn header(&self) -> ExtensionHeader {
        let mut h = ExtensionHeader::new(NAME);
        if self.server_no_context_takeover {
            h = h.with_param("server_no_context_takeover", None);
        }
        if self.client_no_context_takeover {
            h = h.with_param("client_no_context_takeover", None);
        }
        if let Some(bits) = self.server_max_window_bits {
            h = h.with_param("server_max_window_bits", Some(bits.to_string()));
        }
        if let Some(bits) = self.client_max_window_bits {
            h = h.with_param("client_max_window_bits", bits.map(|b| b.to_string()));
        }
        h
    }
}

/// The client side: what to offer and how to compress.
///
/// The default offers `permessage-deflate; client_max_window_bits` (the common browser
/// offer: the server may choose any window for us).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateClient {
    /// The offers, most preferred first (at least one).
    pub offers: Vec<DeflateOffer>,
    /// Compression level and threshold.
    pub options: DeflateOptions,
}

impl Default for DeflateClient {
    fn default() -> Self {
        DeflateClient {
            offers: vec![DeflateOffer {
                client_max_window_bits: Some(None),
                ..DeflateOffer::default()
            }],
            options: DeflateOptions::default(),
        }
    }
}

/// The server side: which offers to accept and with which parameters.
///
/// The default accepts any valid offer with the client's requested parameters, 15-bit
/// windows otherwise, context takeover where the client allows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateServer {
    /// Compression level and threshold.
    pub options: DeflateOptions,
    /// Largest window the server compresses with (8–15; 8 means the server sends
    /// uncompressed messages, see the module docs). Default 15.
    pub server_max_window_bits: u8,
    /// Window the server asks clients to use, when their offer allows it (8–15). Smaller
    /// windows save the server's decompression memory. Default 15.
    pub client_max_window_bits: u8,
    /// Never keep the server's compression context between messages (less memory per
    /// connection, less compression). Default `false`.
    pub server_no_context_takeover: bool,
    /// Ask clients not to keep theirs (`client_no_context_takeover`), so the server's
    /// decompression state can be released between messages. Default `false`.
    pub client_no_context_takeover: bool,
}

impl Default for DeflateServer {
    fn default() -> Self {
        DeflateServer {
            options: DeflateOptions::default(),
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
        }
    }
}

/// The parameters both sides agreed on: what
/// [`Connection::deflate`](crate::Connection::deflate) and
/// [`NegotiatedExtension::deflate`](crate::handshake::NegotiatedExtension::deflate) return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compression context after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compression context after every message.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window (8–15).
    pub server_max_window_bits: u8,
    /// The client's LZ77 window (8–15).
    pub client_max_window_bits: u8,
}

/// The parameters of `extension` if it is the permessage-deflate codec.
pub(crate) fn params_of(extension: &dyn Extension) -> Option<DeflateParams> {
    let any: &dyn std::any::Any = extension;
    any.downcast_ref::<Deflate>().map(Deflate::params)
}

impl ClientExtension for DeflateClient {
    fn name(&self) -> &'static str {
        NAME
    }

    fn offers(&self) -> Vec<ExtensionHeader> {
        self.offers.iter().map(DeflateOffer::header).collect()
    }

    fn accept(&self, response: &ExtensionHeader) -> Result<Box<dyn Extension>, String> {
        let (params, header) = negotiate::client_accept(&self.offers, response)?;
        Ok(Box::new(Deflate::new(
            crate::Role::Client,
            params,
            self.options,
            header,
        )))
    }
}

impl ServerExtension for DeflateServer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn negotiate(
        &self,
        offers: &[ExtensionHeader],
    ) -> Option<(ExtensionHeader, Box<dyn Extension>)> {
        let (params, header) = negotiate::server_select(self, offers)?;
        let codec = Deflate::new(crate::Role::Server, params, self.options, header.clone());
        Some((header, Box::new(codec)))
    }
}
