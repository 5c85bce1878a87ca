//! The driver: one engine, one stream, the timer, and the rules that move bytes and
//! time between them. [`WebSocket`](crate::WebSocket) owns one directly; the split
//! halves share one behind a mutex (never held across an `await`).

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use wspc::{CloseCode, CloseFrame, CloseState, Connection, Event};

use crate::error::{Error, Result};
use crate::message::Message;
use crate::recv_pool;
use crate::streaming::{ChunkState, Incoming};

/// Slices handed to one vectored write.
const MAX_SLICES: usize = 64;

/// Slices offered first: enough for what is usually queued (one contiguous run of small
/// frames, or a header and a large payload), and cheap to prepare (the 64-slice array is
/// built only when these four are all used).
const FEW_SLICES: usize = 4;

/// Room offered to each read beyond the engine's [`read_hint`](wspc::Connection::read_hint)
/// (the buffer goes back to the thread's pool when the socket goes idle, so this is never
/// held by an idle connection).
const READ_SLACK: usize = 16 * 1024;

/// Which half is polling (for the shared write wakers of a split socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Reader = 0,
    Writer = 1,
}

/// Wakes every task waiting on the shared write side: the stream keeps one write waker,
/// but both halves may wait for it (the reader to send a Pong or a Close reply, the
/// writer for buffer space).
#[derive(Debug, Default)]
pub(crate) struct Fanout {
    slots: Mutex<[Option<Waker>; 2]>,
}

impl Fanout {
    fn register(&self, side: Side, waker: &Waker) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = &mut slots[side as usize];
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    pub(crate) fn wake_side(&self, side: Side) {
        let waker = self.slots.lock().unwrap_or_else(|p| p.into_inner())[side as usize].take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Wake for Fanout {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let [a, b] = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            [slots[0].take(), slots[1].take()]
        };
        for w in [a, b].into_iter().flatten() {
            w.wake();
        }
    }
}

/// The engine and its transport.
pub(crate) struct Driver<S> {
    pub(crate) io: S,
    pub(crate) conn: Connection,
    /// The engine's next timer; allocated only while one is armed.
    sleep: Option<Pin<Box<Sleep>>>,
    /// The peer's Close (or the failure) was seen; handed out once the transport is done.
    outcome: Option<Result<Option<CloseFrame>>>,
    /// The outcome was handed out: the stream has ended.
    finished: bool,
    /// Writing failed: the transport is gone.
    write_dead: bool,
    /// Set on a split socket.
    pub(crate) fanout: Option<Arc<Fanout>>,
    /// Streamed delivery: the message being assembled or skipped, a held-back Close.
    pub(crate) chunks: ChunkState,
    /// The receive buffer was grown for a large frame: free it when idle instead of
    /// keeping it in the pool.
    large_buffer: bool,
}

impl<S> std::fmt::Debug for Driver<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("role", &self.conn.role())
            .field("close_state", &self.conn.close_state())
            .field("buffered", &self.conn.buffered_amount())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// The peer's Close as the socket reports it: `None` for a Close without a code.
fn close_frame_opt(f: CloseFrame) -> Option<CloseFrame> {
    (f.code != CloseCode::EMPTY).then_some(f)
}

