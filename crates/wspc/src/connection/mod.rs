//! The connection state machine: the data phase of a WebSocket connection, sans-IO.
//!
//! The caller moves bytes and time; the [`Connection`] owns the protocol:
//!
//! | the caller … | with |
//! | --- | --- |
//! | hands received bytes in (split anywhere) | [`feed`](Connection::feed), [`recv_buffer_mut`](Connection::recv_buffer_mut), [`read_from`](Connection::read_from) |
//! | says the transport's read side ended | [`handle_eof`](Connection::handle_eof) |
//! | pulls out what happened | [`poll_event`](Connection::poll_event) |
//! | queues messages and control frames | [`send`](Connection::send), [`send_fragment`](Connection::send_fragment), [`ping`](Connection::ping), [`pong`](Connection::pong), [`close`](Connection::close) |
//! | pulls out bytes to write (one vectored write) | [`poll_transmit`](Connection::poll_transmit), [`advance_transmit`](Connection::advance_transmit), [`write_to`](Connection::write_to) |
//! | passes the time in and asks for the next timer (reading the clock only when the engine wants it) | [`handle_timeout`](Connection::handle_timeout), [`poll_timeout`](Connection::poll_timeout), [`wants_time`](Connection::wants_time), [`forget_time`](Connection::forget_time) |
//! | learns when to close the transport | [`should_close_transport`](Connection::should_close_transport) |

mod closing;
mod ext_state;
mod outbox;
mod recv;
mod send;
mod timers;

use std::io::{self, IoSlice, Read, Write};
use std::time::Instant;

use bytes::BytesMut;

pub use closing::CloseState;
pub use outbox::{FramedFragment, OutgoingFrame};

use crate::budget::StateCharge;
use crate::config::Config;
use crate::extension::Extension;
use crate::message::Event;
use outbox::Outbox;
use recv::Receiver;
use send::SendState;
use timers::Timers;

/// Which end of the connection this engine is. It decides masking (clients mask, servers
/// must not) and who closes the transport first (the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that opened the connection.
    Client,
    /// The end that accepted it.
    Server,
}

/// A WebSocket connection in its data phase: bytes in, events out; messages in, bytes
/// out. It does no I/O and reads no clock.
///
/// Usually built by a handshake ([`ClientHandshake`](crate::ClientHandshake),
/// [`ServerHandshake`](crate::ServerHandshake)); [`Connection::new`] starts one directly,
/// for a stream whose handshake happened elsewhere.
///
/// A client and a server talking in memory:
///
/// ```
/// use wspc::{CloseCode, CloseState, Config, Connection, Event, Message, Role};
///
/// let mut client = Connection::new(Role::Client, Config::default());
/// let mut server = Connection::new(Role::Server, Config::default());
///
/// // Moves every byte one side wants to write into the other.
/// fn pump(from: &mut Connection, to: &mut Connection) {
///     let mut wire = Vec::new();
///     from.write_to(&mut wire).unwrap();
///     to.feed(&wire);
/// }
///
/// client.send(Message::text("hello")).unwrap();
/// pump(&mut client, &mut server);
/// let Some(Event::Message(msg)) = server.poll_event() else { panic!() };
/// assert_eq!(msg, Message::text("hello"));
///
/// // Echo it back.
/// server.send(msg).unwrap();
/// pump(&mut server, &mut client);
/// assert_eq!(client.poll_event(), Some(Event::Message(Message::text("hello"))));
///
/// // Close handshake: the server answers with the same code, then closes the transport.
/// client.close(CloseCode::SUCCESS, "done").unwrap();
/// pump(&mut client, &mut server);
/// let Some(Event::Close(frame)) = server.poll_event() else { panic!() };
/// assert_eq!(frame.code, CloseCode::SUCCESS);
/// pump(&mut server, &mut client);
/// assert!(matches!(client.poll_event(), Some(Event::Close(_))));
/// assert_eq!(client.close_state(), CloseState::Closed);
/// assert!(server.should_close_transport());
/// // The client waits for the server to close the TCP connection first.
/// assert!(!client.should_close_transport());
/// client.handle_eof();
/// assert!(client.should_close_transport());
/// ```
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    ext: Option<Box<dyn Extension>>,
    /// What the extension's state holds of the budget.
    ext_state: StateCharge,
    recv: Receiver,
    send: SendState,
    outbox: Outbox,
    close: closing::Closing,
    timers: Timers,
    /// An event produced outside `poll_event` (timer, end of input), handed out next
    /// (boxed: rare, and the connection is moved around whole).
    pending: Option<Box<Event>>,
}

