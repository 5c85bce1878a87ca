//! `Begin`/`End` of the opening handshake, both roles. The application does HTTP itself;
//! the component produces the WebSocket headers and checks the peer's. The checks are the
//! engine's: the peer's headers are handed to [`wspc::ClientHandshake`] (client) or
//! [`wspc::ServerHandshake`] and [`wspc::Request::validate`] (server) as an HTTP head.
//! Every use of the engine's handshake API is in this file.
//!
//! With `WSPC_PERMESSAGE_DEFLATE` ([`super::compression`]), the client's offer goes in
//! `Sec-WebSocket-Extensions` after the application's, the engine checks the server's
//! answer, and a server answers the client's offer; extension names the application passes
//! are still only matched by name, as without the property.

use wspc::extension::{ExtensionHeader, ServerExtension};
use wspc::handshake::{accept_key, generate_key};
use wspc::{
    ClientHandshake, ClientRequest, Config, Connection, Delivery, HandshakeError, Limits,
    ServerHandshake,
};

use super::session::Session;
use super::{Handle, HttpHeader, Negotiated, OwnedHeader, Phase, Properties, Role, compression};
use crate::hresult::Hresult;

/// The client's offer, kept between `Begin` and `End`.
#[derive(Debug)]
pub(super) struct ClientOffer {
    key: String,
    subprotocols: Vec<String>,
    /// Names of the extensions the application offered (the token before any `;`
    /// parameters).
    extensions: Vec<String>,
    /// permessage-deflate is offered (the wspc property).
    deflate: bool,
}

const EXTENSIONS_HEADER: &str = "sec-websocket-extensions";

