//! The engine in either role, plain or with permessage-deflate (parameters from the
//! input), on arbitrary bytes and frames interleaved with arbitrary API calls (send,
//! fragments, ping, pong, close, time, end of input, partial writes).
//!
//! Invariants beyond "no panic": every event respects the limits (message size, UTF-8
//! text); nothing but end-of-stream follows a Close or a failure; what the engine writes
//! is well-formed (masking by role, no frame after our Close, sendable close codes);
//! the receive buffer grows with the bytes received, never with what a header announces.
//!
//! Input: a 24-byte configuration prefix, then operations (see [`next_op`]); recorded
//! traffic (Autobahn, the RFC examples) is a seed as `[prefix][0, len16, bytes]…`.

#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use wspc::{Budget, CloseCode, Config, Event, Message, MessageKind, Role};
use wspc_fuzz::{
    DeflateSetup, Reader, SmallLimits, check_wire, config_from, connection, drain, encode_frame,
};

/// The configuration, from the input's first [`PREFIX`] bytes.
#[derive(Arbitrary, Debug)]
struct Setup {
    server: bool,
    deflate: Option<DeflateSetup>,
    limits: Option<SmallLimits>,
    chunks: Option<u16>,
    message_timeout: Option<u8>,
    budget: Option<u16>,
}

const PREFIX: usize = 24;

/// The operations, after the prefix: a tag byte (0 = raw bytes from the peer, so that
/// recorded traffic is a seed), then its operands.
#[derive(Debug)]
enum Op<'a> {
    /// Raw bytes from the peer.
    Feed(&'a [u8]),
    /// One frame from the peer (masked when it goes to a server).
    Frame {
        fin: bool,
        rsv: u8,
        opcode: u8,
        payload: &'a [u8],
        key: [u8; 4],
    },
    /// A compressed data frame from a deflate peer.
    Compressed {
        text: bool,
        fin: bool,
        data: &'a [u8],
    },
    Send {
        text: bool,
        data: &'a [u8],
    },
    Fragment {
        text: bool,
        data: &'a [u8],
        fin: bool,
    },
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    Close {
        code: u16,
        reason: &'a [u8],
    },
    /// Time passes (milliseconds).
    Wait(u16),
    /// Write at most this many bytes.
    Write(u16),
    Eof,
}

fn next_op<'a>(r: &mut Reader<'a>) -> Option<Op<'a>> {
    if r.is_empty() {
        return None;
    }
    let tag = r.u8();
    Some(match tag % 11 {
        0 => Op::Feed(r.blob()),
        1 => {
            let flags = r.u8();
            let key = [r.u8(), r.u8(), r.u8(), r.u8()];
            Op::Frame {
                fin: flags & 0x80 != 0,
                rsv: flags & 0x70,
                opcode: flags & 0x0F,
                payload: r.blob(),
                key,
            }
        }
        2 => {
            let flags = r.u8();
            Op::Compressed {
                text: flags & 1 != 0,
                fin: flags & 2 != 0,
                data: r.blob(),
            }
        }
        3 => Op::Send {
            text: tag & 0x80 != 0,
            data: r.blob(),
        },
        4 => Op::Fragment {
            text: tag & 0x80 != 0,
            fin: tag & 0x40 != 0,
            data: r.blob(),
        },
        5 => {
            let n = usize::from(r.u8());
            Op::Ping(r.bytes(n))
        }
        6 => {
            let n = usize::from(r.u8());
            Op::Pong(r.bytes(n))
        }
        7 => {
            let code = r.u16();
            let n = usize::from(r.u8());
            Op::Close {
                code,
                reason: r.bytes(n),
            }
        }
        8 => Op::Wait(r.u16()),
        9 => Op::Write(r.u16()),
        _ => Op::Eof,
    })
}

