//! Reading what a C caller passes in: every structure, array element and out-pointer
//! target is read with an unaligned read (C callers may pass packed or misaligned memory);
//! bytes are borrowed as slices (alignment 1).

use std::ffi::{CStr, c_char};

use super::abi::{WebSocketHttpHeader, WebSocketProperty};
use crate::Hresult;
use crate::component::HttpHeader;

/// The value at `p`, if `p` is not NULL.
///
/// # Safety
/// `p` is NULL or valid for a read of `T` (alignment not required).
pub(super) unsafe fn value<T: Copy>(p: *const T) -> Option<T> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and readable, per the contract; `read_unaligned` needs no alignment.
    Some(unsafe { p.read_unaligned() })
}

/// The `count` items at `items`, copied out; NULL is allowed only with `count == 0`.
///
/// # Safety
/// A non-NULL `items` points to `count` readable items (alignment not required).
pub(super) unsafe fn items<T: Copy>(items: *const T, count: u32) -> Result<Vec<T>, Hresult> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(Hresult::E_INVALIDARG);
    }
    Ok((0..count as usize)
        // SAFETY: `i < count`, and the `count` items are readable, per the contract.
        .map(|i| unsafe { items.add(i).read_unaligned() })
        .collect())
}

/// `count` bytes at `bytes` (NULL allowed when `count == 0`).
///
/// # Safety
/// A non-NULL `bytes` points to `count` bytes that stay valid and unmodified for `'a`.
pub(super) unsafe fn bytes<'a>(bytes: *const u8, count: u32) -> Result<&'a [u8], Hresult> {
    if count == 0 {
        return Ok(&[]);
    }
    if bytes.is_null() {
        return Err(Hresult::E_INVALIDARG);
    }
    // SAFETY: non-NULL with `count` readable bytes, per the contract (u8 needs no
    // alignment).
    Ok(unsafe { std::slice::from_raw_parts(bytes, count as usize) })
}

/// One optional NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for `'a`.
pub(super) unsafe fn string<'a>(p: *const c_char) -> Result<Option<&'a str>, Hresult> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated, per the contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|_| Hresult::E_INVALIDARG)
}

/// The NUL-terminated UTF-8 strings of a `PCSTR` array (no entry may be NULL).
///
/// # Safety
/// A non-NULL `strings` points to `count` pointers, each NULL or a NUL-terminated string
/// valid for `'a`.
pub(super) unsafe fn strings<'a>(
    strings: *const *const c_char,
    count: u32,
) -> Result<Vec<&'a str>, Hresult> {
    // SAFETY: forwarded contract.
    let pointers = unsafe { items(strings, count)? };
    pointers
        .into_iter()
        // SAFETY: each entry is NULL or a NUL-terminated string, per the contract.
        .map(|p| unsafe { string(p) }?.ok_or(Hresult::E_INVALIDARG))
        .collect()
}

/// The headers of a `WEB_SOCKET_HTTP_HEADER` array, as byte slices.
///
/// # Safety
/// A non-NULL `headers` points to `count` headers whose names and values are valid for
/// their lengths for `'a`.
pub(super) unsafe fn http_headers<'a>(
    headers: *const WebSocketHttpHeader,
    count: u32,
) -> Result<Vec<HttpHeader<'a>>, Hresult> {
    // SAFETY: forwarded contract.
    let entries = unsafe { items(headers, count)? };
    entries
        .into_iter()
        .map(|h| {
            // SAFETY: name and value are valid for their lengths, per the contract.
            let (name, value) = unsafe {
                (
                    bytes(h.name.cast::<u8>(), h.name_length)?,
                    bytes(h.value.cast::<u8>(), h.value_length)?,
                )
            };
            Ok(HttpHeader { name, value })
        })
        .collect()
}

/// A 4-byte property value (`ULONG` or `BOOL`).
///
/// # Safety
/// A non-NULL `p.value` points to `p.value_size` readable bytes.
pub(super) unsafe fn property_u32(p: &WebSocketProperty) -> Result<u32, Hresult> {
    if p.value_size != 4 {
        return Err(Hresult::E_INVALIDARG);
    }
    // SAFETY: NULL or 4 readable bytes, per the contract.
    unsafe { value(p.value.cast::<u32>().cast_const()) }.ok_or(Hresult::E_INVALIDARG)
}

/// The address an `ALLOCATED_BUFFER` property holds (.NET's convention: `pvValue` points
/// at a pointer-sized slot holding the buffer's address).
///
/// # Safety
/// A non-NULL `p.value` points to a readable pointer-sized slot.
pub(super) unsafe fn property_address(p: &WebSocketProperty) -> Result<*mut u8, Hresult> {
    // SAFETY: NULL or a readable slot, per the contract.
    unsafe { value(p.value.cast::<*mut u8>().cast_const()) }.ok_or(Hresult::E_INVALIDARG)
}
