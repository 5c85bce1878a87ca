//! What a `WEB_SOCKET_HANDLE` points to: the component behind a mutex, plus the memory the
//! C API hands out (header arrays, the application-allocated buffer).

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::abi::WebSocketHttpHeader;
use crate::component::{Handle, OwnedHeader};

/// Marks live handles. Checked on entry to catch some uses of a pointer that is not a
/// handle (and zeroed on delete, to catch some uses of a deleted one) — a debugging aid,
/// not a detection: reading it through such a pointer is already undefined behaviour.
const SIGNATURE: u64 = u64::from_be_bytes(*b"wspc-hdl");

/// The object behind a `WEB_SOCKET_HANDLE`. Calls on one handle are serialised by its
/// mutex.
#[derive(Debug)]
pub struct HandleCell {
    signature: u64,
    state: Mutex<FfiState>,
}

impl HandleCell {
    pub(super) fn new(state: FfiState) -> HandleCell {
        HandleCell {
            signature: SIGNATURE,
            state: Mutex::new(state),
        }
    }

    pub(super) fn is_valid(&self) -> bool {
        self.signature == SIGNATURE
    }

    pub(super) fn invalidate(&mut self) {
        self.signature = 0;
    }

    /// Locks the handle. A panic inside an earlier call (there should be none) does not
    /// make the handle unusable.
    pub(super) fn lock(&self) -> MutexGuard<'_, FfiState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The component and the C-side memory of one handle.
#[derive(Debug)]
pub(super) struct FfiState {
    pub(super) component: Handle,
    /// The header array returned by the last `Begin*Handshake`, valid until `End*` or
    /// `WebSocketDeleteHandle`.
    pub(super) headers: Option<HeaderArray>,
    /// The application-allocated buffer, if the handle was created with one.
    pub(super) arena: Option<Arena>,
}

// SAFETY: `FfiState` is only reached through its handle's mutex. Its raw pointers are the
// arena (application memory the application keeps valid and does not use itself for the
// handle's lifetime) and the header array (pointing into the `HeaderArray`'s own heap
// buffer); neither is tied to a thread.
unsafe impl Send for FfiState {}

/// NUL-terminated copies of headers, and the `WEB_SOCKET_HTTP_HEADER` array pointing at
/// them.
#[derive(Debug)]
pub(super) struct HeaderArray {
    /// Every name and value, each followed by a NUL. Never touched after construction, so
    /// the pointers into it stay valid.
    _text: Vec<u8>,
    entries: Vec<WebSocketHttpHeader>,
}

impl HeaderArray {
    pub(super) fn new(headers: &[OwnedHeader]) -> HeaderArray {
        let mut text = Vec::new();
        let mut spans = Vec::with_capacity(headers.len());
        for h in headers {
            let name = text.len();
            text.extend_from_slice(h.name.as_bytes());
            text.push(0);
            let value = text.len();
            text.extend_from_slice(h.value.as_bytes());
            text.push(0);
            spans.push((name, h.name.len(), value, h.value.len()));
        }
        let base = text.as_mut_ptr();
        let entries = spans
            .into_iter()
            .map(|(name, name_len, value, value_len)| WebSocketHttpHeader {
                name: base.wrapping_add(name).cast::<c_char>(),
                name_length: name_len as u32,
                value: base.wrapping_add(value).cast::<c_char>(),
                value_length: value_len as u32,
            })
            .collect();
        HeaderArray {
            _text: text,
            entries,
        }
    }

    pub(super) fn as_mut_ptr(&mut self) -> *mut WebSocketHttpHeader {
        self.entries.as_mut_ptr()
    }

    pub(super) fn len(&self) -> u32 {
        self.entries.len() as u32
    }
}

/// The application-allocated buffer (`WEB_SOCKET_ALLOCATED_BUFFER_PROPERTY_TYPE`): its
/// address and length. Where in it each buffer goes is the component's decision
/// ([`ArenaLayout`](crate::component::ArenaLayout)); this only copies there.
#[derive(Debug)]
pub(super) struct Arena {
    pub(super) base: *mut u8,
    pub(super) len: usize,
}
