//! The engine alone: parse + unmask + UTF-8-validate received messages (server side,
//! masked client frames), and frame + transmit for sends.
//!
//! ```text
//! cargo bench -p wspc --bench engine
//! ```
//! Each receive measurement feeds about 1 MiB of frames of one size (20 B, 1 KiB, 16 KiB,
//! 1 MiB) into a fresh server connection — filling the buffer is setup, not measured —
//! and times handing out every message. Throughput is in payload bytes.

use std::hint::black_box;
use std::io::IoSlice;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use wspc::bytes::Bytes;
use wspc::{Config, Connection, Event, Message, Role};

const SIZES: [(usize, &str); 4] = [
    (20, "20B"),
    (1024, "1KiB"),
    (16 * 1024, "16KiB"),
    (1 << 20, "1MiB"),
];
const BATCH_BYTES: usize = 1 << 20;

/// Masked client frames carrying `payload`, repeated to about 1 MiB of payload.
fn client_wire(message: Message) -> (Vec<u8>, usize) {
    let mut client = Connection::new(Role::Client, Config::default());
    let count = (BATCH_BYTES / message.len().max(1)).max(1);
    let mut wire = Vec::new();
    for _ in 0..count {
        client.send(message.clone()).unwrap();
        client.write_to(&mut wire).unwrap();
    }
    (wire, count)
}

fn ascii(len: usize) -> String {
    (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect()
}

/// Mixed UTF-8: ASCII with 2-, 3- and 4-byte code points, cut to `len` bytes on a boundary.
fn mixed(len: usize) -> String {
    let unit = "WebSocket — κόσμε 🦀 ünïcödé ";
    let mut s = unit.repeat(len / unit.len() + 1);
    let mut end = len;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

fn receive(c: &mut Criterion) {
    let mut group = c.benchmark_group("receive");
    for (size, name) in SIZES {
        for (kind, message) in [
            ("binary", Message::binary(vec![0xA5u8; size])),
            ("text-ascii", Message::text(ascii(size))),
            ("text-mixed", Message::text(mixed(size))),
        ] {
            let (wire, count) = client_wire(message.clone());
            group.throughput(Throughput::Bytes((message.len() * count) as u64));
            group.bench_function(format!("{kind}/{name}"), |b| {
                b.iter_batched_ref(
                    || {
                        let mut server = Connection::new(Role::Server, Config::default());
                        server.recv_buffer_mut().extend_from_slice(&wire);
                        server
                    },
                    |server| {
                        let mut n = 0;
                        while let Some(event) = server.poll_event() {
                            if let Event::Message(m) = event {
                                black_box(m);
                                n += 1;
                            }
                        }
                        assert_eq!(n, count);
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

fn send(c: &mut Criterion) {
    let mut group = c.benchmark_group("send");
    for (size, name) in SIZES {
        for role in [Role::Server, Role::Client] {
            let payload = Bytes::from(vec![0x5Au8; size]);
            let count = (BATCH_BYTES / size).max(1);
            group.throughput(Throughput::Bytes((size * count) as u64));
            let role_name = if role == Role::Server {
                "server"
            } else {
                "client-masked"
            };
            let mut conn = Connection::new(role, Config::default());
            group.bench_function(format!("{role_name}/{name}"), |b| {
                b.iter(|| {
                    for _ in 0..count {
                        conn.send(Message::Binary(payload.clone())).unwrap();
                    }
                    loop {
                        let mut slices = [IoSlice::new(&[]); 64];
                        let n = conn.poll_transmit(&mut slices);
                        if n == 0 {
                            break;
                        }
                        let total: usize = slices[..n].iter().map(|s| s.len()).sum();
                        black_box(&slices[..n]);
                        conn.advance_transmit(total);
                    }
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, receive, send);
criterion_main!(benches);
