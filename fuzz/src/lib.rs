//! Helpers shared by the fuzz targets: building connections from fuzzer-chosen
//! parameters, and checking what an engine wrote.

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use wspc::deflate::{Deflate, DeflateOptions, DeflateParams};
use wspc::extension::{Extension, ExtensionHeader};
use wspc::frame::{FrameHeader, OpCode};
use wspc::mask::apply_mask;
use wspc::{CloseCode, Config, Connection, Limits, Role};

/// permessage-deflate parameters drawn from the input.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct DeflateSetup {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_bits: u8,
    pub client_bits: u8,
    pub level: u8,
    pub threshold: u8,
}

impl DeflateSetup {
    pub fn params(&self) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: 8 + self.server_bits % 8,
            client_max_window_bits: 8 + self.client_bits % 8,
        }
    }

    pub fn options(&self) -> DeflateOptions {
        DeflateOptions {
            level: u32::from(self.level % 10),
            threshold: usize::from(self.threshold),
            ..DeflateOptions::default()
        }
    }

    /// The codec of one side.
    pub fn codec(&self, role: Role) -> Box<dyn Extension> {
        Box::new(Deflate::new(
            role,
            self.params(),
            self.options(),
            ExtensionHeader::new("permessage-deflate"),
        ))
    }
}

/// Small limits drawn from the input, so that every limit is reached quickly.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct SmallLimits {
    pub frame: u16,
    pub message: u16,
    pub fragments: u8,
    pub write_buffer: u16,
    pub empty_frames: u8,
}

impl SmallLimits {
    pub fn limits(&self) -> Limits {
        Limits {
            max_frame_size: u64::from(self.frame),
            max_message_size: u64::from(self.message) * 4,
            max_fragments: u32::from(self.fragments) + 1,
            max_write_buffer: usize::from(self.write_buffer),
            max_empty_frames: u32::from(self.empty_frames),
            ..Limits::default()
        }
    }
}

/// A connection of `role` with `config`, plain or with deflate.
pub fn connection(role: Role, config: Config, deflate: Option<DeflateSetup>) -> Connection {
    Connection::with_extension(role, config, deflate.map(|d| d.codec(role)))
}

/// One frame as a peer of `to` would send it (masked toward a server).
pub fn encode_frame(
    to: Role,
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: &[u8],
    key: [u8; 4],
) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv: rsv & 0x70,
        opcode: OpCode::Binary,
        mask: (to == Role::Server).then_some(key),
        payload_len: payload.len() as u64,
    };
    let mut raw = [0u8; wspc::frame::MAX_HEADER_LEN];
    let n = header.encode(&mut raw);
    raw[0] = (raw[0] & 0xF0) | (opcode & 0x0F);
    let mut out = raw[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if to == Role::Server {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// Everything `conn` wants to write, in pieces of at most `step` bytes (0: all at once).
pub fn drain(conn: &mut Connection, step: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    for _ in 0..1_000_000 {
        let mut slices = [std::io::IoSlice::new(&[]); 16];
        let n = conn.poll_transmit(&mut slices);
        if n == 0 {
            break;
        }
        let mut took = 0;
        for s in &slices[..n] {
            let room = if step == 0 { usize::MAX } else { step - took };
            let part = &s[..s.len().min(room)];
            wire.extend_from_slice(part);
            took += part.len();
            if step != 0 && took == step {
                break;
            }
        }
        conn.advance_transmit(took);
    }
    wire
}

/// Checks the frames `role` wrote: masked exactly when a client wrote them, no data
/// (and no second Close) after a Close, a Close with a sendable code and a short UTF-8 reason, control frames
/// short and final. Returns the frames' (opcode, fin, rsv, unmasked payload).
pub fn check_wire(role: Role, wire: &[u8]) -> Vec<(OpCode, bool, u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut closed = false;
    while at < wire.len() {
        let (h, n) = match FrameHeader::parse(&wire[at..]) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => panic!("truncated frame at {at} of {}", wire.len()),
            Err(e) => panic!("the engine wrote an invalid frame header: {e}"),
        };
        assert_eq!(h.mask.is_some(), role == Role::Client, "masking");
        let start = at + n;
        let end = start + usize::try_from(h.payload_len).unwrap();
        assert!(end <= wire.len(), "truncated payload");
        let mut payload = wire[start..end].to_vec();
        if let Some(k) = h.mask {
            apply_mask(&mut payload, k, 0);
        }
        // RFC 6455 §5.5.1: no data after our Close (Pings and Pongs still may go).
        assert!(
            !closed || matches!(h.opcode, OpCode::Ping | OpCode::Pong),
            "a {:?} frame after our Close",
            h.opcode
        );
        if h.opcode.is_control() {
            assert!(h.fin && payload.len() <= 125, "control frame {h:?}");
            assert_eq!(h.rsv, 0);
        }
        if h.opcode == OpCode::Close {
            closed = true;
            assert_ne!(payload.len(), 1, "1-byte Close");
            if payload.len() >= 2 {
                let code = CloseCode::new(u16::from_be_bytes([payload[0], payload[1]]));
                assert!(code.is_sendable(), "unsendable close code {code:?}");
                assert!(
                    std::str::from_utf8(&payload[2..]).is_ok(),
                    "reason not UTF-8"
                );
            }
        }
        out.push((h.opcode, h.fin, h.rsv, payload));
        at = end;
    }
    out
}

/// Reads a fuzz input laid out so that recorded traffic makes a seed: a fixed-size
/// prefix decoded with `arbitrary` (the configuration), then operations, each a tag byte
/// and its operands; tag 0 is "the peer sent these bytes" (a little-endian `u16` length,
/// then the bytes), so a recorded stream is `[0, len, len >> 8, bytes…]` repeated.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Splits `data` into the configuration prefix (`prefix` bytes, zero-padded) and
    /// the operations.
    pub fn new(data: &'a [u8], prefix: usize) -> (Vec<u8>, Reader<'a>) {
        let n = prefix.min(data.len());
        let mut head = data[..n].to_vec();
        head.resize(prefix, 0);
        (head, Reader { data: &data[n..] })
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.data.split_first() else {
            return 0;
        };
        self.data = rest;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }

    /// `len` bytes (or what is left).
    pub fn bytes(&mut self, len: usize) -> &'a [u8] {
        let n = len.min(self.data.len());
        let (out, rest) = self.data.split_at(n);
        self.data = rest;
        out
    }

    /// A `u16`-length-prefixed byte string.
    pub fn blob(&mut self) -> &'a [u8] {
        let len = usize::from(self.u16());
        self.bytes(len)
    }
}

/// Decodes a configuration from a fixed-size prefix.
pub fn config_from<T: for<'b> Arbitrary<'b>>(prefix: &[u8]) -> Option<T> {
    T::arbitrary(&mut arbitrary::Unstructured::new(prefix)).ok()
}

/// Read sizes chosen by one byte: every byte apart, small irregular steps, or larger
/// ones, cycled over the input.
pub fn cut_pattern(b: u8) -> Vec<usize> {
    match b % 4 {
        0 => vec![1],
        1 => vec![1 + usize::from(b >> 2 & 7), 2, 1 + usize::from(b >> 5)],
        2 => vec![3 + usize::from(b >> 2) * 5, 7],
        _ => vec![usize::MAX / 2],
    }
}
