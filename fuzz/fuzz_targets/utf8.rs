//! The incremental UTF-8 validator against `std::str::from_utf8`, with the input split
//! at fuzzer-chosen points (down to every byte): the final verdict is std's; no piece
//! fails while the bytes so far are a valid prefix; and it fails fast — no later than the
//! piece holding the byte std reports as breaking the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wspc::utf8::Utf8Validator;

fuzz_target!(|input: &[u8]| {
    // Input: a byte choosing the split pattern, then the text.
    let Some((&pattern, data)) = input.split_first() else {
        return;
    };
    let cuts = wspc_fuzz::cut_pattern(pattern);
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in cuts.iter().cycle().take(data.len()) {
        if at >= data.len() {
            break;
        }
        let end = (at + *c).min(data.len());
        pieces.push(at..end);
        at = end;
    }
    if at < data.len() || pieces.is_empty() {
        pieces.push(at..data.len());
    }
    let std_result = std::str::from_utf8(data);
    // The index of the first byte that makes the text impossible, if any.
    // (the first index i at which `data[..=i]` stops being a valid or incomplete prefix)
    let breaking = match std_result {
        Err(e) if e.error_len().is_some() => (e.valid_up_to()..data.len())
            .find(|&i| std::str::from_utf8(&data[..=i]).is_err_and(|e| e.error_len().is_some())),
        _ => None,
    };
    let mut v = Utf8Validator::new();
    let mut failed_at = None;
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        let result = if last {
            v.feed_final(&data[piece.clone()])
        } else {
            v.feed(&data[piece.clone()])
        };
        if result.is_err() {
            failed_at = Some(piece.clone());
            break;
        }
        if let Some(b) = breaking {
            assert!(
                piece.end <= b,
                "not failed on the piece holding byte {b} ({piece:?})"
            );
        }
    }
    match (std_result, &failed_at) {
        (Ok(_), None) => {}
        (Err(_), Some(piece)) => match breaking {
            // Exactly on the piece holding the breaking byte: not before (no false
            // alarm on a valid prefix), not after (fail fast).
            Some(b) => assert!(piece.contains(&b), "failed on {piece:?}, breaking byte {b}"),
            // Only incomplete at the end: the last piece.
            None => assert_eq!(piece.end, data.len(), "failed early on an incomplete end"),
        },
        (Ok(_), Some(p)) => panic!("valid UTF-8 rejected at {p:?}"),
        (Err(e), None) => panic!("invalid UTF-8 accepted: {e}"),
    }
});
