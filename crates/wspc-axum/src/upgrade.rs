//! [`WebSocketUpgrade`]: the extractor, its settings, and the answer to the upgrade.

use std::future::Future;
use std::time::Duration;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, Version};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use wspc_tokio::{Accept, DeflateOptions, HandshakeError, Options, ServerBuilder, Upgrade};

use crate::socket::WebSocket;

/// Extractor for a WebSocket upgrade, as `axum::extract::ws::WebSocketUpgrade`: an
/// HTTP/1.1 `GET` with `Upgrade: websocket`, or an HTTP/2 extended CONNECT (RFC 8441;
/// route with `any`, since it is not a `GET`). The request is validated by the wspc
/// engine; an invalid one is rejected with its precise status (400, 405, 426).
///
/// Configure it (limits, subprotocols, compression, keepalive) and finish with
/// [`on_upgrade`](WebSocketUpgrade::on_upgrade).
#[must_use = "to set up the WebSocket connection, call `on_upgrade` and return its response"]
pub struct WebSocketUpgrade<F = DefaultOnFailedUpgrade> {
    options: Options,
    deflate: Option<DeflateOptions>,
    upgrade: Upgrade,
    requested: Vec<HeaderValue>,
    selected: Option<HeaderValue>,
    version: Version,
    on_upgrade: OnUpgrade,
    on_failed_upgrade: F,
}

impl<F> std::fmt::Debug for WebSocketUpgrade<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("options", &self.options)
            .field("deflate", &self.deflate)
            .field("requested", &self.requested)
            .field("selected", &self.selected)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<F> WebSocketUpgrade<F> {
    /// Accepted for compatibility with axum; wspc sizes its receive buffer to what
    /// arrives, so this has no effect.
    pub fn read_buffer_size(self, _size: usize) -> Self {
        self
    }

    /// Accepted for compatibility with axum; wspc writes everything queued in one wake-up
    /// in one vectored write, so this has no effect.
    pub fn write_buffer_size(self, _size: usize) -> Self {
        self
    }

    /// The most bytes queued for writing before `send` waits (backpressure).
    pub fn max_write_buffer_size(mut self, max: usize) -> Self {
        self.options = self.options.write_buffer_limit(max);
        self
    }

    /// The largest message, after decompression (larger ones close with 1009).
    pub fn max_message_size(mut self, max: usize) -> Self {
        self.options = self.options.max_message_size(max);
        self
    }

    /// The largest frame (larger ones close with 1009).
    pub fn max_frame_size(mut self, max: usize) -> Self {
        self.options = self.options.max_frame_size(max);
        self
    }

    /// Accepts frames a client sent unmasked (RFC 6455 requires masking; off by default).
    pub fn accept_unmasked_frames(mut self, accept: bool) -> Self {
        let mut config = self.options.to_engine_config();
        config.accept_unmasked_frames = accept;
        self.options = self.options.engine_config(config);
        self
    }

    /// The subprotocols this endpoint speaks, most preferred first: the first of them the
    /// client offered is selected.
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<std::borrow::Cow<'static, str>>,
    {
        let supported: Vec<std::borrow::Cow<'static, str>> =
            protocols.into_iter().map(Into::into).collect();
        self.selected = supported.iter().find_map(|p| {
            self.upgrade
                .subprotocols()
                .any(|offered| offered == p.as_ref())
                .then(|| HeaderValue::from_str(p).ok())
                .flatten()
        });
        self
    }

    /// The subprotocols the client offered, in its order.
    pub fn requested_protocols(&self) -> impl Iterator<Item = &HeaderValue> {
        self.requested.iter()
    }

    /// Selects a subprotocol directly (it must be one the client offered).
    pub fn set_selected_protocol(&mut self, protocol: HeaderValue) {
        self.selected = Some(protocol);
    }

    /// The selected subprotocol.
    pub fn selected_protocol(&self) -> Option<&HeaderValue> {
        self.selected.as_ref()
    }

    /// Accepts permessage-deflate (RFC 7692) when the client offers it, with the default
    /// settings (level 1, idle compressors parked after 1 s). Off by default, as in axum.
    pub fn deflate(mut self, on: bool) -> Self {
        self.deflate = on.then(DeflateOptions::default);
        self
    }

    /// Accepts permessage-deflate with these settings; `None` declines it.
    pub fn deflate_options(mut self, options: Option<DeflateOptions>) -> Self {
        self.deflate = options;
        self
    }

    /// Pings after `interval` of silence; closes with 1011 when the Pong is not back
    /// within `timeout`.
    pub fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.options = self.options.keepalive(interval, timeout);
        self
    }

    /// All of wspc-tokio's connection options at once (limits, keepalive, close timeout,
    /// write buffer); keeps the deflate setting.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// What to do when the upgrade fails after the response (hyper could not hand the
    /// connection over).
    pub fn on_failed_upgrade<C: OnFailedUpgrade>(self, callback: C) -> WebSocketUpgrade<C> {
        WebSocketUpgrade {
            options: self.options,
            deflate: self.deflate,
            upgrade: self.upgrade,
            requested: self.requested,
            selected: self.selected,
            version: self.version,
            on_upgrade: self.on_upgrade,
            on_failed_upgrade: callback,
        }
    }

    /// Answers the upgrade — `101 Switching Protocols`, or `200` over HTTP/2 — and, once
    /// the response is sent, runs `callback` with the [`WebSocket`] in a task of its own.
    #[must_use = "to set up the WebSocket connection, this response must be returned"]
    pub fn on_upgrade<C, Fut>(self, callback: C) -> Response
    where
        C: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
        F: OnFailedUpgrade,
    {
        let builder = ServerBuilder::new()
            .options(self.options)
            .deflate(self.deflate);
        let subprotocol = self
            .selected
            .as_ref()
            .and_then(|p| p.to_str().ok())
            .map(String::from);
        let (response, connection) = match builder.answer(
            &self.upgrade,
            Accept::default().with_subprotocol(subprotocol),
        ) {
            Ok(answer) => answer,
            Err(e) => return WebSocketUpgradeRejection::handshake(e, self.version).into_response(),
        };
        let protocol = self.selected;
        let on_upgrade = self.on_upgrade;
        let on_failed_upgrade = self.on_failed_upgrade;
        let ws_protocol = protocol.clone();
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(e) => {
                    on_failed_upgrade.call(axum::Error::new(e));
                    return;
                }
            };
            let subprotocol = ws_protocol
                .as_ref()
                .and_then(|p| p.to_str().ok())
                .map(String::from);
            let socket = wspc_tokio::WebSocket::from_connection(TokioIo::new(upgraded), connection)
                .with_subprotocol(subprotocol);
            callback(WebSocket::new(socket, ws_protocol)).await;
        });
        response.map(|()| Body::empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade<DefaultOnFailedUpgrade> {
    type Rejection = WebSocketUpgradeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let version = parts.version;
        let upgrade = if version >= Version::HTTP_2 {
            let protocol = parts
                .extensions
                .get::<hyper::ext::Protocol>()
                .map(|p| p.as_str());
            Upgrade::from_extended_connect(parts, protocol)
        } else {
            Upgrade::from_parts(parts)
        }
        .map_err(|e| WebSocketUpgradeRejection::handshake(e, version))?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(WebSocketUpgradeRejection(Rejection::NotUpgradable))?;
        let requested = upgrade
            .subprotocols()
            .filter_map(|p| HeaderValue::from_str(p).ok())
            .collect();
        Ok(WebSocketUpgrade {
            options: Options::default().deliver_pings(true),
            deflate: None,
            upgrade,
            requested,
            selected: None,
            version,
            on_upgrade,
            on_failed_upgrade: DefaultOnFailedUpgrade,
        })
    }
}

