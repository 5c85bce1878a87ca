//! The Windows WebSocket Protocol Component model, in safe Rust, on the [`wspc`] engine.
//!
//! A [`Handle`] is what `WEB_SOCKET_HANDLE` names in C: created with properties, taken
//! through the opening handshake (`Begin`/`End`, the application does the HTTP itself),
//! then driven through an *action queue*: the application queues sends
//! ([`Handle::send`]) and receives ([`Handle::receive`]), asks what to do next
//! ([`Handle::get_action`]: write these buffers, read into this buffer, this operation is
//! complete) and reports back ([`Handle::complete_action`]). Nothing here does I/O.
//!
//! Everything protocol is the engine's: frames are parsed, unmasked and validated (fail-fast
//! UTF-8) by a [`wspc::Connection`] in streaming mode (chunks no larger than the receive
//! buffer), outgoing frames are built and masked by the same connection (taken one at a
//! time with [`wspc::Connection::pop_frame`]), close codes follow [`wspc::CloseFrame`]'s
//! rules, and the handshake headers are checked by [`wspc::ClientHandshake`] and
//! [`wspc::handshake::Upgrade`].
//!
//! ## A client and a server, in memory
//!
//! ```
//! use websocket::component::{Action, Handle, HttpHeader, Received, SendPayload};
//! use websocket::{ActionQueue, BufferType};
//!
//! let mut client = Handle::new_client(&[]).unwrap();
//! let mut server = Handle::new_server(&[]).unwrap();
//!
//! // Opening handshake: the client's headers go into the request, the server's into the
//! // 101 response (the application writes the request and status lines itself).
//! let request = client.begin_client_handshake(&[], &[], &[]).unwrap();
//! let mut request: Vec<(String, String)> =
//!     request.into_iter().map(|h| (h.name.to_string(), h.value)).collect();
//! request.push(("Host".into(), "localhost".into()));
//! let as_headers = |list: &[(String, String)]| -> Vec<(Vec<u8>, Vec<u8>)> {
//!     list.iter().map(|(n, v)| (n.clone().into_bytes(), v.clone().into_bytes())).collect()
//! };
//! let request = as_headers(&request);
//! let request: Vec<HttpHeader> = request.iter().map(|(n, v)| HttpHeader::new(n, v)).collect();
//! let response = server.begin_server_handshake(None, &[], &request).unwrap();
//! let response: Vec<(String, String)> =
//!     response.into_iter().map(|h| (h.name.to_string(), h.value)).collect();
//! let response = as_headers(&response);
//! let response: Vec<HttpHeader> = response.iter().map(|(n, v)| HttpHeader::new(n, v)).collect();
//! client.end_client_handshake(&response, None).unwrap();
//! server.end_server_handshake().unwrap();
//!
//! // The client sends "Hello World": one SEND_TO_NETWORK, then the send completes.
//! client.send(BufferType::Utf8Message, SendPayload::data("Hello World"), 7).unwrap();
//! let mut wire = Vec::new();
//! let Action::SendToNetwork { context, buffers, .. } = client.get_action(ActionQueue::All, 2).unwrap()
//! else { panic!() };
//! buffers.iter().for_each(|b| wire.extend_from_slice(b));
//! let written = wire.len();
//! client.complete_action(context, written);
//! let Action::IndicateSendComplete { context, app_context: 7, .. } =
//!     client.get_action(ActionQueue::All, 2).unwrap() else { panic!() };
//! client.complete_action(context, 0);
//!
//! // The server receives it: read from the network, then the receive completes.
//! server.receive(None, 0).unwrap();
//! let Action::ReceiveFromNetwork { context, buffer, .. } = server.get_action(ActionQueue::All, 1).unwrap()
//! else { panic!() };
//! buffer[..wire.len()].copy_from_slice(&wire);
//! server.complete_action(context, wire.len());
//! let Action::IndicateReceiveComplete { context, buffer_type, data: Received::Data(text), .. } =
//!     server.get_action(ActionQueue::All, 1).unwrap() else { panic!() };
//! assert_eq!((buffer_type, text), (BufferType::Utf8Message, &b"Hello World"[..]));
//! server.complete_action(context, 0);
//! assert!(matches!(server.get_action(ActionQueue::All, 1).unwrap(), Action::NoAction));
//! ```

