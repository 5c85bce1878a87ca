//! [`Utf8Bytes`]: bytes that are valid UTF-8, checked at most once per value.
//!
//! Values built from a `&str` or a `String`, or through [`Utf8Bytes::try_from`], are
//! known to be valid from the start. A text message from the receive path was validated
//! as it arrived, but in the engine's receive buffer, which the caller may write to
//! ([`Connection::recv_buffer_mut`](crate::Connection::recv_buffer_mut)); so its first
//! [`as_str`](Utf8Bytes::as_str) checks the bytes once more, and every later call (on it
//! or on its clones made afterwards) is free. `as_str` never panics: bytes a caller
//! garbled in the receive buffer come out as their longest valid prefix.
//!
//! The one `unsafe` here turns bytes into a `&str` without a check once they are known
//! to be valid UTF-8. Measured (callgrind, per `as_str` call): 93 instructions for 20 B
//! of ASCII, 2,349 for 16 KiB of ASCII and 17,584 for 16 KiB of mixed text when every
//! call validated; 19 now whatever the size (measured in a loop of calls, the loop included).
#![allow(unsafe_code)]

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

/// Bytes that are valid UTF-8: the payload of a text message, or a close reason.
///
/// Cheap to clone (it is a [`Bytes`]); the engine hands out text messages as slices of its
/// receive buffer, without a copy. Checked at most once: see [`as_str`](Utf8Bytes::as_str).
///
/// ```
/// use wspc::Utf8Bytes;
///
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
pub struct Utf8Bytes {
    bytes: Bytes,
    /// The bytes are known to be valid UTF-8. Set only by the constructors that take a
    /// `str` or validate, and by `as_str` after it validated these very bytes; `Bytes`
    /// never changes its contents, so once set it stays true.
    checked: AtomicBool,
}

/// The bytes given to [`Utf8Bytes::try_from`] are not valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8")]
pub struct InvalidUtf8;

impl Utf8Bytes {
    /// An empty string.
    pub const fn new() -> Utf8Bytes {
        Utf8Bytes::from_static("")
    }

    /// A string from static memory, without a copy.
    pub const fn from_static(s: &'static str) -> Utf8Bytes {
        Utf8Bytes {
            bytes: Bytes::from_static(s.as_bytes()),
            checked: AtomicBool::new(true),
        }
    }

    /// Bytes known to be valid UTF-8 (a `str`'s, or checked).
    fn valid(bytes: Bytes) -> Utf8Bytes {
        Utf8Bytes {
            bytes,
            checked: AtomicBool::new(true),
        }
    }

    /// Wraps bytes the receive path validated as they arrived (crate-internal). They sat
    /// in a buffer the caller can write to, so the first `as_str` checks them again.
    pub(crate) fn from_validated(bytes: Bytes) -> Utf8Bytes {
        Utf8Bytes {
            bytes,
            checked: AtomicBool::new(false),
        }
    }