/// What to do when a connection upgrade fails (as in axum).
pub trait OnFailedUpgrade: Send + 'static {
    /// Called with the error.
    fn call(self, error: axum::Error);
}

impl<F: FnOnce(axum::Error) + Send + 'static> OnFailedUpgrade for F {
    fn call(self, error: axum::Error) {
        self(error)
    }
}

/// The default [`OnFailedUpgrade`]: ignores the error.
#[derive(Debug)]
#[non_exhaustive]
pub struct DefaultOnFailedUpgrade;

impl OnFailedUpgrade for DefaultOnFailedUpgrade {
    fn call(self, _error: axum::Error) {}
}

/// Why a request could not be upgraded; answers with the precise status.
#[derive(Debug)]
pub struct WebSocketUpgradeRejection(Rejection);

#[derive(Debug)]
enum Rejection {
    /// The engine's validation failed (400, 405, 426 …).
    Handshake(HandshakeError, Version),
    /// The server did not leave an upgrade hook on the request (not served by hyper
    /// with upgrades enabled).
    NotUpgradable,
}

impl WebSocketUpgradeRejection {
    fn handshake(e: HandshakeError, version: Version) -> Self {
        WebSocketUpgradeRejection(Rejection::Handshake(e, version))
    }

    /// The status the rejection answers with.
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Rejection::Handshake(e, _) => e.status().unwrap_or(StatusCode::BAD_REQUEST),
            Rejection::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
        }
    }

    /// The engine's reason, when the request itself was invalid.
    pub fn handshake_error(&self) -> Option<&HandshakeError> {
        match &self.0 {
            Rejection::Handshake(e, _) => Some(e),
            Rejection::NotUpgradable => None,
        }
    }
}

impl std::fmt::Display for WebSocketUpgradeRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Rejection::Handshake(e, _) => write!(f, "{e}"),
            Rejection::NotUpgradable => f.write_str(
                "WebSocket request couldn't be upgraded since no upgrade state was present",
            ),
        }
    }
}

impl std::error::Error for WebSocketUpgradeRejection {}

impl IntoResponse for WebSocketUpgradeRejection {
    fn into_response(self) -> Response {
        let fallback = || (self.status(), self.to_string()).into_response();
        match &self.0 {
            Rejection::Handshake(e, version) => match e.response_for(*version) {
                Some(response) => response.map(Body::from),
                None => fallback(),
            },
            Rejection::NotUpgradable => fallback(),
        }
    }
}
