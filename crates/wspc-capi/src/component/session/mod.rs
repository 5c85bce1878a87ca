//! The data phase: the send and receive queues, and the actions that drive them.
//!
//! The session's state is three explicit values:
//!
//! - the wire ([`Wire`]): between frames, writing a frame (whose, how far), or stopped (a
//!   frame was cut short, or the handle was aborted);
//! - the input ([`Input`]): open (with what the engine delivered and no receive took yet),
//!   ending (the peer's Close, or the transport's end, still to deliver), ended, faulted
//!   (a protocol error), or aborted;
//! - the outstanding action of each queue ([`Slot`]): at most one per queue, and at most
//!   one `SEND_TO_NETWORK` across both.
//!
//! Generated frames (Pongs, the Close after a protocol error) belong to the receive queue;
//! one that had to wait for an application frame may also leave through the send queue at
//! the next frame boundary, so that it never depends on the receive queue being driven
//! again.

mod action;
mod incoming;
mod outgoing;
mod render;

use bytes::Bytes;
use wspc::{CloseCode, CloseState, Connection, Error, Event, MessageKind, SendError};

pub use action::{Action, AppBuffer, AppSlice, Completed, Received, SendBuffers};
pub use incoming::ABORTED_STATUS;
pub(super) use render::{AsAction, Render};

use super::{Properties, SendPayload};
use crate::hresult::Hresult;
use crate::types::{ActionQueue, BufferType, MAX_CLOSE_REASON_LENGTH};
use incoming::{Incoming, Input, Pending, RecvOp};
use outgoing::{Frame, Outgoing, Owner, Piece, SendOp, Stage, Wire, Written};

/// An action handed out and not yet completed.
#[derive(Debug)]
struct Slot {
    context: usize,
    kind: SlotKind,
}

#[derive(Debug)]
enum SlotKind {
    /// `SEND_TO_NETWORK`: a piece of a frame.
    Write(Piece),
    /// `INDICATE_SEND_COMPLETE` of the front send.
    IndicateSend,
    /// `RECEIVE_FROM_NETWORK` into the first `len` bytes of the read area.
    Read { len: usize },
    /// `INDICATE_RECEIVE_COMPLETE` of the front receive, showing [`Incoming::shown`].
    IndicateReceive,
}

/// Which queue's slot an action is handed out on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Queue {
    Send,
    Receive,
}

/// What the send queue hands out next (with the action's context).
enum SendStarted {
    Write(usize, Piece),
    Indicate(usize),
}

/// What the payload of a data send is.
pub(super) enum DataSource<'a> {
    /// The caller's [`Bytes`], kept until the send completes.
    Bytes(Bytes),
    /// Application memory given by address, with its bytes lent for this call.
    App(AppBuffer, &'a [u8]),
}

/// The data phase of a handle.
#[derive(Debug)]
pub(super) struct Session {
    conn: Connection,
    out: Outgoing,
    inc: Incoming,
    send_slot: Option<Slot>,
    recv_slot: Option<Slot>,
    last_context: usize,
}

impl Session {
    pub(super) fn new(conn: Connection, properties: &Properties) -> Session {
        Session {
            conn,
            out: Outgoing::new(properties.send_buffer_size as usize),
            inc: Incoming::new(properties.receive_buffer_size as usize),
            send_slot: None,
            recv_slot: None,
            last_context: 0,
        }
    }

    /// The negotiated extension's agreed `Sec-WebSocket-Extensions` element, if any.
    pub(super) fn extension(&self) -> Option<String> {
        self.conn.extension().map(|e| e.negotiated().to_string())
    }

    pub(super) fn send(
        &mut self,
        buffer_type: BufferType,
        payload: SendPayload,
        app_context: usize,
    ) -> Result<(), Hresult> {
        self.check_can_send()?;
        match payload {
            SendPayload::Data(data) if buffer_type.is_data() => {
                self.send_data(buffer_type, DataSource::Bytes(data), app_context)
            }
            SendPayload::Data(_) => Err(Hresult::E_INVALIDARG),
            SendPayload::None => self.send_control(buffer_type, None, app_context),
            SendPayload::Close { status, reason } => {
                self.send_control(buffer_type, Some((status, reason)), app_context)
            }
        }
    }

    /// Queues a data frame of `buffer_type` (one of the four data types).
    pub(super) fn send_data(
        &mut self,
        buffer_type: BufferType,
        source: DataSource<'_>,
        app_context: usize,
    ) -> Result<(), Hresult> {
        self.check_can_send()?;
        let (kind, fin) = match buffer_type {
            BufferType::Utf8Message => (MessageKind::Text, true),
            BufferType::Utf8Fragment => (MessageKind::Text, false),
            BufferType::BinaryMessage => (MessageKind::Binary, true),
            BufferType::BinaryFragment => (MessageKind::Binary, false),
            _ => return Err(Hresult::E_INVALIDARG),
        };
        let bytes: &[u8] = match &source {
            DataSource::Bytes(b) => b,
            DataSource::App(_, b) => b,
        };
        let framed = self
            .conn
            .frame_fragment(kind, bytes, fin)
            .map_err(send_error)?;
        self.out.ops.push_back(SendOp {
            buffer_type,
            app_context,
            frame: Frame::data(framed, source),
            stage: Stage::Waiting,
        });
        Ok(())
    }

