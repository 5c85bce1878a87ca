//! The enumerations of `websocket.h`, with their Windows values.

/// `WEB_SOCKET_MAX_CLOSE_REASON_LENGTH`: the longest close reason, in bytes.
pub const MAX_CLOSE_REASON_LENGTH: usize = 123;

/// `WEB_SOCKET_BUFFER_TYPE`: what a buffer holds (on send: what to send; on receive:
/// what arrived).
///
/// `*_FRAGMENT` and `*_MESSAGE` describe API chunks, not wire frames: a message ends with
/// a `*_MESSAGE` chunk, every chunk before it is a `*_FRAGMENT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum BufferType {
    /// `WEB_SOCKET_UTF8_MESSAGE_BUFFER_TYPE` (0x80000000): the last (or only) chunk of a
    /// text message.
    Utf8Message = 0x8000_0000,
    /// `WEB_SOCKET_UTF8_FRAGMENT_BUFFER_TYPE` (0x80000001): a chunk of a text message,
    /// more follows.
    Utf8Fragment = 0x8000_0001,
    /// `WEB_SOCKET_BINARY_MESSAGE_BUFFER_TYPE` (0x80000002): the last (or only) chunk of
    /// a binary message.
    BinaryMessage = 0x8000_0002,
    /// `WEB_SOCKET_BINARY_FRAGMENT_BUFFER_TYPE` (0x80000003): a chunk of a binary
    /// message, more follows.
    BinaryFragment = 0x8000_0003,
    /// `WEB_SOCKET_CLOSE_BUFFER_TYPE` (0x80000004): a Close frame (status and reason).
    Close = 0x8000_0004,
    /// `WEB_SOCKET_PING_PONG_BUFFER_TYPE` (0x80000005): on send, a Ping; on receive, a
    /// Pong arrived.
    PingPong = 0x8000_0005,
    /// `WEB_SOCKET_UNSOLICITED_PONG_BUFFER_TYPE` (0x80000006): an unsolicited Pong
    /// (keep-alive heartbeat), send only.
    UnsolicitedPong = 0x8000_0006,
}

impl BufferType {
    /// Every buffer type, in value order.
    pub const ALL: [BufferType; 7] = [
        BufferType::Utf8Message,
        BufferType::Utf8Fragment,
        BufferType::BinaryMessage,
        BufferType::BinaryFragment,
        BufferType::Close,
        BufferType::PingPong,
        BufferType::UnsolicitedPong,
    ];

    /// The buffer type with this value, if it is one of the seven.
    pub const fn from_raw(value: u32) -> Option<BufferType> {
        Some(match value {
            0x8000_0000 => BufferType::Utf8Message,
            0x8000_0001 => BufferType::Utf8Fragment,
            0x8000_0002 => BufferType::BinaryMessage,
            0x8000_0003 => BufferType::BinaryFragment,
            0x8000_0004 => BufferType::Close,
            0x8000_0005 => BufferType::PingPong,
            0x8000_0006 => BufferType::UnsolicitedPong,
            _ => return None,
        })
    }

    /// The numeric value.
    pub const fn raw(self) -> u32 {
        self as u32
    }

    /// Whether this type carries message data (text or binary).
    pub const fn is_data(self) -> bool {
        matches!(
            self,
            BufferType::Utf8Message
                | BufferType::Utf8Fragment
                | BufferType::BinaryMessage
                | BufferType::BinaryFragment
        )
    }

    /// Whether this type describes a control frame (Close, Ping, Pong).
    pub const fn is_control(self) -> bool {
        !self.is_data()
    }
}

