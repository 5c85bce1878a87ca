//! The C ABI: the 13 functions of `websocket.h`, exported unmangled from
//! `libwebsocket.so` / `libwebsocket.a`.
//!
//! Every function checks its pointers and returns the `HRESULT` the Windows reference gives
//! for misuse (`E_INVALIDARG` for NULL or malformed parameters, `E_INVALID_PROTOCOL_OPERATION`
//! for a call in the wrong role or state); nothing panics across the boundary (each body
//! runs under `catch_unwind` as a last resort, failing with `E_FAIL`). Calls on one handle
//! are serialised by the handle's mutex. NULL handles are detected; a handle pointer that
//! was not returned by a `Create` function, or was deleted, is undefined behaviour as on
//! Windows (a signature check catches some such bugs, but it reads through the pointer, so
//! it is a debugging aid, not a detection).
//!
//! The functions only check pointers and copy: every decision about an action — which
//! bytes, from which buffer, to where in the application's memory — is the safe
//! component's ([`Handle::get_c_action`](crate::component::Handle::get_c_action)). Every
//! structure and out-pointer target the caller passes is read and written unaligned.
//!
//! Memory the functions hand out (header arrays, action buffers) follows `websocket.h`'s
//! rules: header arrays stay valid until the matching `End` call or `WebSocketDeleteHandle`;
//! action buffers until the action is completed.

#![deny(clippy::undocumented_unsafe_blocks)]

mod abi;
mod handle;
mod read;

use std::ffi::{c_char, c_void};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use bytes::Bytes;

pub use abi::{
    CloseStatusBuffer, DataBuffer, HRESULT, WebSocketBuffer, WebSocketHandle, WebSocketHttpHeader,
    WebSocketProperty,
};
pub use handle::HandleCell;

use crate::component::{
    AppBuffer, CBuffers, Handle, Place, Property, ReadPlace, Role, SendPayload,
};
use crate::{
    ActionQueue, BufferType, Hresult, MAX_CLOSE_REASON_LENGTH, PropertyType, global_property,
};
use handle::{Arena, FfiState, HeaderArray};

/// Runs an `HRESULT` function body; a panic (a bug) becomes `E_FAIL` instead of unwinding
/// into C.
fn guard(body: impl FnOnce() -> Result<(), Hresult>) -> HRESULT {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Hresult::S_OK.0,
        Ok(Err(e)) => e.0,
        Err(_) => Hresult::E_FAIL.0,
    }
}

/// Runs a `VOID` function body, swallowing a panic (a bug) instead of unwinding into C.
fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Writes `value` through an out-pointer if it is not NULL.
///
/// # Safety
/// `out` is NULL or valid for a write of `T` (alignment not required).
unsafe fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, and the caller guarantees it is writable.
        unsafe { out.write_unaligned(value) };
    }
}

/// The handle behind `h`, if `h` is one.
///
/// # Safety
/// `h` is NULL or a pointer returned by a `Create` function and not yet deleted. (The
/// signature check catches some other pointers, but reading through them is already
/// undefined behaviour: it is a debugging aid, not a detection.)
unsafe fn cell<'a>(h: WebSocketHandle) -> Result<&'a HandleCell, Hresult> {
    // SAFETY: per the contract, a non-NULL `h` points to a live `HandleCell` (which this
    // library allocated, so it is aligned).
    match unsafe { h.as_ref() } {
        Some(cell) if cell.is_valid() => Ok(cell),
        _ => Err(Hresult::E_INVALIDARG),
    }
}