impl Connection {
    /// A connection in the data phase, for a stream whose opening handshake is done (or was
    /// never needed).
    pub fn new(role: Role, config: Config) -> Connection {
        Connection::with_extension(role, config, None)
    }

    /// A connection with a negotiated extension (see [`extension`](crate::extension)).
    pub fn with_extension(
        role: Role,
        config: Config,
        ext: Option<Box<dyn Extension>>,
    ) -> Connection {
        let timers = Timers::new(config.keepalive);
        let recv = Receiver::new(crate::budget::Charge::new(config.budget.clone()));
        Connection {
            role,
            ext,
            ext_state: StateCharge::new(config.budget.clone()),
            recv,
            send: SendState::default(),
            outbox: Outbox::new(config.framed_transmit),
            config,
            close: closing::Closing::default(),
            timers,
            pending: None,
        }
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration this connection runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The negotiated extension, if any.
    pub fn extension(&self) -> Option<&dyn Extension> {
        self.ext.as_deref()
    }

    /// The negotiated permessage-deflate parameters; `None` when the connection runs
    /// without it.
    #[cfg(feature = "deflate")]
    pub fn deflate(&self) -> Option<crate::deflate::DeflateParams> {
        crate::deflate::params_of(self.extension()?)
    }

    /// Hands received bytes to the engine (copied into its receive buffer). Nothing is
    /// parsed until [`poll_event`](Connection::poll_event).
    pub fn feed(&mut self, data: &[u8]) {
        if self.recv.accepting_input() {
            self.recv.buf.extend_from_slice(data);
        }
    }

    /// The engine's receive buffer, to read into without an intermediate copy (e.g. with
    /// tokio's `read_buf`). Only append to it: the bytes already in it belong to the
    /// engine (at worst, changing them garbles the data; it never panics).
    pub fn recv_buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.recv.buf
    }

    /// How many bytes the engine would like the next read to offer: at least 4 KiB; while
    /// a large frame is arriving, up to as much as already arrived of it (at most 1 MiB),
    /// so the buffer grows with the bytes received, never with what a header announces.
    #[inline]
    pub fn read_hint(&self) -> usize {
        self.recv.read_hint()
    }

    /// Reads once from `reader` into the receive buffer; a read of 0 bytes is the end of
    /// input ([`handle_eof`](Connection::handle_eof)). Returns the bytes read.
    pub fn read_from<R: Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<usize> {
        let want = self.read_hint();
        let buf = &mut self.recv.buf;
        let start = buf.len();
        buf.resize(start + want, 0);
        let result = reader.read(&mut buf[start..]);
        let n = *result.as_ref().unwrap_or(&0);
        buf.truncate(start + n);
        if matches!(result, Ok(0)) {
            self.handle_eof();
        }
        result
    }

    /// The transport's read side ended (the peer closed it, or it broke). Bytes already
    /// fed are still processed first.
    pub fn handle_eof(&mut self) {
        self.recv.eof = true;
    }

