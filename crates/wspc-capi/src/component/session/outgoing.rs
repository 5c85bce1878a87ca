//! The send side: the application's sends, the frames the component generated on its own
//! (Pongs, the Close after a protocol error), and the wire they share.
//!
//! Wire order is kept by one rule: frames leave whole, one at a time. The frame being
//! written is the only one that may get a `SEND_TO_NETWORK` action until its last byte is
//! written; application frames and generated frames otherwise alternate at frame
//! boundaries, generated frames first.

use std::collections::VecDeque;

use bytes::Bytes;
use wspc::frame::{MAX_HEADER_LEN, OpCode};
use wspc::{FramedFragment, OutgoingFrame};

use super::DataSource;
use super::action::{AppBuffer, AppSlice, SendBuffers};
use crate::types::BufferType;

/// Generated Pongs kept waiting at most; beyond, the oldest unsent one is dropped (RFC 6455
/// §5.5.3 allows answering only the most recent Ping).
pub(super) const MAX_OWN_FRAMES: usize = 64;

/// One frame to write: its header and where its payload is.
#[derive(Debug)]
pub(super) struct Frame {
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    opcode: OpCode,
    payload_len: usize,
    payload: Payload,
}

/// Where a frame's payload is.
#[derive(Debug)]
enum Payload {
    /// In a frame the engine queued (a control frame), in component memory: handed out
    /// whole.
    Queued(OutgoingFrame),
    /// Bytes the engine made (masked, compressed), in component memory: handed out in
    /// pieces of at most the send buffer size, as Windows hands out its send buffer.
    Made(Bytes),
    /// The caller's [`Bytes`], unchanged: handed out whole, without a copy.
    Given(Bytes),
    /// Application memory given by address, unchanged: handed out whole, by address.
    App(AppBuffer),
}

/// A frame header (2 to 14 bytes) copied into a fixed array.
fn copy_header(header: &[u8]) -> ([u8; MAX_HEADER_LEN], u8) {
    let mut raw = [0u8; MAX_HEADER_LEN];
    let len = header.len().min(MAX_HEADER_LEN);
    raw[..len].copy_from_slice(&header[..len]);
    (raw, len as u8)
}

/// Where a piece of a payload is.
enum PayloadPiece<'a> {
    Bytes(&'a [u8]),
    App(AppSlice),
}

impl Frame {
    /// A frame the engine queued.
    pub(super) fn queued(frame: OutgoingFrame) -> Frame {
        let (raw, header_len) = copy_header(frame.header());
        Frame {
            header: raw,
            header_len,
            opcode: frame.opcode(),
            payload_len: frame.payload().len(),
            payload: Payload::Queued(frame),
        }
    }

    /// A data frame the engine framed for `source`'s bytes.
    pub(super) fn data(framed: FramedFragment, source: DataSource<'_>) -> Frame {
        let (raw, header_len) = copy_header(framed.header());
        let opcode = framed.opcode();
        let payload = match (framed.into_payload(), source) {
            (Some(made), _) => Payload::Made(made),
            (None, DataSource::Bytes(b)) => Payload::Given(b),
            (None, DataSource::App(buffer, _)) => Payload::App(buffer),
        };
        let payload_len = match &payload {
            Payload::Made(b) | Payload::Given(b) => b.len(),
            Payload::App(a) => a.len,
            Payload::Queued(f) => f.payload().len(),
        };
        Frame {
            header: raw,
            header_len,
            opcode,
            payload_len,
            payload,
        }
    }

    fn header(&self) -> &[u8] {
        &self.header[..usize::from(self.header_len)]
    }

    /// Total bytes on the wire.
    fn len(&self) -> usize {
        usize::from(self.header_len) + self.payload_len
    }

    pub(super) fn opcode(&self) -> OpCode {
        self.opcode
    }

    /// The largest payload piece per action.
    fn piece_limit(&self, send_chunk: usize) -> usize {
        match self.payload {
            Payload::Made(_) => send_chunk.max(1),
            _ => usize::MAX,
        }
    }

