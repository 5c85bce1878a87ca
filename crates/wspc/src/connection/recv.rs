//! The receive side: bytes become frames, frames become messages (or streamed pieces),
//! control frames are answered, and every rule of RFC 6455 §5 is checked where the bytes
//! arrive.
//!
//! Payloads are unmasked in place in the receive buffer as soon as they arrive, and text
//! is validated right then (fail-fast UTF-8, even in the middle of a frame). A message of
//! one frame leaves as a slice of the receive buffer, without a copy; the fragments of a
//! fragmented message are gathered into one buffer.

use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};

use crate::budget::Charge;
use crate::close::CloseFrame;
use crate::config::Delivery;
use crate::error::{Error, ProtocolError};
use crate::extension::ExtensionError;
use crate::frame::{FrameHeader, OpCode};
use crate::mask::apply_mask;
use crate::message::{Chunk, Event, Message, MessageKind, Utf8Bytes};
use crate::utf8::Utf8Validator;

use super::{Connection, Role};

/// Unmasking and UTF-8 validation work through a payload in blocks of this size.
const FUSED_BLOCK: usize = 16 * 1024;

/// Reads are offered at least this much room.
const MIN_READ: usize = 4096;
/// … and at most this much, however large the frame being received.
const MAX_READ: usize = 1 << 20;

/// The window over which [`Limits::max_empty_frames`](crate::Limits) counts.
const EMPTY_FRAME_WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct Receiver {
    /// Received bytes not yet taken out: the current frame's payload (its first `ready`
    /// bytes unmasked and checked), then whatever follows.
    pub(crate) buf: BytesMut,
    frame: Option<InFrame>,
    /// The message being received (boxed: a message of one frame that arrives whole
    /// never opens one, and the connection is moved around whole).
    msg: Option<Box<InMessage>>,
    /// The transport's read side ended.
    pub(crate) eof: bool,
    /// Input is ignored from now on (the peer's Close arrived, or the connection failed).
    stopped: bool,
    /// What this connection holds of the shared buffer budget.
    pub(crate) charge: Charge,
    /// Frames that gave the application nothing, since `empty_since` or the last message.
    empty_frames: u32,
    /// When the current window of `empty_frames` began (`None` before any time is known).
    empty_since: Option<Instant>,
}

#[derive(Debug)]
struct InFrame {
    opcode: OpCode,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes of this frame not yet taken out of the buffer.
    remaining: u64,
    /// How many of those, at the front of the buffer, are unmasked and checked.
    ready: usize,
    /// Payload bytes unmasked so far, modulo 4 (the key's phase).
    phase: usize,
}

#[derive(Debug)]
struct InMessage {
    kind: MessageKind,
    frames: u32,
    /// Bytes of the message so far (decoded bytes when an extension decodes it).
    size: u64,
    utf8: Utf8Validator,
    /// Messages: the fragments gathered so far. With an extension: decoded bytes not yet
    /// handed out.
    data: BytesMut,
    /// The negotiated extension decodes this message.
    decoded: bool,
    /// Streaming: a piece of this message was already handed out.
    chunked: bool,
    /// The last frame was decoded; the extension still has to flush.
    finishing: bool,
}

/// What one step of processing the current frame led to.
enum Step {
    NeedMore,
    Continue,
    Event(Event),
}

impl Receiver {
    pub(crate) fn new(charge: Charge) -> Receiver {
        Receiver {
            charge,
            ..Receiver::default()
        }
    }

    pub(crate) fn accepting_input(&self) -> bool {
        !self.stopped
    }

