//! permessage-deflate's codec state under the shared [`Budget`]: what is charged covers
//! what zlib-rs allocates (measured by a per-thread counting allocator); a compressor the
//! budget cannot hold is not made and the message goes out uncompressed, which the peer
//! still reads, with and without context takeover, and compression resumes once the
//! budget frees; a decompressor it cannot hold fails the connection with 1009; and the
//! budget is back to zero once connections are gone, whatever they did (issue 16).
#![cfg(feature = "deflate")]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use common::{events, parse_frames, sent_close_code, take_output};
use proptest::prelude::*;
use wspc::bytes::BytesMut;
use wspc::deflate::{Deflate, DeflateOptions, DeflateParams};
use wspc::extension::{Extension, ExtensionHeader};
use wspc::frame::{FrameHeader, RSV1};
use wspc::{
    Budget, CloseCode, CloseState, Config, Connection, Error, Event, Message, MessageKind,
    PreparedMessage, Role,
};

/// Counts the bytes this thread has live on the heap (tests run on threads of their own,
/// so the count is exact whatever runs beside it).
struct PerThread;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add_live(n: isize) {
    // `try_with`: nothing to count while the thread's locals are torn down.
    let _ = LIVE.try_with(|live| live.set(live.get() + n));
}

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes in a
// thread-local `Cell` (const-initialised, no destructor: touching it never allocates).
unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add_live(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_live(-(layout.size() as isize));
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: PerThread = PerThread;

fn live() -> isize {
    LIVE.with(Cell::get)
}

fn params(takeover: bool, bits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: !takeover,
        client_no_context_takeover: !takeover,
        server_max_window_bits: bits,
        client_max_window_bits: bits,
    }
}

fn codec(role: Role, p: DeflateParams, options: DeflateOptions) -> Deflate {
    Deflate::new(role, p, options, ExtensionHeader::new("permessage-deflate"))
}

fn conn(
    role: Role,
    p: DeflateParams,
    options: DeflateOptions,
    budget: Option<&Budget>,
) -> Connection {
    let config = Config {
        budget: budget.cloned(),
        ..Config::default()
    };
    Connection::with_extension(role, config, Some(Box::new(codec(role, p, options))))
}

/// A server under `budget` and its client peer (no budget: it reads whatever comes).
struct Pair {
    server: Connection,
    client: Connection,
}

impl Pair {
    fn new(p: DeflateParams, budget: &Budget) -> Pair {
        Pair::with_options(p, DeflateOptions::default(), budget)
    }

    fn with_options(p: DeflateParams, options: DeflateOptions, budget: &Budget) -> Pair {
        Pair {
            server: conn(Role::Server, p, options, Some(budget)),
            client: conn(Role::Client, p, options, None),
        }
    }

    /// The server sends `text`; returns whether it went compressed, after checking that
    /// the client read it back unchanged.
    fn server_sends(&mut self, text: &str) -> bool {
        self.server.send(Message::text(text)).unwrap();
        let wire = take_output(&mut self.server);
        let compressed = first_rsv(&wire) == RSV1;
        self.client.feed(&wire);
        assert_eq!(
            events(&mut self.client),
            [Event::Message(Message::text(text))]
        );
        compressed
    }

    /// The client sends `text` compressed; returns what the server made of it.
    fn client_sends(&mut self, text: &str) -> Vec<Event> {
        self.client.send(Message::text(text)).unwrap();
        let wire = take_output(&mut self.client);
        assert_eq!(first_rsv(&wire), RSV1);
        self.server.feed(&wire);
        events(&mut self.server)
    }

    fn held(&self) -> usize {
        held(&self.server)
    }
}

fn held(c: &Connection) -> usize {
    c.extension().unwrap().state_memory().held
}

/// The RSV bits of the first frame in `wire`.
fn first_rsv(wire: &[u8]) -> u8 {
    FrameHeader::parse(wire).unwrap().unwrap().0.rsv
}

/// What the codec charges for a compressor and a decompressor with these parameters.
fn sizes(p: DeflateParams) -> (usize, usize) {
    let m = codec(Role::Server, p, DeflateOptions::default()).state_memory();
    (m.to_encode, m.to_decode)
}

