//! Timers driven by the time the caller passes in: the keepalive Ping, its Pong timeout,
//! the close timeout, the progress deadline of an incomplete message, and parking an
//! idle extension. The engine never reads a clock.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::Keepalive;
use crate::error::Error;

use super::{CloseState, Connection};

#[derive(Debug)]
pub(crate) struct Timers {
    /// The last time the caller gave; `None` until the first `handle_timeout`.
    now: Option<Instant>,
    /// Keepalive's state, when it is configured (boxed: most connections run without,
    /// and the connection is moved around whole).
    keepalive: Option<Box<KeepaliveTimers>>,
    close_deadline: Option<Instant>,
    /// When to [`park`](crate::extension::Extension::park) the extension.
    park_deadline: Option<Instant>,
    /// The park timer was armed before any time was known: it starts at the next one.
    park_deferred: Option<Duration>,
    /// The close timer was armed before any time was known: it starts at the next one.
    close_deferred: bool,
    /// When the incomplete frame or message must be complete
    /// ([`Config::message_timeout`](crate::Config)).
    progress: Progress,
}

#[derive(Debug)]
struct KeepaliveTimers {
    config: Keepalive,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    pings_sent: u32,
}

/// The progress deadline's states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    /// Nothing incomplete is held (or no deadline is configured).
    Idle,
    /// Something incomplete arrived before any time was known: the deadline starts at
    /// the next time given.
    Deferred,
    /// Something incomplete is held; it must be complete by then.
    Due(Instant),
}

impl Timers {
    pub(crate) fn new(keepalive: Option<Keepalive>) -> Timers {
        Timers {
            now: None,
            keepalive: keepalive.map(|config| {
                Box::new(KeepaliveTimers {
                    config,
                    next_ping: None,
                    pong_deadline: None,
                    pings_sent: 0,
                })
            }),
            close_deadline: None,
            park_deadline: None,
            park_deferred: None,
            close_deferred: false,
            progress: Progress::Idle,
        }
    }

    /// The last time the caller gave, if any.
    #[inline]
    pub(crate) fn now(&self) -> Option<Instant> {
        self.now
    }

    /// Whether a timer is armed, or waits for the next time given to start.
    #[inline]
    fn active(&self) -> bool {
        self.keepalive.is_some()
            || self.close_deadline.is_some()
            || self.close_deferred
            || self.park_deadline.is_some()
            || self.park_deferred.is_some()
            || self.progress != Progress::Idle
    }

