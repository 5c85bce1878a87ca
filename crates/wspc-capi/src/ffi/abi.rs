//! The `repr(C)` types of `websocket.h`, with Windows' layouts (`ULONG` is 32-bit).

use std::ffi::{c_char, c_void};

use super::handle::HandleCell;

/// `HRESULT`: a signed 32-bit status.
pub type HRESULT = i32;

/// `WEB_SOCKET_HANDLE`: an opaque pointer to a handle (NULL is "no handle").
pub type WebSocketHandle = *mut HandleCell;

/// `WEB_SOCKET_PROPERTY`: `Type`, `pvValue` (points at the value), `ulValueSize`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WebSocketProperty {
    /// `Type`: a `WEB_SOCKET_PROPERTY_TYPE`.
    pub property_type: u32,
    /// `pvValue`: points at the value (a `ULONG`, a `BOOL`, or for the allocated buffer a
    /// pointer-sized slot holding the buffer's address).
    pub value: *mut c_void,
    /// `ulValueSize`: the value's size in bytes (for the allocated buffer: the buffer's
    /// length).
    pub value_size: u32,
}

/// `WEB_SOCKET_HTTP_HEADER`: a name and a value with their lengths.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WebSocketHttpHeader {
    /// `pcName`.
    pub name: *mut c_char,
    /// `ulNameLength`, in bytes.
    pub name_length: u32,
    /// `pcValue`.
    pub value: *mut c_char,
    /// `ulValueLength`, in bytes.
    pub value_length: u32,
}

/// The `Data` arm of `WEB_SOCKET_BUFFER`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DataBuffer {
    /// `pbBuffer`.
    pub buffer: *mut u8,
    /// `ulBufferLength`.
    pub length: u32,
}

/// The `CloseStatus` arm of `WEB_SOCKET_BUFFER`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CloseStatusBuffer {
    /// `pbReason` (NULL when there is no reason).
    pub reason: *mut u8,
    /// `ulReasonLength`, at most 123.
    pub reason_length: u32,
    /// `usStatus`: a `WEB_SOCKET_CLOSE_STATUS`.
    pub status: u16,
}

/// `WEB_SOCKET_BUFFER`: `Data` for every buffer type but `CLOSE`, which uses `CloseStatus`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union WebSocketBuffer {
    /// `Data`.
    pub data: DataBuffer,
    /// `CloseStatus`.
    pub close_status: CloseStatusBuffer,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<WebSocketProperty>() == 24);
    assert!(size_of::<WebSocketHttpHeader>() == 32);
    assert!(size_of::<WebSocketBuffer>() == 16);
    assert!(std::mem::offset_of!(CloseStatusBuffer, status) == 12);
};
