//! Topics and the fan-out.
//!
//! A broadcast client subscribes to the topic named by its URL path (`/rooms/lobby` →
//! `rooms/lobby`, `/` → the default topic `""`). Publishing a message wraps it once in an
//! `Arc<PreparedMessage>` and hands a pointer to each subscriber's bounded queue: the
//! payload is never copied per subscriber, and a permessage-deflate compression is made
//! once and shared by every subscriber that can read it (see `wspc::PreparedMessage`).
//!
//! Locks: the registry is split into [`SHARDS`] maps, each behind its own mutex, taken
//! only when a client subscribes or leaves (or a message from the broker looks its topic
//! up). Publishing takes the topic's own read lock — a client holds its topic, so there is
//! no global lock on the hot path. Each subscriber's queue is a bounded channel; when it
//! is full, the subscriber is marked overflowed and woken, and its loop closes it with 1008
//! at once, whether or not it is reading.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::{Notify, mpsc};
use wspc_tokio::PreparedMessage;

use super::broker::BrokerHandle;
use super::metrics::Shard;

/// Registry shards.
const SHARDS: usize = 16;

/// A message on its way to subscribers.
pub(crate) type Shared = Arc<PreparedMessage>;

/// One client's place in a topic.
pub(crate) struct Subscriber {
    pub(crate) id: u64,
    queue: mpsc::Sender<Shared>,
    /// Its queue overflowed: it is to be closed with 1008.
    pub(crate) overflowed: AtomicBool,
    /// Wakes its loop when it overflowed (it may be waiting on a full socket).
    pub(crate) kick: Notify,
}

/// The subscribers of one topic.
pub(crate) struct Topic {
    pub(crate) name: Arc<str>,
    subscribers: RwLock<Vec<Arc<Subscriber>>>,
}