    fn progress_deadline(&self) -> Option<Instant> {
        match self.progress {
            Progress::Due(at) => Some(at),
            _ => None,
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [
            self.keepalive.as_ref().and_then(|k| k.next_ping),
            self.keepalive.as_ref().and_then(|k| k.pong_deadline),
            self.close_deadline,
            self.park_deadline,
            self.progress_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The extension encoded a message: park it once it has been idle for `after`,
    /// measured from the last time given (without one yet, from the next).
    #[inline]
    pub(crate) fn arm_park(&mut self, after: Option<Duration>) {
        if let Some(after) = after {
            match self.now {
                Some(now) => self.park_deadline = Some(now + after),
                None => self.park_deferred = Some(after),
            }
        }
    }
}

impl Connection {
    /// Whether the engine has a use for the current time: a timer is armed (or was
    /// armed while no time was known and starts at the next one), keepalive runs, or
    /// frames are being counted against the empty-frame window.
    ///
    /// When this is `false`, [`handle_timeout`](Connection::handle_timeout) would only
    /// record the time. A caller that wants to skip reading the clock then calls
    /// [`forget_time`](Connection::forget_time) instead: a timer armed afterwards (the
    /// close timer when a Close arrives, the progress deadline of a message that
    /// arrives in part) waits for the next time given, and this turns `true` — give the
    /// time before waiting for I/O, so the timer starts right away.
    ///
    /// ```
    /// use std::time::Instant;
    /// use wspc::{CloseCode, Config, Connection, Role};
    ///
    /// let mut conn = Connection::new(Role::Server, Config::default());
    /// assert!(!conn.wants_time()); // no keepalive, nothing armed
    /// conn.forget_time();
    /// conn.close(CloseCode::SUCCESS, "bye").unwrap();
    /// assert!(conn.wants_time()); // the close timer waits for the time
    /// assert_eq!(conn.poll_timeout(), None);
    /// let now = Instant::now();
    /// conn.handle_timeout(now);
    /// assert_eq!(conn.poll_timeout(), Some(now + conn.config().close_timeout));
    /// ```
    #[inline]
    pub fn wants_time(&self) -> bool {
        self.timers.active() || self.recv.counting_empty_frames()
    }

    /// Forgets the last time given: timers armed from now on start at the next
    /// [`handle_timeout`](Connection::handle_timeout) instead of being measured from a
    /// time that may be old. See [`wants_time`](Connection::wants_time).
    #[inline]
    pub fn forget_time(&mut self) {
        self.timers.now = None;
    }

    pub(super) fn on_timeout(&mut self, now: Instant) {
        let t = &mut self.timers;
        t.now = Some(now);
        if t.close_deferred {
            t.close_deferred = false;
            t.close_deadline = Some(now + self.config.close_timeout);
        }
        if let Some(after) = t.park_deferred.take() {
            t.park_deadline = Some(now + after);
        }
        if let (Some(ka), CloseState::Open) = (t.keepalive.as_mut(), self.close.state)
            && ka.next_ping.is_none()
        {
            ka.next_ping = Some(now + ka.config.interval);
        }
        if let (Progress::Deferred, Some(timeout)) = (t.progress, self.config.message_timeout) {
            t.progress = Progress::Due(now + timeout);
        }
        if self.timers.progress_deadline().is_some_and(|d| d <= now) {
            self.timers.progress = Progress::Idle;
            if self.recv.accepting_input() && self.recv.incomplete() {
                let event = self.fail(Error::MessageTimeout);
                self.pending.get_or_insert_with(|| Box::new(event));
            }
        }

        if self.timers.park_deadline.is_some_and(|d| d <= now) {
            self.timers.park_deadline = None;
            // Not in the middle of a message either way: its state was granted for the
            // whole message, and a decoder's state within one cannot be rebuilt (the
            // message's end arms the timer again).
            if !self.send.message_open()
                && !self.recv.message_open()
                && let Some(ext) = self.ext.as_mut()
            {
                ext.park();
                self.sync_ext_state();
            }
        }
        if self.timers.close_deadline.is_some_and(|d| d <= now) {
            self.timers.close_deadline = None;
            if let Some(event) = self.on_close_timeout() {
                self.pending.get_or_insert_with(|| Box::new(event));
            }
        }
        self.on_keepalive_timeout(now);
    }

    fn on_keepalive_timeout(&mut self, now: Instant) {
        let Some(ka) = self.timers.keepalive.as_mut() else {
            return;
        };
        if ka.pong_deadline.is_some_and(|d| d <= now) {
            ka.pong_deadline = None;
            if self.close.state == CloseState::Open {
                let event = self.fail(Error::KeepaliveTimeout);
                self.pending.get_or_insert_with(|| Box::new(event));
            }
        }
        let Some(ka) = self.timers.keepalive.as_mut() else {
            return;
        };
        if ka.next_ping.is_some_and(|at| at <= now) && self.close.state == CloseState::Open {
            ka.next_ping = Some(now + ka.config.interval);
            if ka.pong_deadline.is_none() {
                ka.pings_sent = ka.pings_sent.wrapping_add(1);
                let payload = Bytes::copy_from_slice(&ka.pings_sent.to_be_bytes());
                let timeout = ka.config.timeout;
                if self.ping(payload).is_ok()
                    && let Some(ka) = self.timers.keepalive.as_mut()
                {
                    ka.pong_deadline = Some(now + timeout);
                }
            }
        }
    }

    /// Starts the close timer (on leaving the open state); keepalive stops.
    pub(super) fn arm_close_timer(&mut self) {
        let t = &mut self.timers;
        if let Some(ka) = t.keepalive.as_mut() {
            ka.next_ping = None;
            ka.pong_deadline = None;
        }
        match t.now {
            Some(now) => t.close_deadline = Some(now + self.config.close_timeout),
            None => t.close_deferred = true,
        }
    }

    /// A frame arrived: the peer is alive, so the keepalive Ping can wait.
    #[inline]
    pub(super) fn note_activity(&mut self) {
        if let (Some(ka), Some(now), CloseState::Open) = (
            self.timers.keepalive.as_mut(),
            self.timers.now,
            self.close.state,
        ) {
            ka.next_ping = Some(now + ka.config.interval);
        }
    }

    /// The receiver needs more input: if it holds an incomplete frame or message, its
    /// progress deadline runs (from the first time this is seen); otherwise none does.
    #[inline]
    pub(super) fn track_progress(&mut self) {
        let Some(timeout) = self.config.message_timeout else {
            return;
        };
        let t = &mut self.timers;
        if !self.recv.incomplete() {
            t.progress = Progress::Idle;
        } else if t.progress == Progress::Idle {
            t.progress = match t.now {
                Some(now) => Progress::Due(now + timeout),
                None => Progress::Deferred,
            };
        }
    }

    /// A message (or a control frame outside one) is complete: the deadline starts over.
    #[inline]
    pub(super) fn clear_progress(&mut self) {
        self.timers.progress = Progress::Idle;
    }

    /// A Pong arrived: the keepalive Ping is answered.
    pub(super) fn note_pong(&mut self) {
        if let Some(ka) = self.timers.keepalive.as_mut() {
            ka.pong_deadline = None;
        }
    }
}