    /// Queues a control frame: a Close (`close`: status and reason, or none for a Close
    /// without status), a Ping or an unsolicited Pong.
    fn send_control(
        &mut self,
        buffer_type: BufferType,
        close: Option<(u16, Bytes)>,
        app_context: usize,
    ) -> Result<(), Hresult> {
        self.check_can_send()?;
        // Frames the engine queued on its own go first, so that the next frame taken is
        // this send's.
        self.take_generated();
        match (buffer_type, close) {
            (BufferType::Close, None) => self.conn.close(CloseCode::EMPTY, ""),
            (BufferType::Close, Some((status, reason))) => {
                if reason.len() > MAX_CLOSE_REASON_LENGTH {
                    return Err(Hresult::E_INVALIDARG);
                }
                let reason = std::str::from_utf8(&reason).map_err(|_| Hresult::E_INVALIDARG)?;
                self.conn.close(CloseCode::new(status), reason)
            }
            (BufferType::PingPong, None) => self.conn.ping(Bytes::new()),
            (BufferType::UnsolicitedPong, None) => self.conn.pong(Bytes::new()),
            _ => return Err(Hresult::E_INVALIDARG),
        }
        .map_err(send_error)?;
        let frame = self.conn.pop_frame().ok_or(Hresult::E_UNEXPECTED)?;
        self.out.ops.push_back(SendOp {
            buffer_type,
            app_context,
            frame: Frame::queued(frame),
            stage: Stage::Waiting,
        });
        Ok(())
    }

    fn check_can_send(&self) -> Result<(), Hresult> {
        match self.out.wire {
            Wire::Stopped => Err(Hresult::E_INVALID_PROTOCOL_OPERATION),
            _ => Ok(()),
        }
    }

    pub(super) fn receive(
        &mut self,
        target: Option<AppBuffer>,
        app_context: usize,
    ) -> Result<(), Hresult> {
        let refused = match self.inc.input {
            Input::Open(_) | Input::Ending(_) => self.conn.close_state() == CloseState::Closed,
            Input::Ended | Input::Faulted(_) | Input::Aborted => true,
        };
        if refused {
            return Err(Hresult::E_INVALID_PROTOCOL_OPERATION);
        }
        if target.is_some_and(|t| t.len == 0) {
            return Err(Hresult::E_INVALIDARG);
        }
        self.inc.ops.push_back(RecvOp {
            target,
            app_context,
        });
        Ok(())
    }

    /// The next action on `queue`, described by `render`.
    pub(super) fn get_action<'a, R: Render<'a>>(
        &'a mut self,
        queue: ActionQueue,
        capacity: usize,
        render: R,
    ) -> Result<R::Out, Hresult> {
        // Generated frames first (they belong to the receive queue), then the send queue,
        // then the receive queue.
        if queue.includes_receive() && self.recv_slot.is_none() && self.own_frame_ready() {
            let (context, piece) = self.start_write(Owner::Own, capacity, Queue::Receive)?;
            return Ok(self.write_action(context, piece, render));
        }
        if queue.includes_send()
            && self.send_slot.is_none()
            && let Some(started) = self.start_send(capacity)?
        {
            return Ok(match started {
                SendStarted::Write(context, piece) => self.write_action(context, piece, render),
                SendStarted::Indicate(context) => match self.out.ops.front() {
                    Some(op) => render.indicate_send(context, op.buffer_type, op.app_context),
                    None => R::none(),
                },
            });
        }
        if queue.includes_receive() && self.recv_slot.is_none() && !self.inc.ops.is_empty() {
            return self.start_receive(capacity, render);
        }
        Ok(R::none())
    }

    /// Whether a `SEND_TO_NETWORK` action is outstanding (on either queue).
    fn write_outstanding(&self) -> bool {
        [&self.send_slot, &self.recv_slot].into_iter().any(|slot| {
            matches!(
                slot,
                Some(Slot {
                    kind: SlotKind::Write(_),
                    ..
                })
            )
        })
    }

