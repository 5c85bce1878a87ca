//! The Redis broker: `--broker redis://HOST:PORT[/DB]` (or `rediss://`, TLS, trusting
//! the system's roots, the webpki roots or `--broker-ca`; a password as
//! `redis://:PASSWORD@HOST`) joins every `wspc serve` using the same Redis, so a
//! message published on a topic reaches that topic's subscribers on every server.
//!
//! - **Channels**: topic `T` is the Redis channel `wspc:T`. Each process subscribes only
//!   to the topics its clients use, and unsubscribes when the last one leaves.
//! - **Once, in order**: local subscribers get a message straight from its sender's loop;
//!   the copy Redis sends back to this process is recognised by its origin (a random
//!   64-bit id per process, prefixed to every payload with a kind byte) and skipped.
//!   One task publishes everything in FIFO order over one connection (pipelined in
//!   batches), and Redis delivers a connection's publishes in order, so messages from one
//!   sender arrive in order everywhere.
//! - **Outage**: local delivery never depends on Redis. When the connection is lost the
//!   task logs it, retries with exponential backoff (100 ms doubling to 5 s), and on
//!   success subscribes again to every topic in use and logs the recovery. Messages
//!   published while Redis is unreachable are **dropped** for remote subscribers (not
//!   buffered: after an outage, old chat lines or prices arriving late are worse than
//!   missing ones), and counted in `wspc_broker_publish_dropped_total`; so are messages
//!   beyond [`OUTGOING`] waiting to be published.

use std::collections::hash_map::RandomState;
use std::future::poll_fn;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_core::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use wspc_tokio::{MessageKind, PreparedMessage, Utf8Bytes};

use super::metrics::BrokerMetrics;
use super::topics::Shared;
use super::{ServeError, State};

/// Messages waiting to be published, at most.
pub(crate) const OUTGOING: usize = 8192;
/// Publishes sent to Redis in one pipeline, at most.
const BATCH: usize = 256;
/// Channel prefix.
const PREFIX: &str = "wspc:";
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

enum Command {
    Subscribe(Arc<str>),
    Unsubscribe(Arc<str>),
}

struct Outgoing {
    topic: Arc<str>,
    message: Shared,
}

struct HandleInner {
    commands: mpsc::UnboundedSender<Command>,
    outgoing: mpsc::Sender<Outgoing>,
    up: AtomicBool,
    origin: u64,
}

/// What connections use to reach the broker task.
#[derive(Clone)]
pub(crate) struct BrokerHandle(Arc<HandleInner>);

impl BrokerHandle {
    /// The first local subscriber of `topic` arrived.
    pub(crate) fn subscribe(&self, topic: Arc<str>) {
        let _ = self.0.commands.send(Command::Subscribe(topic));
    }

    /// The last local subscriber of `topic` left.
    pub(crate) fn unsubscribe(&self, topic: Arc<str>) {
        let _ = self.0.commands.send(Command::Unsubscribe(topic));
    }

