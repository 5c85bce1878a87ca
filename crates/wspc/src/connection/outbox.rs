//! The transmit queue: encoded frames waiting for the transport, handed out as a short
//! list of slices for one vectored write.
//!
//! Headers, small payloads and masked (client) payloads are appended to one contiguous
//! arena, so a burst of small frames is a single slice; large server payloads stay the
//! caller's [`Bytes`] and are never copied.
//!
//! In framed mode ([`Config::framed_transmit`](crate::Config)) every frame stays a
//! separate entry, so a driver can take frames one at a time
//! ([`Connection::pop_frame`](crate::Connection::pop_frame)).

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Bytes, BytesMut};

use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::mask::mask_into;

/// Payloads up to this size are copied next to their header rather than referenced.
const COPY_MAX: usize = 1024;

/// An arena grown past this is released once drained, so a burst leaves no big buffer
/// behind on an idle connection.
const ARENA_KEEP: usize = 16 * 1024;

#[derive(Debug)]
enum Seg {
    /// `n` bytes of the arena.
    Arena(usize),
    /// A payload referenced without a copy (already `front_written` bytes in if front).
    Shared(Bytes),
    /// A whole frame (framed mode; already `front_written` bytes in if front).
    Frame(OutgoingFrame),
}

/// A whole frame from the transmit queue: its encoded header and its payload (already
/// masked for a client). Taken with [`Connection::pop_frame`](crate::Connection::pop_frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingFrame {
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    opcode: OpCode,
    fin: bool,
    payload: Bytes,
}

impl OutgoingFrame {
    /// The encoded frame header (2 to 14 bytes).
    pub fn header(&self) -> &[u8] {
        &self.header[..self.header_len as usize]
    }

    /// The payload as it goes on the wire (masked if the header carries a key).
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The frame's opcode.
    pub fn opcode(&self) -> OpCode {
        self.opcode
    }

    /// Whether FIN is set.
    pub fn fin(&self) -> bool {
        self.fin
    }

    /// Header plus payload length.
    pub fn len(&self) -> usize {
        self.header_len as usize + self.payload.len()
    }

    /// Whether the frame is empty (never: a header is at least 2 bytes).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A data frame framed for a payload the caller keeps
/// ([`Connection::frame_fragment`](crate::Connection::frame_fragment)): its encoded header,
/// and the payload to write instead of the caller's when the engine transformed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramedFragment {
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    opcode: OpCode,
    fin: bool,
    payload: Option<Bytes>,
}

impl FramedFragment {
    pub(crate) fn new(header: &FrameHeader, payload: Option<Bytes>) -> FramedFragment {
        let mut raw = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut raw);
        FramedFragment {
            header: raw,
            header_len: n as u8,
            opcode: header.opcode,
            fin: header.fin,
            payload,
        }
    }

    /// The encoded frame header (2 to 14 bytes).
    pub fn header(&self) -> &[u8] {
        &self.header[..self.header_len as usize]
    }

    /// The frame's opcode.
    pub fn opcode(&self) -> OpCode {
        self.opcode
    }

    /// Whether FIN is set.
    pub fn fin(&self) -> bool {
        self.fin
    }

    /// The payload to write after the header: `None` when it is the caller's data as
    /// given, else the transformed bytes (masked, or encoded by the extension).
    pub fn payload(&self) -> Option<&Bytes> {
        self.payload.as_ref()
    }

    /// Takes the transformed payload out (see [`payload`](FramedFragment::payload)).
    pub fn into_payload(self) -> Option<Bytes> {
        self.payload
    }
}

#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// Keep frames apart (framed mode).
    framed: bool,
    segs: VecDeque<Seg>,
    arena: Vec<u8>,
    /// Bytes at the start of the arena already written.
    arena_head: usize,
    /// Bytes of the front `Shared` segment already written.
    front_written: usize,
    /// Unwritten bytes in all.
    queued: usize,
}