    /// Ignore all further input and free the buffers.
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
        self.buf = BytesMut::new();
        self.frame = None;
        self.msg = None;
        self.charge.clear();
    }

    /// Room for the next read: what the current frame still misses, but never more than
    /// is already buffered (at least [`MIN_READ`]), so the buffer grows with the bytes
    /// that actually arrive — doubling at most per read — and never with what a header
    /// merely announces.
    #[inline]
    pub(crate) fn read_hint(&self) -> usize {
        let missing = match &self.frame {
            Some(f) if !f.opcode.is_control() => f.remaining.saturating_sub(self.buf.len() as u64),
            _ => 0,
        };
        usize::try_from(missing)
            .unwrap_or(MAX_READ)
            .min(self.buf.len().max(MIN_READ))
            .clamp(MIN_READ, MAX_READ)
    }

    /// Bytes of received data this connection buffers: unparsed input and the current
    /// frame's payload, plus the message gathered (or decoded) so far.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len() + self.msg.as_ref().map_or(0, |m| m.data.len())
    }

    /// Whether a frame or message has begun and is not complete.
    pub(crate) fn incomplete(&self) -> bool {
        !self.buf.is_empty() || self.frame.is_some() || self.msg.is_some()
    }

    /// Nothing to parse and nothing to report: no input, no frame or message begun, and
    /// the input has not ended. The progress deadline is then already idle (it is
    /// cleared whenever nothing incomplete is held).
    #[inline]
    pub(crate) fn drained(&self) -> bool {
        self.buf.is_empty() && self.frame.is_none() && self.msg.is_none() && !self.eof
    }

    /// Whether frames that give the application nothing are being counted (the count
    /// runs over a window of time).
    #[inline]
    pub(crate) fn counting_empty_frames(&self) -> bool {
        self.empty_frames != 0
    }

    /// Whether a data message is open (some of its frames arrived, not its end).
    pub(crate) fn message_open(&self) -> bool {
        self.msg.is_some()
    }
}

impl Connection {
    /// Processes buffered input until an event is ready or more input is needed.
    pub(super) fn process_input(&mut self) -> Option<Event> {
        loop {
            if self.recv.stopped {
                return None;
            }
            if self.recv.charge.is_active() && self.sync_budget().is_err() {
                return Some(self.fail(Error::BudgetExhausted));
            }
            let step = if self.recv.frame.is_some() {
                self.step_frame()
            } else if self.recv.msg.as_ref().is_some_and(|m| m.finishing) {
                self.step_finish_decode()
            } else {
                self.next_header()
            };
            match step {
                Step::NeedMore => {
                    self.track_progress();
                    return None;
                }
                Step::Continue => {}
                Step::Event(event) => {
                    if !self.recv.message_open() {
                        // A message (or a control frame between messages) is complete:
                        // the progress deadline and the empty-frame count start over.
                        self.clear_progress();
                        if matches!(
                            event,
                            Event::Message(_) | Event::Chunk(Chunk { fin: true, .. })
                        ) {
                            self.recv.empty_frames = 0;
                        }
                    }
                    return Some(event);
                }
            }
        }
    }

    /// Brings this connection's share of the buffer budget in line with what it holds.
    pub(super) fn sync_budget(&mut self) -> Result<(), crate::budget::Refused> {
        let received = self.recv.buffered();
        self.recv.charge.update(received, self.outbox.len())
    }

    /// How much more received data this connection may buffer under the budget.
    fn budget_room(&self) -> usize {
        self.recv
            .charge
            .room(self.recv.buffered() + self.outbox.len())
    }

    /// Counts a frame that gives the application nothing (a Pong, an empty non-final
    /// data frame) against [`Limits::max_empty_frames`](crate::Limits).
    fn count_empty_frame(&mut self) -> Result<(), ProtocolError> {
        let max = self.config.limits.max_empty_frames;
        if let Some(now) = self.timers.now()
            && self
                .recv
                .empty_since
                .is_none_or(|since| now.saturating_duration_since(since) >= EMPTY_FRAME_WINDOW)
        {
            self.recv.empty_since = Some(now);
            self.recv.empty_frames = 0;
        }
        self.recv.empty_frames = self.recv.empty_frames.saturating_add(1);
        if self.recv.empty_frames > max {
            return Err(ProtocolError::TooManyEmptyFrames { max });
        }
        Ok(())
    }

    fn protocol_failure(&mut self, error: ProtocolError) -> Step {
        Step::Event(self.fail(Error::Protocol(error)))
    }

    fn extension_failure(&mut self, error: ExtensionError) -> Step {
        let name = self.ext.as_ref().map_or("extension", |e| e.name());
        self.protocol_failure(ProtocolError::Extension {
            name,
            reason: error.reason,
            code: error.code,
        })
    }

