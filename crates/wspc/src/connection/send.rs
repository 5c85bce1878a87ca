//! The send side: whole messages, fragments, Pings, Pongs and Close frames become frames
//! in the transmit queue (masked by a client with a fresh key per frame).

use bytes::{Bytes, BytesMut};
use rand::Rng;

use crate::close::CloseFrame;
use crate::error::SendError;
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};
use crate::mask::mask_into;
use crate::message::{Message, MessageKind};
use crate::prepared::PreparedMessage;
use crate::utf8::Utf8Validator;

use super::outbox::{FramedFragment, PayloadRef};
use super::{CloseState, Connection, Role};

#[derive(Debug, Default)]
pub(crate) struct SendState {
    /// The fragmented message being sent, if any.
    open: Option<OpenMessage>,
    /// The latest Pong owed while the write buffer was over its limit.
    deferred_pong: Option<Bytes>,
}

#[derive(Debug)]
struct OpenMessage {
    kind: MessageKind,
    /// The first frame's RSV bits, if the extension transforms this message.
    rsv: Option<u8>,
    /// Whether the first frame was queued.
    started: bool,
    utf8: Utf8Validator,
}

impl SendState {
    /// Bytes of the deferred Pong (frame header included, unmasked estimate).
    #[inline]
    pub(crate) fn deferred_len(&self) -> usize {
        self.deferred_pong.as_ref().map_or(0, |p| 2 + p.len())
    }

    /// Whether a fragmented message is being sent (its last fragment not yet queued).
    #[inline]
    pub(crate) fn message_open(&self) -> bool {
        self.open.is_some()
    }
}