/// Decodes the property array of a `Create` call: the component's properties, and the
/// application-allocated buffer's address if one is given.
///
/// # Safety
/// As the `Create` functions' `pProperties`.
unsafe fn decode_properties(
    properties: *const WebSocketProperty,
    count: u32,
) -> Result<(Vec<Property>, Option<*mut u8>), Hresult> {
    // SAFETY: forwarded contract.
    let raw = unsafe { read::items(properties, count)? };
    let mut out = Vec::with_capacity(raw.len());
    let mut allocated = None;
    for p in &raw {
        let property = match PropertyType::from_raw(p.property_type) {
            Some(PropertyType::AllocatedBuffer) => {
                // SAFETY: a non-NULL `pvValue` points at a pointer-sized slot.
                let base = unsafe { read::property_address(p)? };
                if base.is_null()
                    || base.align_offset(crate::component::ALLOCATED_BUFFER_ALIGNMENT) != 0
                {
                    return Err(Hresult::E_INVALIDARG);
                }
                allocated = Some(base);
                Property::AllocatedBuffer {
                    len: p.value_size as usize,
                }
            }
            Some(
                kind @ (PropertyType::ReceiveBufferSize
                | PropertyType::SendBufferSize
                | PropertyType::DisableMasking
                | PropertyType::DisableUtf8Verification
                | PropertyType::PerMessageDeflate),
            ) => {
                // SAFETY: the property's value is readable for its size, per the contract.
                let value = unsafe { read::property_u32(p)? };
                match kind {
                    PropertyType::ReceiveBufferSize => Property::ReceiveBufferSize(value),
                    PropertyType::SendBufferSize => Property::SendBufferSize(value),
                    PropertyType::DisableMasking => Property::DisableMasking(value != 0),
                    PropertyType::PerMessageDeflate => Property::PerMessageDeflate(value != 0),
                    _ => Property::DisableUtf8Verification(value != 0),
                }
            }
            _ => return Err(Hresult::E_INVALIDARG),
        };
        out.push(property);
    }
    Ok((out, allocated))
}

/// Shared body of the two `Create` functions.
///
/// # Safety
/// As `WebSocketCreateClientHandle`.
unsafe fn create(
    role: Role,
    properties: *const WebSocketProperty,
    count: u32,
    out: *mut WebSocketHandle,
) -> Result<(), Hresult> {
    if out.is_null() {
        return Err(Hresult::E_INVALIDARG);
    }
    // SAFETY: `out` is non-NULL and writable, per the contract.
    unsafe { put(out, ptr::null_mut()) };
    // SAFETY: forwarded contract.
    let (properties, allocated) = unsafe { decode_properties(properties, count)? };
    let component = match role {
        Role::Client => Handle::new_client(&properties)?,
        Role::Server => Handle::new_server(&properties)?,
    };
    let arena = allocated.map(|base| Arena {
        base,
        len: component.properties().allocated_buffer_len.unwrap_or(0),
    });
    let cell = Box::new(HandleCell::new(FfiState {
        component,
        headers: None,
        arena,
    }));
    // SAFETY: `out` is non-NULL and writable, per the contract.
    unsafe { put(out, Box::into_raw(cell)) };
    Ok(())
}

/// `WebSocketCreateClientHandle`: creates a client handle with the given properties
/// (`pProperties` may be NULL when `ulPropertyCount` is 0). On failure `*phWebSocket` is
/// set to NULL.
///
/// # Safety
/// `pProperties` is NULL or points to `ulPropertyCount` properties whose values are readable
/// for their sizes (for `ALLOCATED_BUFFER`: a pointer-sized slot holding the address of a
/// buffer of `ulValueSize` bytes that stays valid, and is not otherwise used, until the
/// handle is deleted). `phWebSocket` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketCreateClientHandle(
    p_properties: *const WebSocketProperty,
    ul_property_count: u32,
    ph_web_socket: *mut WebSocketHandle,
) -> HRESULT {
    // SAFETY: forwarded contract.
    guard(|| unsafe { create(Role::Client, p_properties, ul_property_count, ph_web_socket) })
}

