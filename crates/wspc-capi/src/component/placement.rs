//! Where each buffer of an action is handed out when the C layer passes it on: in the
//! component's memory as it is, copied into the application-allocated buffer
//! (`WEB_SOCKET_ALLOCATED_BUFFER_PROPERTY_TYPE`) or into a receive's target buffer, or as
//! a piece of an application send buffer given by address. Every such decision is taken
//! here, in safe code; the C layer only checks the bounds it is given and copies.

use std::ops::Range;

use super::properties::{ALLOCATED_BUFFER_OVERHEAD, Properties};
use super::session::{AppBuffer, AppSlice, Received, Render, SendBuffers};
use crate::types::{ActionKind, BufferType};

/// The layout of an application-allocated buffer: `[receive | send | control]`.
///
/// The receive region (the receive buffer size) takes network reads and delivered chunks;
/// the send region (the send buffer size) takes payload pieces the component made (masked
/// or compressed); the control region ([`ALLOCATED_BUFFER_OVERHEAD`] bytes) takes frame
/// headers at its start and control payloads at [`ArenaLayout::CONTROL_PAYLOAD`].
///
/// ```
/// use websocket::component::{ArenaLayout, Properties, Property, Role};
///
/// let props = Properties::resolve(Role::Server, &[
///     Property::ReceiveBufferSize(256),
///     Property::AllocatedBuffer { len: 256 + 16 + 144 },
/// ]).unwrap();
/// let layout = ArenaLayout::of(&props).unwrap();
/// assert_eq!((layout.send_region(), layout.control_region()), (256, 272));
/// assert_eq!(layout.len(), 416);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArenaLayout {
    receive: usize,
    send: usize,
    len: usize,
}

impl ArenaLayout {
    /// Offset of control payloads in the control region (after a header's 14 bytes).
    pub const CONTROL_PAYLOAD: usize = 16;

    /// The layout for a handle's properties, if it has an allocated buffer.
    pub fn of(properties: &Properties) -> Option<ArenaLayout> {
        properties.allocated_buffer_len.map(|len| ArenaLayout {
            receive: properties.receive_buffer_size as usize,
            send: properties.send_buffer_size as usize,
            len,
        })
    }

    /// The buffer's whole length (at least the three regions).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty (never: it holds at least the control region).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the receive region starts (0).
    pub fn receive_region(&self) -> usize {
        0
    }

    /// Where the send region starts.
    pub fn send_region(&self) -> usize {
        self.receive
    }

    /// Where the control region starts.
    pub fn control_region(&self) -> usize {
        self.receive + self.send
    }

    /// The part of the buffer a `RECEIVE_FROM_NETWORK` action of `len` bytes reads into.
    pub fn read_region(&self, len: usize) -> Range<usize> {
        self.receive_region()..self.receive_region() + len.min(self.receive)
    }
}

const _: () = assert!(ArenaLayout::CONTROL_PAYLOAD + 125 <= ALLOCATED_BUFFER_OVERHEAD);

/// One buffer of an action, as the C layer hands it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place<'a> {
    /// No bytes: hand out a NULL pointer and length 0.
    Null,
    /// Hand out these bytes where they are (the component's memory).
    InPlace(&'a [u8]),
    /// Copy these bytes to `offset` in the application-allocated buffer and hand out the
    /// copy (`offset + bytes.len()` is within [`ArenaLayout::len`]).
    ToArena {
        /// Where in the allocated buffer.
        offset: usize,
        /// What to copy there.
        bytes: &'a [u8],
    },
    /// Copy these bytes to the start of the receive's target buffer and hand out the copy
    /// (they fit: the component bounds deliveries by the target's length).
    ToTarget {
        /// The receive's buffer.
        target: AppBuffer,
        /// What to copy there.
        bytes: &'a [u8],
    },
    /// Hand out a piece of an application send buffer, without a copy.
    App(AppSlice),
}

impl Place<'_> {
    /// The length handed out.
    pub fn len(&self) -> usize {
        match self {
            Place::Null => 0,
            Place::InPlace(b)
            | Place::ToArena { bytes: b, .. }
            | Place::ToTarget { bytes: b, .. } => b.len(),
            Place::App(slice) => slice.len,
        }
    }

    /// Whether no bytes are handed out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The buffer a `RECEIVE_FROM_NETWORK` action hands out.
#[derive(Debug)]
pub enum ReadPlace<'a> {
    /// The component's receive buffer.
    InPlace(&'a mut [u8]),
    /// This part of the application-allocated buffer; the completion passes the bytes
    /// read there to [`Handle::complete_receive_with`](super::Handle::complete_receive_with)
    /// (see [`Handle::outstanding_arena_read`](super::Handle::outstanding_arena_read)).
    Arena(Range<usize>),
}

/// The buffers of an action, by kind.
#[derive(Debug)]
pub enum CBuffers<'a> {
    /// `NO_ACTION`, `INDICATE_SEND_COMPLETE`: none.
    None,
    /// `SEND_TO_NETWORK`: one or two buffers (header, payload piece), in order.
    Write(Place<'a>, Option<Place<'a>>),
    /// `RECEIVE_FROM_NETWORK`: one buffer to read into.
    Read(ReadPlace<'a>),
    /// `INDICATE_RECEIVE_COMPLETE` of data or a Pong: one `Data` buffer.
    Data(Place<'a>),
    /// `INDICATE_RECEIVE_COMPLETE` of a Close: one `CloseStatus` buffer.
    Close {
        /// `usStatus`.
        status: u16,
        /// `pbReason` / `ulReasonLength`.
        reason: Place<'a>,
    },
}

impl CBuffers<'_> {
    /// How many `WEB_SOCKET_BUFFER`s are filled.
    pub fn count(&self) -> usize {
        match self {
            CBuffers::None => 0,
            CBuffers::Write(_, second) => 1 + usize::from(second.is_some()),
            _ => 1,
        }
    }
}