    /// Publishes `message` to the other servers (dropped and counted while Redis is down
    /// or the queue is full).
    pub(crate) fn publish(&self, topic: &Arc<str>, message: &Shared, metrics: &BrokerMetrics) {
        if !self.0.up.load(Ordering::Acquire) {
            metrics.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let out = Outgoing {
            topic: topic.clone(),
            message: message.clone(),
        };
        if self.0.outgoing.try_send(out).is_err() {
            metrics.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The broker task, before it runs.
pub(crate) struct Broker {
    client: redis::Client,
    handle: BrokerHandle,
    commands: mpsc::UnboundedReceiver<Command>,
    outgoing: mpsc::Receiver<Outgoing>,
    /// The URL without its password, for the log.
    shown: String,
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Encodes a message for Redis: origin, kind, payload.
fn encode(origin: u64, message: &PreparedMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + message.payload().len());
    out.extend_from_slice(&origin.to_le_bytes());
    out.push(match message.kind() {
        MessageKind::Text => b't',
        MessageKind::Binary => b'b',
    });
    out.extend_from_slice(message.payload());
    out
}

/// Decodes a message from Redis: its origin and the message (`None` if malformed).
fn decode(bytes: &[u8]) -> Option<(u64, wspc::Message)> {
    if bytes.len() < 9 {
        return None;
    }
    let origin = u64::from_le_bytes(bytes[..8].try_into().ok()?);
    let payload = wspc::bytes::Bytes::copy_from_slice(&bytes[9..]);
    let message = match bytes[8] {
        b't' => wspc::Message::Text(Utf8Bytes::try_from(payload).ok()?),
        b'b' => wspc::Message::Binary(payload),
        _ => return None,
    };
    Some((origin, message))
}

impl Broker {
    /// A broker for `url` (checked now; connected when it runs); `ca`: PEM certificates
    /// to trust for `rediss://` instead of the system's and the webpki roots.
    pub(crate) fn new(url: &str, ca: Option<Vec<u8>>) -> Result<Broker, ServeError> {
        let client = match ca {
            None => redis::Client::open(url),
            Some(root_cert) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                },
            ),
        }
        .map_err(|e| ServeError::Broker(e.to_string()))?;
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (outgoing_tx, outgoing) = mpsc::channel(OUTGOING);
        let handle = BrokerHandle(Arc::new(HandleInner {
            commands: commands_tx,
            outgoing: outgoing_tx,
            up: AtomicBool::new(false),
            origin: RandomState::new().hash_one(std::process::id()),
        }));
        Ok(Broker {
            client,
            handle,
            commands,
            outgoing,
            shown: redact(url),
        })
    }

    pub(crate) fn handle(&self) -> BrokerHandle {
        self.handle.clone()
    }

    /// Connects, serves, and reconnects after every loss, until aborted.
    pub(crate) async fn run(mut self, state: Arc<State>) {
        let metrics = &state.metrics.broker;
        let mut backoff = BACKOFF_MIN;
        let mut down_since: Option<(Instant, u64)> = None;
        let mut first = true;
        loop {
            match self.connect(&state).await {
                Ok((sink, stream, publisher)) => {
                    backoff = BACKOFF_MIN;
                    self.handle.0.up.store(true, Ordering::Release);
                    metrics.up.store(1, Ordering::Relaxed);
                    match down_since.take() {
                        Some((since, dropped)) => tracing::info!(
                            "broker {}: connected again after {:.1} s, {} topics resubscribed, {} publishes dropped meanwhile",
                            self.shown,
                            since.elapsed().as_secs_f64(),
                            state.topics.names().len(),
                            metrics.dropped.load(Ordering::Relaxed) - dropped,
                        ),
                        None => tracing::info!("broker {}: connected", self.shown),
                    }
                    let e = self.serve(&state, sink, stream, publisher).await;
                    self.handle.0.up.store(false, Ordering::Release);
                    metrics.up.store(0, Ordering::Relaxed);
                    metrics.reconnects.fetch_add(1, Ordering::Relaxed);
                    // What was waiting to be published is lost with the connection.
                    while self.outgoing.try_recv().is_ok() {
                        metrics.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::warn!(
                        "broker {}: connection lost ({e}); local delivery continues, reconnecting",
                        self.shown
                    );
                    down_since = Some((Instant::now(), metrics.dropped.load(Ordering::Relaxed)));
                }
                Err(e) => {
                    if first || backoff == BACKOFF_MIN {
                        tracing::warn!(
                            "broker {}: unreachable ({e}); local delivery continues, retrying",
                            self.shown
                        );
                    } else {
                        tracing::debug!("broker {}: still unreachable ({e})", self.shown);
                    }
                    if down_since.is_none() {
                        down_since =
                            Some((Instant::now(), metrics.dropped.load(Ordering::Relaxed)));
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
            first = false;
            // Subscription changes made while down are covered by the resubscription.
            while self.commands.try_recv().is_ok() {}
        }
    }

    /// Opens the subscriber and publisher connections and subscribes to every topic.
    async fn connect(
        &self,
        state: &State,
    ) -> redis::RedisResult<(
        redis::aio::PubSubSink,
        redis::aio::PubSubStream,
        redis::aio::MultiplexedConnection,
    )> {
        let timeout = |what: &'static str| {
            redis::RedisError::from((redis::ErrorKind::Io, what, "timed out".to_string()))
        };
        let pubsub = tokio::time::timeout(CONNECT_TIMEOUT, self.client.get_async_pubsub())
            .await
            .map_err(|_| timeout("connect"))??;
        let publisher = tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.client.get_multiplexed_async_connection(),
        )
        .await
        .map_err(|_| timeout("connect"))??;
        let (mut sink, stream) = pubsub.split();
        let names = state.topics.names();
        for chunk in names.chunks(512) {
            let channels: Vec<String> = chunk.iter().map(|t| format!("{PREFIX}{t}")).collect();
            sink.subscribe(&channels).await?;
        }
        Ok((sink, stream, publisher))
    }

    /// Serves one connection until it fails.
    async fn serve(
        &mut self,
        state: &State,
        mut sink: redis::aio::PubSubSink,
        stream: redis::aio::PubSubStream,
        mut publisher: redis::aio::MultiplexedConnection,
    ) -> String {
        let metrics = &state.metrics.broker;
        let origin = self.handle.0.origin;
        let mut stream = std::pin::pin!(stream);
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                msg = poll_fn(|cx| stream.as_mut().poll_next(cx)) => {
                    let Some(msg) = msg else { return "the subscriber connection closed".into() };
                    let Some(topic) = msg.get_channel_name().strip_prefix(PREFIX) else { continue };
                    let Some((from, message)) = decode(msg.get_payload_bytes()) else {
                        tracing::debug!("broker: malformed message on {topic}");
                        continue;
                    };
                    if from == origin {
                        continue; // delivered locally already
                    }
                    metrics.received.fetch_add(1, Ordering::Relaxed);
                    if let Some(t) = state.topics.get(topic) {
                        t.publish(&Arc::new(PreparedMessage::new(message)), None, state.metrics.shard());
                    }
                }
                command = self.commands.recv() => {
                    let r = match command {
                        Some(Command::Subscribe(t)) => sink.subscribe(format!("{PREFIX}{t}")).await,
                        Some(Command::Unsubscribe(t)) => sink.unsubscribe(format!("{PREFIX}{t}")).await,
                        None => return "the server is stopping".into(),
                    };
                    if let Err(e) = r {
                        return e.to_string();
                    }
                }
                n = self.outgoing.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        return "the server is stopping".into();
                    }
                    let mut pipe = redis::pipe();
                    for out in batch.drain(..) {
                        pipe.cmd("PUBLISH")
                            .arg(format!("{PREFIX}{}", out.topic))
                            .arg(encode(origin, &out.message))
                            .ignore();
                    }
                    if let Err(e) = pipe.query_async::<()>(&mut publisher).await {
                        metrics.dropped.fetch_add(n as u64, Ordering::Relaxed);
                        return e.to_string();
                    }
                    metrics.published.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_with_their_origin() {
        let text = PreparedMessage::new("héllo");
        let (origin, m) = decode(&encode(42, &text)).unwrap();
        assert_eq!((origin, m), (42, wspc::Message::text("héllo")));
        let bin = PreparedMessage::new(wspc::Message::binary(vec![0u8, 255]));
        assert_eq!(
            decode(&encode(7, &bin)).unwrap(),
            (7, wspc::Message::binary(vec![0u8, 255]))
        );
        assert!(decode(b"short").is_none());
        let mut bad = encode(1, &text);
        bad[8] = b'x';
        assert!(decode(&bad).is_none());
        let mut invalid = encode(1, &text);
        invalid.push(0xff);
        assert!(decode(&invalid).is_none(), "text must stay UTF-8");
    }

    #[test]
    fn passwords_stay_out_of_the_log() {
        assert_eq!(
            redact("redis://:s3cret@host:6379/0"),
            "redis://:***@host:6379/0"
        );
        assert_eq!(redact("rediss://user:pw@h/"), "rediss://user:***@h/");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