    /// The next event, or `None` when more input is needed. Parses received bytes as it
    /// goes; call it until it returns `None` after each read.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        // Called after every read and before every wait: when nothing at all is held
        // (no input, no frame or message begun, nothing pending, the budget's charge in
        // step with the outgoing queue), say so without entering the parser.
        if self.pending.is_none()
            && self.recv.drained()
            && self.recv.charge.settled(self.outbox.len())
        {
            return None;
        }
        self.poll_event_slow()
    }

    fn poll_event_slow(&mut self) -> Option<Event> {
        if let Some(event) = self.pending.take() {
            return Some(*event);
        }
        if let Some(event) = self.process_input() {
            return Some(event);
        }
        if self.recv.eof {
            return self.on_eof();
        }
        None
    }

    /// Whether the caller should keep reading from the transport: `false` once the engine
    /// ignores input, or while more than
    /// [`Limits::max_write_buffer`](crate::Limits::max_write_buffer) bytes wait to be
    /// written (so a peer that never reads cannot make us buffer without bound).
    pub fn wants_read(&self) -> bool {
        !self.recv.eof
            && !self.close.transport_done
            && self.outbox.len() <= self.config.limits.max_write_buffer
    }

    /// Fills `out` with slices of the bytes waiting to be written, in order, and returns
    /// how many it used. Write them (ideally with one vectored write), then report how
    /// many bytes went out with [`advance_transmit`](Connection::advance_transmit).
    ///
    /// The slices borrow the connection, so declare the array where you write:
    ///
    /// ```
    /// # use std::io::{IoSlice, Write};
    /// # let mut conn = wspc::Connection::new(wspc::Role::Server, wspc::Config::default());
    /// # conn.send(wspc::Message::text("hi")).unwrap();
    /// # let mut socket = Vec::new();
    /// loop {
    ///     let mut slices = [IoSlice::new(&[]); 32];
    ///     let n = conn.poll_transmit(&mut slices);
    ///     if n == 0 {
    ///         break;
    ///     }
    ///     let written = socket.write_vectored(&slices[..n])?;
    ///     conn.advance_transmit(written);
    /// }
    /// # assert_eq!(socket, b"\x81\x02hi");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn poll_transmit<'a>(&'a mut self, out: &mut [IoSlice<'a>]) -> usize {
        self.flush_deferred();
        self.outbox.slices(out)
    }

    /// Takes the next whole frame from the transmit queue, if the queue keeps frames apart
    /// ([`Config::framed_transmit`](crate::Config)) and nothing of that frame was written
    /// through [`poll_transmit`](Connection::poll_transmit) yet. The frame is then the
    /// caller's to write.
    pub fn pop_frame(&mut self) -> Option<OutgoingFrame> {
        self.flush_deferred();
        self.outbox.pop_frame()
    }

    /// `n` bytes from [`poll_transmit`](Connection::poll_transmit) were written.
    #[inline]
    pub fn advance_transmit(&mut self, n: usize) {
        self.outbox.advance(n);
        if self.recv.charge.is_active() {
            // Only shrinks the charge here (or leaves it for the next poll_event).
            let _ = self.sync_budget();
        }
    }

    /// Bytes waiting to be written.
    #[inline]
    pub fn buffered_amount(&self) -> usize {
        self.outbox.len() + self.close.pending_reply_len() + self.send.deferred_len()
    }

    /// Whether anything waits to be written.
    #[inline]
    pub fn has_transmit(&self) -> bool {
        self.buffered_amount() != 0
    }

    /// Writes pending bytes to `writer` with vectored writes until all are written or the
    /// writer would block; returns the number of bytes written.
    pub fn write_to<W: Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let mut slices = [IoSlice::new(&[]); 64];
            let n = self.poll_transmit(&mut slices);
            if n == 0 {
                return Ok(total);
            }
            match writer.write_vectored(&slices[..n]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => {
                    self.advance_transmit(written);
                    total += written;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && total > 0 => return Ok(total),
                Err(e) => return Err(e),
            }
        }
    }

    /// Advances the engine's clock to `now` and runs the timers that are due (keepalive
    /// Ping, Pong timeout, close timeout). Call it whenever
    /// [`poll_timeout`](Connection::poll_timeout) passes, and whenever you wake up
    /// anyway: timers armed later are measured from the last time given here.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.on_timeout(now);
    }

    /// When [`handle_timeout`](Connection::handle_timeout) should next be called, if any
    /// timer is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }
}