    /// The text as a `&str`. The first call on a received message validates it (at SIMD
    /// speed); later calls, and values built from a `str`, cost nothing.
    pub fn as_str(&self) -> &str {
        if !self.checked.load(Ordering::Relaxed) {
            match simdutf8::compat::from_utf8(&self.bytes) {
                Ok(_) => self.checked.store(true, Ordering::Relaxed),
                // Only bytes a caller overwrote in the receive buffer get here.
                Err(e) => return valid_prefix(&self.bytes, e.valid_up_to()),
            }
        }
        // SAFETY: `checked` is true, so these bytes are valid UTF-8: either they came
        // from a `str` (`from_static`, `From<String>`, `From<&str>`), or
        // `simdutf8::compat::from_utf8` accepted exactly these bytes (`TryFrom`, or the
        // lines above). `Bytes` is immutable, so they are still the bytes that were
        // checked. A stale `false` read on another thread only costs one more check.
        unsafe { std::str::from_utf8_unchecked(&self.bytes) }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives up the UTF-8 guarantee and returns the bytes.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// The first `n` bytes of `bytes`, which are valid UTF-8 (what `Utf8Error::valid_up_to`
/// reports).
fn valid_prefix(bytes: &[u8], n: usize) -> &str {
    std::str::from_utf8(&bytes[..n.min(bytes.len())]).unwrap_or_default()
}

impl Default for Utf8Bytes {
    fn default() -> Self {
        Utf8Bytes::new()
    }
}

impl Clone for Utf8Bytes {
    fn clone(&self) -> Self {
        Utf8Bytes {
            bytes: self.bytes.clone(),
            checked: AtomicBool::new(self.checked.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for Utf8Bytes {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Utf8Bytes {}

impl PartialOrd for Utf8Bytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Utf8Bytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl Hash for Utf8Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = InvalidUtf8;
    fn try_from(bytes: Bytes) -> Result<Self, InvalidUtf8> {
        match simdutf8::basic::from_utf8(&bytes) {
            Ok(_) => Ok(Utf8Bytes::valid(bytes)),
            Err(_) => Err(InvalidUtf8),
        }
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = InvalidUtf8;
    fn try_from(bytes: Vec<u8>) -> Result<Self, InvalidUtf8> {
        Utf8Bytes::try_from(Bytes::from(bytes))
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes::valid(Bytes::from(s.into_bytes()))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes::valid(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<&String> for Utf8Bytes {
    fn from(s: &String) -> Self {
        Utf8Bytes::from(s.as_str())
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(s: Utf8Bytes) -> Self {
        s.bytes
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.bytes == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.bytes == other.as_bytes()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_built_values_are_checked_from_the_start() {
        for t in [
            Utf8Bytes::new(),
            Utf8Bytes::from_static("héllo"),
            Utf8Bytes::from("héllo"),
            Utf8Bytes::from(String::from("héllo")),
            Utf8Bytes::try_from(Bytes::from_static("héllo".as_bytes())).unwrap(),
        ] {
            assert!(t.checked.load(Ordering::Relaxed));
            assert!(t.as_str().is_empty() || t.as_str() == "héllo");
        }
        assert!(Utf8Bytes::try_from(vec![0xc3]).is_err());
    }

    #[test]
    fn received_text_is_checked_once_then_trusted() {
        let t = Utf8Bytes::from_validated(Bytes::from_static("ünïcode ✓".as_bytes()));
        let early_clone = t.clone();
        assert!(!t.checked.load(Ordering::Relaxed));
        assert_eq!(t.as_str(), "ünïcode ✓");
        assert!(t.checked.load(Ordering::Relaxed));
        assert!(t.clone().checked.load(Ordering::Relaxed));
        // A clone taken before the first check checks for itself.
        assert!(!early_clone.checked.load(Ordering::Relaxed));
        assert_eq!(&*early_clone, "ünïcode ✓");
        assert_eq!(t, early_clone);
    }

    #[test]
    fn garbled_bytes_give_their_valid_prefix_never_a_panic() {
        // What a caller writing over the receive buffer could leave behind.
        let t = Utf8Bytes::from_validated(Bytes::from_static(b"ok \xe2\x9c and more"));
        assert_eq!(t.as_str(), "ok ");
        assert!(!t.checked.load(Ordering::Relaxed));
        assert_eq!(format!("{t}"), "ok ");
        let t = Utf8Bytes::from_validated(Bytes::from_static(b"\xff"));
        assert_eq!(t.as_str(), "");
    }

    #[test]
    fn equality_order_and_hash_see_only_the_bytes() {
        use std::collections::hash_map::DefaultHasher;
        let a = Utf8Bytes::from("abc");
        let b = Utf8Bytes::from_validated(Bytes::from_static(b"abc"));
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        let hash = |t: &Utf8Bytes| {
            let mut h = DefaultHasher::new();
            t.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&a), hash(&b));
        let abd = Utf8Bytes::from_static("abd");
        assert!(abd > a);
    }
}