    /// Parses and checks the next frame header.
    fn next_header(&mut self) -> Step {
        let (header, len) = match FrameHeader::parse(&self.recv.buf) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Step::NeedMore,
            Err(e) => return self.protocol_failure(e),
        };
        if let Err(e) = self.check_header(&header) {
            return self.protocol_failure(e);
        }
        let empty = header.opcode == OpCode::Pong
            || (!header.opcode.is_control() && header.payload_len == 0 && !header.fin);
        if empty && let Err(e) = self.count_empty_frame() {
            return self.protocol_failure(e);
        }
        if let Some(step) = self.whole_message(&header, len) {
            return step;
        }
        self.recv.buf.advance(len);
        self.note_activity();
        if !header.opcode.is_control()
            && let Err(step) = self.start_data_frame(&header)
        {
            return step;
        }
        self.recv.frame = Some(InFrame {
            opcode: header.opcode,
            fin: header.fin,
            mask: header.mask,
            remaining: header.payload_len,
            ready: 0,
            phase: 0,
        });
        Step::Continue
    }

    /// The common case at once: a message of one plain frame (no extension at work, at
    /// most one block long) that is already whole in the buffer, delivered as a message,
    /// is taken out, unmasked and checked without opening a frame and a message first.
    /// `None` when the frame is anything else: it then goes the general way.
    fn whole_message(&mut self, h: &FrameHeader, header_len: usize) -> Option<Step> {
        if h.opcode.is_control()
            || !h.fin
            || h.rsv != 0
            || self.recv.msg.is_some()
            || self.config.delivery != Delivery::Messages
        {
            return None;
        }
        let len = usize::try_from(h.payload_len)
            .ok()
            .filter(|&n| n <= FUSED_BLOCK)?;
        if self.recv.buf.len().saturating_sub(header_len) < len {
            return None;
        }
        self.recv.buf.advance(header_len);
        self.note_activity();
        let mut payload = self.recv.buf.split_to(len);
        if let Some(key) = h.mask {
            apply_mask(&mut payload, key, 0);
        }
        let kind = if h.opcode == OpCode::Text {
            if Utf8Validator::new().feed_final(&payload).is_err() {
                return Some(self.protocol_failure(ProtocolError::InvalidUtf8));
            }
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        Some(Step::Event(Event::Message(make_message(
            kind,
            payload.freeze(),
        ))))
    }

    /// RFC 6455 §5.1–§5.5 and the configured limits, checked on the header alone.
    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        if h.rsv != 0 {
            let claimed = match (&self.ext, h.opcode) {
                (Some(ext), OpCode::Text | OpCode::Binary) => ext.rsv_bits(),
                _ => 0,
            };
            if h.rsv & !claimed != 0 {
                return Err(ProtocolError::ReservedBits(h.rsv));
            }
        }
        match self.role {
            Role::Server if h.mask.is_none() && !self.config.accept_unmasked_frames => {
                return Err(ProtocolError::UnmaskedFrame);
            }
            Role::Client if h.mask.is_some() => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if h.opcode.is_control() {
            if !h.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if h.payload_len > crate::frame::MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong(h.payload_len));
            }
            return Ok(());
        }
        let limits = &self.config.limits;
        match (h.opcode, &self.recv.msg) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation);
            }
            (OpCode::Continuation, Some(msg)) if msg.frames >= limits.max_fragments => {
                return Err(ProtocolError::TooManyFragments {
                    max: limits.max_fragments,
                });
            }
            _ => {}
        }
        if h.payload_len > limits.max_frame_size {
            return Err(ProtocolError::FrameTooLarge {
                len: h.payload_len,
                max: limits.max_frame_size,
            });
        }
        let (size, decoded) = self
            .recv
            .msg
            .as_ref()
            .map_or((0, false), |m| (m.size, m.decoded));
        if !decoded && size.saturating_add(h.payload_len) > limits.max_message_size {
            return Err(ProtocolError::MessageTooLarge {
                max: limits.max_message_size,
            });
        }
        Ok(())
    }

    /// Opens the message on its first frame, counts fragments.
    fn start_data_frame(&mut self, h: &FrameHeader) -> Result<(), Step> {
        if let Some(msg) = self.recv.msg.as_mut() {
            msg.frames += 1;
            if !msg.decoded {
                msg.size += h.payload_len;
            }
            return Ok(());
        }
        let kind = if h.opcode == OpCode::Text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        let decoded = h.rsv != 0;
        if decoded {
            self.grant_decode_state().map_err(Step::Event)?;
            let begun = match self.ext.as_mut() {
                Some(ext) => ext.begin_decode(h.rsv),
                None => Ok(()),
            };
            if let Err(e) = begun {
                return Err(self.extension_failure(e));
            }
            self.sync_ext_state();
        }
        self.recv.msg = Some(Box::new(InMessage {
            kind,
            frames: 1,
            size: if decoded { 0 } else { h.payload_len },
            utf8: Utf8Validator::new(),
            data: BytesMut::new(),
            decoded,
            chunked: false,
            finishing: false,
        }));
        Ok(())
    }

    /// Unmasks (and for plain text, validates) newly arrived payload bytes, then acts on
    /// the frame.
    fn step_frame(&mut self) -> Step {
        let validate = self.validates_text();
        let recv = &mut self.recv;
        let Some(frame) = recv.frame.as_mut() else {
            return Step::Continue;
        };
        // The caller may only append to the buffer; if it shrank it anyway, do not panic.
        frame.ready = frame.ready.min(recv.buf.len());
        let present = recv
            .buf
            .len()
            .min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
        if present > frame.ready {
            let fresh = &mut recv.buf[frame.ready..present];
            let mut text = match recv.msg.as_mut() {
                Some(msg)
                    if !frame.opcode.is_control()
                        && msg.kind == MessageKind::Text
                        && !msg.decoded
                        && validate =>
                {
                    Some(&mut msg.utf8)
                }
                _ => None,
            };
            // Unmask and validate a block at a time, so each block is validated while it
            // is still in the L1 cache.
            let mut phase = frame.phase;
            for block in fresh.chunks_mut(FUSED_BLOCK) {
                if let Some(key) = frame.mask {
                    apply_mask(block, key, phase);
                }
                phase = (phase + block.len()) & 3;
                if let Some(utf8) = text.as_deref_mut()
                    && utf8.feed(block).is_err()
                {
                    return self.protocol_failure(ProtocolError::InvalidUtf8);
                }
            }
            frame.phase = phase;
            frame.ready = present;
        }
        if frame.opcode.is_control() {
            if (frame.ready as u64) < frame.remaining {
                return Step::NeedMore;
            }
            let opcode = frame.opcode;
            let payload = recv.buf.split_to(frame.ready).freeze();
            recv.frame = None;
            return self.on_control_frame(opcode, payload);
        }
        let decoded = recv.msg.as_ref().is_some_and(|m| m.decoded);
        match (decoded, self.config.delivery) {
            (false, Delivery::Messages) => self.step_whole(),
            (false, Delivery::Chunks { max_chunk }) => self.step_chunk(max_chunk.max(1)),
            (true, delivery) => self.step_decode(delivery),
        }
    }

    fn validates_text(&self) -> bool {
        self.config.validate_utf8 || self.config.delivery == Delivery::Messages
    }

    /// Whole-message delivery of a plain frame: wait for all of it.
    fn step_whole(&mut self) -> Step {
        let recv = &mut self.recv;
        let (Some(frame), Some(msg)) = (recv.frame.as_ref(), recv.msg.as_mut()) else {
            return Step::Continue;
        };
        if (frame.ready as u64) < frame.remaining {
            return Step::NeedMore;
        }
        let fin = frame.fin;
        let payload = recv.buf.split_to(frame.ready);
        recv.frame = None;
        if !fin {
            msg.data.extend_from_slice(&payload);
            return Step::Continue;
        }
        if msg.kind == MessageKind::Text && msg.utf8.finish().is_err() {
            return self.protocol_failure(ProtocolError::InvalidUtf8);
        }
        let data = if msg.data.is_empty() {
            payload.freeze()
        } else {
            msg.data.extend_from_slice(&payload);
            std::mem::take(&mut msg.data).freeze()
        };
        let kind = msg.kind;
        recv.msg = None;
        Step::Event(Event::Message(make_message(kind, data)))
    }

    /// Streaming delivery of a plain frame: hand out what has arrived.
    fn step_chunk(&mut self, max_chunk: usize) -> Step {
        let validate = self.validates_text();
        let recv = &mut self.recv;
        let (Some(frame), Some(msg)) = (recv.frame.as_mut(), recv.msg.as_mut()) else {
            return Step::Continue;
        };
        let take = frame.ready.min(max_chunk);
        let frame_done = take as u64 == frame.remaining;
        if take == 0 && !frame_done {
            return Step::NeedMore;
        }
        let fin = frame_done && frame.fin;
        let data = recv.buf.split_to(take).freeze();
        frame.remaining -= take as u64;
        frame.ready -= take;
        if frame_done {
            recv.frame = None;
        }
        if take == 0 && !fin {
            return Step::Continue; // an empty fragment: nothing to hand out
        }
        if fin && msg.kind == MessageKind::Text && validate && msg.utf8.finish().is_err() {
            return self.protocol_failure(ProtocolError::InvalidUtf8);
        }
        let chunk = Chunk {
            kind: msg.kind,
            data,
            first: !msg.chunked,
            fin,
        };
        msg.chunked = true;
        if fin {
            recv.msg = None;
        }
        Step::Event(Event::Chunk(chunk))
    }

    /// A frame of a message the extension decodes: feed what arrived through it.
    fn step_decode(&mut self, delivery: Delivery) -> Step {
        let limit = self.config.limits.max_message_size;
        let validate = self.validates_text();
        let budget_room = self.budget_room();
        let recv = &mut self.recv;
        let (Some(frame), Some(msg), Some(ext)) =
            (recv.frame.as_mut(), recv.msg.as_mut(), self.ext.as_mut())
        else {
            return Step::Continue;
        };
        let limit_room = match delivery {
            Delivery::Messages => room(limit, msg.size),
            Delivery::Chunks { max_chunk } => max_chunk.max(1).saturating_sub(msg.data.len()),
        };
        // The inflated size counts against the budget as it grows, not after the fact.
        let max_out = limit_room.min(budget_room);
        let before = msg.data.len();
        let consumed = if frame.ready > 0 {
            match ext.decode(&recv.buf[..frame.ready], &mut msg.data, max_out) {
                Ok(n) => n.min(frame.ready),
                Err(e) => return self.extension_failure(e),
            }
        } else {
            0
        };
        let produced = msg.data.len() - before;
        msg.size += produced as u64;
        let limited = consumed < frame.ready;
        if limited && budget_room < limit_room {
            return Step::Event(self.fail(Error::BudgetExhausted));
        }
        if msg.size > limit || (limited && delivery == Delivery::Messages) {
            return self.protocol_failure(ProtocolError::MessageTooLarge { max: limit });
        }
        if msg.kind == MessageKind::Text && validate && msg.utf8.feed(&msg.data[before..]).is_err()
        {
            return self.protocol_failure(ProtocolError::InvalidUtf8);
        }
        recv.buf.advance(consumed);
        frame.ready -= consumed;
        frame.remaining -= consumed as u64;
        let frame_done = frame.remaining == 0;
        let input_exhausted = frame.ready == 0;
        if frame_done {
            msg.finishing = frame.fin;
            recv.frame = None;
        }
        if let Delivery::Chunks { max_chunk } = delivery {
            // At the end of the message, even a full piece waits for the extension's
            // flush: when the flush adds nothing, the piece is the message's last (not a
            // piece followed by an empty last one).
            let full = msg.data.len() >= max_chunk.max(1);
            if !msg.finishing && (full || (input_exhausted && !msg.data.is_empty())) {
                return Step::Event(Event::Chunk(take_chunk(msg, false)));
            }
        }
        if consumed == 0 && produced == 0 && !input_exhausted {
            return self.extension_failure(ExtensionError {
                reason: "decoder made no progress".into(),
                code: crate::close::CloseCode::SERVER_ERROR,
            });
        }
        if frame_done || !input_exhausted {
            Step::Continue
        } else {
            Step::NeedMore
        }
    }

    /// The last frame of a decoded message is in: let the extension flush, then hand out
    /// the message (or its last piece).
    fn step_finish_decode(&mut self) -> Step {
        let limit = self.config.limits.max_message_size;
        let delivery = self.config.delivery;
        let validate = self.validates_text();
        let budget_room = self.budget_room();
        let recv = &mut self.recv;
        let (Some(msg), Some(ext)) = (recv.msg.as_mut(), self.ext.as_mut()) else {
            return Step::Continue;
        };
        let limit_room = match delivery {
            Delivery::Messages => room(limit, msg.size),
            Delivery::Chunks { max_chunk } => max_chunk.max(1).saturating_sub(msg.data.len()),
        };
        let max_out = limit_room.min(budget_room);
        let before = msg.data.len();
        let done = match ext.finish_decode(&mut msg.data, max_out) {
            Ok(done) => done,
            Err(e) => return self.extension_failure(e),
        };
        let produced = msg.data.len() - before;
        msg.size += produced as u64;
        if !done && budget_room < limit_room {
            return Step::Event(self.fail(Error::BudgetExhausted));
        }
        if msg.size > limit || (!done && delivery == Delivery::Messages) {
            return self.protocol_failure(ProtocolError::MessageTooLarge { max: limit });
        }
        if msg.kind == MessageKind::Text && validate {
            let fresh = &msg.data[before..];
            let checked = if done {
                msg.utf8.feed_final(fresh)
            } else {
                msg.utf8.feed(fresh)
            };
            if checked.is_err() {
                return self.protocol_failure(ProtocolError::InvalidUtf8);
            }
        }
        if !done {
            if produced == 0 && max_out > 0 {
                return self.extension_failure(ExtensionError {
                    reason: "decoder made no progress".into(),
                    code: crate::close::CloseCode::SERVER_ERROR,
                });
            }
            return Step::Event(Event::Chunk(take_chunk(msg, false)));
        }
        let event = match delivery {
            Delivery::Messages => Event::Message(make_message(
                msg.kind,
                std::mem::take(&mut msg.data).freeze(),
            )),
            Delivery::Chunks { .. } => Event::Chunk(take_chunk(msg, true)),
        };
        recv.msg = None;
        // The end of a message may free decoding state (without context takeover); idle
        // state is parked after a while.
        let park_after = ext.park_after();
        self.sync_ext_state();
        self.timers.arm_park(park_after);
        Step::Event(event)
    }

    fn on_control_frame(&mut self, opcode: OpCode, payload: Bytes) -> Step {
        match opcode {
            OpCode::Ping => {
                if self.config.auto_pong {
                    self.queue_auto_pong(payload.clone());
                }
                if self.config.deliver_pings {
                    Step::Event(Event::Ping(payload))
                } else {
                    Step::Continue
                }
            }
            OpCode::Pong => {
                self.note_pong();
                Step::Event(Event::Pong(payload))
            }
            _ => match CloseFrame::parse(payload) {
                Ok(frame) => Step::Event(self.on_close_frame(frame)),
                Err(e) => self.protocol_failure(e),
            },
        }
    }
}

/// How many more bytes a message may grow by.
fn room(limit: u64, size: u64) -> usize {
    usize::try_from(limit.saturating_sub(size)).unwrap_or(usize::MAX)
}

fn take_chunk(msg: &mut InMessage, fin: bool) -> Chunk {
    let chunk = Chunk {
        kind: msg.kind,
        data: msg.data.split().freeze(),
        first: !msg.chunked,
        fin,
    };
    msg.chunked = true;
    chunk
}

fn make_message(kind: MessageKind, data: Bytes) -> Message {
    match kind {
        MessageKind::Text => Message::Text(Utf8Bytes::from_validated(data)),
        MessageKind::Binary => Message::Binary(data),
    }
}
