//! Allocation bounded by the limits: a server (plain or with permessage-deflate, limits
//! from the input) fed arbitrary bytes and well-formed frames — including compressed
//! ones that inflate far beyond their size — under a counting allocator. Live heap at
//! its peak must stay within what the limits allow: the bytes actually received (memory
//! follows them, whatever a header announces), plus the message limit for gathered or
//! inflated data, plus the fixed codec state; and a shared budget's charge stays under
//! its cap for received data.

#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use wspc::{Budget, Config, MessageKind, Role};
use wspc_fuzz::{DeflateSetup, Reader, SmallLimits, config_from, connection, encode_frame};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new) };
        if !q.is_null() {
            if new > layout.size() {
                let live =
                    LIVE.fetch_add(new - layout.size(), Ordering::Relaxed) + new - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The configuration, from the input's first [`PREFIX`] bytes.
#[derive(Arbitrary, Debug)]
struct Setup {
    deflate: Option<DeflateSetup>,
    limits: SmallLimits,
    budget: Option<u16>,
}

const PREFIX: usize = 20;

/// What the peer sends, after the prefix: a tag byte (0: raw bytes, so that recorded
/// traffic is a seed), then its operands.
enum Piece<'a> {
    Raw(&'a [u8]),
    Frame {
        fin: bool,
        opcode: u8,
        len: u16,
    },
    /// A compressed frame of `zeros` zero bytes (a bomb, within the limits or not).
    Bomb {
        fin: bool,
        zeros: u32,
    },
}

fn next_piece<'a>(r: &mut Reader<'a>) -> Option<Piece<'a>> {
    if r.is_empty() {
        return None;
    }
    let tag = r.u8();
    Some(match tag % 3 {
        0 => Piece::Raw(r.blob()),
        1 => Piece::Frame {
            fin: tag & 0x80 != 0,
            opcode: r.u8(),
            len: r.u16(),
        },
        _ => Piece::Bomb {
            fin: tag & 0x80 != 0,
            zeros: u32::from(r.u16()) << 8,
        },
    })
}

/// Fixed state a connection may hold whatever it receives: zlib-rs' inflate state and
/// window, the transmit arena, the small buffers.
const FIXED: usize = 256 * 1024;

fuzz_target!(|data: &[u8]| {
    let (prefix, mut reader) = Reader::new(data, PREFIX);
    let Some(Setup {
        deflate,
        limits: small,
        budget,
    }) = config_from::<Setup>(&prefix)
    else {
        return;
    };
    let limits = small.limits();
    let budget = budget.map(|b| Budget::with_allowance(usize::from(b) * 64, 4096));
    let config = Config {
        limits,
        budget: budget.clone(),
        ..Config::default()
    };
    // The wire, built before measuring (the peer's compressor is not ours to count).
    let mut peer = deflate.map(|d| d.codec(Role::Client));
    let mut wire = Vec::new();
    let mut count = 0;
    // What the harness compresses in all (the peer's work, not the engine's: bounded so
    // an input stays fast; it still inflates far past every message limit drawn).
    let mut bomb_budget: usize = 1 << 20;
    while let Some(p) = next_piece(&mut reader) {
        count += 1;
        if count > 64 {
            break;
        }
        match p {
            Piece::Raw(b) => wire.extend_from_slice(b),
            Piece::Frame { fin, opcode, len } if wire.len() < 1 << 20 => {
                wire.extend_from_slice(&encode_frame(
                    Role::Server,
                    fin,
                    0,
                    opcode,
                    &vec![b'a'; usize::from(len)],
                    [9, 8, 7, 6],
                ));
            }
            Piece::Frame { .. } => {}
            Piece::Bomb { fin, zeros } => {
                let Some(codec) = peer.as_mut() else { continue };
                if codec.begin_encode(MessageKind::Binary, None).is_none() {
                    continue;
                }
                let mut out = bytes::BytesMut::new();
                let n = (zeros as usize % (1 << 20)).min(bomb_budget);
                bomb_budget -= n;
                let zeros = vec![0u8; n];
                if codec.encode(&zeros, fin, &mut out).is_ok() {
                    wire.extend_from_slice(&encode_frame(
                        Role::Server,
                        fin,
                        0x40,
                        2,
                        &out,
                        [1, 2, 3, 4],
                    ));
                }
            }
        }
    }
    drop(peer);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut conn = connection(Role::Server, config, deflate);
    for chunk in wire.chunks(4096) {
        conn.feed(chunk);
        while let Some(event) = conn.poll_event() {
            drop(event);
        }
        // Write everything (as a peer that reads would let us).
        let _ = wspc_fuzz::drain(&mut conn, 0);
    }
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let message = usize::try_from(limits.max_message_size).unwrap_or(usize::MAX);
    let bound = 3 * wire.len() + 3 * message + FIXED;
    assert!(
        peak <= bound,
        "peak {peak} bytes > bound {bound} (wire {}, message limit {message})",
        wire.len()
    );
    if let Some(b) = &budget {
        // Incoming growth is refused past the cap; outgoing data (here: Pongs and
        // Close frames) is counted on top of it.
        assert!(
            b.peak() <= b.limit() + limits.max_write_buffer + 4096,
            "budget peak {} over {}",
            b.peak(),
            b.limit()
        );
    }
    drop(conn);
    if let Some(b) = budget {
        assert_eq!(b.used(), 0);
    }
});