impl Outbox {
    pub(crate) fn new(framed: bool) -> Outbox {
        Outbox {
            framed,
            ..Outbox::default()
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Queues a frame: `header` (its `payload_len` must equal `payload.len()`), then the
    /// payload, masked here if the header carries a key.
    pub(crate) fn push_frame(&mut self, header: &FrameHeader, payload: PayloadRef<'_>) {
        let mut raw = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut raw);
        if self.framed {
            let payload = match (header.mask, payload) {
                (Some(key), p) if key != [0; 4] => {
                    let data = p.as_slice();
                    let mut masked = BytesMut::zeroed(data.len());
                    mask_into(&mut masked, data, key, 0);
                    masked.freeze()
                }
                (_, PayloadRef::Shared(b)) => b.clone(),
                (_, PayloadRef::Slice(s)) => Bytes::copy_from_slice(s),
            };
            let frame = OutgoingFrame {
                header: raw,
                header_len: n as u8,
                opcode: header.opcode,
                fin: header.fin,
                payload,
            };
            self.queued += frame.len();
            self.segs.push_back(Seg::Frame(frame));
            return;
        }
        self.push_arena(&raw[..n]);
        let data = payload.as_slice();
        match header.mask {
            Some(key) if key != [0; 4] => {
                let start = self.arena.len();
                self.arena.resize(start + data.len(), 0);
                mask_into(&mut self.arena[start..], data, key, 0);
                self.grow_last_arena(data.len());
            }
            _ => match payload {
                PayloadRef::Shared(bytes) if bytes.len() > COPY_MAX => {
                    self.queued += bytes.len();
                    self.segs.push_back(Seg::Shared(bytes.clone()));
                }
                _ => self.push_arena(data),
            },
        }
    }

    fn push_arena(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.arena.extend_from_slice(data);
        self.grow_last_arena(data.len());
    }

    fn grow_last_arena(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.queued += n;
        match self.segs.back_mut() {
            Some(Seg::Arena(len)) => *len += n,
            _ => self.segs.push_back(Seg::Arena(n)),
        }
    }

    /// Takes the front frame whole (framed mode, nothing of it written yet).
    pub(crate) fn pop_frame(&mut self) -> Option<OutgoingFrame> {
        if self.front_written != 0 || !matches!(self.segs.front(), Some(Seg::Frame(_))) {
            return None;
        }
        let Some(Seg::Frame(frame)) = self.segs.pop_front() else {
            return None;
        };
        self.queued -= frame.len();
        Some(frame)
    }

    /// Fills `out` with the queued bytes, in order; returns how many slices were used.
    #[inline(always)]
    pub(crate) fn slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        // The usual case: one run of frames in the arena.
        if let (1, Some(Seg::Arena(len)), Some(first)) =
            (self.segs.len(), self.segs.front(), out.first_mut())
        {
            *first = IoSlice::new(&self.arena[self.arena_head..self.arena_head + len]);
            return 1;
        }
        // The next most usual: a header (or a run of frames ending with one) in the
        // arena, then a large payload referenced.
        if let (2, Some(Seg::Arena(len)), Some(Seg::Shared(payload)), [first, second, ..]) = (
            self.segs.len(),
            self.segs.front(),
            self.segs.get(1),
            &mut *out,
        ) {
            *first = IoSlice::new(&self.arena[self.arena_head..self.arena_head + len]);
            *second = IoSlice::new(payload);
            return 2;
        }
        self.slices_general(out)
    }