/// `WebSocketCreateServerHandle`: creates a server handle; see
/// [`WebSocketCreateClientHandle`].
///
/// # Safety
/// As [`WebSocketCreateClientHandle`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketCreateServerHandle(
    p_properties: *const WebSocketProperty,
    ul_property_count: u32,
    ph_web_socket: *mut WebSocketHandle,
) -> HRESULT {
    // SAFETY: forwarded contract.
    guard(|| unsafe { create(Role::Server, p_properties, ul_property_count, ph_web_socket) })
}

/// Stores a `Begin` function's header array in the handle and returns it.
///
/// # Safety
/// The out-pointers are writable.
unsafe fn return_headers(
    state: &mut FfiState,
    headers: &[crate::component::OwnedHeader],
    out: *mut *mut WebSocketHttpHeader,
    out_count: *mut u32,
) {
    let array = state.headers.insert(HeaderArray::new(headers));
    // SAFETY: writable, per the contract.
    unsafe {
        put(out, array.as_mut_ptr());
        put(out_count, array.len());
    }
}

/// `WebSocketBeginClientHandshake`: returns (in `*pAdditionalHeaders`, an array owned by
/// the handle and valid until `WebSocketEndClientHandshake` succeeds or the handle is
/// deleted) the headers to add to the `GET` request.
///
/// # Safety
/// `pszSubprotocols` / `pszExtensions` are NULL (with a count of 0) or arrays of
/// NUL-terminated strings; `pInitialHeaders` is NULL (count 0) or an array of headers valid
/// for their lengths; the out-pointers are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketBeginClientHandshake(
    h_web_socket: WebSocketHandle,
    psz_subprotocols: *const *const c_char,
    ul_subprotocol_count: u32,
    psz_extensions: *const *const c_char,
    ul_extension_count: u32,
    p_initial_headers: *const WebSocketHttpHeader,
    ul_initial_header_count: u32,
    p_additional_headers: *mut *mut WebSocketHttpHeader,
    pul_additional_header_count: *mut u32,
) -> HRESULT {
    guard(|| {
        // SAFETY: the out-pointers are NULL or writable, per the contract.
        unsafe {
            put(p_additional_headers, ptr::null_mut());
            put(pul_additional_header_count, 0);
        }
        if p_additional_headers.is_null() || pul_additional_header_count.is_null() {
            return Err(Hresult::E_INVALIDARG);
        }
        // SAFETY: the handle and the arrays follow the contract.
        let (cell, subprotocols, extensions, initial) = unsafe {
            (
                cell(h_web_socket)?,
                read::strings(psz_subprotocols, ul_subprotocol_count)?,
                read::strings(psz_extensions, ul_extension_count)?,
                read::http_headers(p_initial_headers, ul_initial_header_count)?,
            )
        };
        let mut state = cell.lock();
        let headers =
            state
                .component
                .begin_client_handshake(&subprotocols, &extensions, &initial)?;
        // SAFETY: both out-pointers are non-NULL and writable.
        unsafe {
            return_headers(
                &mut state,
                &headers,
                p_additional_headers,
                pul_additional_header_count,
            )
        };
        Ok(())
    })
}

