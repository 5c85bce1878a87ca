//! [`Options`]: the engine's policies, shared by both roles.

use std::time::Duration;

use wspc::deflate::DeflateOptions;
use wspc::{Budget, Config, Keepalive, Limits};

/// Options shared by clients and servers: limits, keepalive, close timeout, the write
/// buffer bound, permessage-deflate and Ping handling.
///
/// ```
/// use std::time::Duration;
/// use wspc_tokio::Options;
///
/// let options = Options::default()
///     .max_message_size(1 << 20)
///     .keepalive(Duration::from_secs(30), Duration::from_secs(10))
///     .write_buffer_limit(256 * 1024);
/// assert_eq!(options.get_write_buffer_limit(), 256 * 1024);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub(crate) config: Config,
    pub(crate) deflate: Option<DeflateOptions>,
    /// Streamed delivery: the largest piece handed out.
    pub(crate) max_chunk: Option<usize>,
}

impl Options {
    /// Options with the defaults: the engine's [`Limits`] (64 MiB messages, 16 MiB
    /// frames, 1 MiB write buffer), no keepalive, a 5 s close timeout, automatic Pongs,
    /// Pings not delivered, no compression.
    pub fn new() -> Options {
        Options::default()
    }

    /// All limits at once (message and frame size, fragments, handshake head size, write
    /// buffer).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// The largest message accepted, in bytes (after decompression); a larger one fails
    /// the connection with 1009. Default 64 MiB.
    pub fn max_message_size(mut self, n: usize) -> Self {
        self.config.limits.max_message_size = n as u64;
        self
    }

    /// The largest frame accepted, in bytes; a larger one fails with 1009.
    pub fn max_frame_size(mut self, n: usize) -> Self {
        self.config.limits.max_frame_size = n as u64;
        self
    }

    /// The most frames one message may have (default 131 072); more fail with 1008.
    pub fn max_fragments(mut self, n: u32) -> Self {
        self.config.limits.max_fragments = n;
        self
    }

    /// Keepalive: send a Ping after `interval` of silence from the peer, and fail the
    /// connection ([`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout), close
    /// code 1011) if no Pong comes within `timeout`. Timers run while the socket (or its
    /// reader half) is being read.
    pub fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.config.keepalive = Some(Keepalive { interval, timeout });
        self
    }

    /// Most frames that give the application nothing (Pongs, empty non-final data
    /// frames) accepted per second and between two messages (default 1 024); more fail
    /// with 1008. Such frames never meet backpressure, so this is what bounds the CPU a
    /// peer can make us spend on them.
    pub fn max_empty_frames(mut self, n: u32) -> Self {
        self.config.limits.max_empty_frames = n;
        self
    }

    /// Shares a cap on buffered message data with every connection given the same
    /// [`Budget`] (clone the handle): beyond its per-connection allowance, a connection
    /// whose incoming message would need more than the budget has left fails with 1009,
    /// so the process as a whole cannot be made to buffer more. permessage-deflate state
    /// is charged too: a compressor only within half the budget (otherwise the message
    /// goes out uncompressed), a decompressor like incoming data (1009 when it does not
    /// fit). Default: none.
    ///
    /// ```
    /// use wspc_tokio::{Budget, Options};
    ///
    /// let budget = Budget::new(256 << 20);
    /// let options = Options::default().budget(budget.clone());
    /// # drop(options);
    /// assert_eq!(budget.used(), 0);
    /// ```
    pub fn budget(mut self, budget: Budget) -> Self {
        self.config.budget = Some(budget);
        self
    }

    /// Progress deadline: a frame or message still incomplete this long after its first
    /// byte arrived fails the connection with 1008 ([`Error::Protocol`](crate::Error)),
    /// so a peer cannot hold buffers by sending slowly. Default: none.
    pub fn message_timeout(mut self, d: Duration) -> Self {
        self.config.message_timeout = Some(d);
        self
    }

    /// How long to wait for the peer's Close after sending ours, and (client) for the
    /// server to close the TCP connection afterwards. Default 5 s.
    pub fn close_timeout(mut self, d: Duration) -> Self {
        self.config.close_timeout = d;
        self
    }

    /// Bytes that may wait to be written before `send` (and the `Sink`'s `poll_ready`)
    /// waits for the peer to read, and before the socket stops reading a peer that sends
    /// without reading. Default 1 MiB.
    pub fn write_buffer_limit(mut self, bytes: usize) -> Self {
        self.config.limits.max_write_buffer = bytes;
        self
    }

    /// The write buffer bound set by [`Options::write_buffer_limit`].
    pub fn get_write_buffer_limit(&self) -> usize {
        self.config.limits.max_write_buffer
    }

    /// permessage-deflate (RFC 7692): `Some` to offer it (client) or accept offers
    /// (server) with these compression options, `None` (the default) for none.
    pub fn deflate(mut self, opts: Option<DeflateOptions>) -> Self {
        self.deflate = opts;
        self
    }

    /// Answer every Ping with a Pong automatically. Default `true`.
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.config.auto_pong = on;
        self
    }

    /// Hand received Pings out as [`Message::Ping`](crate::Message::Ping). Default
    /// `false`.
    pub fn deliver_pings(mut self, on: bool) -> Self {
        self.config.deliver_pings = on;
        self
    }

    /// Hands data messages out in pieces of at most `max_chunk` bytes as their bytes
    /// arrive, so a message never has to be held whole: read them with
    /// [`WebSocket::recv_stream`](crate::WebSocket::recv_stream). `recv` still gives
    /// whole messages (putting the pieces together). The message size limit
    /// ([`max_message_size`](Self::max_message_size)) still applies: raise it for
    /// large streamed messages.
    pub fn streaming(mut self, max_chunk: usize) -> Self {
        self.max_chunk = Some(max_chunk.max(1));
        self
    }

    /// Replaces the whole engine configuration (for knobs not exposed here). The
    /// delivery mode is set by [`streaming`](Self::streaming) (whole messages by
    /// default).
    pub fn engine_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The engine configuration these options produce.
    pub fn to_engine_config(&self) -> Config {
        let mut config = self.config.clone();
        config.delivery = match self.max_chunk {
            Some(max_chunk) => wspc::Delivery::Chunks { max_chunk },
            None => wspc::Delivery::Messages,
        };
        config.framed_transmit = false;
        config
    }
}