/// An action as the C layer hands it out: every output of `WebSocketGetAction`.
#[derive(Debug)]
pub struct CAction<'a> {
    /// `*pAction`.
    pub kind: ActionKind,
    /// `*pvActionContext` (0 for `NO_ACTION`).
    pub context: usize,
    /// `*pBufferType` (`None`: 0, for `NO_ACTION` and `RECEIVE_FROM_NETWORK`).
    pub buffer_type: Option<BufferType>,
    /// `*pvApplicationContext` (0 when none).
    pub app_context: usize,
    /// `pDataBuffers[..]`.
    pub buffers: CBuffers<'a>,
}

/// Renders [`CAction`]s for a handle with an allocated buffer (`arena`) or without: every
/// pointer but the application's own send payload then lies in the allocated buffer.
pub(super) struct AsCAction(pub(super) Option<ArenaLayout>);

impl<'a> Render<'a> for AsCAction {
    type Out = CAction<'a>;

    #[inline]
    fn none() -> CAction<'a> {
        CAction {
            kind: ActionKind::NoAction,
            context: 0,
            buffer_type: None,
            app_context: 0,
            buffers: CBuffers::None,
        }
    }

    #[inline]
    fn write(
        self,
        context: usize,
        buffer_type: BufferType,
        buffers: SendBuffers<'a>,
        app_context: Option<usize>,
    ) -> CAction<'a> {
        CAction {
            kind: ActionKind::SendToNetwork,
            context,
            buffer_type: Some(buffer_type),
            app_context: app_context.unwrap_or(0),
            buffers: place_write(&buffers, buffer_type, self.0.as_ref()),
        }
    }

    #[inline]
    fn indicate_send(
        self,
        context: usize,
        buffer_type: BufferType,
        app_context: usize,
    ) -> CAction<'a> {
        CAction {
            kind: ActionKind::IndicateSendComplete,
            context,
            buffer_type: Some(buffer_type),
            app_context,
            buffers: CBuffers::None,
        }
    }

    #[inline]
    fn read(self, context: usize, buffer: &'a mut [u8], app_context: usize) -> CAction<'a> {
        CAction {
            kind: ActionKind::ReceiveFromNetwork,
            context,
            buffer_type: None,
            app_context,
            buffers: CBuffers::Read(match self.0 {
                Some(a) => ReadPlace::Arena(a.read_region(buffer.len())),
                None => ReadPlace::InPlace(buffer),
            }),
        }
    }

    /// Delivered bytes go to the receive's target, else to the allocated buffer's receive
    /// region, else stay where they are.
    #[inline]
    fn indicate_receive(
        self,
        context: usize,
        buffer_type: BufferType,
        data: Received<'a>,
        target: Option<AppBuffer>,
        app_context: usize,
    ) -> CAction<'a> {
        let (bytes, status) = match data {
            Received::Data(d) => (d, None),
            Received::Close { status, reason } => (reason, Some(status)),
        };
        let place = if bytes.is_empty() {
            Place::Null
        } else {
            match (target, self.0) {
                (Some(target), _) => Place::ToTarget { target, bytes },
                (None, Some(a)) => Place::ToArena {
                    offset: a.receive_region(),
                    bytes,
                },
                (None, None) => Place::InPlace(bytes),
            }
        };
        CAction {
            kind: ActionKind::IndicateReceiveComplete,
            context,
            buffer_type: Some(buffer_type),
            app_context,
            buffers: match status {
                Some(status) => CBuffers::Close {
                    status,
                    reason: place,
                },
                None => CBuffers::Data(place),
            },
        }
    }
}

/// The buffers of a `SEND_TO_NETWORK` action: headers in the control region; a control
/// frame's payload after them; a payload piece the component made in the send region; the
/// application's own payload where it is.
#[inline]
fn place_write<'a>(
    buffers: &SendBuffers<'a>,
    buffer_type: BufferType,
    arena: Option<&ArenaLayout>,
) -> CBuffers<'a> {
    let header = buffers.header.map(|h| match arena {
        Some(a) => Place::ToArena {
            offset: a.control_region(),
            bytes: h,
        },
        None => Place::InPlace(h),
    });
    let payload = match (buffers.payload, buffers.app_payload) {
        (_, Some(slice)) => Some(Place::App(slice)),
        (Some(p), None) if buffers.payload_is_app_memory => Some(Place::InPlace(p)),
        (Some(p), None) => Some(match arena {
            Some(a) if buffer_type.is_control() => Place::ToArena {
                offset: a.control_region() + ArenaLayout::CONTROL_PAYLOAD,
                bytes: p,
            },
            Some(a) => Place::ToArena {
                offset: a.send_region(),
                bytes: p,
            },
            None => Place::InPlace(p),
        }),
        (None, None) => None,
    };
    match (header, payload) {
        (Some(h), p) => CBuffers::Write(h, p),
        (None, Some(p)) => CBuffers::Write(p, None),
        // Not handed out by the session (every piece has a header or a payload).
        (None, None) => CBuffers::Write(Place::Null, None),
    }
}