/// `WebSocketEndClientHandshake`: checks the server's response headers and enters the data
/// phase. The optional outputs receive the selected extensions' indices (in:
/// `*pulSelectedExtensionCount` is the array's capacity; out: how many) and the selected
/// subprotocol's index (left untouched when the server selected none).
///
/// # Safety
/// `pResponseHeaders` is an array of `ulReponseHeaderCount` headers valid for their
/// lengths; `pulSelectedExtensions` is NULL or has room for `*pulSelectedExtensionCount`
/// values; the other pointers are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketEndClientHandshake(
    h_web_socket: WebSocketHandle,
    p_response_headers: *const WebSocketHttpHeader,
    ul_reponse_header_count: u32,
    pul_selected_extensions: *mut u32,
    pul_selected_extension_count: *mut u32,
    pul_selected_subprotocol: *mut u32,
) -> HRESULT {
    guard(|| {
        // SAFETY: NULL or readable, per the contract.
        let capacity = unsafe { read::value(pul_selected_extension_count) }.map(|c| c as usize);
        if capacity.is_some_and(|c| c > 0) && pul_selected_extensions.is_null() {
            return Err(Hresult::E_INVALIDARG);
        }
        // SAFETY: the handle and the array follow the contract.
        let (cell, headers) = unsafe {
            (
                cell(h_web_socket)?,
                read::http_headers(p_response_headers, ul_reponse_header_count)?,
            )
        };
        let mut state = cell.lock();
        let negotiated = state.component.end_client_handshake(&headers, capacity)?;
        state.headers = None;
        if capacity.is_some() {
            for (i, &index) in negotiated.extensions.iter().enumerate() {
                // SAFETY: `i` is below the capacity the caller gave for the array.
                unsafe { put(pul_selected_extensions.add(i), index as u32) };
            }
            // SAFETY: non-NULL and writable.
            unsafe {
                put(
                    pul_selected_extension_count,
                    negotiated.extensions.len() as u32,
                )
            };
        }
        if let Some(index) = negotiated.subprotocol {
            // SAFETY: NULL or writable.
            unsafe { put(pul_selected_subprotocol, index as u32) };
        }
        Ok(())
    })
}

/// `WebSocketBeginServerHandshake`: checks the client's request headers and returns (in
/// `*pResponseHeaders`, owned by the handle and valid until `WebSocketEndServerHandshake`
/// or the handle is deleted) the headers of the `101` response. The data phase starts here.
///
/// # Safety
/// `pszSubprotocolSelected` is NULL or a NUL-terminated string; `pszExtensionSelected` is
/// NULL (count 0) or an array of NUL-terminated strings; `pRequestHeaders` is an array of
/// headers valid for their lengths; the out-pointers are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketBeginServerHandshake(
    h_web_socket: WebSocketHandle,
    psz_subprotocol_selected: *const c_char,
    psz_extension_selected: *const *const c_char,
    ul_extension_selected_count: u32,
    p_request_headers: *const WebSocketHttpHeader,
    ul_request_header_count: u32,
    p_response_headers: *mut *mut WebSocketHttpHeader,
    pul_response_header_count: *mut u32,
) -> HRESULT {
    guard(|| {
        // SAFETY: the out-pointers are NULL or writable, per the contract.
        unsafe {
            put(p_response_headers, ptr::null_mut());
            put(pul_response_header_count, 0);
        }
        if p_response_headers.is_null() || pul_response_header_count.is_null() {
            return Err(Hresult::E_INVALIDARG);
        }
        // SAFETY: the handle, the strings and the array follow the contract.
        let (cell, subprotocol, extensions, request) = unsafe {
            (
                cell(h_web_socket)?,
                read::string(psz_subprotocol_selected)?,
                read::strings(psz_extension_selected, ul_extension_selected_count)?,
                read::http_headers(p_request_headers, ul_request_header_count)?,
            )
        };
        let mut state = cell.lock();
        let headers = state
            .component
            .begin_server_handshake(subprotocol, &extensions, &request)?;
        // SAFETY: both out-pointers are non-NULL and writable.
        unsafe {
            return_headers(
                &mut state,
                &headers,
                p_response_headers,
                pul_response_header_count,
            )
        };
        Ok(())
    })
}

/// `WebSocketEndServerHandshake`: ends the server handshake (optional) and releases the
/// header array `WebSocketBeginServerHandshake` returned.
///
/// # Safety
/// `hWebSocket` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketEndServerHandshake(h_web_socket: WebSocketHandle) -> HRESULT {
    guard(|| {
        // SAFETY: forwarded contract.
        let cell = unsafe { cell(h_web_socket)? };
        let mut state = cell.lock();
        state.component.end_server_handshake()?;
        state.headers = None;
        Ok(())
    })
}