    /// [`slices`](Self::slices) for any other queue.
    fn slices_general<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        let mut used = 0;
        let mut arena_at = self.arena_head;
        for (i, seg) in self.segs.iter().enumerate() {
            let skip = if i == 0 { self.front_written } else { 0 };
            let pieces: [&'a [u8]; 2] = match seg {
                Seg::Arena(len) => {
                    let s = &self.arena[arena_at..arena_at + len];
                    arena_at += len;
                    [s, &[]]
                }
                Seg::Shared(bytes) => [&bytes[skip..], &[]],
                Seg::Frame(frame) => {
                    let header = frame.header();
                    if skip < header.len() {
                        [&header[skip..], &frame.payload[..]]
                    } else {
                        [&frame.payload[skip - header.len()..], &[]]
                    }
                }
            };
            for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
                if used == out.len() {
                    return used;
                }
                out[used] = IoSlice::new(piece);
                used += 1;
            }
        }
        used
    }

    /// Drops `n` written bytes from the front (more than queued is clamped).
    #[inline]
    pub(crate) fn advance(&mut self, mut n: usize) {
        if n >= self.queued {
            // The usual case: everything went out (one or two segments; popping them is
            // cheaper than `VecDeque::clear`, which is not inlined).
            while self.segs.pop_front().is_some() {}
            self.queued = 0;
            self.front_written = 0;
            self.arena_head = self.arena.len();
            self.compact();
            return;
        }
        self.queued -= n;
        while n > 0 {
            let Some(front) = self.segs.front_mut() else {
                break;
            };
            match front {
                Seg::Arena(len) => {
                    let take = n.min(*len);
                    *len -= take;
                    self.arena_head += take;
                    n -= take;
                    if *len == 0 {
                        self.segs.pop_front();
                    }
                }
                Seg::Shared(_) | Seg::Frame(_) => {
                    let total = match front {
                        Seg::Shared(bytes) => bytes.len(),
                        Seg::Frame(frame) => frame.len(),
                        Seg::Arena(_) => 0,
                    };
                    let left = total - self.front_written;
                    if n >= left {
                        n -= left;
                        self.front_written = 0;
                        self.segs.pop_front();
                    } else {
                        self.front_written += n;
                        n = 0;
                    }
                }
            }
        }
        self.compact();
    }

    /// Drops everything queued (the transport is being abandoned).
    pub(crate) fn clear(&mut self) {
        self.segs.clear();
        self.queued = 0;
        self.front_written = 0;
        self.arena_head = 0;
        self.arena.clear();
        self.compact();
    }

    #[inline]
    fn compact(&mut self) {
        if self.arena_head == self.arena.len() {
            self.arena_head = 0;
            self.arena.clear();
            if self.arena.capacity() > ARENA_KEEP
                || (self.segs.is_empty() && self.segs.capacity() > 64)
            {
                self.release();
            }
        }
    }

    /// Frees the arena and the segment list after a burst grew them (the queue is empty).
    #[cold]
    fn release(&mut self) {
        if self.arena.capacity() > ARENA_KEEP {
            self.arena = Vec::new();
        }
        if self.segs.is_empty() && self.segs.capacity() > 64 {
            self.segs = VecDeque::new();
        }
    }
}