/// Write errors that mean the peer is gone.
fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected
            | io::ErrorKind::WriteZero
    )
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    pub(crate) fn new(io: S, conn: Connection) -> Driver<S> {
        Driver {
            io,
            conn,
            sleep: None,
            outcome: None,
            finished: false,
            write_dead: false,
            fanout: None,
            chunks: ChunkState::default(),
            large_buffer: false,
        }
    }

    fn write_limit(&self) -> usize {
        self.conn.config().limits.max_write_buffer
    }

    /// Writes everything the engine has queued, in vectored writes of up to
    /// [`MAX_SLICES`] slices (all frames queued since the last write leave together),
    /// then flushes the stream.
    fn poll_write_raw(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.has_transmit() {
            let mut few = [IoSlice::new(&[]); FEW_SLICES];
            let n = self.conn.poll_transmit(&mut few);
            let result = if n == 0 {
                break;
            } else if n < FEW_SLICES {
                // Everything queued fits in these slices.
                Pin::new(&mut self.io).poll_write_vectored(cx, &few[..n])
            } else {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let n = self.conn.poll_transmit(&mut slices);
                Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..n])
            };
            match result {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(written)) => self.conn.advance_transmit(written),
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// [`poll_write_raw`](Self::poll_write_raw), with the shared write waker on a split
    /// socket.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<io::Result<()>> {
        match self.fanout.clone() {
            None => self.poll_write_raw(cx),
            Some(fanout) => {
                fanout.register(side, cx.waker());
                let limit = self.write_limit();
                let over = self.conn.buffered_amount() > limit;
                let waker = Waker::from(fanout.clone());
                let mut fcx = Context::from_waker(&waker);
                let result = self.poll_write_raw(&mut fcx);
                if over && self.conn.buffered_amount() <= limit {
                    // The other half may be waiting for room (or, the reader, to read).
                    fanout.wake_by_ref();
                }
                result
            }
        }
    }

    /// A write failed: the transport is gone.
    fn on_write_error(&mut self, e: io::Error) -> Error {
        self.write_dead = true;
        self.conn.handle_eof();
        self.wake_other(Side::Reader);
        self.wake_other(Side::Writer);
        if is_reset(&e) {
            Error::ResetWithoutClose
        } else {
            Error::Io(e)
        }
    }

    fn wake_other(&self, side: Side) {
        if let Some(f) = &self.fanout {
            f.wake_side(side);
        }
    }

    /// Arms the sleep for the engine's next deadline. If it has passed, runs the timers
    /// that are due (reading the clock) and returns `true`: they may have produced an
    /// event or something to write.
    #[inline]
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        if self.sleep.is_none() && !self.conn.wants_time() {
            // Nothing armed, nothing to arm.
            return false;
        }
        self.poll_timers_slow(cx)
    }

    fn poll_timers_slow(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.conn.wants_time() {
            // Nothing armed any more.
            self.sleep = None;
            return false;
        }
        if self.conn.poll_timeout().is_none() {
            // A timer was armed while the time was not known: it starts now.
            self.conn.handle_timeout(Instant::now().into_std());
        }
        let mut ran = false;
        loop {
            let Some(deadline) = self.conn.poll_timeout() else {
                self.sleep = None;
                return ran;
            };
            let at = Instant::from_std(deadline);
            let sleep = match &mut self.sleep {
                Some(s) => {
                    if s.deadline() != at {
                        s.as_mut().reset(at);
                    }
                    s
                }
                None => self.sleep.insert(Box::pin(tokio::time::sleep_until(at))),
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return ran;
            }
            self.conn
                .handle_timeout(Instant::now().into_std().max(deadline));
            ran = true;
        }
    }

    /// Reads once into the engine's receive buffer (after the close, into a scratch
    /// buffer that is thrown away). Ready when something happened (data, end of input).
    fn poll_read_some(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.outcome.is_some() || self.finished {
            // The engine ignores input now; read only to see the end of the stream.
            let mut scratch = [0u8; 256];
            let mut buf = ReadBuf::new(&mut scratch);
            return match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => Poll::Ready(()),
                Poll::Ready(_) => {
                    self.conn.handle_eof();
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            };
        }
        // Offer more room than the engine expects: a read that does not fill the buffer
        // tells tokio the socket is drained (it clears the readiness), which saves the
        // read that would only return WouldBlock, and a whole medium-sized message
        // arriving on an idle socket (whose buffer was given back) is taken in one read.
        // The room follows the bytes received: the engine's hint grows with what arrived
        // of a frame, never with what its header announces.
        // Reserving (which also reclaims the room of messages already taken out) only
        // when less than half the slack is left, not on every read: it costs a call per
        // message otherwise.
        let hint = self.conn.read_hint();
        let buf = self.conn.recv_buffer_mut();
        if buf.capacity() == 0
            && let Some(kept) = recv_pool::take()
        {
            *buf = kept;
        }
        if buf.capacity() - buf.len() < hint + READ_SLACK / 2 {
            let want = hint + READ_SLACK;
            if buf.len() + want > recv_pool::MAX_POOLED_SIZE {
                self.large_buffer = true;
            }
            buf.reserve(want);
        }
        match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, buf) {
            Poll::Ready(Ok(0)) => {
                self.conn.handle_eof();
                Poll::Ready(())
            }
            Poll::Ready(Ok(_)) => Poll::Ready(()),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Poll::Ready(()),
            Poll::Ready(Err(e)) => {
                tracing::debug!("read failed: {e}");
                self.conn.handle_eof();
                Poll::Ready(())
            }
            Poll::Pending => {
                // Idle: give the receive buffer back (no memory held by idle sockets): to
                // the thread's pool for the next read, or freed if it grew large.
                if buf.is_empty() && buf.capacity() != 0 {
                    let kept = std::mem::take(buf);
                    if std::mem::take(&mut self.large_buffer) {
                        drop(kept);
                    } else {
                        recv_pool::give(kept);
                    }
                }
                Poll::Pending
            }
        }
    }

    /// The next message, whole: a streamed message's pieces are put together (bounded
    /// by the message limit, which the engine enforces). `None` once the connection is
    /// over and its outcome was handed out.
    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Option<Result<Message>>> {
        loop {
            let chunk = match self.poll_incoming(cx, side) {
                Poll::Ready(Some(Ok(Incoming::Chunk(chunk)))) => chunk,
                Poll::Ready(Some(Ok(Incoming::Message(m)))) => return Poll::Ready(Some(Ok(m))),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            };
            if let Some(message) = self.chunks.assemble(chunk) {
                return Poll::Ready(Some(message));
            }
        }
    }

    /// The next message or piece of one; `None` once the connection is over and its
    /// outcome was handed out. The peer's Close comes out once the close handshake is
    /// complete (the reply written and the transport closed as RFC 6455 says); a
    /// failure once the Close frame for it is written. Pieces of a message whose stream
    /// was dropped are skipped.
    pub(crate) fn poll_incoming(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Option<Result<Incoming>>> {
        if let Some(f) = &self.fanout {
            f.register(side, cx.waker());
        }
        if let Some(held) = self.chunks.take_held() {
            return Poll::Ready(Some(Ok(Incoming::Message(held))));
        }
        if self.finished {
            return Poll::Ready(None);
        }
        // The time, once per call: the engine runs the timers that are due (whatever
        // they produce, a keepalive failure or the close timeout, is an event picked up
        // below) and measures timers armed during this call from it. When no timer runs
        // the clock is not read: a timer armed during this call starts when
        // `poll_timers` gives the time, before waiting.
        if self.conn.wants_time() {
            self.conn.handle_timeout(Instant::now().into_std());
        } else {
            self.conn.forget_time();
        }
        loop {
            if self.finished {
                return Poll::Ready(None);
            }
            let queued_before = self.conn.buffered_amount();
            if self.outcome.is_none()
                && let Some(event) = self.conn.poll_event()
            {
                // Did the engine itself queue a reply (an automatic Pong) while parsing?
                let replied = self.conn.buffered_amount() > queued_before;
                let incoming = match event {
                    Event::Message(m) => Incoming::Message(Message::from(m)),
                    Event::Chunk(c) => match self.chunks.filter(c) {
                        Some(c) => Incoming::Chunk(c),
                        None => continue,
                    },
                    Event::Ping(p) => Incoming::Message(Message::Ping(p)),
                    Event::Pong(p) => Incoming::Message(Message::Pong(p)),
                    Event::Close(frame) => {
                        self.outcome = Some(Ok(close_frame_opt(frame)));
                        self.wake_other(Side::Writer);
                        continue;
                    }
                    Event::Failed(e) => {
                        self.outcome = Some(Err(Error::from(e)));
                        self.wake_other(Side::Writer);
                        continue;
                    }
                };
                if replied && !self.write_dead {
                    // A Pong is owed: try to send it now. Messages the caller queued
                    // (`feed`) wait until no event is left, so that everything produced
                    // in one wake-up leaves in one vectored write.
                    if let Poll::Ready(Err(e)) = self.poll_write_out(cx, side) {
                        let _ = self.on_write_error(e);
                    }
                }
                return Poll::Ready(Some(Ok(incoming)));
            }
            if self.conn.has_transmit() && !self.write_dead {
                match self.poll_write_out(cx, side) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => {
                        let _ = self.on_write_error(e);
                        continue;
                    }
                    Poll::Pending => {}
                }
            }
            if self.write_dead || self.conn.should_close_transport() {
                if !self.write_dead {
                    // FIN (and TLS close_notify); errors do not matter any more.
                    if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() {
                        self.poll_timers(cx);
                        return Poll::Pending;
                    }
                }
                self.finished = true;
                self.sleep = None;
                self.wake_other(Side::Writer);
                return Poll::Ready(match self.outcome.take() {
                    Some(Ok(frame)) => Some(Ok(Incoming::Message(Message::Close(frame)))),
                    Some(Err(e)) => Some(Err(e)),
                    None => None,
                });
            }
            if (self.conn.wants_read() || self.outcome.is_some())
                && self.poll_read_some(cx).is_ready()
            {
                continue;
            }
            // About to wait: the sleep must be armed for the deadline as it is now (a
            // Close in this call armed the close timer); one already due runs now.
            if self.poll_timers(cx) {
                continue;
            }
            return Poll::Pending;
        }
    }

    /// Whether a message can be queued: waits (writing) while the write buffer is over
    /// its limit.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<()>> {
        loop {
            if self.finished || self.conn.close_state() != CloseState::Open {
                return Poll::Ready(Err(Error::Closed));
            }
            if self.write_dead {
                return Poll::Ready(Err(Error::ResetWithoutClose));
            }
            let buffered = self.conn.buffered_amount();
            if buffered == 0 || buffered < self.write_limit() {
                return Poll::Ready(Ok(()));
            }
            match self.poll_write_out(cx, side) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.on_write_error(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Queues a message (no I/O).
    pub(crate) fn start_send(&mut self, message: Message) -> Result<()> {
        if self.finished {
            return Err(Error::Closed);
        }
        match message {
            Message::Text(t) => self.conn.send(wspc::Message::Text(t))?,
            Message::Binary(b) => self.conn.send(wspc::Message::Binary(b))?,
            Message::Ping(p) => self.conn.ping(p)?,
            Message::Pong(p) => self.conn.pong(p)?,
            Message::Close(frame) => {
                let (code, reason) = match &frame {
                    Some(f) => (f.code, f.reason.as_str()),
                    None => (CloseCode::EMPTY, ""),
                };
                self.conn.close(code, reason)?;
                // The close timer is armed: the reader has to re-arm its sleep.
                self.wake_other(Side::Reader);
            }
        }
        Ok(())
    }

    /// Queues a prepared message (no I/O).
    pub(crate) fn start_send_prepared(&mut self, message: &wspc::PreparedMessage) -> Result<()> {
        if self.finished {
            return Err(Error::Closed);
        }
        self.conn.send_prepared(message)?;
        Ok(())
    }

    /// Queues one fragment of a message (no I/O).
    pub(crate) fn start_fragment(
        &mut self,
        kind: wspc::MessageKind,
        data: bytes::Bytes,
        fin: bool,
    ) -> Result<()> {
        if self.finished {
            return Err(Error::Closed);
        }
        self.conn.send_fragment(kind, data, fin)?;
        Ok(())
    }

    /// Writes everything queued.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<()>> {
        if self.write_dead {
            return Poll::Ready(Err(if self.finished {
                Error::Closed
            } else {
                Error::ResetWithoutClose
            }));
        }
        if self.finished {
            return Poll::Ready(Err(Error::Closed));
        }
        match self.poll_write_out(cx, side) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.on_write_error(e))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Drives the connection until it is over, dropping messages; the peer's Close frame
    /// (or the failure) is the result.
    pub(crate) fn poll_until_closed(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<Result<Option<CloseFrame>>> {
        loop {
            match self.poll_incoming(cx, side) {
                Poll::Ready(Some(Ok(Incoming::Message(Message::Close(frame))))) => {
                    return Poll::Ready(Ok(frame));
                }
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => return Poll::Ready(Err(Error::Closed)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }
}