mod compression;
mod handshake;
mod placement;
mod properties;
mod session;

use bytes::Bytes;

pub use placement::{ArenaLayout, CAction, CBuffers, Place, ReadPlace};
pub use properties::{
    ALLOCATED_BUFFER_ALIGNMENT, ALLOCATED_BUFFER_OVERHEAD, DEFAULT_CLIENT_SEND_BUFFER_SIZE,
    DEFAULT_RECEIVE_BUFFER_SIZE, DEFAULT_SERVER_SEND_BUFFER_SIZE, KEEPALIVE_INTERVAL_MS,
    MAX_BUFFER_SIZE, MIN_RECEIVE_BUFFER_SIZE, MIN_SEND_BUFFER_SIZE, Properties, Property,
    SUPPORTED_VERSIONS,
};
pub use session::{ABORTED_STATUS, Action, AppBuffer, AppSlice, Completed, Received, SendBuffers};
pub use wspc::Role;

use crate::hresult::Hresult;
use handshake::ClientOffer;
use placement::AsCAction;
use session::{AsAction, DataSource, Session};

/// One header of an HTTP request or response, as bytes (names and values from C are not
/// necessarily UTF-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpHeader<'a> {
    /// The name, without `:`.
    pub name: &'a [u8],
    /// The value.
    pub value: &'a [u8],
}

impl<'a> HttpHeader<'a> {
    /// A header from a name and a value.
    pub fn new(
        name: &'a (impl AsRef<[u8]> + ?Sized),
        value: &'a (impl AsRef<[u8]> + ?Sized),
    ) -> Self {
        HttpHeader {
            name: name.as_ref(),
            value: value.as_ref(),
        }
    }
}

/// A header the component wants added to the request (client) or the `101` response
/// (server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedHeader {
    /// The name, canonically capitalised (`Sec-WebSocket-Key`).
    pub name: &'static str,
    /// The value.
    pub value: String,
}

/// What the server selected, as reported by [`Handle::end_client_handshake`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// Index (into the offered list) of the subprotocol the server selected, if any.
    pub subprotocol: Option<usize>,
    /// Indices (into the offered list) of the extensions the server selected, in the
    /// server's order.
    pub extensions: Vec<usize>,
}

/// What a send carries, by buffer type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendPayload {
    /// No buffer: required for `PING_PONG` and `UNSOLICITED_PONG`, and a Close frame
    /// without status for `CLOSE`.
    None,
    /// Message data, for the four `UTF8`/`BINARY` types. Served without a copy where no
    /// masking is needed.
    Data(Bytes),
    /// A Close frame's status and UTF-8 reason (at most 123 bytes), for `CLOSE`.
    Close {
        /// The status code (`WEB_SOCKET_CLOSE_STATUS`).
        status: u16,
        /// The reason.
        reason: Bytes,
    },
}

impl SendPayload {
    /// Message data (copied from anything byte-like; pass a [`Bytes`] to
    /// [`SendPayload::Data`] to avoid the copy).
    pub fn data(data: impl AsRef<[u8]>) -> SendPayload {
        SendPayload::Data(Bytes::copy_from_slice(data.as_ref()))
    }
}

/// A component handle (`WEB_SOCKET_HANDLE`): one WebSocket connection, client or server.
#[derive(Debug)]
pub struct Handle {
    role: Role,
    properties: Properties,
    phase: Phase,
    server_handshake_ended: bool,
}

#[derive(Debug)]
enum Phase {
    /// Created; no handshake function called yet.
    New,
    /// Client: `BeginClientHandshake` done, waiting for `EndClientHandshake`.
    ClientHandshake(ClientOffer),
    /// The data phase.
    Open(Box<Session>),
}

impl Handle {
    /// `WebSocketCreateClientHandle`: a client handle with `properties` applied to the
    /// defaults.
    pub fn new_client(properties: &[Property]) -> Result<Handle, Hresult> {
        Handle::new(Role::Client, properties)
    }

    /// `WebSocketCreateServerHandle`: a server handle with `properties` applied to the
    /// defaults.
    pub fn new_server(properties: &[Property]) -> Result<Handle, Hresult> {
        Handle::new(Role::Server, properties)
    }