/// A payload to queue: borrowed (always copied) or shared (referenced when large).
pub(crate) enum PayloadRef<'a> {
    Slice(&'a [u8]),
    Shared(&'a Bytes),
}

impl PayloadRef<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            PayloadRef::Slice(s) => s,
            PayloadRef::Shared(b) => b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    fn header(len: usize, mask: Option<[u8; 4]>) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary,
            mask,
            payload_len: len as u64,
        }
    }

    fn drain(outbox: &mut Outbox, step: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut guard = 0;
        while !outbox.is_empty() {
            guard += 1;
            assert!(guard < 1_000_000);
            let mut slices = [IoSlice::new(&[]); 4];
            let n = outbox.slices(&mut slices);
            let mut budget = step;
            let mut written = 0;
            for s in &slices[..n] {
                let take = budget.min(s.len());
                out.extend_from_slice(&s[..take]);
                written += take;
                budget -= take;
                if budget == 0 {
                    break;
                }
            }
            outbox.advance(written);
        }
        out
    }

    #[test]
    fn small_frames_share_one_slice() {
        let mut outbox = Outbox::default();
        for _ in 0..16 {
            outbox.push_frame(&header(20, None), PayloadRef::Slice(&[7; 20]));
        }
        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(outbox.slices(&mut slices), 1);
        assert_eq!(slices[0].len(), 16 * 22);
    }

    #[test]
    fn large_payloads_are_referenced_not_copied() {
        let mut outbox = Outbox::default();
        let big = Bytes::from(vec![1u8; 100_000]);
        outbox.push_frame(&header(big.len(), None), PayloadRef::Shared(&big));
        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(outbox.slices(&mut slices), 2);
        assert_eq!(slices[1].as_ptr(), big.as_ptr());
        assert_eq!(outbox.len(), 10 + 100_000);
    }

    #[test]
    fn partial_writes_preserve_order() {
        let mut expected = Vec::new();
        let mut outbox = Outbox::default();
        for i in 0..10usize {
            let payload = Bytes::from(vec![i as u8; i * 700]);
            let h = header(payload.len(), None);
            let mut raw = [0u8; MAX_HEADER_LEN];
            let n = h.encode(&mut raw);
            expected.extend_from_slice(&raw[..n]);
            expected.extend_from_slice(&payload);
            outbox.push_frame(&h, PayloadRef::Shared(&payload));
        }
        for step in [1, 7, 1000, usize::MAX] {
            let mut copy = Outbox::default();
            std::mem::swap(&mut copy, &mut outbox);
            let got = drain(&mut copy, step);
            assert_eq!(got, expected, "step {step}");
            // Rebuild for the next step.
            outbox = Outbox::default();
            let mut at = 0;
            while at < expected.len() {
                let (h, n) = FrameHeader::parse(&expected[at..]).unwrap().unwrap();
                let p = Bytes::copy_from_slice(&expected[at + n..at + n + h.payload_len as usize]);
                outbox.push_frame(&h, PayloadRef::Shared(&p));
                at += n + h.payload_len as usize;
            }
        }
    }

    #[test]
    fn a_drained_burst_leaves_no_large_buffer_behind() {
        let mut outbox = Outbox::default();
        for _ in 0..100 {
            outbox.push_frame(&header(1000, None), PayloadRef::Slice(&[3; 1000]));
            outbox.push_frame(
                &header(2000, None),
                PayloadRef::Shared(&Bytes::from(vec![4u8; 2000])),
            );
        }
        assert!(outbox.arena.capacity() > ARENA_KEEP && outbox.segs.capacity() > 64);
        let wire = drain(&mut outbox, 4096);
        assert_eq!(wire.len(), 100 * (1004 + 2004));
        assert_eq!(outbox.arena.capacity(), 0);
        assert_eq!(outbox.segs.capacity(), 0);
        // A small exchange afterwards keeps its (small) arena for the next one.
        outbox.push_frame(&header(20, None), PayloadRef::Slice(&[5; 20]));
        assert_eq!(drain(&mut outbox, usize::MAX).len(), 22);
        assert!(outbox.arena.capacity() > 0 && outbox.arena.capacity() <= ARENA_KEEP);
    }

    #[test]
    fn masks_client_payloads_into_the_arena() {
        let mut outbox = Outbox::default();
        outbox.push_frame(
            &header(5, Some([0x37, 0xfa, 0x21, 0x3d])),
            PayloadRef::Slice(b"Hello"),
        );
        let wire = drain(&mut outbox, usize::MAX);
        assert_eq!(
            wire,
            [
                0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
        assert!(outbox.is_empty() && outbox.arena.capacity() <= ARENA_KEEP);
    }

    #[test]
    fn framed_mode_keeps_frames_apart() {
        let mut outbox = Outbox {
            framed: true,
            ..Outbox::default()
        };
        outbox.push_frame(
            &header(5, Some([0x37, 0xfa, 0x21, 0x3d])),
            PayloadRef::Slice(b"Hello"),
        );
        outbox.push_frame(&header(0, None), PayloadRef::Slice(b""));
        outbox.push_frame(&header(3, None), PayloadRef::Slice(b"abc"));
        assert_eq!(outbox.len(), 11 + 2 + 5);
        let first = outbox.pop_frame().unwrap();
        assert_eq!(first.header(), [0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(&first.payload()[..], [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        assert_eq!(first.opcode(), OpCode::Binary);
        // Byte-level draining still works in framed mode, and partial writes block pop_frame.
        let mut slices = [IoSlice::new(&[]); 4];
        assert_eq!(outbox.slices(&mut slices), 3);
        outbox.advance(3);
        assert!(outbox.pop_frame().is_none());
        assert_eq!(drain(&mut outbox, 2), [0x03, b'a', b'b', b'c']);
        assert_eq!(outbox.len(), 0);
    }
}
