//! Handle properties (`WEB_SOCKET_PROPERTY`) and global properties, with the Windows
//! defaults and limits.

use crate::hresult::Hresult;
use crate::types::PropertyType;

use super::Role;

/// Smallest `WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE`.
pub const MIN_RECEIVE_BUFFER_SIZE: u32 = 256;
/// Smallest `WEB_SOCKET_SEND_BUFFER_SIZE_PROPERTY_TYPE` (the server default; .NET uses it
/// for every server handle).
pub const MIN_SEND_BUFFER_SIZE: u32 = 16;
/// Largest receive or send buffer size.
pub const MAX_BUFFER_SIZE: u32 = 65536;
/// Default receive buffer size, both roles.
pub const DEFAULT_RECEIVE_BUFFER_SIZE: u32 = 4096;
/// Default send buffer size of a client handle.
pub const DEFAULT_CLIENT_SEND_BUFFER_SIZE: u32 = 4096;
/// Default send buffer size of a server handle.
pub const DEFAULT_SERVER_SEND_BUFFER_SIZE: u32 = 16;
/// What an application-allocated buffer needs beyond the receive and send buffers
/// (room for a frame header and a control frame's payload; .NET passes exactly this).
pub const ALLOCATED_BUFFER_OVERHEAD: usize = 144;
/// Required alignment of an application-allocated buffer.
pub const ALLOCATED_BUFFER_ALIGNMENT: usize = 8;
/// `WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE`, in milliseconds. The component runs no
/// timer; applications send `UNSOLICITED_PONG` at this interval if they want keep-alive.
pub const KEEPALIVE_INTERVAL_MS: u32 = 30_000;
/// `WEB_SOCKET_SUPPORTED_VERSIONS_PROPERTY_TYPE`.
pub const SUPPORTED_VERSIONS: [u32; 1] = [13];

/// One handle property, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    /// `WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE`: bounds every buffer handed out for
    /// reading and every delivered chunk. 256–65536, default 4096.
    ReceiveBufferSize(u32),
    /// `WEB_SOCKET_SEND_BUFFER_SIZE_PROPERTY_TYPE`: bounds the masked payload handed out
    /// per `SEND_TO_NETWORK` action. 16–65536, default 4096 (client) or 16 (server).
    SendBufferSize(u32),
    /// `WEB_SOCKET_DISABLE_MASKING_PROPERTY_TYPE`: a client masks with a zero key (payload
    /// sent unchanged, without a copy); a server accepts unmasked frames.
    DisableMasking(bool),
    /// `WEB_SOCKET_ALLOCATED_BUFFER_PROPERTY_TYPE`: the application supplies the memory
    /// for the component's buffers; `len` is its size in bytes (at least receive + send +
    /// [`ALLOCATED_BUFFER_OVERHEAD`]). The memory itself is managed by the C layer.
    AllocatedBuffer {
        /// Size of the application's buffer, in bytes.
        len: usize,
    },
    /// `WEB_SOCKET_DISABLE_UTF8_VERIFICATION_PROPERTY_TYPE`: received text is not checked
    /// for valid UTF-8.
    DisableUtf8Verification(bool),
    /// `WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE` (a wspc extension, outside Windows'
    /// numbering): negotiate permessage-deflate (RFC 7692). A client offers it in
    /// `BeginClientHandshake` and accepts the server's answer in `EndClientHandshake`; a
    /// server accepts a client's offer in `BeginServerHandshake`. Messages are then
    /// compressed and decompressed by the component; the actions are the same. `false`
    /// (the default) is exactly Windows' behaviour.
    PerMessageDeflate(bool),
}

impl Property {
    /// The property's type.
    pub const fn kind(&self) -> PropertyType {
        match self {
            Property::ReceiveBufferSize(_) => PropertyType::ReceiveBufferSize,
            Property::SendBufferSize(_) => PropertyType::SendBufferSize,
            Property::DisableMasking(_) => PropertyType::DisableMasking,
            Property::AllocatedBuffer { .. } => PropertyType::AllocatedBuffer,
            Property::DisableUtf8Verification(_) => PropertyType::DisableUtf8Verification,
            Property::PerMessageDeflate(_) => PropertyType::PerMessageDeflate,
        }
    }
}