impl Connection {
    /// Queues a whole message as one frame (transformed by the negotiated extension if it
    /// chooses to: with permessage-deflate, compressed unless below the threshold). Fails
    /// once our Close was sent, or while a fragmented message is open.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), SendError> {
        self.send_message(message.into(), true)
    }

    /// Queues a whole message as it is, bypassing the negotiated extension (with
    /// permessage-deflate: uncompressed, RSV1 clear) — e.g. for data known not to
    /// compress.
    pub fn send_uncompressed(&mut self, message: impl Into<Message>) -> Result<(), SendError> {
        self.send_message(message.into(), false)
    }

    /// Queues a message that many connections send (broadcast): its payload is shared,
    /// not copied, and the negotiated extension may reuse an encoding another connection
    /// already made (permessage-deflate compresses it once for all connections that can
    /// read the same bytes; see [`PreparedMessage`]). Fails as [`send`](Connection::send).
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_data_allowed()?;
        if self.send.open.is_some() {
            return Err(SendError::MessageInProgress);
        }
        let opcode = opcode_for(message.kind());
        let encoded = match self.ext.as_mut() {
            Some(ext) => {
                let encoded = ext
                    .encode_prepared(message)
                    .map_err(|e| SendError::Extension(e.reason));
                if let Ok(Some(_)) = encoded {
                    let park_after = ext.park_after();
                    self.timers.arm_park(park_after);
                }
                self.sync_ext_state();
                encoded?
            }
            None => None,
        };
        match encoded {
            Some((rsv, payload)) => {
                self.queue_frame(opcode, true, rsv, PayloadRef::Shared(&payload))
            }
            None => self.queue_frame(opcode, true, 0, PayloadRef::Shared(message.payload())),
        }
        Ok(())
    }

    fn send_message(&mut self, message: Message, transform: bool) -> Result<(), SendError> {
        self.check_data_allowed()?;
        if self.send.open.is_some() {
            return Err(SendError::MessageInProgress);
        }
        let kind = message.kind();
        let payload = message.into_bytes();
        let opcode = opcode_for(kind);
        let rsv = if transform {
            self.begin_encode(kind, Some(payload.len()))
        } else {
            None
        };
        match rsv {
            Some(rsv) => {
                let encoded = self.encode_with_extension(&payload, true)?;
                self.queue_frame(opcode, true, rsv, PayloadRef::Shared(&encoded));
            }
            None => self.queue_frame(opcode, true, 0, PayloadRef::Shared(&payload)),
        }
        Ok(())
    }

    /// Queues one fragment of a message: the first fragment opens a message of `kind`,
    /// later ones must have the same kind, and `fin` ends it. Text fragments may split a
    /// UTF-8 sequence, but together they must be valid UTF-8 (checked as they come; a
    /// refused fragment changes nothing). Pings, Pongs and Close may be sent between
    /// fragments; whole messages may not.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        fin: bool,
    ) -> Result<(), SendError> {
        let data = data.into();
        let (opcode, rsv, encode) = self.begin_fragment(kind, &data, fin)?;
        if encode {
            let out = self.encode_with_extension(&data, fin)?;
            self.queue_frame(opcode, fin, rsv, PayloadRef::Shared(&out));
        } else {
            self.queue_frame(opcode, fin, rsv, PayloadRef::Shared(&data));
        }
        Ok(())
    }

    /// Frames one fragment like [`send_fragment`](Connection::send_fragment) (same rules,
    /// same state), but hands the frame back instead of queuing it, and only borrows
    /// `data`: for a caller that keeps the payload itself until it is written (the Windows
    /// component model, whose application buffers stay valid until their send completes),
    /// so an unchanged payload costs no copy and no allocation.
    ///
    /// [`FramedFragment::payload`] is `None` when `data` goes on the wire as it is (a
    /// server, or a client with [`Config::zero_mask_key`](crate::Config)), and the bytes to
    /// write instead when the engine transformed them (masked by a client, encoded by the
    /// negotiated extension). The frame is not in the transmit queue: the caller writes it
    /// in order with what [`pop_frame`](Connection::pop_frame) hands out.
    ///
    /// ```
    /// use wspc::{Config, Connection, MessageKind, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// let frame = server.frame_fragment(MessageKind::Text, b"hello", true).unwrap();
    /// assert_eq!(frame.header(), [0x81, 5]);
    /// assert!(frame.payload().is_none()); // "hello" goes out as it is
    /// assert!(!server.has_transmit());
    /// ```
    pub fn frame_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<FramedFragment, SendError> {
        let (opcode, rsv, encode) = self.begin_fragment(kind, data, fin)?;
        let encoded = if encode {
            Some(self.encode_with_extension(data, fin)?)
        } else {
            None
        };
        let on_wire = encoded.as_deref().unwrap_or(data);
        let mask = self.mask_key();
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: on_wire.len() as u64,
        };
        let payload = match mask {
            Some(key) if key != [0; 4] => {
                let mut masked = BytesMut::zeroed(on_wire.len());
                mask_into(&mut masked, on_wire, key, 0);
                Some(masked.freeze())
            }
            _ => encoded,
        };
        Ok(FramedFragment::new(&header, payload))
    }

    /// The checks and state changes of a fragment about to be framed: returns its opcode,
    /// its RSV bits and whether the negotiated extension encodes it.
    fn begin_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(OpCode, u8, bool), SendError> {
        self.check_data_allowed()?;
        let mut utf8 = match &self.send.open {
            Some(open) if open.kind != kind => return Err(SendError::KindMismatch),
            Some(open) => open.utf8.clone(),
            None => Utf8Validator::new(),
        };
        if kind == MessageKind::Text {
            let checked = if fin {
                utf8.feed_final(data)
            } else {
                utf8.feed(data)
            };
            checked.map_err(|_| SendError::InvalidUtf8)?;
        }
        // A new message: the extension (and the budget) decide on its encoding once.
        let first_rsv = if self.send.open.is_none() {
            self.begin_encode(kind, None)
        } else {
            None
        };
        let open = self.send.open.get_or_insert_with(|| OpenMessage {
            kind,
            rsv: first_rsv,
            started: false,
            utf8: Utf8Validator::new(),
        });
        open.utf8 = utf8;
        let (opcode, rsv) = if open.started {
            (OpCode::Continuation, 0)
        } else {
            (opcode_for(kind), open.rsv.unwrap_or(0))
        };
        let encode = open.rsv.is_some();
        open.started = true;
        if fin {
            self.send.open = None;
        }
        Ok((opcode, rsv, encode))
    }

    /// Queues a Ping (payload at most 125 bytes).
    pub fn ping(&mut self, payload: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload.into())
    }

    /// Queues a Pong (payload at most 125 bytes): an answer, or an unsolicited heartbeat
    /// (as the Windows component's `UNSOLICITED_PONG`).
    pub fn pong(&mut self, payload: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload.into())
    }

    fn send_control(&mut self, opcode: OpCode, payload: Bytes) -> Result<(), SendError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlPayloadTooLong(payload.len()));
        }
        if matches!(self.close.state, CloseState::Closed | CloseState::Failed) {
            return Err(SendError::Closed);
        }
        self.queue_frame(opcode, true, 0, PayloadRef::Slice(&payload));
        Ok(())
    }

    /// Answers a received Ping. Over the write-buffer limit only the latest answer is
    /// kept (RFC 6455 §5.5.3 allows answering just the most recent Ping).
    pub(super) fn queue_auto_pong(&mut self, payload: Bytes) {
        if self.outbox.len() > self.config.limits.max_write_buffer {
            self.send.deferred_pong = Some(payload);
        } else {
            self.queue_frame(OpCode::Pong, true, 0, PayloadRef::Slice(&payload));
        }
    }

    /// Queues what was held back: a Pong deferred by the write-buffer limit, and the
    /// automatic Close reply.
    #[inline]
    pub(super) fn flush_deferred(&mut self) {
        if self.send.deferred_pong.is_some() || self.close.pending_reply.is_some() {
            self.flush_deferred_slow();
        }
    }

    fn flush_deferred_slow(&mut self) {
        if self.outbox.len() <= self.config.limits.max_write_buffer
            && let Some(pong) = self.send.deferred_pong.take()
        {
            self.queue_frame(OpCode::Pong, true, 0, PayloadRef::Slice(&pong));
        }
        self.flush_pending_close();
    }

    pub(super) fn queue_close_frame(&mut self, frame: &CloseFrame) {
        let payload = frame.encode();
        self.queue_frame(OpCode::Close, true, 0, PayloadRef::Slice(&payload));
    }

    fn check_data_allowed(&self) -> Result<(), SendError> {
        match self.close.state {
            CloseState::Open | CloseState::CloseReceived => Ok(()),
            _ => Err(SendError::Closed),
        }
    }

    /// Whether the negotiated extension transforms an outgoing message, and its first
    /// frame's RSV bits: the extension's choice, unless the budget cannot hold the
    /// state to encode it (then it goes out as it is).
    fn begin_encode(&mut self, kind: MessageKind, size_hint: Option<usize>) -> Option<u8> {
        let rsv = self.ext.as_mut()?.begin_encode(kind, size_hint)?;
        self.grant_encode_state().then_some(rsv)
    }

    fn encode_with_extension(&mut self, payload: &[u8], fin: bool) -> Result<Bytes, SendError> {
        let Some(ext) = self.ext.as_mut() else {
            return Ok(Bytes::copy_from_slice(payload));
        };
        let mut out = BytesMut::with_capacity(payload.len() / 2 + 16);
        let encoded = ext.encode(payload, fin, &mut out);
        let park_after = ext.park_after();
        self.sync_ext_state();
        encoded.map_err(|e| SendError::Extension(e.reason))?;
        self.timers.arm_park(park_after);
        Ok(out.freeze())
    }

    /// The masking key of the next frame: none for a server, a fresh random key for a
    /// client (all zeros with `zero_mask_key`).
    #[inline]
    fn mask_key(&self) -> Option<[u8; 4]> {
        match self.role {
            Role::Server => None,
            Role::Client => Some(self.client_mask_key()),
        }
    }

    /// A client's key (out of line: the server's `None` stays a compare).
    fn client_mask_key(&self) -> [u8; 4] {
        if self.config.zero_mask_key {
            [0; 4]
        } else {
            rand::rng().next_u32().to_ne_bytes()
        }
    }

    fn queue_frame(&mut self, opcode: OpCode, fin: bool, rsv: u8, payload: PayloadRef<'_>) {
        let mask = self.mask_key();
        let len = match &payload {
            PayloadRef::Slice(s) => s.len(),
            PayloadRef::Shared(b) => b.len(),
        };
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: len as u64,
        };
        self.outbox.push_frame(&header, payload);
    }
}

fn opcode_for(kind: MessageKind) -> OpCode {
    match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    }
}
