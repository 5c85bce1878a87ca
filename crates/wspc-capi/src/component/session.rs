//! The data phase: the send and receive queues, and the actions that drive them.
//!
//! Wire order is kept by one rule: frames leave whole, one at a time, and at most one
//! `SEND_TO_NETWORK` action is outstanding. The frame being written (the front send's, or
//! one the component generated: a Pong, or the Close that follows a protocol error) is the
//! only one that may get a `SEND_TO_NETWORK` action until its last byte is written;
//! application frames and generated frames otherwise alternate at frame boundaries,
//! generated frames first. Generated frames belong to the receive queue; one that had to
//! wait for an application frame may also leave through the send queue once that frame is
//! written, so that it never depends on the receive queue being driven again.

use std::collections::VecDeque;
use std::ops::Range;

use bytes::Bytes;
use wspc::frame::OpCode;
use wspc::{
    CloseCode, CloseFrame, CloseState, Connection, Error, Event, MessageKind, OutgoingFrame,
    SendError,
};

use super::{Properties, SendPayload};
use crate::hresult::Hresult;
use crate::types::{ActionKind, ActionQueue, BufferType, MAX_CLOSE_REASON_LENGTH};

/// Generated Pongs kept waiting at most; beyond, the oldest unsent one is dropped (RFC 6455
/// §5.5.3 allows answering only the most recent Ping).
const MAX_GENERATED_FRAMES: usize = 64;

/// The close status reported when a receive ends without a Close frame: after abort, at the
/// end of the transport (a 0-byte read), or when the input had already ended.
pub const ABORTED_STATUS: u16 = 1006;

/// Application memory a receive delivers into, as the C layer describes it: an address the
/// component never dereferences (it hands it back with the completion) and a length that
/// bounds the delivered data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppBuffer {
    /// The buffer's address, opaque to the component.
    pub addr: usize,
    /// The buffer's length in bytes (at least 1).
    pub len: usize,
}

/// What [`Handle::get_action`](super::Handle::get_action) asks the application to do.
/// Every action but `NoAction` must be completed with
/// [`Handle::complete_action`](super::Handle::complete_action) and its `context`.
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
#[derive(Clone, Copy, Debug)]
pub struct SendBuffers<'a> {
    /// The frame header (2 to 14 bytes), on the first action of a frame.
    pub header: Option<&'a [u8]>,
    /// A piece of the payload (masked for a client unless masking is disabled).
    pub payload: Option<&'a [u8]>,
    /// Whether `payload` is the application's own send buffer (no copy was needed).
    pub payload_is_app_memory: bool,
}

impl<'a> SendBuffers<'a> {
    /// The buffers, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.header.into_iter().chain(self.payload)
    }

    /// How many buffers (1 or 2).
    pub fn count(&self) -> usize {
        self.header.is_some() as usize + self.payload.is_some() as usize
    }

    /// Total bytes to write.
    pub fn total_len(&self) -> usize {
        self.iter().map(<[u8]>::len).sum()
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

/// What [`Handle::complete_action`](super::Handle::complete_action) completed.
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

#[derive(Debug)]
struct SendOp {
    buffer_type: BufferType,
    app_context: usize,
    frame: OutgoingFrame,
    /// The frame's payload is the application's buffer itself.
    zero_copy: bool,
    /// Every byte was written, or the send was cancelled: indicate completion next.
    done: bool,
}

#[derive(Debug)]
struct RecvOp {
    target: Option<AppBuffer>,
    app_context: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// The front application send.
    App,
    /// The front generated frame.
    Generated,
}

/// The frame being written and how far.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    owner: Owner,
    header_done: bool,
    offset: usize,
}

#[derive(Clone, Debug)]
enum SlotKind {
    Send {
        owner: Owner,
        header: bool,
        payload: Range<usize>,
    },
    IndicateSend,
    Receive {
        len: usize,
    },
    IndicateReceive {
        take: usize,
        ended: bool,
    },
}

/// An action handed out and not yet completed.
#[derive(Clone, Debug)]
struct Slot {
    context: usize,
    kind: SlotKind,
}