/// The resolved properties of a handle.
///
/// ```
/// use websocket::component::{Properties, Property, Role};
///
/// let server = Properties::resolve(Role::Server, &[]).unwrap();
/// assert_eq!((server.receive_buffer_size, server.send_buffer_size), (4096, 16));
/// let client = Properties::resolve(Role::Client, &[Property::ReceiveBufferSize(256)]).unwrap();
/// assert_eq!((client.receive_buffer_size, client.send_buffer_size), (256, 4096));
/// assert!(Properties::resolve(Role::Client, &[Property::ReceiveBufferSize(255)]).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Properties {
    /// Receive buffer size in bytes.
    pub receive_buffer_size: u32,
    /// Send buffer size in bytes.
    pub send_buffer_size: u32,
    /// `DISABLE_MASKING`.
    pub disable_masking: bool,
    /// `DISABLE_UTF8_VERIFICATION`.
    pub disable_utf8_verification: bool,
    /// Size of the application-allocated buffer, if one was given.
    pub allocated_buffer_len: Option<usize>,
    /// `WSPC_PERMESSAGE_DEFLATE` (a wspc extension).
    pub per_message_deflate: bool,
}

impl Properties {
    /// The defaults of a handle of `role`.
    pub const fn defaults(role: Role) -> Properties {
        Properties {
            receive_buffer_size: DEFAULT_RECEIVE_BUFFER_SIZE,
            send_buffer_size: match role {
                Role::Client => DEFAULT_CLIENT_SEND_BUFFER_SIZE,
                Role::Server => DEFAULT_SERVER_SEND_BUFFER_SIZE,
            },
            disable_masking: false,
            disable_utf8_verification: false,
            allocated_buffer_len: None,
            per_message_deflate: false,
        }
    }

    /// Applies `properties` to the defaults of `role`. Fails with `E_INVALIDARG` for a
    /// size out of range, a property given twice, or an allocated buffer smaller than
    /// [`Properties::allocated_buffer_min_len`].
    pub fn resolve(role: Role, properties: &[Property]) -> Result<Properties, Hresult> {
        let mut out = Properties::defaults(role);
        for (i, p) in properties.iter().enumerate() {
            if properties[..i].iter().any(|q| q.kind() == p.kind()) {
                return Err(Hresult::E_INVALIDARG);
            }
            match *p {
                Property::ReceiveBufferSize(n) => {
                    if !(MIN_RECEIVE_BUFFER_SIZE..=MAX_BUFFER_SIZE).contains(&n) {
                        return Err(Hresult::E_INVALIDARG);
                    }
                    out.receive_buffer_size = n;
                }
                Property::SendBufferSize(n) => {
                    if !(MIN_SEND_BUFFER_SIZE..=MAX_BUFFER_SIZE).contains(&n) {
                        return Err(Hresult::E_INVALIDARG);
                    }
                    out.send_buffer_size = n;
                }
                Property::DisableMasking(b) => out.disable_masking = b,
                Property::DisableUtf8Verification(b) => out.disable_utf8_verification = b,
                Property::AllocatedBuffer { len } => out.allocated_buffer_len = Some(len),
                Property::PerMessageDeflate(b) => out.per_message_deflate = b,
            }
        }
        if let Some(len) = out.allocated_buffer_len
            && len < out.allocated_buffer_min_len()
        {
            return Err(Hresult::E_INVALIDARG);
        }
        Ok(out)
    }

    /// The smallest application-allocated buffer these sizes need: receive + send +
    /// [`ALLOCATED_BUFFER_OVERHEAD`] bytes.
    pub const fn allocated_buffer_min_len(&self) -> usize {
        self.receive_buffer_size as usize
            + self.send_buffer_size as usize
            + ALLOCATED_BUFFER_OVERHEAD
    }
}
