//! The receive side: the application's receives, what the engine delivered and no receive
//! has taken yet, and how the input ends.

use std::collections::VecDeque;

use bytes::Bytes;
use wspc::{CloseFrame, MessageKind};

use super::action::{AppBuffer, Received};
use crate::hresult::Hresult;
use crate::types::BufferType;

/// The close status reported when a receive ends without a Close frame: after abort, at the
/// end of the transport (a 0-byte read), or when the input had already ended.
pub const ABORTED_STATUS: u16 = 1006;

/// An application receive (`WebSocketReceive`).
#[derive(Clone, Copy, Debug)]
pub(super) struct RecvOp {
    pub(super) target: Option<AppBuffer>,
    pub(super) app_context: usize,
}

/// What the engine delivered and no receive has taken yet.
#[derive(Debug)]
pub(super) enum Pending {
    /// The rest of a chunk of a message.
    Data {
        kind: MessageKind,
        data: Bytes,
        /// The chunk ends the message.
        fin: bool,
    },
    /// A Pong's payload.
    Pong(Bytes),
}

/// Where the input is.
#[derive(Debug)]
pub(super) enum Input {
    /// The engine may deliver more; what it delivered and no receive took yet is pending.
    Open(Option<Pending>),
    /// The engine delivers nothing more: the peer's Close, to be delivered, or (`None`)
    /// the transport ended without one.
    Ending(Option<CloseFrame>),
    /// The end of the input was delivered: queued receives complete with 1006, new ones
    /// are refused.
    Ended,
    /// The peer broke the protocol: every receive that is reached fails with this.
    Faulted(Hresult),
    /// The handle was aborted: queued receives complete with 1006, new ones are refused.
    Aborted,
}

/// What an `INDICATE_RECEIVE_COMPLETE` action shows. It owns the bytes, so they stay valid
/// until the action is completed whatever happens to the handle meanwhile.
#[derive(Debug)]
pub(super) enum Shown {
    /// A chunk of a message.
    Data {
        buffer_type: BufferType,
        data: Bytes,
    },
    /// A Pong's payload.
    Pong(Bytes),
    /// The peer's Close (status and reason), or the end without one (1006).
    Close { status: u16, reason: Bytes },
}

impl Shown {
    pub(super) fn buffer_type(&self) -> BufferType {
        match self {
            Shown::Data { buffer_type, .. } => *buffer_type,
            Shown::Pong(_) => BufferType::PingPong,
            Shown::Close { .. } => BufferType::Close,
        }
    }

    pub(super) fn received(&self) -> Received<'_> {
        match self {
            Shown::Data { data, .. } | Shown::Pong(data) => Received::Data(data),
            Shown::Close { status, reason } => Received::Close {
                status: *status,
                reason,
            },
        }
    }

    /// The bytes shown: the data, the Pong's payload or the Close's reason.
    pub(super) fn bytes(&self) -> &Bytes {
        match self {
            Shown::Data { data, .. } | Shown::Pong(data) => data,
            Shown::Close { reason, .. } => reason,
        }
    }

    fn ended() -> Shown {
        Shown::Close {
            status: ABORTED_STATUS,
            reason: Bytes::new(),
        }
    }
}

/// The receive queue and the input.
#[derive(Debug)]
pub(super) struct Incoming {
    pub(super) ops: VecDeque<RecvOp>,
    pub(super) input: Input,
    /// What the outstanding `INDICATE_RECEIVE_COMPLETE` action shows (kept until it is
    /// completed, whatever happens to the handle meanwhile).
    pub(super) shown: Option<Shown>,
    /// Where `RECEIVE_FROM_NETWORK` reads go (the receive buffer).
    pub(super) read_area: Box<[u8]>,
}

impl Incoming {
    pub(super) fn new(receive_buffer_size: usize) -> Incoming {
        Incoming {
            ops: VecDeque::new(),
            input: Input::Open(None),
            shown: None,
            read_area: vec![0; receive_buffer_size].into_boxed_slice(),
        }
    }

    /// Whether the next receive needs bytes from the network (nothing to deliver yet).
    pub(super) fn needs_input(&self) -> bool {
        matches!(self.input, Input::Open(None))
    }

    /// Takes what the front receive gets (it must exist): the pending delivery, bounded
    /// by the receive's target; the peer's Close; or the end (1006). Only the part shown
    /// leaves the input.
    pub(super) fn take_shown(&mut self) -> Shown {
        let cap = self
            .ops
            .front()
            .and_then(|op| op.target)
            .map_or(usize::MAX, |t| t.len);
        match &mut self.input {
            Input::Open(pending) => match pending.take() {
                Some(Pending::Data {
                    kind,
                    mut data,
                    fin,
                }) => {
                    let last = data.len() <= cap;
                    let shown = if last {
                        data
                    } else {
                        let head = data.split_to(cap);
                        *pending = Some(Pending::Data { kind, data, fin });
                        head
                    };
                    let buffer_type = match (kind, last && fin) {
                        (MessageKind::Text, true) => BufferType::Utf8Message,
                        (MessageKind::Text, false) => BufferType::Utf8Fragment,
                        (MessageKind::Binary, true) => BufferType::BinaryMessage,
                        (MessageKind::Binary, false) => BufferType::BinaryFragment,
                    };
                    Shown::Data {
                        buffer_type,
                        data: shown,
                    }
                }
                Some(Pending::Pong(mut payload)) => {
                    payload.truncate(cap);
                    Shown::Pong(payload)
                }
                // Nothing pending while the input is open: not reached (the caller reads
                // from the network instead); the receive ends.
                None => Shown::ended(),
            },
            Input::Ending(close) => {
                let shown = match close.take() {
                    Some(frame) => {
                        let mut reason = Bytes::from(frame.reason);
                        reason.truncate(cap);
                        Shown::Close {
                            status: frame.code.as_u16(),
                            reason,
                        }
                    }
                    None => Shown::ended(),
                };
                self.input = Input::Ended;
                shown
            }
            Input::Ended | Input::Faulted(_) | Input::Aborted => Shown::ended(),
        }
    }
}