/// What the engine delivered and the application has not fully received yet.
#[derive(Debug)]
enum Pending {
    Data {
        kind: MessageKind,
        data: Bytes,
        offset: usize,
        fin: bool,
    },
    Pong(Bytes),
    Close(CloseFrame),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Queue {
    Send,
    Receive,
}

/// The data phase of a handle.
#[derive(Debug)]
pub(super) struct Session {
    conn: Connection,
    /// Largest piece of a copied (masked) data payload per action.
    send_chunk: usize,
    /// Where `RECEIVE_FROM_NETWORK` reads go.
    recv_area: Box<[u8]>,
    send_ops: VecDeque<SendOp>,
    recv_ops: VecDeque<RecvOp>,
    /// Frames the engine generated (Pongs, the Close after a protocol error), oldest first.
    generated: VecDeque<OutgoingFrame>,
    /// A generated frame had to wait for an application frame: the send queue may hand it
    /// out at the next frame boundary (so it does not depend on the receive queue being
    /// driven again).
    generated_blocked: bool,
    wire: Option<InFlight>,
    send_slot: Option<Slot>,
    recv_slot: Option<Slot>,
    pending: Option<Pending>,
    /// The protocol error the input failed with.
    fault: Option<Hresult>,
    /// A partial write corrupted the outgoing stream: nothing more is sent.
    send_broken: bool,
    aborted: bool,
    /// The engine will deliver nothing more (Close, end of transport, failure).
    input_ended: bool,
    /// The end of input was delivered to the application.
    input_end_delivered: bool,
    last_context: usize,
}

impl Session {
    pub(super) fn new(conn: Connection, properties: &Properties) -> Session {
        Session {
            conn,
            send_chunk: properties.send_buffer_size as usize,
            recv_area: vec![0; properties.receive_buffer_size as usize].into_boxed_slice(),
            send_ops: VecDeque::new(),
            recv_ops: VecDeque::new(),
            generated: VecDeque::new(),
            generated_blocked: false,
            wire: None,
            send_slot: None,
            recv_slot: None,
            pending: None,
            fault: None,
            send_broken: false,
            aborted: false,
            input_ended: false,
            input_end_delivered: false,
            last_context: 0,
        }
    }

    pub(super) fn send(
        &mut self,
        buffer_type: BufferType,
        payload: SendPayload,
        app_context: usize,
    ) -> Result<(), Hresult> {
        if self.aborted || self.send_broken {
            return Err(Hresult::E_INVALID_PROTOCOL_OPERATION);
        }
        // Whatever the engine queued on its own goes first, so that the next frame popped
        // is this send's.
        self.drain_generated();
        let app_data = match (buffer_type, payload) {
            (t, SendPayload::Data(data)) if t.is_data() => {
                let (kind, fin) = match t {
                    BufferType::Utf8Message => (MessageKind::Text, true),
                    BufferType::Utf8Fragment => (MessageKind::Text, false),
                    BufferType::BinaryMessage => (MessageKind::Binary, true),
                    _ => (MessageKind::Binary, false),
                };
                self.conn
                    .send_fragment(kind, data.clone(), fin)
                    .map_err(send_error)?;
                Some(data)
            }
            (BufferType::Close, SendPayload::None) => {
                self.conn.close(CloseCode::EMPTY, "").map_err(send_error)?;
                None
            }
            (BufferType::Close, SendPayload::Close { status, reason }) => {
                if reason.len() > MAX_CLOSE_REASON_LENGTH {
                    return Err(Hresult::E_INVALIDARG);
                }
                let reason = std::str::from_utf8(&reason).map_err(|_| Hresult::E_INVALIDARG)?;
                self.conn
                    .close(CloseCode::new(status), reason)
                    .map_err(send_error)?;
                None
            }
            (BufferType::PingPong, SendPayload::None) => {
                self.conn.ping(Bytes::new()).map_err(send_error)?;
                None
            }
            (BufferType::UnsolicitedPong, SendPayload::None) => {
                self.conn.pong(Bytes::new()).map_err(send_error)?;
                None
            }
            _ => return Err(Hresult::E_INVALIDARG),
        };
        let frame = self.conn.pop_frame().ok_or(Hresult::E_UNEXPECTED)?;
        let zero_copy = app_data
            .as_ref()
            .is_some_and(|d| !d.is_empty() && frame.payload().as_ptr() == d.as_ptr());
        self.send_ops.push_back(SendOp {
            buffer_type,
            app_context,
            frame,
            zero_copy,
            done: false,
        });
        Ok(())
    }

