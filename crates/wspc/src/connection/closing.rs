//! The closing handshake (RFC 6455 §7): who sent which Close frame, failing the
//! connection, and when the transport should be closed (the server closes TCP first).

use crate::close::{CloseCode, CloseFrame};
use crate::error::{Error, SendError};
use crate::message::{Event, Utf8Bytes};

use super::{Connection, Role};

/// Where a connection is in the closing handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CloseState {
    /// Data flows both ways.
    #[default]
    Open,
    /// We sent a Close frame and wait for the peer's. Received data is still handed out;
    /// no more data may be sent.
    CloseSent,
    /// The peer's Close frame arrived and ours is not queued yet (only when
    /// [`Config::auto_close_reply`](crate::Config) is off): send it with
    /// [`Connection::close`].
    CloseReceived,
    /// Both Close frames were exchanged: the close handshake is complete.
    Closed,
    /// The connection failed ([`Event::Failed`]); a Close frame with the failure's code was
    /// queued if the connection was still open.
    Failed,
}

#[derive(Debug, Default)]
pub(crate) struct Closing {
    pub(crate) state: CloseState,
    /// Our automatic reply to the peer's Close, encoded only when the transport asks for
    /// bytes, so that the caller can still choose another code.
    pub(crate) pending_reply: Option<Box<CloseFrame>>,
    /// The close timer ran out: the transport is to be abandoned.
    pub(crate) transport_done: bool,
    /// The end of input was reported as an event (or needs none).
    eof_handled: bool,
}

impl Closing {
    #[inline]
    pub(crate) fn pending_reply_len(&self) -> usize {
        self.pending_reply
            .as_ref()
            .map_or(0, |f| 2 + f.encode().len())
    }
}

impl Connection {
    /// Starts the closing handshake with `code` and `reason` (at most 123 bytes), or
    /// answers the peer's Close. [`CloseCode::EMPTY`] (1005) with an empty reason sends a
    /// Close frame without payload. Codes that never go on the wire (1004–1006, 1015, …)
    /// are refused.
    ///
    /// While an automatic reply to the peer's Close is still unwritten, this replaces it.
    /// After our Close is sent no data may follow; Pings and Pongs still may.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        let frame = CloseFrame::new(code, reason)?;
        match self.close.state {
            CloseState::Open => {
                self.queue_close_frame(&frame);
                self.set_close_state(CloseState::CloseSent);
                self.arm_close_timer();
            }
            CloseState::CloseReceived => {
                self.queue_close_frame(&frame);
                self.set_close_state(CloseState::Closed);
                self.arm_close_timer();
            }
            CloseState::Closed if self.close.pending_reply.is_some() => {
                self.close.pending_reply = Some(Box::new(frame));
            }
            _ => return Err(SendError::Closed),
        }
        Ok(())
    }

    /// Where the connection is in the closing handshake.
    pub fn close_state(&self) -> CloseState {
        self.close.state
    }

    /// Whether the caller should now close the transport (after writing everything
    /// pending, which this waits for). The server closes first once the Close frames
    /// are exchanged or the connection failed; the client waits for the server to do so
    /// (the end of input) and gives up after the close timeout.
    #[inline]
    pub fn should_close_transport(&self) -> bool {
        if self.close.transport_done {
            return true;
        }
        match self.close.state {
            CloseState::Closed | CloseState::Failed => {
                self.buffered_amount() == 0
                    && (self.role == Role::Server
                        || self.config.client_closes_transport
                        || self.recv.eof)
            }
            _ => false,
        }
    }

    /// Moves the closing handshake on. Once it is complete or the connection failed, no
    /// message will be encoded or decoded again: the extension's state is freed (and
    /// given back to the budget) now rather than when the connection is dropped.
    fn set_close_state(&mut self, state: CloseState) {
        self.close.state = state;
        if matches!(state, CloseState::Closed | CloseState::Failed)
            && let Some(ext) = self.ext.as_mut()
        {
            ext.release();
            self.sync_ext_state();
        }
    }

    /// Handles the peer's Close frame.
    pub(super) fn on_close_frame(&mut self, frame: CloseFrame) -> Event {
        match self.close.state {
            CloseState::Open => {
                if self.config.auto_close_reply {
                    // The same code and reason, as python `websockets` and node `ws` do
                    // (a Close without a code is answered by one without a code).
                    self.close.pending_reply = Some(Box::new(frame.clone()));
                    self.set_close_state(CloseState::Closed);
                    self.arm_close_timer();
                } else {
                    self.set_close_state(CloseState::CloseReceived);
                }
            }
            CloseState::CloseSent => {
                self.set_close_state(CloseState::Closed);
                self.arm_close_timer();
            }
            _ => {}
        }
        self.recv.stop();
        Event::Close(frame)
    }

    /// Fails the connection: queues a Close frame with the error's code (if ours was not
    /// sent yet and the code may go on the wire), stops reading, and returns the event.
    pub(super) fn fail(&mut self, error: Error) -> Event {
        let code = error.close_code();
        if matches!(
            self.close.state,
            CloseState::Open | CloseState::CloseReceived
        ) && code.is_sendable()
        {
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(error.close_reason()),
            };
            self.queue_close_frame(&frame);
        }
        self.set_close_state(CloseState::Failed);
        self.close.pending_reply = None;
        self.recv.stop();
        self.arm_close_timer();
        Event::Failed(error)
    }

    /// The input ended and everything before it was processed.
    pub(super) fn on_eof(&mut self) -> Option<Event> {
        if self.close.eof_handled {
            return None;
        }
        self.close.eof_handled = true;
        match self.close.state {
            CloseState::Open | CloseState::CloseSent => {
                // The peer is gone: nothing more will be read, so nothing is worth writing.
                self.outbox.clear();
                self.set_close_state(CloseState::Failed);
                self.recv.stop();
                Some(Event::Failed(Error::ConnectionLost))
            }
            CloseState::CloseReceived => {
                self.set_close_state(CloseState::Closed);
                None
            }
            CloseState::Closed | CloseState::Failed => None,
        }
    }

    /// The close timer ran out.
    pub(super) fn on_close_timeout(&mut self) -> Option<Event> {
        self.close.transport_done = true;
        self.close.pending_reply = None;
        self.outbox.clear();
        self.recv.stop();
        match self.close.state {
            CloseState::CloseSent => {
                self.set_close_state(CloseState::Failed);
                Some(Event::Failed(Error::CloseTimeout))
            }
            _ => None,
        }
    }

    /// Encodes the automatic Close reply if it is still pending.
    pub(super) fn flush_pending_close(&mut self) {
        if let Some(frame) = self.close.pending_reply.take() {
            self.queue_close_frame(&frame);
        }
    }
}