    /// Whether the front generated frame may get an action now: no write is outstanding
    /// and no application frame is half written. If either holds it back, the waiting
    /// generated frames may leave through the send queue once the wire is free: the
    /// receive queue may go on to indicate the peer's Close, after which the application
    /// need not read (or ask the receive queue) again.
    #[inline(always)]
    fn own_frame_ready(&mut self) -> bool {
        if self.out.own.is_empty() || self.out.wire == Wire::Stopped {
            return false;
        }
        if self.write_outstanding() || self.out.app_frame_open() {
            // Held back by the application's frame (not by a generated one being written).
            if !matches!(
                self.out.wire,
                Wire::Writing {
                    owner: Owner::Own,
                    ..
                }
            ) {
                self.out.own_frames_wait_for_app();
            }
            return false;
        }
        true
    }

    /// The next action of the send queue (its slot is free), if any.
    #[inline(always)]
    fn start_send(&mut self, capacity: usize) -> Result<Option<SendStarted>, Hresult> {
        // Queued sends are cancelled once nothing more can be written, or after a protocol
        // error (a frame already partly written is finished first).
        let cancel = match self.out.wire {
            Wire::Stopped => true,
            _ => matches!(self.inc.input, Input::Faulted(_)) && !self.out.app_frame_open(),
        };
        let finished = match self.out.ops.front_mut() {
            Some(front) => {
                if cancel {
                    front.stage = Stage::Finished;
                }
                front.stage == Stage::Finished
            }
            None => false,
        };
        if finished {
            let context = self.fill(Queue::Send, SlotKind::IndicateSend);
            return Ok(Some(SendStarted::Indicate(context)));
        }
        // A generated frame that waited for an application frame may use this queue.
        if self.out.own.front().is_some_and(|f| f.either_queue) && self.own_frame_ready() {
            let (context, piece) = self.start_write(Owner::Own, capacity, Queue::Send)?;
            return Ok(Some(SendStarted::Write(context, piece)));
        }
        if self.out.ops.is_empty()
            || self.write_outstanding()
            || matches!(
                self.out.wire,
                Wire::Writing {
                    owner: Owner::Own,
                    ..
                }
            )
        {
            return Ok(None);
        }
        let (context, piece) = self.start_write(Owner::App, capacity, Queue::Send)?;
        Ok(Some(SendStarted::Write(context, piece)))
    }

    /// The next action of the receive queue (its slot is free and a receive is queued).
    #[inline(always)]
    fn start_receive<'a, R: Render<'a>>(
        &'a mut self,
        capacity: usize,
        render: R,
    ) -> Result<R::Out, Hresult> {
        if let Input::Faulted(fault) = self.inc.input {
            return Err(fault);
        }
        if self.inc.needs_input() {
            self.pull();
            if let Input::Faulted(fault) = self.inc.input {
                return Err(fault);
            }
            // A Pong owed for a Ping just parsed goes out before the data is delivered.
            if self.own_frame_ready() {
                let (context, piece) = self.start_write(Owner::Own, capacity, Queue::Receive)?;
                return Ok(self.write_action(context, piece, render));
            }
        }
        if capacity == 0 {
            return Err(Hresult::E_INSUFFICIENT_BUFFER);
        }
        let app_context = self.inc.ops.front().map_or(0, |op| op.app_context);
        if self.inc.needs_input() {
            let len = self.inc.read_area.len();
            let context = self.fill(Queue::Receive, SlotKind::Read { len });
            return Ok(render.read(context, &mut self.inc.read_area[..len], app_context));
        }
        let shown = self.inc.take_shown();
        let context = self.fill(Queue::Receive, SlotKind::IndicateReceive);
        let target = self.inc.ops.front().and_then(|op| op.target);
        let shown = self.inc.shown.insert(shown);
        Ok(render.indicate_receive(
            context,
            shown.buffer_type(),
            shown.received(),
            target,
            app_context,
        ))
    }

    /// Starts the next piece of `owner`'s front frame on `queue`'s slot.
    #[inline(always)]
    fn start_write(
        &mut self,
        owner: Owner,
        capacity: usize,
        queue: Queue,
    ) -> Result<(usize, Piece), Hresult> {
        if capacity == 0 {
            return Err(Hresult::E_INSUFFICIENT_BUFFER);
        }
        let piece = self
            .out
            .next_piece(owner, capacity)
            .ok_or(Hresult::E_UNEXPECTED)?;
        Ok((self.fill(queue, SlotKind::Write(piece)), piece))
    }

    /// Hands out an action of `kind` on `queue`'s slot; returns its context.
    #[inline(always)]
    fn fill(&mut self, queue: Queue, kind: SlotKind) -> usize {
        self.last_context = self.last_context.wrapping_add(1).max(1);
        let slot = Some(Slot {
            context: self.last_context,
            kind,
        });
        match queue {
            Queue::Send => self.send_slot = slot,
            Queue::Receive => self.recv_slot = slot,
        }
        self.last_context
    }