    fn payload_piece(&self, start: usize, len: usize) -> Option<PayloadPiece<'_>> {
        if len == 0 {
            return None;
        }
        let end = start + len;
        Some(match &self.payload {
            Payload::Queued(f) => PayloadPiece::Bytes(f.payload().get(start..end)?),
            Payload::Made(b) | Payload::Given(b) => PayloadPiece::Bytes(b.get(start..end)?),
            Payload::App(buffer) => PayloadPiece::App(AppSlice {
                buffer: *buffer,
                offset: start,
                len,
            }),
        })
    }
}

/// An application send (`WebSocketSend`), from queued to indicated.
#[derive(Debug)]
pub(super) struct SendOp {
    pub(super) buffer_type: BufferType,
    pub(super) app_context: usize,
    pub(super) frame: Frame,
    pub(super) stage: Stage,
}

/// Where an application send is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    /// Not (wholly) written yet.
    Waiting,
    /// Written, or cancelled: `INDICATE_SEND_COMPLETE` comes next.
    Finished,
}

/// A frame the component generated.
#[derive(Debug)]
pub(super) struct OwnFrame {
    pub(super) frame: Frame,
    /// It had to wait for an application frame, so it may also leave through the send
    /// queue (it never depends on the receive queue being driven again).
    pub(super) either_queue: bool,
}

impl OwnFrame {
    /// The buffer type reported for it.
    pub(super) fn buffer_type(&self) -> BufferType {
        match self.frame.opcode() {
            OpCode::Close => BufferType::Close,
            _ => BufferType::PingPong,
        }
    }
}

/// Whose front frame a write concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owner {
    /// The front application send.
    App,
    /// The front generated frame.
    Own,
}

/// The outgoing byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wire {
    /// Between frames: the next frame may start.
    Idle,
    /// `owner`'s front frame is being written; `written` of its bytes are out (the header
    /// is written whole or not at all, so this is 0 or at least the header's length).
    Writing { owner: Owner, written: usize },
    /// Nothing more is written: a frame was cut short (the stream is corrupt) or the
    /// handle was aborted.
    Stopped,
}

/// A `SEND_TO_NETWORK` action handed out: `len` bytes of `owner`'s front frame from byte
/// `from` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Piece {
    pub(super) owner: Owner,
    pub(super) from: usize,
    pub(super) len: usize,
}

/// What completing a piece did to the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Written {
    /// More of the frame is to come.
    Partly,
    /// The frame is out, or was dropped before its first byte: the stream is intact.
    Done,
    /// Part of the frame went out and the rest never will: the stream is corrupt.
    Broken,
}

/// The send queue, the generated frames and the wire.
#[derive(Debug)]
pub(super) struct Outgoing {
    pub(super) ops: VecDeque<SendOp>,
    pub(super) own: VecDeque<OwnFrame>,
    pub(super) wire: Wire,
    /// The send buffer size: the largest piece of a payload the component made.
    send_chunk: usize,
}

impl Outgoing {
    pub(super) fn new(send_chunk: usize) -> Outgoing {
        Outgoing {
            ops: VecDeque::new(),
            own: VecDeque::new(),
            wire: Wire::Idle,
            send_chunk,
        }
    }

    /// Whether an application frame is partly written (a generated frame must wait).
    pub(super) fn app_frame_open(&self) -> bool {
        matches!(
            self.wire,
            Wire::Writing {
                owner: Owner::App,
                ..
            }
        )
    }

    /// Queues a frame the engine generated. A Pong beyond [`MAX_OWN_FRAMES`] replaces the
    /// oldest Pong not being written.
    pub(super) fn push_own(&mut self, frame: OutgoingFrame) {
        if self.wire == Wire::Stopped {
            return; // nothing more goes out
        }
        if frame.opcode() == OpCode::Pong && self.own.len() >= MAX_OWN_FRAMES {
            let first_free = usize::from(matches!(
                self.wire,
                Wire::Writing {
                    owner: Owner::Own,
                    ..
                }
            ));
            if let Some(i) =
                (first_free..self.own.len()).find(|&i| self.own[i].frame.opcode() == OpCode::Pong)
            {
                self.own.remove(i);
            }
        }
        let either_queue = self.app_frame_open();
        self.own.push_back(OwnFrame {
            frame: Frame::queued(frame),
            either_queue,
        });
    }

    /// The generated frames that wait are held up by an application frame: they may leave
    /// through the send queue once it is out.
    pub(super) fn own_frames_wait_for_app(&mut self) {
        for f in &mut self.own {
            f.either_queue = true;
        }
    }

