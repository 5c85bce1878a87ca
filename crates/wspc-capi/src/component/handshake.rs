//! `Begin`/`End` of the opening handshake, both roles. The application does HTTP itself
//! (request and status lines); the component produces the WebSocket headers and checks
//! the peer's. Both are the engine's typed steps on `http` values: the client's headers
//! come from [`wspc::ClientHandshake::request`] and the server's response is checked by
//! [`wspc::ClientHandshake::check_response`]; the server validates the request's headers
//! with [`wspc::Upgrade::from_http1_headers`] and answers with [`wspc::Upgrade::accept`].
//! Extensions the application names stay with the component: like websocket.dll it
//! passes them through and checks the answer by name. With `WSPC_PERMESSAGE_DEFLATE`
//! ([`super::compression`]) permessage-deflate is the engine's: the client's offer goes in
//! `Sec-WebSocket-Extensions` after the application's and the engine checks the answer; a
//! server negotiates the client's offer with [`wspc::Upgrade::negotiate`].

use std::sync::Arc;

use wspc::extension::{ClientExtension, ExtensionHeader, ServerExtension};
use wspc::handshake::generate_key;
use wspc::http::header::{HeaderName, HeaderValue, SEC_WEBSOCKET_EXTENSIONS};
use wspc::http::{self, HeaderMap, StatusCode};
use wspc::{
    Accept, ClientHandshake, ClientRequest, Config, Delivery, HandshakeError, Limits, Upgrade,
};

use super::compression;
use super::session::Session;
use super::{Handle, HttpHeader, Negotiated, OwnedHeader, Phase, Properties, Role};
use crate::hresult::Hresult;

/// The client's offer, kept between `Begin` and `End`.
#[derive(Debug)]
pub(super) struct ClientOffer {
    key: String,
    subprotocols: Vec<String>,
    /// Names of the offered extensions (the token before any `;` parameters).
    extensions: Vec<String>,
    /// permessage-deflate is offered (the wspc property).
    deflate: bool,
}

/// The header names the component hands out, in Windows' spelling, in the order it
/// lists them.
const CLIENT_HEADERS: [&str; 5] = [
    "Connection",
    "Upgrade",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
];
const SERVER_HEADERS: [&str; 3] = ["Connection", "Upgrade", "Sec-WebSocket-Accept"];

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
        // The engine builds the request (and checks the subprotocols are tokens).
        let request = offer.handshake(Config::default())?;
        let mut headers = windows_headers(request.request().headers(), &CLIENT_HEADERS);
        let mut offered: Vec<String> = extensions.iter().map(|e| e.to_string()).collect();
        if deflate {
            offered.push(ExtensionHeader::format_list(
                &compression::client().offers(),
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
        // Extensions the application offered are matched by name here; permessage-deflate
        // (with the property) is the engine's to check.
        let mut selected = Vec::new();
        let mut deflate = Vec::new();
        let mut map = HeaderMap::with_capacity(response_headers.len());
        for h in response_headers {
            let (name, value) = typed(h)?;
            if name != SEC_WEBSOCKET_EXTENSIONS {
                map.append(name, value);
                continue;
            }
            let value = value
                .to_str()
                .map_err(|_| Hresult::E_INVALID_PROTOCOL_FORMAT)?;
            let elements = ExtensionHeader::parse_list(value)
                .map_err(|_| Hresult::E_INVALID_PROTOCOL_FORMAT)?;
            for element in elements {
                if offer.deflate && compression::is_deflate(&element) {
                    deflate.push(element);
                } else {
                    selected.push(element);
                }
            }
        }
        if !deflate.is_empty() {
            let value = HeaderValue::from_str(&ExtensionHeader::format_list(&deflate))
                .map_err(|_| Hresult::E_INVALID_PROTOCOL_FORMAT)?;
            map.append(SEC_WEBSOCKET_EXTENSIONS, value);
        }
        // The application checked the status line; the engine checks the headers of a 101.
        let (mut parts, ()) = http::Response::new(()).into_parts();
        parts.status = StatusCode::SWITCHING_PROTOCOLS;
        parts.headers = map;
        let config = data_config(Role::Client, &self.properties);
        let established = match offer.handshake(config)?.check_response(parts) {
            Ok(established) => established,
            Err(HandshakeError::UnofferedSubprotocol(_)) => {
                return Err(Hresult::E_SUBPROTOCOL_NOT_SUPPORTED);
            }
            Err(HandshakeError::UnofferedExtension(_)) => {
                return Err(Hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED);
            }
            Err(_) => return Err(Hresult::E_INVALID_PROTOCOL_FORMAT),
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
        let mut map = HeaderMap::with_capacity(request_headers.len());
        for h in request_headers {
            let (name, value) = typed(h)?;
            map.append(name, value);
        }
        let upgrade = Upgrade::from_http1_headers(&map).map_err(|e| match e {
            HandshakeError::UnsupportedVersion(Some(_)) => {
                Hresult::E_PROTOCOL_VERSION_NOT_SUPPORTED
            }
            _ => Hresult::E_INVALID_PROTOCOL_FORMAT,
        })?;
        // The subprotocol and the extensions the application names are its choice, not
        // checked against the offer (websocket.dll's behaviour), so they are added here. A
        // malformed or unacceptable deflate offer is declined (RFC 7692 §5).
        let policy: Option<Arc<dyn ServerExtension>> =
            deflate.then(|| Arc::new(compression::server()) as Arc<dyn ServerExtension>);
        let negotiated = policy.and_then(|p| upgrade.negotiate(&[p]));
        let answer = negotiated.as_ref().map(|n| n.header().to_string());
        let (response, connection) = upgrade
            .accept(
                Accept::default().with_extension(negotiated),
                data_config(Role::Server, &self.properties),
            )
            .map_err(|_| Hresult::E_INVALID_PROTOCOL_FORMAT)?;
        let mut headers = windows_headers(response.headers(), &SERVER_HEADERS);
        if let Some(p) = subprotocol {
            headers.push(header("Sec-WebSocket-Protocol", p));
        }
        let mut selected: Vec<String> = extensions.iter().map(|e| e.to_string()).collect();
        selected.extend(answer);
        if !selected.is_empty() {
            headers.push(header("Sec-WebSocket-Extensions", &selected.join(", ")));
        }
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
    /// The engine's client handshake for this offer. The application writes the request
    /// line and `Host`; the URI here only satisfies the engine's request builder, and
    /// nothing of it reaches the headers the component hands out.
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
/// apart for the action queue.
fn data_config(role: Role, properties: &Properties) -> Config {
    Config {
        limits: Limits::UNLIMITED,
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

/// One application header as `http` values: the name must be an HTTP token, the value
/// may not break the line.
fn typed(h: &HttpHeader<'_>) -> Result<(HeaderName, HeaderValue), Hresult> {
    if h.name.is_empty() || !h.name.iter().copied().all(is_token_char) {
        return Err(Hresult::E_INVALID_PROTOCOL_FORMAT);
    }
    let name = HeaderName::from_bytes(h.name).map_err(|_| Hresult::E_INVALID_PROTOCOL_FORMAT)?;
    let value = HeaderValue::from_bytes(h.value).map_err(|_| Hresult::E_INVALID_PROTOCOL_FORMAT)?;
    Ok((name, value))
}

/// The engine's headers named in `order`, in that order and Windows' spelling (the
/// engine's names are lower case, which HTTP allows but Windows programs may compare).
fn windows_headers(headers: &HeaderMap, order: &[&'static str]) -> Vec<OwnedHeader> {
    order
        .iter()
        .filter_map(|&name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some(header(name, value))
        })
        .collect()
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