impl Topic {
    /// Sends `message` to every subscriber (but `skip`); returns how many got it.
    pub(crate) fn publish(&self, message: &Shared, skip: Option<u64>, shard: &Shard) -> usize {
        let subscribers = self.subscribers.read().unwrap_or_else(|p| p.into_inner());
        let mut delivered = 0;
        for s in subscribers.iter() {
            if Some(s.id) == skip {
                continue;
            }
            match s.queue.try_send(message.clone()) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    if !s.overflowed.swap(true, Ordering::AcqRel) {
                        shard.slow_consumers.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            id = s.id,
                            topic = %self.name,
                            "broadcast queue full: closing the slow client with 1008"
                        );
                        s.kick.notify_one();
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        delivered
    }

    fn len(&self) -> usize {
        self.subscribers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

/// One shard of the registry: topic name → topic.
type Registry = Mutex<HashMap<Arc<str>, Arc<Topic>>>;

/// Every topic with a subscriber in this process.
pub(crate) struct Topics {
    shards: Box<[Registry]>,
    broker: Option<BrokerHandle>,
}

/// A subscription, ended by [`Topics::unsubscribe`].
pub(crate) struct Subscription {
    pub(crate) topic: Arc<Topic>,
    pub(crate) me: Arc<Subscriber>,
    pub(crate) queue: mpsc::Receiver<Shared>,
}

/// The topic of a request path.
pub(crate) fn topic_of(path: &str) -> &str {
    path.strip_prefix('/').unwrap_or(path)
}

impl Topics {
    pub(crate) fn new(broker: Option<BrokerHandle>) -> Topics {
        Topics {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            broker,
        }
    }

    fn shard(&self, name: &str) -> &Registry {
        let mut h = DefaultHasher::new();
        name.hash(&mut h);
        &self.shards[h.finish() as usize % SHARDS]
    }

    /// The broker, when servers are joined.
    pub(crate) fn broker(&self) -> Option<&BrokerHandle> {
        self.broker.as_ref()
    }

    pub(crate) fn has_broker(&self) -> bool {
        self.broker.is_some()
    }

    /// Subscribes client `id` to `name` with a queue of `capacity` messages.
    pub(crate) fn subscribe(&self, name: &str, id: u64, capacity: usize) -> Subscription {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let me = Arc::new(Subscriber {
            id,
            queue: tx,
            overflowed: AtomicBool::new(false),
            kick: Notify::new(),
        });
        let mut map = self.shard(name).lock().unwrap_or_else(|p| p.into_inner());
        let topic = match map.get(name) {
            Some(t) => t.clone(),
            None => {
                let name: Arc<str> = Arc::from(name);
                let t = Arc::new(Topic {
                    name: name.clone(),
                    subscribers: RwLock::new(Vec::new()),
                });
                map.insert(name.clone(), t.clone());
                if let Some(b) = &self.broker {
                    b.subscribe(name);
                }
                t
            }
        };
        topic
            .subscribers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(me.clone());
        drop(map);
        Subscription {
            topic,
            me,
            queue: rx,
        }
    }

    /// Ends a subscription; the last one out of a topic removes it.
    pub(crate) fn unsubscribe(&self, sub: &Subscription) {
        let mut map = self
            .shard(&sub.topic.name)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut subs = sub
            .topic
            .subscribers
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(i) = subs.iter().position(|s| Arc::ptr_eq(s, &sub.me)) {
            subs.swap_remove(i);
        }
        if subs.is_empty() {
            drop(subs);
            map.remove(&sub.topic.name);
            if let Some(b) = &self.broker {
                b.unsubscribe(sub.topic.name.clone());
            }
        }
    }

    /// The topic called `name`, if it has subscribers here.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Topic>> {
        self.shard(name)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Every topic name (for the broker's resubscription).
    pub(crate) fn names(&self) -> Vec<Arc<str>> {
        self.shards
            .iter()
            .flat_map(|s| {
                s.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// (topics, the `n` largest with their subscriber counts, subscribers of the rest).
    pub(crate) fn largest(&self, n: usize) -> (usize, Vec<(String, usize)>, usize) {
        let mut all: Vec<(String, usize)> = Vec::new();
        for shard in self.shards.iter() {
            let map = shard.lock().unwrap_or_else(|p| p.into_inner());
            all.extend(map.values().map(|t| (t.name.to_string(), t.len())));
        }
        let topics = all.len();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let rest = all.iter().skip(n).map(|(_, c)| c).sum();
        all.truncate(n);
        (topics, all, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Shared {
        Arc::new(PreparedMessage::new(text))
    }

    #[test]
    fn paths_name_topics() {
        assert_eq!(topic_of("/"), "");
        assert_eq!(topic_of("/rooms/lobby"), "rooms/lobby");
    }

    #[tokio::test]
    async fn messages_reach_their_topic_only_and_topics_come_and_go() {
        let topics = Topics::new(None);
        let shard = Shard::default();
        let mut a = topics.subscribe("lobby", 1, 8);
        let mut b = topics.subscribe("lobby", 2, 8);
        let mut c = topics.subscribe("other", 3, 8);
        let m = message("hi");
        assert_eq!(a.topic.publish(&m, None, &shard), 2);
        assert_eq!(a.topic.publish(&m, Some(1), &shard), 1, "sender skipped");
        for sub in [&mut a, &mut b] {
            let got = sub.queue.try_recv().unwrap();
            assert!(
                Arc::ptr_eq(&got, &m),
                "the same prepared message, not a copy"
            );
        }
        assert!(b.queue.try_recv().is_ok() && a.queue.try_recv().is_err());
        assert!(c.queue.try_recv().is_err());
        assert_eq!(topics.largest(10).0, 2);
        topics.unsubscribe(&c);
        assert!(topics.get("other").is_none());
        topics.unsubscribe(&a);
        assert!(topics.get("lobby").is_some());
        topics.unsubscribe(&b);
        assert_eq!(topics.largest(10), (0, vec![], 0));
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_subscriber_and_spares_the_others() {
        let topics = Topics::new(None);
        let shard = Shard::default();
        let slow = topics.subscribe("t", 1, 2);
        let mut fast = topics.subscribe("t", 2, 100);
        for i in 0..5 {
            slow.topic.publish(&message(&i.to_string()), None, &shard);
            fast.queue.try_recv().unwrap();
        }
        assert!(slow.me.overflowed.load(Ordering::Acquire));
        assert!(!fast.me.overflowed.load(Ordering::Acquire));
        assert_eq!(shard.slow_consumers.load(Ordering::Relaxed), 1);
        // The overflow woke it (a stored permit: it was not waiting yet).
        tokio::time::timeout(std::time::Duration::from_secs(5), slow.me.kick.notified())
            .await
            .unwrap();
    }
}
