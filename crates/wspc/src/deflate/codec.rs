//! The permessage-deflate codec (RFC 7692 §7.2): per-message compression with the
//! `00 00 ff ff` tail removed on send and restored on receive, bounded decompression.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::tail::Tail;
use super::{DeflateOptions, DeflateParams, NAME};
use crate::Role;
use crate::close::CloseCode;
use crate::extension::{Extension, ExtensionError, ExtensionHeader, StateMemory};
use crate::frame::RSV1;
use crate::message::MessageKind;
use crate::prepared::PreparedMessage;

/// The tail a sync flush ends with, removed by the sender and restored by the receiver.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output is produced in steps of at most this much (memory per step stays bounded).
const MAX_STEP: usize = 256 * 1024;

/// What zlib-rs allocates for a compressor besides its window-sized buffers: a 128 KiB
/// hash table, 112 KiB of literal and symbol buffers (memory level 8) and its state, with
/// a little room (measured: 248,960 bytes; `tests/deflate_budget.rs` checks it).
const COMPRESSOR_FIXED: usize = 244 * 1024;

/// What zlib-rs allocates for a decompressor, whatever the window: a 32 KiB window and
/// its state, with a little room (measured: 47,552 bytes).
const DECOMPRESSOR_MEMORY: usize = 48 * 1024;

/// The memory of a compressor with a window of `2^bits` bytes: the window twice over
/// and a 2-byte link per position, plus [`COMPRESSOR_FIXED`] (371 KiB at 15 bits).
const fn compressor_memory(bits: u8) -> usize {
    4 * (1 << bits) + COMPRESSOR_FIXED
}

/// A raw-deflate decompressor for a peer window of `2^bits` bytes. A window of 8 bits is
/// read with 9: a bigger window reads any smaller one (zlib has no 8-bit window).
fn new_decompressor(bits: u8) -> Decompress {
    Decompress::new_with_window_bits(false, bits.max(9))
}

/// Tags the shared encodings this codec makes (its low byte is the level).
const SHARED_KEY_BASE: u64 = 0x7064_6566_6c00_0000; // "pdefl"

thread_local! {
    /// One compressor per thread for shared messages, reset between messages (a zlib-rs
    /// compressor is ~370 KiB: allocating one per broadcast message would cost more
    /// than compressing it). The level it was made with comes along.
    static STANDALONE: std::cell::RefCell<Option<(u32, Compress)>> = const { std::cell::RefCell::new(None) };
}

/// Compresses `input` as one whole message of its own (no context before it), in the
/// form [`Deflate`]'s `encode` produces with `fin`: sync-flushed, the tail removed.
fn compress_standalone(input: &[u8], level: u32) -> Result<Bytes, String> {
    STANDALONE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = match &mut *slot {
            Some((l, c)) if *l == level => {
                c.reset();
                c
            }
            _ => {
                let c = Compress::new_with_window_bits(Compression::new(level), false, 15);
                &mut slot.insert((level, c)).1
            }
        };
        let mut out = BytesMut::new();
        let mut consumed = 0;
        loop {
            let room = (input.len() - consumed + 64).clamp(1024, MAX_STEP);
            let start = out.len();
            out.resize(start + room, 0);
            let (in_before, out_before) = (c.total_in(), c.total_out());
            let status = c.compress(&input[consumed..], &mut out[start..], FlushCompress::Sync);
            let used = (c.total_in() - in_before) as usize;
            let made = (c.total_out() - out_before) as usize;
            out.truncate(start + made);
            consumed += used;
            status.map_err(|e| format!("deflate failed: {e}"))?;
            if (consumed == input.len() && made < room) || (used == 0 && made == 0) {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        } else {
            out.extend_from_slice(&[0x00]);
        }
        Ok(out.freeze())
    })
}

