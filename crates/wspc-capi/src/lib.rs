//! # The Windows WebSocket Protocol Component, on the wspc engine
//!
//! Two layers:
//!
//! - [`component`]: the component model of `websocket.dll` in safe Rust — handles with
//!   properties, the `Begin`/`End` handshakes, send and receive queues, and the action
//!   loop (`GetAction` / `CompleteAction`). Every protocol rule is the [`wspc`] engine's.
//! - [`ffi`]: the C ABI, exported as `libwebsocket.so` / `libwebsocket.a` with
//!   `include/websocket.h`, source-compatible with Windows' `websocket.h` (same names,
//!   values, layouts and signatures). All `unsafe` code of the crate lives there.
//!
//! The C library (installed by `crates/wspc-capi/install.sh`: a versioned
//! `libwebsocket.so`, `libwebsocket.a`, `websocket.h`, pkg-config and CMake files), a
//! complete example and every decision taken where Windows' behaviour is undocumented are
//! described in `docs/c-api.md`. Like `websocket.dll`, a handle negotiates no extension,
//! unless it is given the wspc extension property
//! [`PropertyType::PerMessageDeflate`] (permessage-deflate).

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod component;
#[allow(unsafe_code)]
pub mod ffi;
mod hresult;
mod types;

pub use hresult::Hresult;
pub use types::{ActionKind, ActionQueue, BufferType, MAX_CLOSE_REASON_LENGTH, PropertyType};

/// `WebSocketGetGlobalProperty`, in Rust: the value of a global property, as the `ULONG`s
/// Windows returns (`KEEPALIVE_INTERVAL`: one value, in milliseconds; `SUPPORTED_VERSIONS`:
/// the versions). Handle properties are not global: `E_INVALIDARG`.
///
/// ```
/// use websocket::{global_property, PropertyType};
///
/// assert_eq!(global_property(PropertyType::KeepaliveInterval), Ok(&[30_000][..]));
/// assert_eq!(global_property(PropertyType::SupportedVersions), Ok(&[13][..]));
/// assert!(global_property(PropertyType::ReceiveBufferSize).is_err());
/// ```
pub fn global_property(property: PropertyType) -> Result<&'static [u32], Hresult> {
    const KEEPALIVE: [u32; 1] = [component::KEEPALIVE_INTERVAL_MS];
    match property {
        PropertyType::KeepaliveInterval => Ok(&KEEPALIVE),
        PropertyType::SupportedVersions => Ok(&component::SUPPORTED_VERSIONS),
        _ => Err(Hresult::E_INVALIDARG),
    }
}

/// The Rust examples of `docs/c-api.md`, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/c-api.md")]
struct CApiDocDoctests;