/// `WEB_SOCKET_ACTION`: what the application has to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ActionKind {
    /// `WEB_SOCKET_NO_ACTION` (0): nothing to do now on the queried queue(s).
    NoAction = 0,
    /// `WEB_SOCKET_SEND_TO_NETWORK_ACTION` (1): write the buffers to the transport.
    SendToNetwork = 1,
    /// `WEB_SOCKET_INDICATE_SEND_COMPLETE_ACTION` (2): a send has finished.
    IndicateSendComplete = 2,
    /// `WEB_SOCKET_RECEIVE_FROM_NETWORK_ACTION` (3): read transport bytes into the buffer.
    ReceiveFromNetwork = 3,
    /// `WEB_SOCKET_INDICATE_RECEIVE_COMPLETE_ACTION` (4): a receive has finished.
    IndicateReceiveComplete = 4,
}

/// `WEB_SOCKET_ACTION_QUEUE`: which actions `GetAction` may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ActionQueue {
    /// `WEB_SOCKET_SEND_ACTION_QUEUE` (1): actions of application sends.
    Send = 1,
    /// `WEB_SOCKET_RECEIVE_ACTION_QUEUE` (2): actions of application receives, plus the
    /// frames the component sends on its own (the Pong answering a Ping).
    Receive = 2,
    /// `WEB_SOCKET_ALL_ACTION_QUEUE` (3): both.
    All = 3,
}

impl ActionQueue {
    /// The queue with this value (1, 2 or 3).
    pub const fn from_raw(value: u32) -> Option<ActionQueue> {
        Some(match value {
            1 => ActionQueue::Send,
            2 => ActionQueue::Receive,
            3 => ActionQueue::All,
            _ => return None,
        })
    }

    /// Whether the send queue is included.
    pub const fn includes_send(self) -> bool {
        (self as u32) & 1 != 0
    }

    /// Whether the receive queue is included.
    pub const fn includes_receive(self) -> bool {
        (self as u32) & 2 != 0
    }
}

/// `WEB_SOCKET_PROPERTY_TYPE`: handle properties (0–4) and global properties (5–6), and
/// the wspc extension [`PropertyType::PerMessageDeflate`], numbered outside Windows' range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum PropertyType {
    /// `WEB_SOCKET_RECEIVE_BUFFER_SIZE_PROPERTY_TYPE` (0), `ULONG`.
    ReceiveBufferSize = 0,
    /// `WEB_SOCKET_SEND_BUFFER_SIZE_PROPERTY_TYPE` (1), `ULONG`.
    SendBufferSize = 1,
    /// `WEB_SOCKET_DISABLE_MASKING_PROPERTY_TYPE` (2), `BOOL`.
    DisableMasking = 2,
    /// `WEB_SOCKET_ALLOCATED_BUFFER_PROPERTY_TYPE` (3), `PVOID`.
    AllocatedBuffer = 3,
    /// `WEB_SOCKET_DISABLE_UTF8_VERIFICATION_PROPERTY_TYPE` (4), `BOOL`.
    DisableUtf8Verification = 4,
    /// `WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE` (5), `ULONG` milliseconds, global.
    KeepaliveInterval = 5,
    /// `WEB_SOCKET_SUPPORTED_VERSIONS_PROPERTY_TYPE` (6), `ULONG` array, global.
    SupportedVersions = 6,
    /// `WSPC_PERMESSAGE_DEFLATE_PROPERTY_TYPE` (0x77737001), `BOOL`: a wspc extension, not
    /// in Windows' `websocket.h`. TRUE negotiates permessage-deflate (RFC 7692) on a client
    /// or server handle; without it the handle behaves exactly as Windows' (no extension).
    PerMessageDeflate = 0x7773_7001,
}

impl PropertyType {
    /// The property type with this value (0–6, or the wspc extension's).
    pub const fn from_raw(value: u32) -> Option<PropertyType> {
        Some(match value {
            0 => PropertyType::ReceiveBufferSize,
            1 => PropertyType::SendBufferSize,
            2 => PropertyType::DisableMasking,
            3 => PropertyType::AllocatedBuffer,
            4 => PropertyType::DisableUtf8Verification,
            5 => PropertyType::KeepaliveInterval,
            6 => PropertyType::SupportedVersions,
            0x7773_7001 => PropertyType::PerMessageDeflate,
            _ => return None,
        })
    }
}