/// `WebSocketSend`: queues a send. For the data types `pBuffer->Data` names the payload,
/// which must stay valid and unchanged until the send's `INDICATE_SEND_COMPLETE` action
/// (it is written from there directly when no masking is needed); for `CLOSE`,
/// `pBuffer->CloseStatus` (or NULL for a Close frame without status); for `PING_PONG` and
/// `UNSOLICITED_PONG`, `pBuffer` must be NULL. `Context` comes back with the send's actions.
///
/// # Safety
/// `pBuffer` is NULL or points to a readable buffer whose memory is valid for its length
/// (for data, until the send completes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketSend(
    h_web_socket: WebSocketHandle,
    buffer_type: u32,
    p_buffer: *mut WebSocketBuffer,
    context: *mut c_void,
) -> HRESULT {
    guard(|| {
        // SAFETY: forwarded contract.
        let cell = unsafe { cell(h_web_socket)? };
        let buffer_type = BufferType::from_raw(buffer_type).ok_or(Hresult::E_INVALIDARG)?;
        // SAFETY: NULL or readable, per the contract.
        let buffer = unsafe { read::value(p_buffer.cast_const()) };
        let context = context.expose_provenance();
        match (buffer_type, buffer) {
            (t, Some(b)) if t.is_data() => {
                // SAFETY: the data arm is the one used for data types (any bits are valid).
                let data = unsafe { b.data };
                // SAFETY: the payload is readable for its length, per the contract; it is
                // only read during this call (later actions hand it out by address).
                let bytes = unsafe { read::bytes(data.buffer, data.length)? };
                let app = AppBuffer {
                    addr: data.buffer.expose_provenance(),
                    len: bytes.len(),
                };
                cell.lock()
                    .component
                    .send_app_buffer(buffer_type, app, bytes, context)
            }
            (BufferType::Close, Some(b)) => {
                // SAFETY: the close arm is the one used for CLOSE (any bits are valid).
                let close = unsafe { b.close_status };
                if close.reason_length as usize > MAX_CLOSE_REASON_LENGTH {
                    return Err(Hresult::E_INVALIDARG);
                }
                // SAFETY: the reason is readable for its length, per the contract.
                let reason = unsafe { read::bytes(close.reason, close.reason_length)? };
                let payload = SendPayload::Close {
                    status: close.status,
                    reason: Bytes::copy_from_slice(reason),
                };
                cell.lock().component.send(buffer_type, payload, context)
            }
            (t, None) if t.is_control() => {
                cell.lock()
                    .component
                    .send(buffer_type, SendPayload::None, context)
            }
            _ => Err(Hresult::E_INVALIDARG),
        }
    })
}

/// `WebSocketReceive`: queues a receive. With `pBuffer` NULL the data is handed out from the
/// handle's memory (valid until the `INDICATE_RECEIVE_COMPLETE` action is completed);
/// otherwise it is copied into `pBuffer->Data` (at most `ulBufferLength` bytes per
/// receive).
///
/// # Safety
/// `pBuffer` is NULL or a readable buffer describing writable memory that stays valid
/// until the receive's `INDICATE_RECEIVE_COMPLETE` action.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketReceive(
    h_web_socket: WebSocketHandle,
    p_buffer: *mut WebSocketBuffer,
    pv_context: *mut c_void,
) -> HRESULT {
    guard(|| {
        // SAFETY: forwarded contract.
        let cell = unsafe { cell(h_web_socket)? };
        // SAFETY: NULL or readable; the data arm is the one a receive uses.
        let target = match unsafe { read::value(p_buffer.cast_const()).map(|b| b.data) } {
            None => None,
            Some(d) if d.buffer.is_null() || d.length == 0 => return Err(Hresult::E_INVALIDARG),
            Some(d) => Some(AppBuffer {
                addr: d.buffer.expose_provenance(),
                len: d.length as usize,
            }),
        };
        cell.lock()
            .component
            .receive(target, pv_context.expose_provenance())
    })
}