    fn new(role: Role, properties: &[Property]) -> Result<Handle, Hresult> {
        Ok(Handle {
            role,
            properties: Properties::resolve(role, properties)?,
            phase: Phase::New,
            server_handshake_ended: false,
        })
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The handle's properties.
    pub fn properties(&self) -> &Properties {
        &self.properties
    }

    /// Whether the handle is in the data phase (sends, receives and actions allowed).
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open(_))
    }

    /// The permessage-deflate parameters agreed in the handshake (the
    /// `Sec-WebSocket-Extensions` element), if the handle negotiated it
    /// ([`Property::PerMessageDeflate`]); `None` before the data phase or without it.
    pub fn per_message_deflate(&self) -> Option<String> {
        match &self.phase {
            Phase::Open(session) => session.extension(),
            _ => None,
        }
    }

    /// `WebSocketSend`: queues one send. `buffer_type` says what to send; `payload` must
    /// match it (see [`SendPayload`]); `app_context` comes back with the send's actions.
    ///
    /// Each send becomes one frame: `*_FRAGMENT` types open or continue a message,
    /// `*_MESSAGE` types end it. Fails with `E_INVALID_PROTOCOL_OPERATION` before the data
    /// phase, after abort, after our Close for data, and when a fragment's type differs
    /// from the open message's; with `E_INVALIDARG` for a payload that does not match the
    /// type, a Close status that may not be sent, a reason over 123 bytes or not UTF-8,
    /// and text that is not UTF-8.
    #[inline]
    pub fn send(
        &mut self,
        buffer_type: crate::BufferType,
        payload: SendPayload,
        app_context: usize,
    ) -> Result<(), Hresult> {
        self.session()?.send(buffer_type, payload, app_context)
    }

    /// `WebSocketSend` of data whose payload is application memory given by address (the
    /// C layer's): `data` is the content of `buffer`, lent for this call only. The
    /// component frames it now (checks UTF-8, masks or compresses it into its own memory
    /// if it must) and, when the payload goes on the wire unchanged, hands out pieces of
    /// `buffer` by address ([`SendBuffers::app_payload`]) — it never reads `buffer` later,
    /// the caller does. Otherwise as [`Handle::send`] with a data type; `data` must be as
    /// long as `buffer` (`E_INVALIDARG`).
    #[inline]
    pub fn send_app_buffer(
        &mut self,
        buffer_type: crate::BufferType,
        buffer: AppBuffer,
        data: &[u8],
        app_context: usize,
    ) -> Result<(), Hresult> {
        let session = self.session()?;
        if data.len() != buffer.len || !buffer_type.is_data() {
            return Err(Hresult::E_INVALIDARG);
        }
        session.send_data(buffer_type, DataSource::App(buffer, data), app_context)
    }

    /// `WebSocketReceive`: queues one receive. With `target`, the data of the receive is
    /// limited to `target.len` bytes and handed back with the target, for the caller to
    /// copy there; without, it is handed out from the component's memory. Fails with
    /// `E_INVALID_PROTOCOL_OPERATION` before the data phase, after abort or a protocol
    /// error, and once the end of input (the peer's Close, or the transport's end) was
    /// delivered.
    #[inline]
    pub fn receive(
        &mut self,
        target: Option<AppBuffer>,
        app_context: usize,
    ) -> Result<(), Hresult> {
        self.session()?.receive(target, app_context)
    }

    /// `WebSocketGetAction`: the next action on `queue`, using at most `capacity` buffers.
    ///
    /// While an action of a queue is outstanding (not yet completed), that queue has no
    /// other action. Errors: `E_INVALID_PROTOCOL_OPERATION` before the data phase;
    /// `E_INVALID_PROTOCOL_FORMAT` when received bytes break the protocol (from then on, for
    /// every queued receive, until abort); `HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)`
    /// when the next action needs a buffer and `capacity` is 0.
    pub fn get_action(
        &mut self,
        queue: crate::ActionQueue,
        capacity: usize,
    ) -> Result<Action<'_>, Hresult> {
        self.session()?.get_action(queue, capacity, AsAction)
    }

    /// [`Handle::get_action`] with every buffer placed as the C layer hands it out
    /// ([`CAction`]): in the application-allocated buffer if the handle has one, in a
    /// receive's target buffer, or where it is.
    pub fn get_c_action(
        &mut self,
        queue: crate::ActionQueue,
        capacity: usize,
    ) -> Result<CAction<'_>, Hresult> {
        let arena = ArenaLayout::of(&self.properties);
        self.session()?
            .get_action(queue, capacity, AsCAction(arena))
    }

    /// If `action_context` names the outstanding `RECEIVE_FROM_NETWORK` action of a handle
    /// with an allocated buffer, the part of that buffer the action handed out: its
    /// completion passes the bytes read there to [`Handle::complete_receive_with`].
    #[inline]
    pub fn outstanding_arena_read(&self, action_context: usize) -> Option<std::ops::Range<usize>> {
        let layout = ArenaLayout::of(&self.properties)?;
        match &self.phase {
            Phase::Open(session) => Some(layout.read_region(session.read_len(action_context)?)),
            _ => None,
        }
    }

    /// `WebSocketCompleteAction`: the action identified by `action_context` was carried
    /// out, moving `bytes_transferred` bytes (bytes written for `SEND_TO_NETWORK`, bytes
    /// read for `RECEIVE_FROM_NETWORK`; ignored for the indications). An unknown or zero
    /// context is ignored. Returns what was completed.
    #[inline]
    pub fn complete_action(
        &mut self,
        action_context: usize,
        bytes_transferred: usize,
    ) -> Option<Completed> {
        match &mut self.phase {
            Phase::Open(session) => {
                session.complete_action(action_context, bytes_transferred, None)
            }
            _ => None,
        }
    }

    /// The bytes the outstanding `INDICATE_RECEIVE_COMPLETE` action `action_context`
    /// delivers (what [`Action::IndicateReceiveComplete`] shows as [`Received`]), as
    /// [`Bytes`] sharing the component's memory: a receiver that keeps them (to echo them
    /// with [`SendPayload::Data`], say) needs no copy. `None` for any other context.
    ///
    /// ```
    /// # use websocket::component::{Action, Handle, HttpHeader, Received, SendPayload};
    /// # use websocket::{ActionQueue, BufferType};
    /// # fn echo(server: &mut Handle) {
    /// if let Ok(Action::IndicateReceiveComplete { context, buffer_type, .. }) =
    ///     server.get_action(ActionQueue::Receive, 1)
    /// {
    ///     let data = server.received_bytes(context).unwrap();
    ///     server.complete_action(context, 0);
    ///     if buffer_type == BufferType::BinaryMessage {
    ///         server.send(buffer_type, SendPayload::Data(data), 0).unwrap();
    ///     }
    /// }
    /// # }
    /// ```
    #[inline]
    pub fn received_bytes(&self, action_context: usize) -> Option<Bytes> {
        match &self.phase {
            Phase::Open(session) => session.received_bytes(action_context),
            _ => None,
        }
    }

    /// Completes a `RECEIVE_FROM_NETWORK` action whose bytes were read into memory other
    /// than the buffer the action handed out (the C layer's application-allocated
    /// buffer): the component takes `data` as the bytes read. Other actions complete as
    /// with [`Handle::complete_action`] with `data.len()` bytes.
    #[inline]
    pub fn complete_receive_with(
        &mut self,
        action_context: usize,
        data: &[u8],
    ) -> Option<Completed> {
        match &mut self.phase {
            Phase::Open(session) => session.complete_action(action_context, data.len(), Some(data)),
            _ => None,
        }
    }

    /// `WebSocketAbortHandle`: no more network work; queued operations still come out of
    /// [`Handle::get_action`] as completions so the application can reclaim them, then
    /// `NO_ACTION`. New sends and receives fail. Does nothing before the data phase.
    pub fn abort(&mut self) {
        if let Phase::Open(session) = &mut self.phase {
            session.abort();
        }
    }

    fn session(&mut self) -> Result<&mut Session, Hresult> {
        match &mut self.phase {
            Phase::Open(session) => Ok(session),
            _ => Err(Hresult::E_INVALID_PROTOCOL_OPERATION),
        }
    }
}