/// A negotiated permessage-deflate codec for one connection.
///
/// Built by [`DeflateClient`](super::DeflateClient) and
/// [`DeflateServer`](super::DeflateServer) during the handshake; the connection calls it
/// through the [`Extension`] trait.
pub struct Deflate {
    role: Role,
    params: DeflateParams,
    options: DeflateOptions,
    header: ExtensionHeader,
    /// Created on the first compressed message; dropped after each message without
    /// context takeover.
    compressor: Option<Compress>,
    decompressor: Option<Decompress>,
    /// Bytes of [`TAIL`] fed to the decompressor at the end of the current message.
    tail_fed: usize,
    /// The current message's deflate stream ended (a block with BFINAL set).
    stream_ended: bool,
    /// A byte inflated past the last call's output limit, handed out first next time.
    held: Option<u8>,
    /// With context takeover and parking, the last bytes compressed (at most the park
    /// window): the dictionary of the compressor made after a park.
    sent: Tail,
    /// With context takeover and parking, the last bytes inflated (the peer's whole
    /// window): the window of the decompressor made after a park.
    received: Tail,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("role", &self.role)
            .field("params", &self.params)
            .field("options", &self.options)
            .field("compressing", &self.compressor.is_some())
            .field("decompressing", &self.decompressor.is_some())
            .field("kept", &(self.sent.capacity() + self.received.capacity()))
            .finish()
    }
}

impl Deflate {
    /// A codec for `role` with the negotiated `params`; `header` is the agreed
    /// `Sec-WebSocket-Extensions` element.
    pub fn new(
        role: Role,
        params: DeflateParams,
        options: DeflateOptions,
        header: ExtensionHeader,
    ) -> Deflate {
        Deflate {
            role,
            params,
            options,
            header,
            compressor: None,
            decompressor: None,
            tail_fed: 0,
            stream_ended: false,
            held: None,
            sent: Tail::default(),
            received: Tail::default(),
        }
        .with_tails()
    }

    /// Sizes the kept tails for the negotiated parameters and options.
    fn with_tails(mut self) -> Deflate {
        self.sent = Tail::new(self.park_window());
        let (bits, reset) = self.receiving();
        let parks = !reset && self.options.park_after.is_some();
        self.received = Tail::new(if parks { 1 << bits.max(9) } else { 0 });
        self
    }

    /// The negotiated parameters.
    pub fn params(&self) -> DeflateParams {
        self.params
    }

    /// Window bits and context reset for what this side sends.
    fn sending(&self) -> (u8, bool) {
        match self.role {
            Role::Server => (
                self.params.server_max_window_bits,
                self.params.server_no_context_takeover,
            ),
            Role::Client => (
                self.params.client_max_window_bits,
                self.params.client_no_context_takeover,
            ),
        }
    }

    /// How much of what is sent a parked compressor keeps (0: no parking).
    fn park_window(&self) -> usize {
        let (bits, reset) = self.sending();
        if reset || self.options.park_after.is_none() {
            return 0;
        }
        self.options.park_window.min(1 << bits.max(9))
    }

    /// Window bits and context reset for what the peer sends.
    fn receiving(&self) -> (u8, bool) {
        match self.role {
            Role::Server => (
                self.params.client_max_window_bits,
                self.params.client_no_context_takeover,
            ),
            Role::Client => (
                self.params.server_max_window_bits,
                self.params.server_no_context_takeover,
            ),
        }
    }

    /// Makes the decompressor if there is none: after a park, its window is what was
    /// inflated last, so the peer's context goes on.
    fn ensure_decompressor(&mut self) -> Result<(), ExtensionError> {
        if self.decompressor.is_none() {
            let mut d = new_decompressor(self.receiving().0);
            if !self.received.is_empty() {
                d.set_dictionary(self.received.as_slice())
                    .map_err(|e| ExtensionError {
                        reason: format!("inflate dictionary failed: {e}"),
                        code: CloseCode::SERVER_ERROR,
                    })?;
            }
            self.decompressor = Some(d);
        }
        Ok(())
    }

    /// Inflates from `input` into `out`, at most `max_out` bytes, keeping the tail of the
    /// output for a parked decompressor's successor. Returns (input consumed, more output
    /// pending than `max_out` allowed).
    fn inflate(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        max_out: usize,
        flush: FlushDecompress,
    ) -> Result<(usize, bool), ExtensionError> {
        let begin = out.len();
        let result = self.inflate_into(input, out, max_out, flush);
        if result.is_ok() && self.received.is_enabled() {
            self.received.push(&out[begin..]);
        }
        result
    }