/// `WebSocketGetAction`: the next action on the queue(s). On `NO_ACTION` and on failure the
/// outputs are still set: `*pAction = WEB_SOCKET_NO_ACTION`, `*pulDataBufferCount = 0`,
/// `*pBufferType = 0`, `*pvApplicationContext` and `*pvActionContext` NULL.
///
/// # Safety
/// `pDataBuffers` is NULL (with `*pulDataBufferCount == 0`) or has room for
/// `*pulDataBufferCount` buffers; the other pointers are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketGetAction(
    h_web_socket: WebSocketHandle,
    e_action_queue: u32,
    p_data_buffers: *mut WebSocketBuffer,
    pul_data_buffer_count: *mut u32,
    p_action: *mut u32,
    p_buffer_type: *mut u32,
    pv_application_context: *mut *mut c_void,
    pv_action_context: *mut *mut c_void,
) -> HRESULT {
    guard(|| {
        // SAFETY: forwarded contract.
        let result = unsafe {
            get_action(
                h_web_socket,
                e_action_queue,
                p_data_buffers,
                pul_data_buffer_count,
                p_action,
                p_buffer_type,
                pv_application_context,
                pv_action_context,
            )
        };
        if result.is_err() {
            // SAFETY: each out-pointer is NULL or writable.
            unsafe {
                put(pul_data_buffer_count, 0);
                put(p_action, 0);
                put(p_buffer_type, 0);
                put(pv_application_context, ptr::null_mut());
                put(pv_action_context, ptr::null_mut());
            }
        }
        result
    })
}

/// The body of [`WebSocketGetAction`]: on success every output is written (`NO_ACTION`
/// writes zeros); on failure none is, and the caller zeroes them.
///
/// # Safety
/// As [`WebSocketGetAction`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn get_action(
    h_web_socket: WebSocketHandle,
    e_action_queue: u32,
    p_data_buffers: *mut WebSocketBuffer,
    pul_data_buffer_count: *mut u32,
    p_action: *mut u32,
    p_buffer_type: *mut u32,
    pv_application_context: *mut *mut c_void,
    pv_action_context: *mut *mut c_void,
) -> Result<(), Hresult> {
    {
        // SAFETY: NULL or readable, per the contract.
        let capacity = unsafe { read::value(pul_data_buffer_count) }.unwrap_or(0) as usize;
        if pul_data_buffer_count.is_null()
            || p_action.is_null()
            || p_buffer_type.is_null()
            || pv_action_context.is_null()
            || (capacity > 0 && p_data_buffers.is_null())
        {
            return Err(Hresult::E_INVALIDARG);
        }
        let queue = ActionQueue::from_raw(e_action_queue).ok_or(Hresult::E_INVALIDARG)?;
        // SAFETY: forwarded contract.
        let cell = unsafe { cell(h_web_socket)? };
        let mut state = cell.lock();
        let FfiState {
            component, arena, ..
        } = &mut *state;
        let action = component.get_c_action(queue, capacity)?;
        let count = action.buffers.count();
        if count > capacity {
            return Err(Hresult::E_FAIL); // the component never hands out more (a bug)
        }
        let arena = arena.as_ref();
        // SAFETY: the array has room for `capacity >= count` buffers; the places are
        // checked against the memory they name.
        unsafe {
            match action.buffers {
                CBuffers::None => {}
                CBuffers::Write(first, second) => {
                    put(p_data_buffers, data_buffer(place(first, arena)?));
                    if let Some(second) = second {
                        put(p_data_buffers.add(1), data_buffer(place(second, arena)?));
                    }
                }
                CBuffers::Read(ReadPlace::InPlace(buffer)) => {
                    put(
                        p_data_buffers,
                        data_buffer((buffer.as_mut_ptr(), buffer.len())),
                    );
                }
                CBuffers::Read(ReadPlace::Arena(range)) => {
                    let (ptr, len) = arena_range(arena, range)?;
                    put(p_data_buffers, data_buffer((ptr, len)));
                }
                CBuffers::Data(data) => put(p_data_buffers, data_buffer(place(data, arena)?)),
                CBuffers::Close { status, reason } => {
                    let (reason, reason_length) = place(reason, arena)?;
                    put(
                        p_data_buffers,
                        WebSocketBuffer {
                            close_status: CloseStatusBuffer {
                                reason,
                                reason_length: reason_length as u32,
                                status,
                            },
                        },
                    );
                }
            }
            put(pul_data_buffer_count, count as u32);
            put(p_action, action.kind as u32);
            put(p_buffer_type, action.buffer_type.map_or(0, BufferType::raw));
            // The application's context is its own pointer (provenance exposed when it was
            // given); the action context is a number.
            put(
                pv_application_context,
                ptr::with_exposed_provenance_mut(action.app_context),
            );
            put(
                pv_action_context,
                ptr::without_provenance_mut(action.context),
            );
        }
        Ok(())
    }
}

