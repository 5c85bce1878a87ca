//! What [`Handle::get_action`](crate::component::Handle::get_action) hands out and
//! [`Handle::complete_action`](crate::component::Handle::complete_action) reports back.

use crate::types::{ActionKind, BufferType};

/// Application memory the component refers to by address only (the C layer's receive
/// targets and send payloads): the component never reads or writes it, it only says which
/// bytes of it an action concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppBuffer {
    /// The buffer's address, opaque to the component.
    pub addr: usize,
    /// The buffer's length in bytes (at least 1 for a receive target).
    pub len: usize,
}

/// A piece of an application send buffer given by address
/// ([`Handle::send_app_buffer`](crate::component::Handle::send_app_buffer)), written
/// without a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppSlice {
    /// The send's buffer.
    pub buffer: AppBuffer,
    /// Where the piece starts in it.
    pub offset: usize,
    /// The piece's length (at least 1).
    pub len: usize,
}

/// What [`Handle::get_action`](crate::component::Handle::get_action) asks the application
/// to do. Every action but `NoAction` must be completed with
/// [`Handle::complete_action`](crate::component::Handle::complete_action) and its
/// `context`.
#[derive(Debug)]
pub enum Action<'a> {
    /// `WEB_SOCKET_NO_ACTION`: nothing to do on the queried queue(s) right now.
    NoAction,
    /// `WEB_SOCKET_SEND_TO_NETWORK_ACTION`: write `buffers`, in order, then complete with
    /// the number of bytes written. Fewer bytes than offered cancel the send (see the crate
    /// docs).
    SendToNetwork {
        /// The action's context.
        context: usize,
        /// The type of the frame being written (a generated Pong is `PING_PONG`, the Close
        /// after a protocol error `CLOSE`).
        buffer_type: BufferType,
        /// The frame header and/or a piece of the payload.
        buffers: SendBuffers<'a>,
        /// The send's application context; `None` for a frame the component generated.
        app_context: Option<usize>,
    },
    /// `WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION`: the send is finished (or cancelled); its
    /// payload may be reclaimed.
    IndicateSendComplete {
        /// The action's context.
        context: usize,
        /// The send's buffer type.
        buffer_type: BufferType,
        /// The send's application context.
        app_context: usize,
    },
    /// `WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION`: read from the transport into `buffer`
    /// (once; fewer bytes are fine), then complete with the number of bytes read. 0 means
    /// the transport's end.
    ReceiveFromNetwork {
        /// The action's context.
        context: usize,
        /// Where to read to (the receive buffer, its full size).
        buffer: &'a mut [u8],
        /// The receive's application context.
        app_context: usize,
    },
    /// `WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION`: the receive is finished; `data` is
    /// valid until the action is completed.
    IndicateReceiveComplete {
        /// The action's context.
        context: usize,
        /// What arrived: a data chunk (`*_FRAGMENT` or `*_MESSAGE`), a Pong
        /// (`PING_PONG`) or a Close (`CLOSE`).
        buffer_type: BufferType,
        /// The bytes (or the close status and reason).
        data: Received<'a>,
        /// The receive's target buffer, if it had one: copy `data` there.
        target: Option<AppBuffer>,
        /// The receive's application context.
        app_context: usize,
    },
}

impl Action<'_> {
    /// The `WEB_SOCKET_ACTION` value.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::NoAction => ActionKind::NoAction,
            Action::SendToNetwork { .. } => ActionKind::SendToNetwork,
            Action::IndicateSendComplete { .. } => ActionKind::IndicateSendComplete,
            Action::ReceiveFromNetwork { .. } => ActionKind::ReceiveFromNetwork,
            Action::IndicateReceiveComplete { .. } => ActionKind::IndicateReceiveComplete,
        }
    }

    /// The action context to complete it with (0 for `NoAction`).
    pub fn context(&self) -> usize {
        match self {
            Action::NoAction => 0,
            Action::SendToNetwork { context, .. }
            | Action::IndicateSendComplete { context, .. }
            | Action::ReceiveFromNetwork { context, .. }
            | Action::IndicateReceiveComplete { context, .. } => *context,
        }
    }
}

/// The buffers of a `SEND_TO_NETWORK` action: at most a header and a payload piece.
///
/// The payload piece is either bytes the caller can read (`payload`) or, for a send whose
/// payload was given by address ([`Handle::send_app_buffer`]), a piece of that application
/// buffer (`app_payload`), which the component never reads.
///
/// [`Handle::send_app_buffer`]: crate::component::Handle::send_app_buffer
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SendBuffers<'a> {
    /// The frame header (2 to 14 bytes), on the first action of a frame.
    pub header: Option<&'a [u8]>,
    /// A piece of the payload (masked for a client unless masking is disabled).
    pub payload: Option<&'a [u8]>,
    /// Whether `payload` is the application's own send buffer (no copy was needed).
    pub payload_is_app_memory: bool,
    /// A piece of an application send buffer given by address, in place of `payload`.
    pub app_payload: Option<AppSlice>,
}

impl<'a> SendBuffers<'a> {
    /// The readable buffers, in order: the header and `payload` (not `app_payload`, whose
    /// bytes are the application's).
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.header.into_iter().chain(self.payload)
    }

    /// How many buffers (1 or 2).
    pub fn count(&self) -> usize {
        usize::from(self.header.is_some())
            + usize::from(self.payload.is_some() || self.app_payload.is_some())
    }

    /// Total bytes to write.
    pub fn total_len(&self) -> usize {
        self.iter().map(<[u8]>::len).sum::<usize>() + self.app_payload.map_or(0, |p| p.len)
    }
}

/// What an `INDICATE_RECEIVE_COMPLETE` action delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// A chunk of a message, or a Pong's payload.
    Data(&'a [u8]),
    /// A Close: the peer's status (1005 when its frame had none; 1006 when the receive
    /// ended without a Close frame) and its reason.
    Close {
        /// The status code.
        status: u16,
        /// The UTF-8 reason (empty when none).
        reason: &'a [u8],
    },
}

/// What [`Handle::complete_action`](crate::component::Handle::complete_action) completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completed {
    /// A `SEND_TO_NETWORK` action.
    SendToNetwork,
    /// An `INDICATE_SEND_COMPLETE` action (the send left the queue).
    IndicateSendComplete,
    /// A `RECEIVE_FROM_NETWORK` action.
    ReceiveFromNetwork,
    /// An `INDICATE_RECEIVE_COMPLETE` action (the receive left the queue).
    IndicateReceiveComplete,
}