    fn inflate_into(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        max_out: usize,
        flush: FlushDecompress,
    ) -> Result<(usize, bool), ExtensionError> {
        let mut produced = 0;
        if let Some(byte) = self.held.take() {
            if max_out == 0 {
                self.held = Some(byte);
                return Ok((0, true));
            }
            out.extend_from_slice(&[byte]);
            produced = 1;
        }
        // Made by `begin_decode`, once the connection granted its memory.
        self.ensure_decompressor()?;
        let Some(d) = self.decompressor.as_mut() else {
            return Err(ExtensionError {
                reason: "no decompressor".into(),
                code: CloseCode::SERVER_ERROR,
            });
        };
        let mut consumed = 0;
        loop {
            // At the limit, look one byte ahead: input that yields nothing more is still
            // consumed; a byte that does is held for the next call.
            let mut probe = [0u8; 1];
            let at_limit = produced >= max_out;
            let room = if at_limit {
                1
            } else {
                let left = input.len() - consumed;
                left.saturating_mul(4)
                    .clamp(4096, MAX_STEP)
                    .min(max_out - produced)
            };
            let start = out.len();
            if !at_limit {
                out.resize(start + room, 0);
            }
            let (in_before, out_before) = (d.total_in(), d.total_out());
            let target: &mut [u8] = if at_limit {
                &mut probe
            } else {
                &mut out[start..]
            };
            let status = d.decompress(&input[consumed..], target, flush);
            let used = (d.total_in() - in_before) as usize;
            let made = (d.total_out() - out_before) as usize;
            consumed += used;
            if at_limit {
                if made > 0 {
                    self.held = Some(probe[0]);
                }
            } else {
                out.truncate(start + made);
                produced += made;
            }
            match status {
                Ok(Status::StreamEnd) => {
                    // A final block: the rest of this message is not deflate data.
                    self.stream_ended = true;
                    return Ok((input.len(), self.held.is_some()));
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(ExtensionError {
                        reason: format!("invalid deflate data: {e}"),
                        code: CloseCode::INVALID_PAYLOAD,
                    });
                }
            }
            if self.held.is_some() {
                return Ok((consumed, true));
            }
            if (made < room && consumed == input.len()) || (used == 0 && made == 0) {
                return Ok((consumed, false));
            }
        }
    }

    /// The incoming message is complete: reset or release the decompression state.
    fn end_incoming(&mut self) {
        let reset = self.receiving().1;
        if reset {
            self.decompressor = None;
        } else if self.stream_ended
            && let Some(d) = self.decompressor.as_mut()
        {
            // A final block ended the peer's stream: the window starts over.
            d.reset(false);
            self.received.clear();
        }
        self.tail_fed = 0;
        self.stream_ended = false;
        self.held = None;
    }
}