fn data_buffer((buffer, length): (*mut u8, usize)) -> WebSocketBuffer {
    WebSocketBuffer {
        data: DataBuffer {
            buffer,
            length: length as u32,
        },
    }
}

/// `range` of the allocated buffer, checked to lie in it.
fn arena_range(arena: Option<&Arena>, range: Range<usize>) -> Result<(*mut u8, usize), Hresult> {
    match arena {
        Some(a) if range.start <= range.end && range.end <= a.len => {
            Ok((a.base.wrapping_add(range.start), range.len()))
        }
        _ => Err(Hresult::E_FAIL), // the component never names memory outside it (a bug)
    }
}

/// Hands out one buffer as the component placed it: a pointer and a length, after the copy
/// it asks for.
///
/// # Safety
/// The allocated buffer and the application buffers the place names are valid for their
/// lengths (the `Create`, `Send` and `Receive` contracts).
#[inline]
unsafe fn place(place: Place<'_>, arena: Option<&Arena>) -> Result<(*mut u8, usize), Hresult> {
    Ok(match place {
        Place::Null => (ptr::null_mut(), 0),
        Place::InPlace(bytes) => (bytes.as_ptr().cast_mut(), bytes.len()),
        Place::ToArena { offset, bytes } => {
            let (dst, len) = arena_range(arena, offset..offset.saturating_add(bytes.len()))?;
            // SAFETY: `dst` has room for `len == bytes.len()` bytes inside the allocated
            // buffer, which the application keeps valid and unused; `bytes` is the
            // component's memory, so the two do not overlap.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), dst, len) };
            (dst, len)
        }
        Place::ToTarget { target, bytes } => {
            if bytes.len() > target.len {
                return Err(Hresult::E_FAIL); // the component bounds deliveries (a bug)
            }
            let dst = ptr::with_exposed_provenance_mut::<u8>(target.addr);
            // SAFETY: the receive's buffer is writable for `target.len >= bytes.len()`
            // bytes until the receive completes (the `Receive` contract); `bytes` is the
            // component's memory.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
            (dst, bytes.len())
        }
        Place::App(slice) => {
            if slice.offset.saturating_add(slice.len) > slice.buffer.len {
                return Err(Hresult::E_FAIL); // the component stays in the buffer (a bug)
            }
            let base = ptr::with_exposed_provenance_mut::<u8>(slice.buffer.addr);
            (base.wrapping_add(slice.offset), slice.len)
        }
    })
}

