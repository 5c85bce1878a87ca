//! `HRESULT` status codes, with the values of Windows' `winerror.h`.

use std::fmt;

/// A Windows `HRESULT`: a signed 32-bit status, negative on failure.
///
/// The component model returns `Result<_, Hresult>`; the C ABI returns the raw value.
///
/// ```
/// use websocket::Hresult;
///
/// assert_eq!(Hresult::E_INVALID_PROTOCOL_FORMAT.0 as u32, 0x8376_0002);
/// assert!(Hresult::S_OK.is_success());
/// assert!(!Hresult::E_INVALIDARG.is_success());
/// assert_eq!(Hresult::E_INVALIDARG.name(), Some("E_INVALIDARG"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hresult(pub i32);

impl Hresult {
    /// `S_OK` (0): success.
    pub const S_OK: Hresult = Hresult(0);
    /// `E_INVALID_PROTOCOL_OPERATION` (0x83760001): the call is not allowed in the handle's
    /// current state (wrong role, handshake not done, session closed or aborted, …).
    pub const E_INVALID_PROTOCOL_OPERATION: Hresult = Hresult(0x8376_0001_u32 as i32);
    /// `E_INVALID_PROTOCOL_FORMAT` (0x83760002): the peer's handshake headers or frames
    /// break the protocol.
    pub const E_INVALID_PROTOCOL_FORMAT: Hresult = Hresult(0x8376_0002_u32 as i32);
    /// `E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED` (0x83760003): the server selected an
    /// extension the client did not offer.
    pub const E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED: Hresult = Hresult(0x8376_0003_u32 as i32);
    /// `E_SUBPROTOCOL_NOT_SUPPORTED` (0x83760004): the server selected a subprotocol the
    /// client did not offer.
    pub const E_SUBPROTOCOL_NOT_SUPPORTED: Hresult = Hresult(0x8376_0004_u32 as i32);
    /// `E_PROTOCOL_VERSION_NOT_SUPPORTED` (0x83760005): the client asked for a
    /// `Sec-WebSocket-Version` other than 13.
    pub const E_PROTOCOL_VERSION_NOT_SUPPORTED: Hresult = Hresult(0x8376_0005_u32 as i32);
    /// `E_INVALIDARG` (0x80070057): a parameter is invalid (NULL pointer, bad property,
    /// bad buffer type, oversize close reason, …).
    pub const E_INVALIDARG: Hresult = Hresult(0x8007_0057_u32 as i32);
    /// `E_OUTOFMEMORY` (0x8007000E).
    pub const E_OUTOFMEMORY: Hresult = Hresult(0x8007_000E_u32 as i32);
    /// `E_POINTER` (0x80004003). Not returned by this library (NULL pointers give
    /// `E_INVALIDARG`); defined for completeness.
    pub const E_POINTER: Hresult = Hresult(0x8000_4003_u32 as i32);
    /// `E_FAIL` (0x80004005): an unexpected internal failure.
    pub const E_FAIL: Hresult = Hresult(0x8000_4005_u32 as i32);
    /// `E_UNEXPECTED` (0x8000FFFF).
    pub const E_UNEXPECTED: Hresult = Hresult(0x8000_FFFF_u32 as i32);
    /// `E_NOTIMPL` (0x80004001).
    pub const E_NOTIMPL: Hresult = Hresult(0x8000_4001_u32 as i32);
    /// `HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)` (0x8007007A): a caller-supplied
    /// array or buffer is too small for the result.
    pub const E_INSUFFICIENT_BUFFER: Hresult = Hresult(0x8007_007A_u32 as i32);

    /// Whether this is a success code (`SUCCEEDED(hr)`).
    pub const fn is_success(self) -> bool {
        self.0 >= 0
    }

    /// `Ok(())` for a success code, `Err(self)` otherwise.
    pub const fn ok(self) -> Result<(), Hresult> {
        if self.is_success() { Ok(()) } else { Err(self) }
    }

    /// The symbolic name, for the codes this library knows.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 as u32 {
            0 => "S_OK",
            0x8376_0001 => "E_INVALID_PROTOCOL_OPERATION",
            0x8376_0002 => "E_INVALID_PROTOCOL_FORMAT",
            0x8376_0003 => "E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED",
            0x8376_0004 => "E_SUBPROTOCOL_NOT_SUPPORTED",
            0x8376_0005 => "E_PROTOCOL_VERSION_NOT_SUPPORTED",
            0x8007_0057 => "E_INVALIDARG",
            0x8007_000E => "E_OUTOFMEMORY",
            0x8000_4003 => "E_POINTER",
            0x8000_4005 => "E_FAIL",
            0x8000_FFFF => "E_UNEXPECTED",
            0x8000_4001 => "E_NOTIMPL",
            0x8007_007A => "HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)",
            _ => return None,
        })
    }
}

impl fmt::Debug for Hresult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "Hresult({:#010x})", self.0 as u32),
        }
    }
}

impl fmt::Display for Hresult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0 as u32)?;
        if let Some(name) = self.name() {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Hresult {}

impl From<Hresult> for i32 {
    fn from(h: Hresult) -> i32 {
        h.0
    }
}