/// Text that compresses, but not to nothing: words from a small vocabulary.
fn prose(seed: u32, len: usize) -> String {
    const WORDS: [&str; 12] = [
        "socket ", "frame ", "mask ", "close ", "ping ", "pong ", "deflate ", "window ",
        "context ", "message ", "text ", "binary ",
    ];
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push_str(WORDS[(x % 12) as usize]);
    }
    out.truncate(len);
    out
}

/// Letters without repeats inside (a later copy is found only through the context).
fn letters(seed: u32, len: usize) -> String {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

#[test]
fn the_charged_sizes_cover_what_zlib_rs_allocates() {
    for bits in 8..=15u8 {
        for level in [0, 1, 6, 9] {
            let start = live();
            let p = params(true, bits);
            let options = DeflateOptions {
                level,
                park_after: None,
                ..DeflateOptions::default()
            };
            let mut tx = codec(Role::Client, p, options);
            let charged = tx.state_memory();
            let mut out = BytesMut::with_capacity(1 << 16);
            let before = live();
            if tx.begin_encode(MessageKind::Binary, None).is_none() {
                assert_eq!(bits, 8, "only an 8-bit window sends uncompressed");
                continue;
            }
            tx.encode(prose(bits.into(), 5000).as_bytes(), true, &mut out)
                .unwrap();
            let compressor = (live() - before) as usize;
            assert_eq!(tx.state_memory().held, charged.to_encode);
            assert!(
                compressor <= charged.to_encode && charged.to_encode - compressor <= 4096,
                "{bits} bits, level {level}: {compressor} bytes allocated, {} charged",
                charged.to_encode
            );

            let mut rx = codec(Role::Server, p, options);
            let mut decoded = BytesMut::with_capacity(1 << 16);
            let before = live();
            rx.begin_decode(RSV1).unwrap();
            rx.decode(&out, &mut decoded, 1 << 16).unwrap();
            assert!(rx.finish_decode(&mut decoded, 1 << 16).unwrap());
            let decompressor = (live() - before) as usize;
            assert!(
                decompressor <= charged.to_decode && charged.to_decode - decompressor <= 4096,
                "{bits} bits: {decompressor} bytes allocated, {} charged",
                charged.to_decode
            );
            // With context takeover both stay, charged as measured.
            assert_eq!(tx.state_memory().held, charged.to_encode);
            assert_eq!(rx.state_memory().held, charged.to_decode);
            drop((rx, tx, out, decoded));
            assert_eq!(live(), start, "everything freed");
        }
    }
}

#[test]
fn without_context_takeover_the_state_is_freed_after_each_message() {
    let p = params(false, 15);
    let mut tx = codec(Role::Client, p, DeflateOptions::default());
    let mut rx = codec(Role::Server, p, DeflateOptions::default());
    let before = live();
    for i in 0..3 {
        let mut wire = BytesMut::new();
        tx.begin_encode(MessageKind::Text, None).unwrap();
        tx.encode(prose(i, 3000).as_bytes(), true, &mut wire)
            .unwrap();
        let mut text = BytesMut::new();
        rx.begin_decode(RSV1).unwrap();
        rx.decode(&wire, &mut text, 1 << 16).unwrap();
        assert!(rx.finish_decode(&mut text, 1 << 16).unwrap());
        assert_eq!(text, prose(i, 3000).as_bytes());
        assert_eq!(tx.state_memory().held, 0);
        assert_eq!(rx.state_memory().held, 0);
    }
    assert_eq!(live(), before, "nothing kept");
}

/// A budget with room for one compressor of `p` (compressors may take half of it), and
/// that compressor's size.
fn room_for_one_compressor(p: DeflateParams) -> (Budget, usize) {
    let (compressor, _) = sizes(p);
    (Budget::new(2 * compressor), compressor)
}

#[test]
fn without_a_budget_nothing_changes() {
    let p = params(true, 15);
    let mut server = conn(Role::Server, p, DeflateOptions::default(), None);
    let mut client = conn(Role::Client, p, DeflateOptions::default(), None);
    server.send(Message::text(prose(1, 2000))).unwrap();
    let wire = take_output(&mut server);
    assert_eq!(first_rsv(&wire), RSV1);
    client.feed(&wire);
    assert_eq!(events(&mut client).len(), 1);
}

#[test]
fn a_compressor_the_budget_cannot_hold_is_not_made_and_the_message_goes_uncompressed() {
    let p = params(true, 15);
    let (budget, compressor) = room_for_one_compressor(p);
    let mut a = Pair::new(p, &budget);
    let mut b = Pair::new(p, &budget);
    let t0 = Instant::now();
    a.server.handle_timeout(t0);
    b.server.handle_timeout(t0);
    let text = prose(2, 3000);

    assert!(a.server_sends(&text), "a gets the compressor");
    assert_eq!(budget.used(), compressor);
    assert!(!b.server_sends(&text), "b goes uncompressed");
    assert!(!b.server_sends(&text));
    assert_eq!(budget.skipped_encodings(), 2);
    assert_eq!(budget.refusals(), 0, "no connection failed");
    assert_eq!(budget.used(), compressor);
    assert_eq!(b.held(), 0);

    // a idles past `park_after`: its compressor is freed, and b's messages compress.
    a.server.handle_timeout(t0 + Duration::from_millis(1500));
    assert_eq!(budget.used(), 0);
    assert!(
        b.server_sends(&text),
        "compression resumes when the budget frees"
    );
    assert!(!a.server_sends(&text), "now a waits");
    // b's connection closes: its state goes back at once, and a compresses again,
    // continuing its context (the uncompressed message in between is not part of it).
    b.server.close(CloseCode::SUCCESS, "").unwrap();
    b.client.feed(&take_output(&mut b.server));
    events(&mut b.client);
    b.server.feed(&take_output(&mut b.client));
    events(&mut b.server);
    assert_eq!(b.server.close_state(), CloseState::Closed);
    assert_eq!(budget.used(), 0);
    assert!(a.server_sends(&text));
    assert_eq!(budget.peak(), compressor, "never more than the cap");
    drop((a, b));
    assert_eq!(budget.used(), 0);
}

#[test]
fn without_context_takeover_the_compressor_is_given_back_after_each_message() {
    let p = params(false, 15);
    let (budget, compressor) = room_for_one_compressor(p);
    let mut a = Pair::new(p, &budget);
    let mut b = Pair::new(p, &budget);
    let text = prose(3, 3000);
    for _ in 0..3 {
        assert!(a.server_sends(&text));
        assert!(b.server_sends(&text));
        assert_eq!(budget.used(), 0);
    }
    // A fragmented message holds its compressor until its last fragment.
    a.server
        .send_fragment(MessageKind::Text, text.clone(), false)
        .unwrap();
    assert_eq!(budget.used(), compressor);
    assert!(!b.server_sends(&text), "b goes uncompressed meanwhile");
    a.server
        .send_fragment(MessageKind::Text, "the end", true)
        .unwrap();
    assert_eq!(budget.used(), 0);
    let wire = take_output(&mut a.server);
    assert_eq!(first_rsv(&wire), RSV1);
    a.client.feed(&wire);
    assert_eq!(
        events(&mut a.client),
        [Event::Message(Message::text(format!("{text}the end")))]
    );
    assert!(b.server_sends(&text), "and compresses again");
    assert_eq!(budget.skipped_encodings(), 1);
}

#[test]
fn with_context_takeover_a_compressed_message_after_uncompressed_ones_continues_the_context() {
    let p = params(true, 15);
    let (budget, _) = room_for_one_compressor(p);
    let mut a = Pair::new(p, &budget);
    let mut b = Pair::new(p, &budget);
    let t0 = Instant::now();
    a.server.handle_timeout(t0);
    b.server.handle_timeout(t0);
    let x = letters(4, 4000);
    // b compresses x, then parks (keeping the last 8 KiB it sent).
    assert!(b.server_sends(&x));
    b.server.handle_timeout(t0 + Duration::from_secs(2));
    // a takes the compressor; b sends two messages uncompressed.
    assert!(a.server_sends(&prose(5, 1000)));
    assert!(!b.server_sends(&prose(6, 2000)));
    assert!(!b.server_sends(&x));
    a.server.handle_timeout(t0 + Duration::from_secs(4));
    assert_eq!(budget.used(), 0);
    // x again from b, compressed: it refers back to the x of the shared context (the
    // peer's window never saw the uncompressed messages), so it takes a few bytes.
    b.server.send(Message::text(x.as_str())).unwrap();
    let wire = take_output(&mut b.server);
    assert_eq!(first_rsv(&wire), RSV1);
    assert!(
        wire.len() < 64,
        "{} bytes: the context was lost",
        wire.len()
    );
    b.client.feed(&wire);
    assert_eq!(events(&mut b.client), [Event::Message(Message::text(x))]);
}

#[test]
fn the_park_timer_waits_for_the_last_fragment_of_a_message() {
    let p = params(true, 15);
    let (budget, compressor) = room_for_one_compressor(p);
    let mut a = Pair::new(p, &budget);
    let t0 = Instant::now();
    a.server.handle_timeout(t0);
    a.server
        .send_fragment(MessageKind::Binary, vec![1u8; 5000], false)
        .unwrap();
    a.server.handle_timeout(t0 + Duration::from_secs(5));
    assert_eq!(
        a.held(),
        compressor,
        "not parked in the middle of a message"
    );
    a.server
        .send_fragment(MessageKind::Binary, vec![2u8; 5000], true)
        .unwrap();
    let due = a.server.poll_timeout().expect("armed by the last fragment");
    a.server.handle_timeout(due);
    assert_eq!(a.held(), 0, "parked after it");
    a.client.feed(&take_output(&mut a.server));
    assert_eq!(
        events(&mut a.client),
        [Event::Message(Message::binary(
            [vec![1u8; 5000], vec![2u8; 5000]].concat()
        ))]
    );
    assert_eq!(budget.peak(), compressor);
}

#[test]
fn compressors_never_take_more_than_half_the_budget_so_reading_goes_on() {
    let p = params(true, 15);
    let (compressor, decompressor) = sizes(p);
    let budget = Budget::new(4 * compressor);
    let mut pairs: Vec<Pair> = (0..8).map(|_| Pair::new(p, &budget)).collect();
    let text = prose(20, 3000);
    let mut compressed = 0;
    for pair in &mut pairs {
        compressed += usize::from(pair.server_sends(&text));
    }
    assert_eq!(compressed, 2, "two compressors fit in half the budget");
    assert_eq!(budget.used(), 2 * compressor);
    assert_eq!(budget.skipped_encodings(), 6);
    // Every connection can still read compressed messages: decompressors (and data) use
    // the half that compressors leave.
    for pair in &mut pairs {
        assert_eq!(
            pair.client_sends(&text),
            [Event::Message(Message::text(text.as_str()))]
        );
    }
    assert_eq!(budget.used(), 2 * compressor + 8 * decompressor);
    assert_eq!(budget.refusals(), 0);
}

#[test]
fn a_decompressor_the_budget_cannot_hold_fails_the_connection_with_1009() {
    let p = params(true, 15);
    let (_, decompressor) = sizes(p);
    let budget = Budget::new(decompressor);
    let mut a = Pair::new(p, &budget);
    let mut b = Pair::new(p, &budget);
    let text = prose(7, 2000);
    assert_eq!(
        a.client_sends(&text),
        [Event::Message(Message::text(text.as_str()))]
    );
    assert_eq!(
        budget.used(),
        decompressor,
        "a keeps its decompressor (takeover)"
    );
    // b's first compressed message cannot be read: 1009 "server busy".
    assert_eq!(
        b.client_sends(&text),
        [Event::Failed(Error::BudgetExhausted)]
    );
    let wire = take_output(&mut b.server);
    assert_eq!(sent_close_code(&wire), Some(CloseCode::MESSAGE_TOO_BIG));
    let (_, _, close) = parse_frames(&wire).pop().unwrap();
    assert_eq!(&close[2..], b"server busy");
    assert_eq!(budget.refusals(), 1);
    assert_eq!(budget.used(), decompressor);
    // a goes on reading compressed messages while the budget is full, and a third
    // connection's uncompressed messages still flow.
    for i in 0..3 {
        let more = prose(8 + i, 1500);
        assert_eq!(
            a.client_sends(&more),
            [Event::Message(Message::text(more.as_str()))]
        );
    }
    let mut c = Pair::new(p, &budget);
    c.client.send_uncompressed(Message::text("plain")).unwrap();
    c.server.feed(&take_output(&mut c.client));
    assert_eq!(
        events(&mut c.server),
        [Event::Message(Message::text("plain"))]
    );
    // Once a is gone, the next connection reads compressed messages.
    drop(a);
    assert_eq!(budget.used(), 0);
    assert_eq!(
        c.client_sends(&text),
        [Event::Message(Message::text(text.as_str()))]
    );
    assert_eq!(budget.peak(), decompressor);
}

#[test]
fn idle_connections_give_their_codec_state_back_once_parked() {
    // Context takeover both ways: once a connection has been idle for `park_after`, its
    // compressor and decompressor are freed (the windows they need are kept outside the
    // budget), so idle connections cannot hold the budget and keep others from reading.
    let p = params(true, 15);
    let (compressor, decompressor) = sizes(p);
    // Room for one compressor and `n` decompressors.
    let budget = Budget::new(2 * compressor);
    let n = compressor / decompressor;
    let t0 = Instant::now();
    let mut pairs: Vec<Pair> = (0..n).map(|_| Pair::new(p, &budget)).collect();
    let text = letters(21, 3000);
    for pair in &mut pairs {
        pair.server.handle_timeout(t0);
    }
    assert!(pairs[0].server_sends(&text));
    for pair in &mut pairs {
        assert_eq!(
            pair.client_sends(&text),
            [Event::Message(Message::text(text.as_str()))]
        );
    }
    assert_eq!(budget.used(), compressor + n * decompressor);
    // One more connection cannot read while they hold their state...
    let mut one_more = Pair::new(p, &budget);
    assert_eq!(
        one_more.client_sends(&text),
        [Event::Failed(Error::BudgetExhausted)]
    );
    // ... but once they idle, they hold nothing, and the next one reads.
    for pair in &mut pairs {
        pair.server.handle_timeout(t0 + Duration::from_millis(1500));
        assert_eq!(pair.held(), 0);
    }
    assert_eq!(budget.used(), 0);
    let mut next = Pair::new(p, &budget);
    assert_eq!(
        next.client_sends(&text),
        [Event::Message(Message::text(text.as_str()))]
    );
    drop(next);
    // The parked ones go on where they were, both ways: the server's new compressor has
    // what it sent as its dictionary; the client's (continuous) context refers back to
    // the same text, which the server's new decompressor has as its window.
    pairs[0].server.send(Message::text(text.as_str())).unwrap();
    let wire = take_output(&mut pairs[0].server);
    assert!(
        wire.len() < 64,
        "{} bytes: the server's context",
        wire.len()
    );
    pairs[0].client.feed(&wire);
    assert_eq!(
        events(&mut pairs[0].client),
        [Event::Message(Message::text(text.as_str()))]
    );
    for pair in &mut pairs {
        pair.client.send(Message::text(text.as_str())).unwrap();
        let wire = take_output(&mut pair.client);
        assert!(
            wire.len() < 64,
            "{} bytes: the client's context",
            wire.len()
        );
        pair.server.feed(&wire);
        assert_eq!(
            events(&mut pair.server),
            [Event::Message(Message::text(text.as_str()))]
        );
    }
}

#[test]
fn a_failed_connection_gives_its_codec_state_back_at_once() {
    let p = params(true, 15);
    let budget = Budget::new(16 << 20);
    let mut a = Pair::new(p, &budget);
    let text = prose(11, 2000);
    assert!(a.server_sends(&text));
    assert_eq!(a.client_sends(&text).len(), 1);
    assert!(budget.used() > 0);
    // Corrupt compressed data: 1007, and the state goes back before the drop.
    a.server.feed(&common::frame(
        true,
        RSV1,
        2,
        &[0xff; 16],
        Some([1, 2, 3, 4]),
    ));
    let evs = events(&mut a.server);
    assert!(
        matches!(evs.as_slice(), [Event::Failed(e)] if e.close_code() == CloseCode::INVALID_PAYLOAD)
    );
    assert_eq!(budget.used(), 0);
}

#[test]
fn prepared_messages_need_no_compressor_of_their_own() {
    let p = params(true, 15);
    let budget = Budget::new(0);
    let mut a = Pair::new(p, &budget);
    let message = PreparedMessage::new(Message::text(prose(12, 3000)));
    a.server.send_prepared(&message).unwrap();
    let wire = take_output(&mut a.server);
    assert_eq!(
        first_rsv(&wire),
        RSV1,
        "compressed once, for every connection"
    );
    a.client.feed(&wire);
    assert_eq!(events(&mut a.client).len(), 1);
    assert_eq!(budget.used(), 0);
    // With no room for a compressor, its own messages go uncompressed, and the peer
    // reads them after the shared one.
    assert!(!a.server_sends(&prose(13, 3000)));
}

#[test]
fn the_budget_is_back_to_zero_after_connections_churn() {
    let (c15, d15) = sizes(params(true, 15));
    // Room for about two connections' full state at once; compressors may take half.
    let limit = 2 * (c15 + d15);
    let budget = Budget::new(limit);
    let mut open: Vec<Pair> = Vec::new();
    let t0 = Instant::now();
    let (mut read, mut refused, mut compressed, mut plain) = (0, 0, 0, 0);
    for i in 0..200u32 {
        let takeover = i % 3 != 0;
        let bits = 9 + (i % 7) as u8;
        let mut pair = Pair::new(params(takeover, bits), &budget);
        pair.server.handle_timeout(t0);
        let text = prose(i, 500 + (i as usize * 37) % 3000);
        match pair.client_sends(&text).as_slice() {
            [Event::Message(m)] if *m == Message::text(text.as_str()) => read += 1,
            [Event::Failed(Error::BudgetExhausted)] => refused += 1,
            other => panic!("connection {i}: {other:?}"),
        }
        if pair.server.close_state() == CloseState::Open {
            if pair.server_sends(&text) {
                compressed += 1;
            } else {
                plain += 1;
            }
        }
        match i % 5 {
            // Parked (context takeover) or not.
            0 => pair.server.handle_timeout(t0 + Duration::from_secs(2)),
            // Closed cleanly by the client.
            1 => {
                pair.client.close(CloseCode::SUCCESS, "bye").unwrap();
                pair.server.feed(&take_output(&mut pair.client));
                events(&mut pair.server);
            }
            // Failed by corrupt data.
            2 => {
                pair.server
                    .feed(&common::frame(true, RSV1, 2, &[0xff; 8], Some([9; 4])));
                events(&mut pair.server);
            }
            _ => {}
        }
        assert!(budget.used() <= limit);
        open.push(pair);
        // Few connections stay open at first, and time passes (compressors fit); many
        // later, all busy (decompressors are refused).
        if open.len() > if i < 100 { 8 } else { 60 } {
            open.remove((i as usize * 7) % open.len());
        }
        if i < 100 && i % 10 == 9 {
            // Time passes for every open connection: idle codec state is parked.
            let later = t0 + Duration::from_secs(u64::from(i));
            for pair in &mut open {
                pair.server.handle_timeout(later);
            }
        }
        let charged: usize = open.iter().map(Pair::held).sum();
        assert_eq!(
            budget.used(),
            charged,
            "connection {i}: charge = state held"
        );
    }
    eprintln!("read {read}, refused {refused}, compressed {compressed}, plain {plain}");
    assert!(read > 100 && refused > 0, "read {read}, refused {refused}");
    assert!(
        compressed >= 10 && plain > 0,
        "compressed {compressed}, plain {plain}"
    );
    drop(open);
    assert_eq!(budget.used(), 0);
    assert!(budget.peak() <= limit);
}

#[derive(Clone, Debug)]
enum Op {
    ServerSends(usize, u16),
    ServerSendsFragments(usize, u16),
    ClientSends(usize, u16),
    Idle(usize),
    Close(usize),
    Replace(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 0..6000u16).prop_map(|(c, n)| Op::ServerSends(c, n)),
        1 => (0..3usize, 0..6000u16).prop_map(|(c, n)| Op::ServerSendsFragments(c, n)),
        3 => (0..3usize, 0..6000u16).prop_map(|(c, n)| Op::ClientSends(c, n)),
        1 => (0..3usize).prop_map(Op::Idle),
        1 => (0..3usize).prop_map(Op::Close),
        1 => (0..3usize).prop_map(Op::Replace),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Three connections share a budget of a few codec states (or less than one), with
    /// any parameters, through any sequence of sends both ways, idling (parking), closing
    /// and replacing connections: every message arrives unchanged unless its connection
    /// was refused with 1009; the budget's charge is always exactly the state held, never
    /// above the cap; and it is back to zero when the connections are gone.
    #[test]
    fn any_traffic_stays_within_the_budget_and_round_trips(
        room in 0usize..5,
        takeover in any::<bool>(),
        bits in 8u8..=15,
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let p = params(takeover, bits);
        let (c, d) = sizes(p);
        let limit = [0, d, c, c + d, 2 * (c + d)][room];
        let budget = Budget::new(limit);
        let mut pairs: Vec<Pair> = (0..3).map(|_| Pair::new(p, &budget)).collect();
        let t0 = Instant::now();
        let mut now = t0;
        for pair in &mut pairs {
            pair.server.handle_timeout(now);
        }
        for (step, op) in ops.into_iter().enumerate() {
            match op {
                Op::ServerSends(i, n) | Op::ServerSendsFragments(i, n) => {
                    let pair = &mut pairs[i];
                    if pair.server.close_state() != CloseState::Open {
                        continue;
                    }
                    let text = prose(step as u32, n.into());
                    if matches!(op, Op::ServerSends(..)) {
                        pair.server.send(Message::text(text.as_str())).unwrap();
                    } else {
                        let (x, y) = text.split_at(text.len() / 2);
                        pair.server.send_fragment(MessageKind::Text, x.to_owned(), false).unwrap();
                        pair.server.send_fragment(MessageKind::Text, y.to_owned(), true).unwrap();
                    }
                    pair.client.feed(&take_output(&mut pair.server));
                    prop_assert_eq!(events(&mut pair.client), [Event::Message(Message::text(text))]);
                }
                Op::ClientSends(i, n) => {
                    let pair = &mut pairs[i];
                    if pair.server.close_state() != CloseState::Open {
                        continue;
                    }
                    let text = prose(step as u32, n.into());
                    pair.client.send(Message::text(text.as_str())).unwrap();
                    pair.server.feed(&take_output(&mut pair.client));
                    let got = events(&mut pair.server);
                    let ok = got == [Event::Message(Message::text(text))];
                    let busy = got == [Event::Failed(Error::BudgetExhausted)];
                    prop_assert!(ok || busy, "{:?}", got);
                    if busy {
                        prop_assert!(limit < 3 * (c + d), "refused with room for every state");
                    }
                }
                Op::Idle(i) => {
                    now += Duration::from_millis(700);
                    pairs[i].server.handle_timeout(now);
                }
                Op::Close(i) => {
                    let pair = &mut pairs[i];
                    if pair.server.close(CloseCode::SUCCESS, "").is_ok() {
                        pair.client.feed(&take_output(&mut pair.server));
                        events(&mut pair.client);
                        pair.server.feed(&take_output(&mut pair.client));
                        events(&mut pair.server);
                    }
                }
                Op::Replace(i) => {
                    pairs[i] = Pair::new(p, &budget);
                    pairs[i].server.handle_timeout(now);
                }
            }
            let charged: usize = pairs.iter().map(Pair::held).sum();
            prop_assert_eq!(budget.used(), charged);
            prop_assert!(budget.used() <= limit);
        }
        drop(pairs);
        prop_assert_eq!(budget.used(), 0);
        prop_assert!(budget.peak() <= limit);
    }
}
