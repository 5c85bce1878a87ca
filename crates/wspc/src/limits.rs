//! Limits against abuse, with their defaults. Every limit is enforced where the bytes
//! arrive, before memory grows: a frame or message that would exceed a limit fails the
//! connection as soon as its header announces it.

/// Caps on what a peer can make the engine hold or do.
///
/// ```
/// use wspc::Limits;
///
/// let limits = Limits { max_message_size: 1 << 20, ..Limits::default() };
/// assert_eq!(limits.max_frame_size, 16 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest HTTP head (request or response line plus headers) in the opening
    /// handshake. Default 8 KiB; a larger head fails with 431 (server) or an error (client).
    pub max_head_size: usize,
    /// Most header fields in the opening handshake. Default 128.
    pub max_headers: usize,
    /// Largest payload of a single frame. Default 16 MiB. Exceeding it fails with 1009.
    pub max_frame_size: u64,
    /// Largest message (after decompression, with an extension that compresses). Default
    /// 64 MiB. Exceeding it fails with 1009 as soon as the frame header announces it.
    pub max_message_size: u64,
    /// Most frames in one message. Default 131 072 (Autobahn sends 4 MiB in 64-byte
    /// fragments). Exceeding it fails with 1008.
    pub max_fragments: u32,
    /// Bytes queued for the network above which the engine stops answering with every
    /// Pong it owes (only the latest is kept) and reports
    /// [`Connection::wants_read`](crate::Connection::wants_read) as `false`, so that a peer
    /// that sends but never reads cannot grow memory. Default 1 MiB.
    pub max_write_buffer: usize,
    /// Most frames that give the application nothing — Pongs, and empty data frames that
    /// do not end a message — accepted in one second and between two delivered messages
    /// (a peer that only sends these otherwise costs CPU without ever meeting
    /// backpressure). Default 1 024. Exceeding it fails with 1008. The count starts over
    /// with each delivered message and each second of the time given to
    /// [`Connection::handle_timeout`](crate::Connection::handle_timeout).
    pub max_empty_frames: u32,
}

impl Limits {
    /// The defaults documented on each field.
    pub const DEFAULT: Limits = Limits {
        max_head_size: 8 * 1024,
        max_headers: 128,
        max_frame_size: 16 << 20,
        max_message_size: 64 << 20,
        max_fragments: 1 << 17,
        max_write_buffer: 1 << 20,
        max_empty_frames: 1 << 10,
    };

    /// No limits beyond the handshake caps (for trusted peers only).
    pub const UNLIMITED: Limits = Limits {
        max_frame_size: u64::MAX,
        max_message_size: u64::MAX,
        max_fragments: u32::MAX,
        max_write_buffer: usize::MAX,
        max_empty_frames: u32::MAX,
        ..Limits::DEFAULT
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