    pub(super) fn receive(
        &mut self,
        target: Option<AppBuffer>,
        app_context: usize,
    ) -> Result<(), Hresult> {
        if self.aborted
            || self.fault.is_some()
            || self.input_end_delivered
            || self.conn.close_state() == CloseState::Closed
        {
            return Err(Hresult::E_INVALID_PROTOCOL_OPERATION);
        }
        if target.is_some_and(|t| t.len == 0) {
            return Err(Hresult::E_INVALIDARG);
        }
        self.recv_ops.push_back(RecvOp {
            target,
            app_context,
        });
        Ok(())
    }

    pub(super) fn get_action(
        &mut self,
        queue: ActionQueue,
        capacity: usize,
    ) -> Result<Action<'_>, Hresult> {
        let started = if queue.includes_receive() && self.start_generated(capacity)? {
            Some(Queue::Receive)
        } else if queue.includes_send() && self.start_send(capacity)? {
            Some(Queue::Send)
        } else if queue.includes_receive() && self.start_receive(capacity)? {
            Some(Queue::Receive)
        } else {
            None
        };
        Ok(match started {
            Some(queue) => self.action(queue),
            None => Action::NoAction,
        })
    }

    /// Hands out the next piece of the front generated frame on the receive queue, if the
    /// wire is free for it.
    fn start_generated(&mut self, capacity: usize) -> Result<bool, Hresult> {
        if self.recv_slot.is_some() || !self.generated_ready() {
            return Ok(false);
        }
        let kind = self.next_piece(Owner::Generated, capacity)?;
        self.recv_slot = Some(self.slot(kind));
        Ok(true)
    }

    /// Whether a generated frame can be handed out now: one is waiting, no piece of any
    /// frame is outstanding, and no application frame is half written (if one is, the
    /// generated frame is marked as blocked by it).
    fn generated_ready(&mut self) -> bool {
        if self.aborted || self.send_broken || self.generated.is_empty() || self.wire_outstanding()
        {
            return false;
        }
        if self.wire.is_some_and(|w| w.owner == Owner::App) {
            self.generated_blocked = true;
            return false;
        }
        true
    }

    /// Whether a `SEND_TO_NETWORK` action is outstanding (on either queue).
    fn wire_outstanding(&self) -> bool {
        [&self.send_slot, &self.recv_slot].into_iter().any(|slot| {
            matches!(
                slot,
                Some(Slot {
                    kind: SlotKind::Send { .. },
                    ..
                })
            )
        })
    }

    fn start_send(&mut self, capacity: usize) -> Result<bool, Hresult> {
        if self.send_slot.is_some() {
            return Ok(false);
        }
        let in_flight = self.wire.is_some_and(|w| w.owner == Owner::App);
        let cancel = self.aborted || self.send_broken || (self.fault.is_some() && !in_flight);
        let front_done = match self.send_ops.front_mut() {
            Some(op) => {
                if cancel && !op.done {
                    op.done = true;
                    if in_flight {
                        self.wire = None;
                    }
                }
                op.done
            }
            None => false,
        };
        let kind = if front_done {
            SlotKind::IndicateSend
        } else if self.generated_blocked && self.generated_ready() {
            // A generated frame that waited for the application's frame goes out now.
            self.next_piece(Owner::Generated, capacity)?
        } else if self.send_ops.is_empty()
            || self.wire_outstanding()
            || self.wire.is_some_and(|w| w.owner == Owner::Generated)
        {
            return Ok(false);
        } else {
            self.next_piece(Owner::App, capacity)?
        };
        self.send_slot = Some(self.slot(kind));
        Ok(true)
    }

    fn start_receive(&mut self, capacity: usize) -> Result<bool, Hresult> {
        if self.recv_slot.is_some() || self.recv_ops.is_empty() {
            return Ok(false);
        }
        if !self.aborted {
            if let Some(fault) = self.fault {
                return Err(fault);
            }
            if self.pending.is_none() && !self.input_ended {
                self.pull();
                if let Some(fault) = self.fault {
                    return Err(fault);
                }
                // A Pong owed for a Ping just parsed goes out before the data is delivered.
                if self.start_generated(capacity)? {
                    return Ok(true);
                }
            }
        }
        if capacity == 0 {
            return Err(Hresult::E_INSUFFICIENT_BUFFER);
        }
        let kind = if self.aborted || self.pending.is_some() || self.input_ended {
            SlotKind::IndicateReceive {
                take: self.deliverable(),
                ended: self.aborted || self.pending.is_none(),
            }
        } else {
            SlotKind::Receive {
                len: self.recv_area.len(),
            }
        };
        self.recv_slot = Some(self.slot(kind));
        Ok(true)
    }