impl Extension for Deflate {
    fn name(&self) -> &'static str {
        NAME
    }

    fn rsv_bits(&self) -> u8 {
        RSV1
    }

    fn begin_decode(&mut self, rsv: u8) -> Result<(), ExtensionError> {
        if rsv != RSV1 {
            return Err(ExtensionError {
                reason: format!("RSV bits {rsv:#04x}"),
                code: CloseCode::PROTOCOL_ERROR,
            });
        }
        self.tail_fed = 0;
        self.stream_ended = false;
        // Made now, once the connection granted its memory (`state_memory`).
        self.ensure_decompressor()
    }

    fn decode(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<usize, ExtensionError> {
        if self.stream_ended && self.held.is_none() {
            return Ok(input.len());
        }
        self.inflate(input, out, max_out, FlushDecompress::None)
            .map(|(consumed, _)| consumed)
    }

    fn finish_decode(
        &mut self,
        out: &mut BytesMut,
        max_out: usize,
    ) -> Result<bool, ExtensionError> {
        if self.stream_ended && self.held.is_some() {
            let (_, limited) = self.inflate(&[], out, max_out, FlushDecompress::Sync)?;
            if limited {
                return Ok(false);
            }
        } else if !self.stream_ended {
            let fed = self.tail_fed;
            let (used, limited) =
                self.inflate(&TAIL[fed..], out, max_out, FlushDecompress::Sync)?;
            self.tail_fed = (fed + used).min(TAIL.len());
            if limited {
                return Ok(false);
            }
        }
        self.end_incoming();
        Ok(true)
    }

    fn begin_encode(&mut self, _kind: MessageKind, size_hint: Option<usize>) -> Option<u8> {
        // zlib cannot compress with a 256-byte window: send uncompressed (RFC 7692 allows
        // any message to be sent without compression).
        if self.sending().0 < 9 {
            return None;
        }
        match size_hint {
            Some(len) if len < self.options.threshold => None,
            _ => Some(RSV1),
        }
    }

    fn encode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        let (bits, reset) = self.sending();
        let level = Compression::new(self.options.level.min(9));
        let fresh = self.compressor.is_none();
        let c = self
            .compressor
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, bits.max(9)));
        if fresh && !self.sent.is_empty() {
            // After a park: continue the context from what was kept.
            c.set_dictionary(self.sent.as_slice())
                .map_err(|e| ExtensionError {
                    reason: format!("deflate dictionary failed: {e}"),
                    code: CloseCode::SERVER_ERROR,
                })?;
        }
        let mut consumed = 0;
        let mut produced_total = 0;
        loop {
            let room = (input.len() - consumed + 64).clamp(1024, MAX_STEP);
            let start = out.len();
            out.resize(start + room, 0);
            let (in_before, out_before) = (c.total_in(), c.total_out());
            let status = c.compress(&input[consumed..], &mut out[start..], FlushCompress::Sync);
            let used = (c.total_in() - in_before) as usize;
            let made = (c.total_out() - out_before) as usize;
            out.truncate(start + made);
            consumed += used;
            produced_total += made;
            if let Err(e) = status {
                return Err(ExtensionError {
                    reason: format!("deflate failed: {e}"),
                    code: CloseCode::SERVER_ERROR,
                });
            }
            if consumed == input.len() && made < room {
                break;
            }
            if used == 0 && made == 0 {
                break;
            }
        }
        self.sent.push(input);
        if fin {
            let this_call = &out[out.len() - produced_total..];
            if this_call.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            } else {
                // Nothing new since the last flush, so zlib wrote nothing: end the message
                // with an empty stored block (its header byte; the tail is what we strip).
                out.extend_from_slice(&[0x00]);
            }
            if reset {
                self.compressor = None;
            }
        }
        Ok(())
    }

    fn negotiated(&self) -> ExtensionHeader {
        self.header.clone()
    }

    fn state_memory(&self) -> StateMemory {
        let compressor = compressor_memory(self.sending().0.max(9));
        let (held_c, to_encode) = match self.compressor {
            Some(_) => (compressor, 0),
            None => (0, compressor),
        };
        let (held_d, to_decode) = match self.decompressor {
            Some(_) => (DECOMPRESSOR_MEMORY, 0),
            None => (0, DECOMPRESSOR_MEMORY),
        };
        StateMemory {
            held: held_c + held_d,
            to_encode,
            to_decode,
        }
    }

    fn encode_prepared(
        &mut self,
        message: &PreparedMessage,
    ) -> Result<Option<(u8, Bytes)>, ExtensionError> {
        let payload = message.payload();
        let Some(rsv) = self.begin_encode(message.kind(), Some(payload.len())) else {
            return Ok(None);
        };
        // The shared form is compressed on its own with a 15-bit window: its distances
        // stay inside the message, so it continues any context, and a peer that limited
        // our window to 2^bits can read it when the message is no longer than that.
        let bits = self.sending().0;
        if bits < 15 && payload.len() > 1 << bits {
            return Ok(None);
        }
        let level = self.options.level.min(9);
        let key = SHARED_KEY_BASE | u64::from(level);
        let shared = message
            .cache()
            .get_or_encode(key, || {
                compress_standalone(payload, level).map(|p| (rsv, p))
            })
            .map_err(|reason| ExtensionError {
                reason,
                code: CloseCode::SERVER_ERROR,
            })?;
        let Some(shared) = shared else {
            return Ok(None);
        };
        // Our compressor never saw this message, the peer's window did: the next message
        // starts a fresh compressor, primed (with context takeover and parking) with the
        // last bytes sent — this message's included.
        self.compressor = None;
        self.sent.push(payload);
        Ok(Some(shared))
    }

    fn park_after(&self) -> Option<Duration> {
        (self.sent.is_enabled() || self.received.is_enabled())
            .then_some(self.options.park_after)
            .flatten()
    }

    fn release(&mut self) {
        self.compressor = None;
        self.decompressor = None;
        self.held = None;
        self.sent.clear();
        self.received.clear();
    }

    fn park(&mut self) {
        // Every encode call ends on a sync flush (a byte boundary), so even a fragmented
        // message could continue with a fresh compressor primed with what was sent.
        if self.sent.is_enabled() && self.compressor.take().is_some() {
            self.sent.shrink();
        }
        // Between messages only: the inflater's state within a message (a partial block)
        // cannot be rebuilt from its window.
        if self.received.is_enabled()
            && self.tail_fed == 0
            && self.held.is_none()
            && self.decompressor.take().is_some()
        {
            self.received.shrink();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7692's examples were made with zlib's default level (6).
    fn codec(role: Role, params: DeflateParams) -> Deflate {
        Deflate::new(
            role,
            params,
            DeflateOptions {
                level: 6,
                threshold: 0,
                ..DeflateOptions::default()
            },
            ExtensionHeader::new(NAME),
        )
    }

    fn takeover() -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }

    fn decode_all(d: &mut Deflate, payload: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        d.begin_decode(RSV1).unwrap();
        assert_eq!(
            d.decode(payload, &mut out, usize::MAX).unwrap(),
            payload.len()
        );
        assert!(d.finish_decode(&mut out, usize::MAX).unwrap());
        out.to_vec()
    }

    fn encode_all(e: &mut Deflate, payload: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        assert_eq!(
            e.begin_encode(MessageKind::Text, Some(payload.len())),
            Some(RSV1)
        );
        e.encode(payload, true, &mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn rfc7692_7_2_3_1_a_message_compressed() {
        let mut server = codec(Role::Server, takeover());
        assert_eq!(
            encode_all(&mut server, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        let mut client = codec(Role::Client, takeover());
        assert_eq!(
            decode_all(&mut client, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            b"Hello"
        );
    }

    #[test]
    fn rfc7692_7_2_3_2_sharing_the_window() {
        let mut server = codec(Role::Server, takeover());
        assert_eq!(
            encode_all(&mut server, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        assert_eq!(
            encode_all(&mut server, b"Hello"),
            [0xf2, 0x00, 0x11, 0x00, 0x00]
        );
        let mut client = codec(Role::Client, takeover());
        assert_eq!(
            decode_all(&mut client, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            b"Hello"
        );
        assert_eq!(
            decode_all(&mut client, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
            b"Hello"
        );
    }

    #[test]
    fn rfc7692_7_2_3_3_an_uncompressed_block() {
        let mut client = codec(Role::Client, takeover());
        let payload = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(decode_all(&mut client, &payload), b"Hello");
    }

    #[test]
    fn rfc7692_7_2_3_4_a_final_block() {
        let mut client = codec(Role::Client, takeover());
        assert_eq!(
            decode_all(
                &mut client,
                &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]
            ),
            b"Hello"
        );
        // The stream restarts for the next message.
        assert_eq!(
            decode_all(&mut client, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            b"Hello"
        );
    }

    #[test]
    fn rfc7692_7_2_3_5_two_blocks_in_one_message() {
        let mut client = codec(Role::Client, takeover());
        let payload = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        assert_eq!(decode_all(&mut client, &payload), b"Hello");
    }

    #[test]
    fn rfc7692_7_2_3_6_an_empty_message() {
        let mut server = codec(Role::Server, takeover());
        assert_eq!(encode_all(&mut server, b""), [0x00]);
        let mut client = codec(Role::Client, takeover());
        assert_eq!(decode_all(&mut client, &[0x00]), b"");
    }

    /// Text that compresses, but not to nothing: words from a small vocabulary.
    fn prose(seed: u32, len: usize) -> Vec<u8> {
        const WORDS: [&str; 12] = [
            "socket ", "frame ", "mask ", "close ", "ping ", "pong ", "deflate ", "window ",
            "context ", "message ", "text ", "binary ",
        ];
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            out.extend_from_slice(WORDS[(x % 12) as usize].as_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn a_parked_compressor_continues_the_context_from_its_window() {
        let mut server = codec(Role::Server, takeover());
        let mut client = codec(Role::Client, takeover());
        assert_eq!(server.park_after(), Some(Duration::from_secs(1)));
        let first = prose(1, 600);
        let wire = encode_all(&mut server, &first);
        assert_eq!(decode_all(&mut client, &wire), first);
        server.park();
        assert!(server.compressor.is_none(), "parked");
        assert!(server.sent.capacity() <= 8 * 1024);
        // The same message again refers back into the kept window: a few bytes, and the
        // peer, which never parked, decodes it with its own (continuous) window.
        let again = encode_all(&mut server, &first);
        assert!(
            again.len() < 16,
            "{} bytes: the dictionary was not used",
            again.len()
        );
        assert_eq!(decode_all(&mut client, &again), first);
        // Many messages with parks in between, also inside a fragmented message.
        for i in 0..40u32 {
            let msg = prose(i + 2, 100 + (i as usize * 397) % 5000);
            let mut wire = BytesMut::new();
            server.begin_encode(MessageKind::Binary, None).unwrap();
            let (a, b) = msg.split_at(msg.len() / 3);
            server.encode(a, false, &mut wire).unwrap();
            if i % 3 == 0 {
                server.park();
            }
            server.encode(b, true, &mut wire).unwrap();
            if i % 2 == 0 {
                server.park();
            }
            assert_eq!(decode_all(&mut client, &wire), msg, "message {i}");
        }
    }

    #[test]
    fn parking_is_off_without_takeover_or_when_disabled() {
        let params = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..takeover()
        };
        assert_eq!(codec(Role::Server, params).park_after(), None);
        // Takeover one way only: only that way parks.
        let params = DeflateParams {
            server_no_context_takeover: true,
            ..takeover()
        };
        let server = codec(Role::Server, params);
        assert_eq!(server.park_after(), Some(Duration::from_secs(1)));
        assert!(!server.sent.is_enabled() && server.received.is_enabled());
        let mut kept = Deflate::new(
            Role::Server,
            takeover(),
            DeflateOptions {
                park_after: None,
                ..DeflateOptions::default()
            },
            ExtensionHeader::new(NAME),
        );
        assert_eq!(kept.park_after(), None);
        encode_all(&mut kept, &prose(7, 3000));
        assert!(
            kept.sent.is_empty(),
            "nothing is copied when parking is off"
        );
        kept.park();
        assert!(kept.compressor.is_some());
    }

    #[test]
    fn a_parked_decompressor_continues_the_context_from_what_it_inflated() {
        let mut client = codec(Role::Client, takeover());
        let mut server = codec(Role::Server, takeover());
        let first = prose(3, 700);
        assert_eq!(
            decode_all(&mut server, &encode_all(&mut client, &first)),
            first
        );
        server.park();
        assert!(server.decompressor.is_none(), "parked");
        assert!(
            server.received.capacity() <= first.len(),
            "keeps what was inflated, {} bytes",
            server.received.capacity()
        );
        // The client's compressor never parked: the same message refers back into its
        // window, which the server's new decompressor has as its dictionary.
        let again = encode_all(&mut client, &first);
        assert!(again.len() < 16, "{} bytes", again.len());
        assert_eq!(decode_all(&mut server, &again), first);
        // Messages of every size, with parks between some, past the 32 KiB window.
        for i in 0..40u32 {
            let msg = prose(i + 4, 100 + (i as usize * 1597) % 9000);
            let wire = encode_all(&mut client, &msg);
            assert_eq!(decode_all(&mut server, &wire), msg, "message {i}");
            if i % 3 == 0 {
                server.park();
                assert!(server.received.capacity() <= 32 * 1024);
            }
        }
    }

    #[test]
    fn no_context_takeover_releases_state_between_messages() {
        let params = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..takeover()
        };
        let mut server = codec(Role::Server, params);
        let first = encode_all(&mut server, b"Hello");
        assert!(server.compressor.is_none());
        assert_eq!(encode_all(&mut server, b"Hello"), first, "no shared window");
        let mut client = codec(Role::Client, params);
        assert_eq!(decode_all(&mut client, &first), b"Hello");
        assert!(client.decompressor.is_none());
        assert_eq!(decode_all(&mut client, &first), b"Hello");
    }

    #[test]
    fn window_bits_8_sends_uncompressed_and_still_decodes() {
        let params = DeflateParams {
            server_max_window_bits: 8,
            client_max_window_bits: 8,
            ..takeover()
        };
        let mut server = codec(Role::Server, params);
        assert_eq!(server.begin_encode(MessageKind::Binary, Some(100)), None);
        assert_eq!(server.begin_encode(MessageKind::Binary, None), None);
        // A stream made with a 256-byte window (here: by a 9-bit compressor on short
        // input, whose distances all fit in 256 bytes) is read with the 9-bit inflater.
        let mut peer = codec(
            Role::Client,
            DeflateParams {
                client_max_window_bits: 9,
                ..takeover()
            },
        );
        let text = b"abcabcabcabc, window eight, abcabcabc";
        let compressed = encode_all(&mut peer, text);
        let mut server = codec(Role::Server, params);
        assert_eq!(decode_all(&mut server, &compressed), text);
    }

    #[test]
    fn every_window_and_takeover_combination_round_trips() {
        let data: Vec<u8> = (0..20_000u32)
            .map(|i| (i % 97) as u8 ^ (i / 1000) as u8)
            .collect();
        for bits in 9..=15u8 {
            for reset in [false, true] {
                let params = DeflateParams {
                    server_no_context_takeover: reset,
                    client_no_context_takeover: reset,
                    server_max_window_bits: bits,
                    client_max_window_bits: bits,
                };
                let mut tx = codec(Role::Client, params);
                let mut rx = codec(Role::Server, params);
                for round in 0..3 {
                    let msg = &data[round * 1000..];
                    let wire = encode_all(&mut tx, msg);
                    assert!(wire.len() < msg.len());
                    assert_eq!(decode_all(&mut rx, &wire), msg, "bits {bits} reset {reset}");
                }
            }
        }
    }

    #[test]
    fn output_is_bounded_by_max_out() {
        // 1 MiB of zeros compresses to about 1 KiB; decoding with a 64 KiB cap stops there.
        let mut tx = codec(Role::Client, takeover());
        let zeros = vec![0u8; 1 << 20];
        let wire = encode_all(&mut tx, &zeros);
        assert!(wire.len() < 2048, "{}", wire.len());
        let mut rx = codec(Role::Server, takeover());
        rx.begin_decode(RSV1).unwrap();
        let mut out = BytesMut::new();
        let consumed = rx.decode(&wire, &mut out, 65_536).unwrap();
        assert_eq!(out.len(), 65_536);
        assert!(consumed < wire.len());
        // Nothing is lost at the limit: the rest comes out in later calls.
        let mut total = out.len();
        let mut at = consumed;
        for _ in 0..100 {
            let mut more = BytesMut::new();
            at += rx.decode(&wire[at..], &mut more, 65_536).unwrap();
            total += more.len();
            if at == wire.len() {
                break;
            }
        }
        let mut last = BytesMut::new();
        while !rx.finish_decode(&mut last, 65_536).unwrap() {
            total += last.len();
            last.clear();
        }
        total += last.len();
        assert_eq!(total, 1 << 20);
        assert!(out.capacity() < 512 * 1024, "{}", out.capacity());
    }

    #[test]
    fn corrupt_data_is_1007() {
        let mut rx = codec(Role::Server, takeover());
        rx.begin_decode(RSV1).unwrap();
        let err = rx
            .decode(&[0xff, 0xff, 0xff, 0xff], &mut BytesMut::new(), 1 << 20)
            .unwrap_err();
        assert_eq!(err.code, CloseCode::INVALID_PAYLOAD);
    }

    #[test]
    fn threshold_leaves_small_messages_uncompressed() {
        let mut tx = Deflate::new(
            Role::Server,
            takeover(),
            DeflateOptions {
                level: 6,
                threshold: 100,
                ..DeflateOptions::default()
            },
            ExtensionHeader::new(NAME),
        );
        assert_eq!(tx.begin_encode(MessageKind::Text, Some(99)), None);
        assert_eq!(tx.begin_encode(MessageKind::Text, Some(100)), Some(RSV1));
        assert_eq!(tx.begin_encode(MessageKind::Text, None), Some(RSV1));
    }
}