    /// The `SEND_TO_NETWORK` action of `piece`.
    #[inline(always)]
    fn write_action<'a, R: Render<'a>>(
        &'a self,
        context: usize,
        piece: Piece,
        render: R,
    ) -> R::Out {
        let (buffer_type, app_context) = match piece.owner {
            Owner::App => match self.out.ops.front() {
                Some(op) => (op.buffer_type, Some(op.app_context)),
                None => return R::none(),
            },
            Owner::Own => match self.out.own.front() {
                Some(f) => (f.buffer_type(), None),
                None => return R::none(),
            },
        };
        render.write(context, buffer_type, self.out.buffers(piece), app_context)
    }

    /// If `context` is the outstanding `RECEIVE_FROM_NETWORK` action, the length of the
    /// buffer it handed out.
    pub(super) fn read_len(&self, context: usize) -> Option<usize> {
        match &self.recv_slot {
            Some(Slot {
                context: c,
                kind: SlotKind::Read { len },
            }) if *c == context && context != 0 => Some(*len),
            _ => None,
        }
    }

    /// If `context` is the outstanding `INDICATE_RECEIVE_COMPLETE` action, the bytes it
    /// shows (the data, the Pong's payload, or the Close's reason), shared, not copied.
    pub(super) fn received_bytes(&self, context: usize) -> Option<Bytes> {
        match (&self.recv_slot, &self.inc.shown) {
            (
                Some(Slot {
                    context: c,
                    kind: SlotKind::IndicateReceive,
                }),
                Some(shown),
            ) if *c == context && context != 0 => Some(shown.bytes().clone()),
            _ => None,
        }
    }

    /// Completes the action `context` with `n` bytes transferred; for a
    /// `RECEIVE_FROM_NETWORK` action, `external` (if given) holds the bytes read instead of
    /// the read area.
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
            SlotKind::Write(piece) => {
                if self.out.complete_piece(piece, n) == Written::Broken {
                    // Nothing more is written: what the engine queues from now on is
                    // dropped.
                    self.take_generated();
                }
                Completed::SendToNetwork
            }
            SlotKind::IndicateSend => {
                self.out.ops.pop_front();
                Completed::IndicateSendComplete
            }
            SlotKind::Read { len } => {
                if !matches!(self.inc.input, Input::Aborted) {
                    let data = match external {
                        Some(data) => &data[..data.len().min(len)],
                        None => &self.inc.read_area[..n.min(len)],
                    };
                    if data.is_empty() {
                        self.conn.handle_eof();
                    } else {
                        self.conn.feed(data);
                    }
                }
                Completed::ReceiveFromNetwork
            }
            SlotKind::IndicateReceive => {
                self.inc.shown = None;
                self.inc.ops.pop_front();
                Completed::IndicateReceiveComplete
            }
        })
    }

    /// Takes the engine's next event (if any) into the input, and the frames it queued on
    /// its own into the generated frames.
    #[inline(always)]
    fn pull(&mut self) {
        let next = loop {
            match self.conn.poll_event() {
                Some(Event::Chunk(chunk)) => {
                    break Input::Open(Some(Pending::Data {
                        kind: chunk.kind,
                        data: chunk.data,
                        fin: chunk.fin,
                    }));
                }
                Some(Event::Message(message)) => {
                    break Input::Open(Some(Pending::Data {
                        kind: message.kind(),
                        data: message.into_bytes(),
                        fin: true,
                    }));
                }
                Some(Event::Pong(payload)) => break Input::Open(Some(Pending::Pong(payload))),
                Some(Event::Close(frame)) => break Input::Ending(Some(frame)),
                Some(Event::Failed(Error::Protocol(_))) => {
                    break Input::Faulted(Hresult::E_INVALID_PROTOCOL_FORMAT);
                }
                Some(Event::Failed(_)) => break Input::Ending(None),
                Some(_) => continue,
                // Nothing yet: the input stays open with nothing pending.
                None => {
                    self.take_generated();
                    return;
                }
            }
        };
        self.inc.input = next;
        self.take_generated();
    }

    /// Moves the frames the engine queued on its own to the generated frames.
    fn take_generated(&mut self) {
        if !self.conn.has_transmit() {
            return;
        }
        while let Some(frame) = self.conn.pop_frame() {
            self.out.push_own(frame);
        }
    }

    pub(super) fn abort(&mut self) {
        if matches!(self.inc.input, Input::Aborted) {
            return;
        }
        self.inc.input = Input::Aborted;
        // Memory an outstanding action points to stays until that action is completed:
        // an indication owns what it shows; a generated frame being written is kept.
        let own_outstanding = [&self.send_slot, &self.recv_slot].into_iter().any(|s| {
            matches!(
                s,
                Some(Slot {
                    kind: SlotKind::Write(Piece {
                        owner: Owner::Own,
                        ..
                    }),
                    ..
                })
            )
        });
        self.out.stop_keeping(own_outstanding);
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