    /// The front frame of `owner`.
    pub(super) fn front(&self, owner: Owner) -> Option<&Frame> {
        match owner {
            Owner::App => self.ops.front().map(|op| &op.frame),
            Owner::Own => self.own.front().map(|f| &f.frame),
        }
    }

    /// The next piece of `owner`'s front frame for an action with room for `capacity`
    /// buffers (at least 1): the header (with the payload's first piece if there is room
    /// for two buffers), then the payload. Starts the frame on the wire.
    pub(super) fn next_piece(&mut self, owner: Owner, capacity: usize) -> Option<Piece> {
        let written = match self.wire {
            Wire::Idle => 0,
            Wire::Writing { owner: o, written } if o == owner => written,
            _ => return None,
        };
        let frame = self.front(owner)?;
        let header_len = frame.header().len();
        let (header, payload_from) = if written == 0 {
            (header_len, 0)
        } else {
            (0, written - header_len)
        };
        let remaining = frame.payload_len.saturating_sub(payload_from);
        let room = if header > 0 && capacity < 2 {
            0
        } else {
            remaining
        };
        let take = room.min(frame.piece_limit(self.send_chunk));
        self.wire = Wire::Writing { owner, written };
        Some(Piece {
            owner,
            from: written,
            len: header + take,
        })
    }

    /// The buffers of `piece` (which must be the one just handed out for the front frame).
    pub(super) fn buffers(&self, piece: Piece) -> SendBuffers<'_> {
        let mut buffers = SendBuffers {
            header: None,
            payload: None,
            payload_is_app_memory: false,
            app_payload: None,
        };
        let Some(frame) = self.front(piece.owner) else {
            return buffers;
        };
        let header = frame.header();
        let (payload_from, payload_len) = if piece.from == 0 {
            buffers.header = Some(header);
            (0, piece.len.saturating_sub(header.len()))
        } else {
            (piece.from - header.len(), piece.len)
        };
        match frame.payload_piece(payload_from, payload_len) {
            Some(PayloadPiece::Bytes(bytes)) => {
                buffers.payload = Some(bytes);
                buffers.payload_is_app_memory = matches!(frame.payload, Payload::Given(_));
            }
            Some(PayloadPiece::App(slice)) => buffers.app_payload = Some(slice),
            None => {}
        }
        buffers
    }

    /// `piece` was completed with `n` bytes written.
    pub(super) fn complete_piece(&mut self, piece: Piece, n: usize) -> Written {
        let Wire::Writing { owner, written } = self.wire else {
            // Stopped meanwhile (abort): the frame is dropped.
            self.frame_done(piece.owner);
            return Written::Done;
        };
        if owner != piece.owner || written != piece.from {
            return Written::Partly; // not the piece in flight (cannot happen)
        }
        let total = self.front(owner).map_or(0, Frame::len);
        if n >= piece.len {
            let written = written + piece.len;
            if written >= total {
                self.frame_done(owner);
                Written::Done
            } else {
                self.wire = Wire::Writing { owner, written };
                Written::Partly
            }
        } else if n == 0 && piece.from == 0 {
            // Nothing of the frame went out: drop it, the stream is intact.
            self.frame_done(owner);
            Written::Done
        } else {
            // Part of a frame went out: the stream is corrupt, nothing more is written.
            self.frame_done(owner);
            self.stop();
            Written::Broken
        }
    }

    /// The front frame of `owner` left the wire (written or dropped).
    fn frame_done(&mut self, owner: Owner) {
        if self.wire != Wire::Stopped {
            self.wire = Wire::Idle;
        }
        match owner {
            Owner::App => {
                if let Some(op) = self.ops.front_mut() {
                    op.stage = Stage::Finished;
                }
            }
            Owner::Own => {
                self.own.pop_front();
            }
        }
    }

    /// Nothing more goes out. Generated frames are dropped, except the front one if
    /// `keep_front_own` (a piece of it is outstanding and its memory must stay valid until
    /// that action is completed).
    pub(super) fn stop_keeping(&mut self, keep_front_own: bool) {
        self.own.truncate(usize::from(keep_front_own));
        self.wire = Wire::Stopped;
    }

    fn stop(&mut self) {
        self.own.clear();
        self.wire = Wire::Stopped;
    }
}
