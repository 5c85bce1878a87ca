//! Incremental, fail-fast UTF-8 validation (RFC 6455 §8.1).
//!
//! Text arrives in pieces (frames, and reads that end anywhere inside a frame). The
//! validator checks each piece as it arrives and fails on the byte that makes the text
//! invalid — even when that byte is the second of a four-byte sequence whose first byte
//! came in the previous piece — while a code point split across pieces is accepted.
//! Whole runs are checked with `simdutf8`; only the few bytes of a split code point are
//! carried over.

/// Validates a text message piece by piece.
///
/// ```
/// use wspc::utf8::Utf8Validator;
///
/// let mut v = Utf8Validator::new();
/// // "κ" is CE BA: split across two pieces it is fine.
/// assert!(v.feed(b"\xce").is_ok());
/// assert!(v.feed(b"\xba").is_ok());
/// assert!(v.finish().is_ok());
///
/// // F4 90 can never start a valid sequence (it would exceed U+10FFFF): rejected at once.
/// let mut v = Utf8Validator::new();
/// assert!(v.feed(b"\xf4").is_ok());
/// assert!(v.feed(b"\x90").is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    /// Bytes of a code point whose end has not arrived yet.
    partial: [u8; 4],
    partial_len: u8,
}

/// The text is not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8")]
pub struct Utf8Error;

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Utf8Validator {
        Utf8Validator {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Whether the bytes seen so far end in the middle of a code point.
    pub fn is_incomplete(&self) -> bool {
        self.partial_len != 0
    }

    /// Validates the next piece of the message. The piece may end inside a code point;
    /// fails as soon as a byte cannot continue valid UTF-8.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len != 0 {
            let have = self.partial_len as usize;
            let need = sequence_len(self.partial[0]);
            let take = (need - have).min(bytes.len());
            self.partial[have..have + take].copy_from_slice(&bytes[..take]);
            let now = have + take;
            bytes = &bytes[take..];
            check_prefix(&self.partial[..now], now == need)?;
            if now < need {
                self.partial_len = now as u8;
                return Ok(());
            }
            self.partial_len = 0;
        }
        let split = incomplete_tail_start(bytes);
        let (head, tail) = bytes.split_at(split);
        if simdutf8::basic::from_utf8(head).is_err() {
            return Err(Utf8Error);
        }
        if !tail.is_empty() {
            check_prefix(tail, false)?;
            self.partial[..tail.len()].copy_from_slice(tail);
            self.partial_len = tail.len() as u8;
        }
        Ok(())
    }

    /// The message ended: fails if it ended inside a code point. Resets the validator
    /// for the next message.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let incomplete = self.partial_len != 0;
        self.partial_len = 0;
        if incomplete { Err(Utf8Error) } else { Ok(()) }
    }

    /// Validates the last piece of a message: [`feed`](Self::feed) then
    /// [`finish`](Self::finish).
    pub fn feed_final(&mut self, bytes: &[u8]) -> Result<(), Utf8Error> {
        let fed = self.feed(bytes);
        let finished = self.finish();
        fed.and(finished)
    }

    /// Forgets any partial code point (for a new message).
    pub fn reset(&mut self) {
        self.partial_len = 0;
    }
}

/// The length of the sequence a lead byte announces (invalid lead bytes are given 1 or
/// 4 so that the validity check reports them).
#[inline]
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xFF => 4,
        _ => 1,
    }
}

/// Checks a (possibly incomplete) single code point: a complete one must be valid; an
/// incomplete one must be a prefix of some valid sequence.
#[inline]
fn check_prefix(bytes: &[u8], complete: bool) -> Result<(), Utf8Error> {
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(()),
        Err(e) if !complete && e.valid_up_to() == 0 && e.error_len().is_none() => Ok(()),
        Err(_) => Err(Utf8Error),
    }
}

/// Where a code point that is cut off at the end of `bytes` starts (`bytes.len()` if the
/// last code point is complete, or if the tail is not a sequence start at all — then the
/// bulk check reports it).
#[inline]
fn incomplete_tail_start(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(3) {
        let b = bytes[len - back];
        if b & 0xC0 != 0x80 {
            // A lead byte (or ASCII): is its sequence cut off?
            return if sequence_len(b) > back {
                len - back
            } else {
                len
            };
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` split at every possible pair of points and compares with std.
    fn agrees_with_std(bytes: &[u8]) {
        let valid = std::str::from_utf8(bytes).is_ok();
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let mut v = Utf8Validator::new();
                let result = v
                    .feed(&bytes[..a])
                    .and_then(|_| v.feed(&bytes[a..b]))
                    .and_then(|_| v.feed_final(&bytes[b..]));
                assert_eq!(result.is_ok(), valid, "{bytes:x?} split at {a},{b}");
            }
        }
    }

    #[test]
    fn split_code_points_are_accepted() {
        agrees_with_std("κόσμε".as_bytes());
        agrees_with_std("a€𝄞z".as_bytes());
        agrees_with_std(b"");
    }

    #[test]
    fn invalid_sequences_are_rejected_however_split() {
        for bad in [
            &b"\xc0\xaf"[..],        // overlong
            b"\xe0\x80\xaf",         // overlong
            b"\xed\xa0\x80",         // surrogate
            b"\xf4\x90\x80\x80",     // > U+10FFFF
            b"\xf8\x88\x80\x80\x80", // 5-byte form
            b"\x80",                 // lone continuation
            b"a\xce",                // truncated at the end
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
        ] {
            agrees_with_std(bad);
        }
    }

    #[test]
    fn fails_on_the_first_bad_byte() {
        // Autobahn 6.4.1: F4 90 is rejected as soon as the 0x90 arrives.
        let mut v = Utf8Validator::new();
        v.feed("κόσμε".as_bytes()).unwrap();
        v.feed(b"\xf4").unwrap();
        assert_eq!(v.feed(b"\x90"), Err(Utf8Error));
        // Surrogate prefix ED A0 is rejected at the A0.
        let mut v = Utf8Validator::new();
        v.feed(b"\xed").unwrap();
        assert_eq!(v.feed(b"\xa0"), Err(Utf8Error));
        // Within one piece the tail is checked too.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ok\xf4\x90"), Err(Utf8Error));
    }

    #[test]
    fn finish_rejects_a_cut_code_point_and_resets() {
        let mut v = Utf8Validator::new();
        v.feed(b"\xe2\x82").unwrap();
        assert!(v.is_incomplete());
        assert_eq!(v.finish(), Err(Utf8Error));
        assert!(!v.is_incomplete());
        assert_eq!(v.feed_final(b"ok"), Ok(()));
    }

    #[test]
    fn every_two_byte_string_agrees_with_std() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let bytes = [a, b];
                let mut v = Utf8Validator::new();
                let ok = v
                    .feed(&bytes[..1])
                    .and_then(|_| v.feed_final(&bytes[1..]))
                    .is_ok();
                assert_eq!(ok, std::str::from_utf8(&bytes).is_ok(), "{a:02x} {b:02x}");
            }
        }
    }
}