/// `WebSocketCompleteAction`: the action `pvActionContext` was carried out, moving
/// `ulBytesTransferred` bytes. A NULL or unknown context (e.g. after `NO_ACTION`) is
/// ignored.
///
/// # Safety
/// `hWebSocket` is NULL or a live handle; after a `RECEIVE_FROM_NETWORK` action the first
/// `ulBytesTransferred` bytes of its buffer were written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketCompleteAction(
    h_web_socket: WebSocketHandle,
    pv_action_context: *mut c_void,
    ul_bytes_transferred: u32,
) {
    guard_void(|| {
        // SAFETY: forwarded contract.
        let Ok(cell) = (unsafe { cell(h_web_socket) }) else {
            return;
        };
        let context = pv_action_context.addr();
        let n = ul_bytes_transferred as usize;
        let mut state = cell.lock();
        let FfiState {
            component, arena, ..
        } = &mut *state;
        if let Some(arena) = arena.as_ref()
            && let Some(range) = component.outstanding_arena_read(context)
        {
            let Ok((start, len)) = arena_range(Some(arena), range) else {
                return;
            };
            // SAFETY: the application read `n` bytes into this part of the allocated
            // buffer, which it keeps valid and does not otherwise use.
            let data = unsafe { std::slice::from_raw_parts(start, n.min(len)) };
            component.complete_receive_with(context, data);
        } else {
            component.complete_action(context, n);
        }
    })
}

/// `WebSocketAbortHandle`: no more network work on the handle; queued operations still come
/// out of `WebSocketGetAction` as completions. Does nothing before the handshake completed.
///
/// # Safety
/// `hWebSocket` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketAbortHandle(h_web_socket: WebSocketHandle) {
    guard_void(|| {
        // SAFETY: forwarded contract.
        if let Ok(cell) = unsafe { cell(h_web_socket) } {
            cell.lock().component.abort();
        }
    })
}

/// `WebSocketDeleteHandle`: frees the handle and everything it holds. NULL is ignored.
///
/// # Safety
/// `hWebSocket` is NULL or a live handle that no other thread is using; it must not be used
/// afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketDeleteHandle(h_web_socket: WebSocketHandle) {
    guard_void(|| {
        // SAFETY: forwarded contract.
        if unsafe { cell(h_web_socket) }.is_err() {
            return;
        }
        // SAFETY: a live handle was created by `Box::into_raw` in `create`, and the caller
        // gives up every use of it.
        let mut cell = unsafe { Box::from_raw(h_web_socket) };
        cell.invalidate();
        drop(cell);
    })
}

/// `WebSocketGetGlobalProperty`: reads `KEEPALIVE_INTERVAL` (one `ULONG`, milliseconds) or
/// `SUPPORTED_VERSIONS` (an array of `ULONG`). `*ulSize` is the room in bytes on input and
/// the size written on output; too little room fails with
/// `HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)` and sets `*ulSize` to the size needed.
///
/// # Safety
/// `pvValue` is NULL or writable for `*ulSize` bytes; `ulSize` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn WebSocketGetGlobalProperty(
    e_type: u32,
    pv_value: *mut c_void,
    ul_size: *mut u32,
) -> HRESULT {
    guard(|| {
        // SAFETY: NULL or valid, per the contract.
        let Some(room) = (unsafe { read::value(ul_size) }) else {
            return Err(Hresult::E_INVALIDARG);
        };
        let property = PropertyType::from_raw(e_type).ok_or(Hresult::E_INVALIDARG)?;
        let values = global_property(property)?;
        let needed = size_of_val(values) as u32;
        if room < needed {
            // SAFETY: valid, checked above.
            unsafe { put(ul_size, needed) };
            return Err(Hresult::E_INSUFFICIENT_BUFFER);
        }
        if pv_value.is_null() {
            return Err(Hresult::E_INVALIDARG);
        }
        for (i, v) in values.iter().enumerate() {
            // SAFETY: `pvValue` is writable for `room >= needed` bytes.
            unsafe { put(pv_value.cast::<u32>().add(i), *v) };
        }
        // SAFETY: valid, checked above.
        unsafe { put(ul_size, needed) };
        Ok(())
    })
}