    /// The next piece of the frame `owner` designates: the header (and, with room for two
    /// buffers, the payload) first, then the payload; a copied data payload in pieces of at
    /// most the send buffer size.
    fn next_piece(&mut self, owner: Owner, capacity: usize) -> Result<SlotKind, Hresult> {
        if capacity == 0 {
            return Err(Hresult::E_INSUFFICIENT_BUFFER);
        }
        let (frame, zero_copy) = match owner {
            Owner::App => match self.send_ops.front() {
                Some(op) => (&op.frame, op.zero_copy),
                None => return Err(Hresult::E_UNEXPECTED),
            },
            Owner::Generated => match self.generated.front() {
                Some(frame) => (frame, false),
                None => return Err(Hresult::E_UNEXPECTED),
            },
        };
        let flight = self.wire.unwrap_or(InFlight {
            owner,
            header_done: false,
            offset: 0,
        });
        let remaining = frame.payload().len().saturating_sub(flight.offset);
        let header = !flight.header_done;
        let room = if header && capacity < 2 { 0 } else { remaining };
        let limit = if zero_copy || frame.opcode().is_control() {
            usize::MAX
        } else {
            self.send_chunk.max(1)
        };
        let take = room.min(limit);
        self.wire = Some(flight);
        Ok(SlotKind::Send {
            owner,
            header,
            payload: flight.offset..flight.offset + take,
        })
    }

    /// How much of the pending delivery fits the front receive.
    fn deliverable(&self) -> usize {
        let cap = self
            .recv_ops
            .front()
            .and_then(|op| op.target)
            .map_or(usize::MAX, |t| t.len);
        let available = match &self.pending {
            Some(Pending::Data { data, offset, .. }) => data.len().saturating_sub(*offset),
            Some(Pending::Pong(p)) => p.len(),
            Some(Pending::Close(f)) => f.reason.len(),
            None => 0,
        };
        available.min(cap)
    }

    fn slot(&mut self, kind: SlotKind) -> Slot {
        self.last_context = self.last_context.wrapping_add(1).max(1);
        Slot {
            context: self.last_context,
            kind,
        }
    }