impl Handle {
    /// `WebSocketBeginClientHandshake`: returns the headers the application must add to
    /// its `GET` request (replacing any of the same name): `Connection: Upgrade`,
    /// `Upgrade: websocket`, a fresh `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`, and
    /// `Sec-WebSocket-Protocol` / `Sec-WebSocket-Extensions` listing the offers
    /// (comma-space separated) when there are any.
    ///
    /// `initial_headers` (the headers the application plans to send) are accepted and do
    /// not change the result. Fails with `E_INVALID_PROTOCOL_OPERATION` on a server handle
    /// or when called twice, `E_INVALIDARG` for a subprotocol that is not an HTTP token or
    /// an extension that is not one `Sec-WebSocket-Extensions` element.
    pub fn begin_client_handshake(
        &mut self,
        subprotocols: &[&str],
        extensions: &[&str],
        initial_headers: &[HttpHeader<'_>],
    ) -> Result<Vec<OwnedHeader>, Hresult> {
        let _ = initial_headers;
        if self.role != Role::Client || !matches!(self.phase, Phase::New) {
            return Err(Hresult::E_INVALID_PROTOCOL_OPERATION);
        }
        let deflate = self.properties.per_message_deflate;
        let mut extension_names = Vec::with_capacity(extensions.len());
        for offer in extensions {
            match ExtensionHeader::parse_list(offer).as_deref() {
                // With the property, permessage-deflate is the component's to negotiate.
                Ok([element]) if !(deflate && compression::is_deflate(element)) => {
                    extension_names.push(element.name.clone())
                }
                _ => return Err(Hresult::E_INVALIDARG),
            }
        }
        let offer = ClientOffer {
            key: generate_key(),
            subprotocols: subprotocols.iter().map(|s| s.to_string()).collect(),
            extensions: extension_names,
            deflate,
        };
        // The engine checks the subprotocols are tokens.
        offer.handshake(Config::default())?;
        let mut headers = vec![
            header("Connection", "Upgrade"),
            header("Upgrade", "websocket"),
            header("Sec-WebSocket-Key", &offer.key),
            header("Sec-WebSocket-Version", "13"),
        ];
        if !subprotocols.is_empty() {
            headers.push(header("Sec-WebSocket-Protocol", &subprotocols.join(", ")));
        }
        let mut offered: Vec<String> = extensions.iter().map(|e| e.to_string()).collect();
        if deflate {
            offered.push(ExtensionHeader::format_list(
                &wspc::extension::ClientExtension::offers(&*compression::client()),
            ));
        }
        if !offered.is_empty() {
            headers.push(header("Sec-WebSocket-Extensions", &offered.join(", ")));
        }
        self.phase = Phase::ClientHandshake(offer);
        Ok(headers)
    }

    /// `WebSocketEndClientHandshake`: checks the server's response headers (the
    /// application checked the `101` status itself) and enters the data phase.
    ///
    /// `Upgrade: websocket` and `Connection: upgrade` (tokens, any case) and the right
    /// `Sec-WebSocket-Accept` are required (`E_INVALID_PROTOCOL_FORMAT`); a subprotocol or
    /// an extension that was not offered fails with `E_SUBPROTOCOL_NOT_SUPPORTED` /
    /// `E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED`. With `extension_capacity`, more selected
    /// extensions than that fail with `HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)`. A
    /// failed call leaves the handle waiting for another `End`.
    pub fn end_client_handshake(
        &mut self,
        response_headers: &[HttpHeader<'_>],
        extension_capacity: Option<usize>,
    ) -> Result<Negotiated, Hresult> {
        let Phase::ClientHandshake(offer) = &self.phase else {
            return Err(Hresult::E_INVALID_PROTOCOL_OPERATION);
        };
        let mut head = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        // Extensions the application offered are matched by name here; permessage-deflate
        // (with the property) is the engine's to check.
        let mut selected = Vec::new();
        let mut deflate = Vec::new();
        for h in response_headers {
            check_header(h)?;
            if h.name.eq_ignore_ascii_case(EXTENSIONS_HEADER.as_bytes()) {
                let value =
                    std::str::from_utf8(h.value).map_err(|_| Hresult::E_INVALID_PROTOCOL_FORMAT)?;
                let elements = ExtensionHeader::parse_list(value)
                    .map_err(|_| Hresult::E_INVALID_PROTOCOL_FORMAT)?;
                for element in elements {
                    if offer.deflate && compression::is_deflate(&element) {
                        deflate.push(element);
                    } else {
                        selected.push(element);
                    }
                }
            } else {
                push_header(&mut head, h);
            }
        }
        if !deflate.is_empty() {
            let value = ExtensionHeader::format_list(&deflate);
            push_header(&mut head, &HttpHeader::new(EXTENSIONS_HEADER, &value));
        }
        head.extend_from_slice(b"\r\n");
        let config = data_config(
            Role::Client,
            &self.properties,
            &head,
            response_headers.len(),
        );
        let established = match offer.handshake(config)?.feed(&head) {
            Ok(Some(established)) => established,
            Err(HandshakeError::UnofferedSubprotocol(_)) => {
                return Err(Hresult::E_SUBPROTOCOL_NOT_SUPPORTED);
            }
            Err(HandshakeError::UnofferedExtension(_)) => {
                return Err(Hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED);
            }
            Ok(None) | Err(_) => return Err(Hresult::E_INVALID_PROTOCOL_FORMAT),
        };
        let selected = offer.selected_extensions(&selected)?;
        if extension_capacity.is_some_and(|cap| selected.len() > cap) {
            return Err(Hresult::E_INSUFFICIENT_BUFFER);
        }
        let negotiated = Negotiated {
            subprotocol: established
                .subprotocol
                .and_then(|p| offer.subprotocols.iter().position(|o| *o == p)),
            extensions: selected,
        };
        self.phase = Phase::Open(Box::new(Session::new(
            established.connection,
            &self.properties,
        )));
        Ok(negotiated)
    }

    /// `WebSocketBeginServerHandshake`: checks the client's request headers (all of them;
    /// `Host` may be empty) and returns the headers the application must put in its
    /// `101 Switching Protocols` response: `Connection: Upgrade`, `Upgrade: websocket`,
    /// `Sec-WebSocket-Accept`, and `Sec-WebSocket-Protocol` / `Sec-WebSocket-Extensions`
    /// with the application's selection (not checked against the client's offer: that is
    /// the application's decision). The data phase starts here; `End` is optional.
    ///
    /// Errors: `E_INVALID_PROTOCOL_OPERATION` on a client handle or when called twice;
    /// `E_INVALIDARG` for a subprotocol that is not a token or an empty or multi-line
    /// extension; `E_PROTOCOL_VERSION_NOT_SUPPORTED` for a `Sec-WebSocket-Version` other
    /// than 13; `E_INVALID_PROTOCOL_FORMAT` for anything else missing or malformed.
    pub fn begin_server_handshake(
        &mut self,
        subprotocol: Option<&str>,
        extensions: &[&str],
        request_headers: &[HttpHeader<'_>],
    ) -> Result<Vec<OwnedHeader>, Hresult> {
        if self.role != Role::Server || !matches!(self.phase, Phase::New) {
            return Err(Hresult::E_INVALID_PROTOCOL_OPERATION);
        }
        if subprotocol.is_some_and(|p| p.is_empty() || !p.bytes().all(is_token_char)) {
            return Err(Hresult::E_INVALIDARG);
        }
        let deflate = self.properties.per_message_deflate;
        if extensions.iter().any(|e| {
            e.trim().is_empty()
                || e.bytes().any(|c| c.is_ascii_control())
                // With the property, permessage-deflate is the component's to select.
                || (deflate
                    && ExtensionHeader::parse_list(e)
                        .is_ok_and(|list| list.iter().any(compression::is_deflate)))
        }) {
            return Err(Hresult::E_INVALIDARG);
        }
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for h in request_headers {
            check_header(h)?;
            push_header(&mut head, h);
        }
        head.extend_from_slice(b"\r\n");
        let config = data_config(Role::Server, &self.properties, &head, request_headers.len());
        let mut parser = ServerHandshake::new(config.clone());
        let Ok(Some(request)) = parser.feed(&head) else {
            return Err(Hresult::E_INVALID_PROTOCOL_FORMAT);
        };
        let key = request.validate().map_err(|e| match e {
            HandshakeError::UnsupportedVersion(Some(_)) => {
                Hresult::E_PROTOCOL_VERSION_NOT_SUPPORTED
            }
            _ => Hresult::E_INVALID_PROTOCOL_FORMAT,
        })?;
        let mut headers = vec![
            header("Connection", "Upgrade"),
            header("Upgrade", "websocket"),
            header("Sec-WebSocket-Accept", &accept_key(key)),
        ];
        if let Some(p) = subprotocol {
            headers.push(header("Sec-WebSocket-Protocol", p));
        }
        // A malformed or unacceptable offer is declined: no compression (RFC 7692 §5).
        let accepted = if deflate {
            request
                .extension_offers()
                .and_then(|offers| compression::server().negotiate(&offers))
        } else {
            None
        };
        let mut selected: Vec<String> = extensions.iter().map(|e| e.to_string()).collect();
        selected.extend(accepted.as_ref().map(|(answer, _)| answer.to_string()));
        if !selected.is_empty() {
            headers.push(header("Sec-WebSocket-Extensions", &selected.join(", ")));
        }
        let connection =
            Connection::with_extension(Role::Server, config, accepted.map(|(_, codec)| codec));
        self.phase = Phase::Open(Box::new(Session::new(connection, &self.properties)));
        Ok(headers)
    }

    /// `WebSocketEndServerHandshake`: ends the server's handshake (optional: sends and
    /// receives work right after `Begin`). Fails with `E_INVALID_PROTOCOL_OPERATION` on a
    /// client handle, before `Begin`, or when called twice.
    pub fn end_server_handshake(&mut self) -> Result<(), Hresult> {
        if self.role != Role::Server || !self.is_open() || self.server_handshake_ended {
            return Err(Hresult::E_INVALID_PROTOCOL_OPERATION);
        }
        self.server_handshake_ended = true;
        Ok(())
    }
}

impl ClientOffer {
    /// The engine's client handshake for this offer (its request bytes are not used).
    fn handshake(&self, config: Config) -> Result<ClientHandshake, Hresult> {
        let mut request = ClientRequest::new("ws://localhost/")
            .map_err(|_| Hresult::E_FAIL)?
            .config(config);
        for p in &self.subprotocols {
            request = request.subprotocol(p.clone());
        }
        if self.deflate {
            request = request.extension(compression::client());
        }
        ClientHandshake::with_key(request, self.key.clone()).map_err(|_| Hresult::E_INVALIDARG)
    }

    /// Indices of the offered extensions the response's `Sec-WebSocket-Extensions`
    /// elements name (each at most once).
    fn selected_extensions(&self, elements: &[ExtensionHeader]) -> Result<Vec<usize>, Hresult> {
        let mut selected = Vec::new();
        for element in elements {
            let index = self
                .extensions
                .iter()
                .position(|name| name.eq_ignore_ascii_case(&element.name))
                .ok_or(Hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED)?;
            if selected.contains(&index) {
                return Err(Hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED);
            }
            selected.push(index);
        }
        Ok(selected)
    }
}

/// The engine configuration of the data phase: streaming delivery in chunks no larger than
/// the receive buffer, automatic Pongs, no automatic Close reply (the application sends
/// it, as with Windows), no timers, no size limits (the component streams), frames kept
/// apart for the action queue; handshake caps large enough for `head`.
fn data_config(role: Role, properties: &Properties, head: &[u8], headers: usize) -> Config {
    Config {
        limits: Limits {
            max_head_size: head.len().max(Limits::DEFAULT.max_head_size),
            max_headers: (headers + 1).max(Limits::DEFAULT.max_headers),
            ..Limits::UNLIMITED
        },
        delivery: Delivery::Chunks {
            max_chunk: properties.receive_buffer_size as usize,
        },
        validate_utf8: !properties.disable_utf8_verification,
        auto_pong: true,
        deliver_pings: false,
        auto_close_reply: false,
        keepalive: None,
        accept_unmasked_frames: role == Role::Server && properties.disable_masking,
        zero_mask_key: role == Role::Client && properties.disable_masking,
        framed_transmit: true,
        ..Config::default()
    }
}

/// Header names must be HTTP tokens; values may not break the line.
fn check_header(h: &HttpHeader<'_>) -> Result<(), Hresult> {
    if h.name.is_empty()
        || !h.name.iter().copied().all(is_token_char)
        || h.value.iter().any(|&c| c == b'\r' || c == b'\n' || c == 0)
    {
        return Err(Hresult::E_INVALID_PROTOCOL_FORMAT);
    }
    Ok(())
}

fn push_header(head: &mut Vec<u8>, h: &HttpHeader<'_>) {
    head.extend_from_slice(h.name);
    head.extend_from_slice(b": ");
    head.extend_from_slice(h.value);
    head.extend_from_slice(b"\r\n");
}

fn header(name: &'static str, value: &str) -> OwnedHeader {
    OwnedHeader {
        name,
        value: value.to_string(),
    }
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}
