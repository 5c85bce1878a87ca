//! permessage-deflate cost and benefit on 1 KiB JSON-like messages: a client sends,
//! a server receives, with and without compression (context takeover, 15-bit windows,
//! level 1 — the default — and level 6). Prints the compression ratio once per
//! configuration.
//!
//! ```text
//! cargo bench -p wspc --bench deflate
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wspc::deflate::{Deflate, DeflateOptions, DeflateParams};
use wspc::extension::{Extension, ExtensionHeader};
use wspc::{Config, Connection, Event, Message, Role};

const MESSAGES: usize = 1000;

/// 1000 different JSON-like messages of about 1 KiB each.
fn messages() -> Vec<Message> {
    (0..MESSAGES)
        .map(|i| {
            let mut s = format!(r#"{{"id":{i},"type":"order.updated","customer":{{"id":{},"name":"Customer {}","email":"c{}@example.com"}},"items":["#, i * 7, i % 97, i);
            let mut n = 0;
            while s.len() < 1000 {
                s.push_str(&format!(r#"{{"sku":"SKU-{:05}","qty":{},"price":{}.{:02}}},"#, (i * 31 + n) % 100_000, n % 5 + 1, 10 + n, (i + n) % 100));
                n += 1;
            }
            s.push_str(r#"{"sku":"end"}],"status":"shipped"}"#);
            Message::text(s)
        })
        .collect()
}

fn codec(role: Role, level: u32) -> Option<Box<dyn Extension>> {
    let params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    Some(Box::new(Deflate::new(
        role,
        params,
        DeflateOptions {
            level,
            threshold: 0,
            ..DeflateOptions::default()
        },
        ExtensionHeader::new("permessage-deflate"),
    )))
}

fn bench(c: &mut Criterion) {
    let msgs = messages();
    let payload: usize = msgs.iter().map(Message::len).sum();
    let mut group = c.benchmark_group("json-1KiB");
    group.throughput(Throughput::Bytes(payload as u64));
    for (name, level) in [
        ("plain", None),
        ("deflate-1", Some(1)),
        ("deflate-6", Some(6)),
    ] {
        let make = |role| match level {
            Some(l) => Connection::with_extension(role, Config::default(), codec(role, l)),
            None => Connection::new(role, Config::default()),
        };
        // Ratio, measured once.
        let mut client = make(Role::Client);
        let mut wire = Vec::new();
        for m in &msgs {
            client.send(m.clone()).unwrap();
            client.write_to(&mut wire).unwrap();
        }
        eprintln!(
            "{name}: {payload} payload bytes -> {} wire bytes (ratio {:.2})",
            wire.len(),
            payload as f64 / wire.len() as f64
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut client = make(Role::Client);
                let mut server = make(Role::Server);
                let mut wire = Vec::with_capacity(payload + 16 * MESSAGES);
                for m in &msgs {
                    client.send(m.clone()).unwrap();
                }
                client.write_to(&mut wire).unwrap();
                server.feed(&wire);
                let mut n = 0;
                while let Some(event) = server.poll_event() {
                    if let Event::Message(m) = event {
                        black_box(m);
                        n += 1;
                    }
                }
                assert_eq!(n, MESSAGES);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
