//! The server's opening-handshake parser (`ServerHandshake::feed`) on arbitrary bytes,
//! split at fuzzer-chosen points. Invariants: the verdict does not depend on how the
//! bytes are split; the parser never holds more than the head limit; reading the head
//! straight into an `Upgrade` (`received_upgrade`) gives the verdict of the upgrade rules
//! on its `http` values; reading it as a clean upgrade or else a request
//! (`received_head`) gives that upgrade (and target, and request when asked) or that
//! request; a request it accepts yields a well-formed 101 response that a client reading
//! it would take.

#![no_main]

use std::sync::Arc;

use bytes::BufMut;
use libfuzzer_sys::fuzz_target;
use wspc::deflate::DeflateServer;
use wspc::handshake::ReceivedHead;
use wspc::{Accept, Config, Limits, ServerHandshake};

fn server(limits: Limits) -> ServerHandshake {
    ServerHandshake::new(Config {
        limits,
        ..Config::default()
    })
    .with_extension(Arc::new(DeflateServer::default()))
}

fuzz_target!(|input: &[u8]| {
    // Input: head limit (u16, little-endian), a byte choosing the split pattern, then the
    // bytes from the client (a recorded request is a seed).
    let (prefix, mut r) = wspc_fuzz::Reader::new(input, 3);
    let head = u16::from_le_bytes([prefix[0], prefix[1]]);
    let cuts = wspc_fuzz::cut_pattern(prefix[2]);
    let data = r.bytes(usize::MAX);
    let limits = Limits {
        max_head_size: usize::from(head).max(16),
        ..Limits::default()
    };
    // All at once.
    let mut whole = server(limits);
    let once = whole.feed(data);
    // In pieces.
    let mut split = server(limits);
    let mut pieces_result = Ok(None);
    let mut at = 0;
    let mut steps = cuts.iter().cycle();
    while at < data.len() {
        let step = steps.next().map_or(data.len(), |c| *c);
        let end = (at + step).min(data.len());
        pieces_result = split.feed(&data[at..end]);
        assert!(split.buffered().len() <= limits.max_head_size.max(data.len()));
        at = end;
        if !matches!(pieces_result, Ok(None)) {
            break;
        }
    }
    match (&once, &pieces_result) {
        (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
        (Ok(Some(a)), Ok(Some(b))) => {
            assert_eq!(a.method(), b.method());
            assert_eq!(a.uri(), b.uri());
            assert_eq!(a.headers(), b.headers());
        }
        (a, b) => panic!("split changed the verdict: {a:?} vs {b:?}"),
    }
    if let Ok(Some(request)) = &once {
        // A server that answers nothing but upgrades reads the same head straight into
        // an `Upgrade`: the verdict, and the error, are those of the rules on the
        // request's `http` values.
        let head = &data[..data.len() - whole.buffered().len()];
        let mut direct = server(Limits {
            max_head_size: head.len().max(16),
            ..limits
        });
        direct.read_buf().put_slice(head);
        let upgrade = direct
            .received_upgrade()
            .map(|u| u.expect("a whole head"));
        assert_eq!(
            format!("{upgrade:?}"),
            format!("{:?}", wspc::Upgrade::from_request(request))
        );
        // A server that answers plain HTTP too: a clean upgrade is that upgrade, with the
        // request's target, and its request built later is the request; anything else
        // is the request itself.
        let mut both = server(Limits {
            max_head_size: head.len().max(16),
            ..limits
        });
        both.read_buf().put_slice(head);
        match both.received_head() {
            Ok(Some(ReceivedHead::Upgrade { upgrade, uri })) => {
                assert_eq!(
                    format!("{:?}", Ok::<_, ()>(upgrade)),
                    format!("{:?}", wspc::Upgrade::from_request(request))
                );
                assert_eq!(&uri, request.uri());
                let built = both.request().expect("parses").expect("a whole head");
                assert_eq!(format!("{built:?}"), format!("{request:?}"));
            }
            Ok(Some(ReceivedHead::Request(again))) => {
                assert_eq!(format!("{again:?}"), format!("{request:?}"));
            }
            other => panic!("{other:?} for a head that parsed as {request:?}"),
        }
    }
    if let Ok(Some(request)) = once
        && wspc::Upgrade::from_request(&request).is_ok()
    {
        let Ok((response, _conn)) = whole.accept(&request, Accept::default()) else {
            return;
        };
        let text = std::str::from_utf8(&response).expect("response is ASCII");
        assert!(text.starts_with("HTTP/1.1 101 "), "{text}");
        assert!(text.ends_with("\r\n\r\n"));
        assert!(
            text.to_ascii_lowercase()
                .contains("\r\nsec-websocket-accept: ")
        );
    }
});