    /// The action for the slot just filled on `queue`.
    fn action(&mut self, queue: Queue) -> Action<'_> {
        let slot = match queue {
            Queue::Send => self.send_slot.clone(),
            Queue::Receive => self.recv_slot.clone(),
        };
        let Some(Slot { context, kind }) = slot else {
            return Action::NoAction;
        };
        match kind {
            SlotKind::Send {
                owner,
                header,
                payload,
            } => {
                let (frame, buffer_type, app_context, zero_copy) = match owner {
                    Owner::App => match self.send_ops.front() {
                        Some(op) => (
                            &op.frame,
                            op.buffer_type,
                            Some(op.app_context),
                            op.zero_copy,
                        ),
                        None => return Action::NoAction,
                    },
                    Owner::Generated => match self.generated.front() {
                        Some(frame) => (frame, generated_type(frame), None, false),
                        None => return Action::NoAction,
                    },
                };
                let payload = frame.payload().get(payload).filter(|p| !p.is_empty());
                Action::SendToNetwork {
                    context,
                    buffer_type,
                    buffers: SendBuffers {
                        header: header.then(|| frame.header()),
                        payload,
                        payload_is_app_memory: zero_copy && payload.is_some(),
                    },
                    app_context,
                }
            }
            SlotKind::IndicateSend => match self.send_ops.front() {
                Some(op) => Action::IndicateSendComplete {
                    context,
                    buffer_type: op.buffer_type,
                    app_context: op.app_context,
                },
                None => Action::NoAction,
            },
            SlotKind::Receive { len } => {
                let app_context = self.recv_ops.front().map_or(0, |op| op.app_context);
                Action::ReceiveFromNetwork {
                    context,
                    buffer: &mut self.recv_area[..len],
                    app_context,
                }
            }
            SlotKind::IndicateReceive { take, ended } => {
                let Some(op) = self.recv_ops.front() else {
                    return Action::NoAction;
                };
                let (buffer_type, data) = match (&self.pending, ended) {
                    (
                        Some(Pending::Data {
                            kind,
                            data,
                            offset,
                            fin,
                        }),
                        false,
                    ) => {
                        let last = *fin && offset + take >= data.len();
                        let buffer_type = match (kind, last) {
                            (MessageKind::Text, true) => BufferType::Utf8Message,
                            (MessageKind::Text, false) => BufferType::Utf8Fragment,
                            (MessageKind::Binary, true) => BufferType::BinaryMessage,
                            (MessageKind::Binary, false) => BufferType::BinaryFragment,
                        };
                        let chunk = data.get(*offset..offset + take).unwrap_or_default();
                        (buffer_type, Received::Data(chunk))
                    }
                    (Some(Pending::Pong(p)), false) => (
                        BufferType::PingPong,
                        Received::Data(p.get(..take).unwrap_or_default()),
                    ),
                    (Some(Pending::Close(f)), false) => (
                        BufferType::Close,
                        Received::Close {
                            status: f.code.as_u16(),
                            reason: f.reason.as_bytes().get(..take).unwrap_or_default(),
                        },
                    ),
                    _ => (
                        BufferType::Close,
                        Received::Close {
                            status: ABORTED_STATUS,
                            reason: &[],
                        },
                    ),
                };
                Action::IndicateReceiveComplete {
                    context,
                    buffer_type,
                    data,
                    target: op.target,
                    app_context: op.app_context,
                }
            }
        }
    }

    pub(super) fn complete_action(
        &mut self,
        context: usize,
        n: usize,
        external: Option<&[u8]>,
    ) -> Option<Completed> {
        if context == 0 {
            return None;
        }
        let slot = if self
            .send_slot
            .as_ref()
            .is_some_and(|s| s.context == context)
        {
            self.send_slot.take()
        } else if self
            .recv_slot
            .as_ref()
            .is_some_and(|s| s.context == context)
        {
            self.recv_slot.take()
        } else {
            None
        }?;
        Some(match slot.kind {
            SlotKind::Send {
                owner,
                header,
                payload,
            } => {
                self.finish_send(owner, header, payload, n);
                Completed::SendToNetwork
            }
            SlotKind::IndicateSend => {
                self.send_ops.pop_front();
                Completed::IndicateSendComplete
            }
            SlotKind::Receive { len } => {
                if !self.aborted {
                    let data = match external {
                        Some(data) => &data[..data.len().min(len)],
                        None => &self.recv_area[..n.min(len)],
                    };
                    if data.is_empty() {
                        self.conn.handle_eof();
                    } else {
                        self.conn.feed(data);
                    }
                }
                Completed::ReceiveFromNetwork
            }
            SlotKind::IndicateReceive { take, ended } => {
                if ended || self.aborted {
                    if self.aborted {
                        self.pending = None;
                    }
                    self.input_end_delivered |= ended;
                } else {
                    match &mut self.pending {
                        Some(Pending::Data { data, offset, .. }) if *offset + take < data.len() => {
                            *offset += take;
                        }
                        Some(Pending::Close(_)) => {
                            self.pending = None;
                            self.input_end_delivered = true;
                        }
                        _ => self.pending = None,
                    }
                }
                self.recv_ops.pop_front();
                Completed::IndicateReceiveComplete
            }
        })
    }

    /// A `SEND_TO_NETWORK` piece was completed with `n` bytes written.
    fn finish_send(&mut self, owner: Owner, header: bool, payload: Range<usize>, n: usize) {
        let Some(mut flight) = self.wire else {
            return;
        };
        let frame = match owner {
            Owner::App => self.send_ops.front().map(|op| &op.frame),
            Owner::Generated => self.generated.front(),
        };
        let Some(frame) = frame else {
            self.wire = None;
            return;
        };
        let header_len = if header { frame.header().len() } else { 0 };
        let payload_len = frame.payload().len();
        let first_piece = !flight.header_done && flight.offset == 0;
        if n >= header_len + payload.len() && !self.aborted {
            flight.header_done |= header;
            flight.offset = payload.end;
            if flight.header_done && flight.offset >= payload_len {
                self.frame_finished(owner);
            } else {
                self.wire = Some(flight);
            }
        } else if n == 0 && first_piece || self.aborted {
            // Nothing of the frame went out (or the handle was aborted): drop the frame,
            // the stream is intact.
            self.frame_finished(owner);
        } else {
            // Part of a frame went out: the stream is corrupt, nothing more can be sent.
            self.frame_finished(owner);
            self.send_broken = true;
            self.generated.clear();
            self.generated_blocked = false;
        }
    }

    fn frame_finished(&mut self, owner: Owner) {
        self.wire = None;
        match owner {
            Owner::App => {
                if let Some(op) = self.send_ops.front_mut() {
                    op.done = true;
                }
            }
            Owner::Generated => {
                self.generated.pop_front();
                self.generated_blocked &= !self.generated.is_empty();
            }
        }
    }

    /// Takes the engine's next event (if any) into `pending`, and the frames it queued on
    /// its own into `generated`.
    fn pull(&mut self) {
        loop {
            match self.conn.poll_event() {
                Some(Event::Chunk(chunk)) => {
                    self.pending = Some(Pending::Data {
                        kind: chunk.kind,
                        data: chunk.data,
                        offset: 0,
                        fin: chunk.fin,
                    });
                }
                Some(Event::Message(message)) => {
                    self.pending = Some(Pending::Data {
                        kind: message.kind(),
                        data: message.into_bytes(),
                        offset: 0,
                        fin: true,
                    });
                }
                Some(Event::Pong(payload)) => self.pending = Some(Pending::Pong(payload)),
                Some(Event::Close(frame)) => {
                    self.pending = Some(Pending::Close(frame));
                    self.input_ended = true;
                }
                Some(Event::Failed(error)) => {
                    if matches!(error, Error::Protocol(_)) {
                        self.fault = Some(Hresult::E_INVALID_PROTOCOL_FORMAT);
                    }
                    self.input_ended = true;
                }
                Some(_) => continue,
                None => {}
            }
            break;
        }
        self.drain_generated();
    }

    fn drain_generated(&mut self) {
        while let Some(frame) = self.conn.pop_frame() {
            if self.send_broken {
                continue; // nothing more goes out
            }
            if frame.opcode() == OpCode::Pong && self.generated.len() >= MAX_GENERATED_FRAMES {
                let first_free =
                    usize::from(self.wire.is_some_and(|w| w.owner == Owner::Generated));
                if let Some(i) = (first_free..self.generated.len())
                    .find(|&i| self.generated[i].opcode() == OpCode::Pong)
                {
                    self.generated.remove(i);
                }
            }
            self.generated.push_back(frame);
            if self.wire.is_some_and(|w| w.owner == Owner::App) {
                self.generated_blocked = true;
            }
        }
    }

    pub(super) fn abort(&mut self) {
        if self.aborted {
            return;
        }
        self.aborted = true;
        // Memory an outstanding action points to stays until that action is completed.
        if !matches!(
            &self.recv_slot,
            Some(Slot {
                kind: SlotKind::IndicateReceive { .. },
                ..
            })
        ) {
            self.pending = None;
        }
        let generated_out = matches!(
            &self.recv_slot,
            Some(Slot {
                kind: SlotKind::Send {
                    owner: Owner::Generated,
                    ..
                },
                ..
            })
        );
        let app_out = matches!(
            &self.send_slot,
            Some(Slot {
                kind: SlotKind::Send { .. },
                ..
            })
        );
        if generated_out {
            self.generated.truncate(1);
        } else {
            self.generated.clear();
            self.generated_blocked = false;
            if !app_out {
                self.wire = None;
            }
        }
    }
}

/// The buffer type reported for a generated frame.
fn generated_type(frame: &OutgoingFrame) -> BufferType {
    match frame.opcode() {
        OpCode::Close => BufferType::Close,
        _ => BufferType::PingPong,
    }
}

fn send_error(e: SendError) -> Hresult {
    match e {
        SendError::Closed | SendError::KindMismatch | SendError::MessageInProgress => {
            Hresult::E_INVALID_PROTOCOL_OPERATION
        }
        SendError::Close(_) | SendError::InvalidUtf8 | SendError::ControlPayloadTooLong(_) => {
            Hresult::E_INVALIDARG
        }
        _ => Hresult::E_FAIL,
    }
}
