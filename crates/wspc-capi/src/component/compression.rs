//! permessage-deflate for the component (`WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE`, a wspc
//! extension): what a client handle offers and what a server handle accepts.
//!
//! The engine's negotiation and codec ([`wspc::deflate`]) with their defaults, except that
//! the compressor is never parked: the component runs no timer (it has no clock), so a
//! connection that sent a compressed message keeps its compressor (about 370 KiB with
//! context takeover) until the handle is deleted.

use std::sync::Arc;

use wspc::deflate::{DeflateClient, DeflateOptions, DeflateServer, NAME};
use wspc::extension::ExtensionHeader;

/// The options of both roles: the engine's defaults, without parking.
fn options() -> DeflateOptions {
    DeflateOptions {
        park_after: None,
        ..DeflateOptions::default()
    }
}

/// What a client handle offers: `permessage-deflate; client_max_window_bits`.
pub(super) fn client() -> Arc<DeflateClient> {
    Arc::new(DeflateClient {
        options: options(),
        ..DeflateClient::default()
    })
}

/// What a server handle accepts: any valid offer, 15-bit windows, context takeover.
pub(super) fn server() -> DeflateServer {
    DeflateServer {
        options: options(),
        ..DeflateServer::default()
    }
}

/// Whether an element of `Sec-WebSocket-Extensions` is permessage-deflate.
pub(super) fn is_deflate(element: &ExtensionHeader) -> bool {
    element.name.eq_ignore_ascii_case(NAME)
}