fuzz_target!(|data: &[u8]| {
    let (prefix, mut reader) = Reader::new(data, PREFIX);
    let Some(input) = config_from::<Setup>(&prefix) else {
        return;
    };
    let role = if input.server {
        Role::Server
    } else {
        Role::Client
    };
    let limits = input.limits.map(|l| l.limits()).unwrap_or_default();
    let budget = input
        .budget
        .map(|b| Budget::with_allowance(usize::from(b) * 16, 1024));
    let config = Config {
        limits,
        delivery: match input.chunks {
            Some(n) => wspc::Delivery::Chunks {
                max_chunk: usize::from(n),
            },
            None => wspc::Delivery::Messages,
        },
        message_timeout: input
            .message_timeout
            .map(|s| Duration::from_millis(u64::from(s) * 10)),
        budget: budget.clone(),
        ..Config::default()
    };
    let mut conn = connection(role, config, input.deflate);
    // The peer's compressor, for well-formed compressed frames.
    let peer = match role {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    let mut peer_codec = input.deflate.map(|d| d.codec(peer));
    let mut now = Instant::now();
    conn.handle_timeout(now);
    let mut fed: usize = 0;
    let mut ended = false;
    let mut wire = Vec::new();
    let mut ops = 0;
    while let Some(op) = next_op(&mut reader) {
        ops += 1;
        if ops > 512 {
            break;
        }
        match op {
            Op::Feed(bytes) => {
                fed += bytes.len();
                conn.feed(bytes);
            }
            Op::Frame {
                fin,
                rsv,
                opcode,
                payload,
                key,
            } => {
                let bytes = encode_frame(role, fin, rsv, opcode, payload, key);
                fed += bytes.len();
                conn.feed(&bytes);
            }
            Op::Compressed { text, fin, data } => {
                let Some(codec) = peer_codec.as_mut() else {
                    continue;
                };
                let kind = if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if codec.begin_encode(kind, None).is_none() {
                    continue;
                }
                let mut out = bytes::BytesMut::new();
                if codec.encode(data, fin, &mut out).is_err() {
                    continue;
                }
                let opcode = if text { 1 } else { 2 };
                let bytes = encode_frame(role, fin, 0x40, opcode, &out, [1, 2, 3, 4]);
                fed += bytes.len();
                conn.feed(&bytes);
            }
            Op::Send { text, data } => {
                let msg = if text {
                    Message::text(String::from_utf8_lossy(data).into_owned())
                } else {
                    Message::binary(data.to_vec())
                };
                let _ = conn.send(msg);
            }
            Op::Fragment { text, data, fin } => {
                let kind = if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                let _ = conn.send_fragment(kind, data.to_vec(), fin);
            }
            Op::Ping(p) => {
                let _ = conn.ping(p.to_vec());
            }
            Op::Pong(p) => {
                let _ = conn.pong(p.to_vec());
            }
            Op::Close { code, reason } => {
                let _ = conn.close(CloseCode::new(code), &String::from_utf8_lossy(reason));
            }
            Op::Wait(ms) => {
                now += Duration::from_millis(u64::from(ms));
                conn.handle_timeout(now);
            }
            Op::Write(n) => wire.extend_from_slice(&drain(&mut conn, usize::from(n).max(1))),
            Op::Eof => conn.handle_eof(),
        }
        // Memory follows the bytes received: the receive buffer never holds (much) more
        // room than twice what arrived, whatever a header announced.
        let cap = conn.recv_buffer_mut().capacity();
        assert!(
            cap <= 2 * fed + 64,
            "receive buffer of {cap} bytes after {fed} received"
        );
        for _ in 0..100_000 {
            let Some(event) = conn.poll_event() else {
                break;
            };
            assert!(!ended, "event after the end: {event:?}");
            match event {
                Event::Message(m) => {
                    assert!(
                        m.len() as u64 <= limits.max_message_size,
                        "message over the limit"
                    );
                    if let Message::Text(t) = &m {
                        assert!(std::str::from_utf8(t.as_bytes()).is_ok());
                    }
                }
                Event::Chunk(c) => {
                    if let wspc::Delivery::Chunks { max_chunk } = conn.config().delivery {
                        assert!(c.data.len() <= max_chunk.max(1), "chunk over max_chunk");
                    }
                }
                Event::Close(_) | Event::Failed(_) => ended = true,
                _ => {}
            }
        }
    }
    wire.extend_from_slice(&drain(&mut conn, 0));
    check_wire(role, &wire);
    drop(conn);
    if let Some(b) = budget {
        assert_eq!(b.used(), 0, "a dropped connection gives its budget back");
    }
});
