//! The message queue seen by producer, worker and merger, and its in-memory adapter.
//!
//! The semantics are RabbitMQ's, so that the embedded mode exercises the same code paths as
//! the farm: a published message is durable once `publish` returns; a delivery is held by its
//! consumer until it is acked, returned (`retry`) or dead-lettered; a delivery dropped without
//! a decision goes back to the queue, as an unacked message does when its channel closes; and a
//! message delivered more than the delivery limit is dead-lettered instead of looping forever.

use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The task queue and the results queue; names are configurable in the distributed mode.
pub const TASK_QUEUE: &str = "moonfarm.tasks";
pub const RESULT_QUEUE: &str = "moonfarm.results";

/// How many times a message may be delivered before it is dead-lettered (RabbitMQ quorum
/// queues' `x-delivery-limit` counts returns, so a limit of 3 allows 4 deliveries there; here
/// the number is the deliveries themselves).
pub const DEFAULT_DELIVERY_LIMIT: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue connection: {0}")]
    Connection(String),
    #[error("queue `{0}` is closed")]
    Closed(String),
    /// The broker refused the operation (a queue declared with other arguments, a publish
    /// nacked again and again or returned unroutable); retrying at once will not help.
    #[error("broker refused: {0}")]
    Broker(String),
}

#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Publishes durably: when this returns Ok the broker has the message.
    async fn publish(&self, queue: &str, payload: Vec<u8>) -> Result<(), QueueError>;
    /// Starts consuming; at most `prefetch` deliveries are outstanding at once.
    async fn consume(&self, queue: &str, prefetch: u16) -> Result<Box<dyn Consumer>, QueueError>;
    /// Messages ready in the queue (not counting those held by consumers).
    async fn depth(&self, queue: &str) -> Result<u64, QueueError>;
    /// Takes one ready message, if there is one, without subscribing (AMQP `basic.get`): the
    /// delivery is held, as a consumer's is, until it is settled or dropped.
    async fn get(&self, queue: &str) -> Result<Option<Delivery>, QueueError>;
    /// Deletes a queue with its messages and dead letters (a job's parked queue once the job
    /// has ended). Deleting a queue that does not exist succeeds.
    async fn delete(&self, queue: &str) -> Result<(), QueueError>;
}

#[async_trait]
pub trait Consumer: Send {
    /// The next delivery; `Ok(None)` when the queue was closed for good.
    async fn next(&mut self) -> Result<Option<Delivery>, QueueError>;
    /// How many times this consumer subscribed again after losing its channel. On a queue with
    /// a single active consumer, another consumer may have taken the queue in between, so
    /// what its owner inferred from earlier deliveries (a merger's jobs) may be stale.
    fn resubscriptions(&self) -> u64 {
        0
    }
}

/// How a delivery was settled; the adapter turns this into the broker's ack or nack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    Ack,
    /// Back to the queue for another consumer.
    Retry,
    /// To the dead-letter queue, with the reason logged.
    DeadLetter(String),
}

#[async_trait]
pub trait Acker: Send + Sync {
    async fn settle(&mut self, how: Settle) -> Result<(), QueueError>;
}

pub struct Delivery {
    pub payload: Vec<u8>,
    /// 1 on first delivery.
    pub delivery_count: u32,
    /// Set by the adapter, which knows the delivery limit it declared the queue with: a
    /// `Retry` of this delivery dead-letters the message instead of returning it.
    pub last_attempt: bool,
    acker: Box<dyn Acker>,
}

impl Delivery {
    pub fn new(
        payload: Vec<u8>,
        delivery_count: u32,
        last_attempt: bool,
        acker: Box<dyn Acker>,
    ) -> Delivery {
        Delivery {
            payload,
            delivery_count,
            last_attempt,
            acker,
        }
    }
    pub async fn settle(mut self, how: Settle) -> Result<(), QueueError> {
        self.acker.settle(how).await
    }
}

/// The embedded queue: RabbitMQ's semantics inside one process.
#[derive(Clone, Default)]
pub struct MemoryQueue {
    inner: Arc<Mutex<HashMap<String, Arc<MemQueue>>>>,
    delivery_limit: Option<u32>,
}

struct MemQueue {
    name: String,
    state: Mutex<MemState>,
    ready_signal: Notify,
}

#[derive(Default)]
struct MemState {
    ready: VecDeque<(Vec<u8>, u32)>,
    dead: Vec<(Vec<u8>, String)>,
}

impl MemoryQueue {
    pub fn new() -> MemoryQueue {
        MemoryQueue::with_delivery_limit(DEFAULT_DELIVERY_LIMIT)
    }

    pub fn with_delivery_limit(limit: u32) -> MemoryQueue {
        MemoryQueue {
            inner: Arc::default(),
            delivery_limit: Some(limit.max(1)),
        }
    }

    fn queue(&self, name: &str) -> Arc<MemQueue> {
        let mut map = self.inner.lock().unwrap();
        map.entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(MemQueue {
                    name: name.to_string(),
                    state: Mutex::default(),
                    ready_signal: Notify::new(),
                })
            })
            .clone()
    }

    /// The dead-lettered messages of a queue with their reasons.
    pub fn dead_letters(&self, name: &str) -> Vec<(Vec<u8>, String)> {
        self.queue(name).state.lock().unwrap().dead.clone()
    }
}

impl MemQueue {
    fn push(&self, payload: Vec<u8>, deliveries: u32) {
        self.state
            .lock()
            .unwrap()
            .ready
            .push_back((payload, deliveries));
        self.ready_signal.notify_one();
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn publish(&self, queue: &str, payload: Vec<u8>) -> Result<(), QueueError> {
        self.queue(queue).push(payload, 0);
        Ok(())
    }

    async fn consume(&self, queue: &str, _prefetch: u16) -> Result<Box<dyn Consumer>, QueueError> {
        // Prefetch does not matter here: a consumer only takes a message when it asks for the
        // next one, which is prefetch 1, the farm's default.
        Ok(Box::new(MemConsumer {
            queue: self.queue(queue),
            limit: self.delivery_limit,
        }))
    }

    async fn depth(&self, queue: &str) -> Result<u64, QueueError> {
        Ok(self.queue(queue).state.lock().unwrap().ready.len() as u64)
    }

    async fn delete(&self, queue: &str) -> Result<(), QueueError> {
        self.inner.lock().unwrap().remove(queue);
        Ok(())
    }

    async fn get(&self, queue: &str) -> Result<Option<Delivery>, QueueError> {
        Ok(MemConsumer {
            queue: self.queue(queue),
            limit: self.delivery_limit,
        }
        .take())
    }
}

struct MemConsumer {
    queue: Arc<MemQueue>,
    limit: Option<u32>,
}

#[async_trait]
impl Consumer for MemConsumer {
    async fn next(&mut self) -> Result<Option<Delivery>, QueueError> {
        loop {
            // Register interest before looking, so a push between the look and the wait is
            // not missed.
            let notified = self.queue.ready_signal.notified();
            if let Some(d) = self.take() {
                return Ok(Some(d));
            }
            notified.await;
        }
    }
}

impl MemConsumer {
    /// The first ready message, held until settled.
    fn take(&self) -> Option<Delivery> {
        let (payload, deliveries) = self.queue.state.lock().unwrap().ready.pop_front()?;
        let count = deliveries + 1;
        let acker = MemAcker {
            queue: self.queue.clone(),
            payload: Some(payload.clone()),
            count,
            limit: self.limit,
        };
        let last = self.limit.is_some_and(|l| count >= l);
        Some(Delivery::new(payload, count, last, Box::new(acker)))
    }
}

/// Holds an unacked message; whatever happens to the consumer, the message is never lost:
/// dropping the acker unsettled returns it to the queue.
struct MemAcker {
    queue: Arc<MemQueue>,
    payload: Option<Vec<u8>>,
    count: u32,
    limit: Option<u32>,
}

impl MemAcker {
    fn give_back(&mut self, how: Settle) {
        let Some(payload) = self.payload.take() else {
            return;
        };
        match how {
            Settle::Ack => {}
            Settle::Retry if self.limit.is_some_and(|l| self.count >= l) => {
                let reason = format!("delivery limit reached after {} deliveries", self.count);
                tracing::warn!(queue = %self.queue.name, %reason, "dead-lettering message");
                self.queue
                    .state
                    .lock()
                    .unwrap()
                    .dead
                    .push((payload, reason));
            }
            Settle::Retry => self.queue.push(payload, self.count),
            Settle::DeadLetter(reason) => {
                tracing::warn!(queue = %self.queue.name, %reason, "dead-lettering message");
                self.queue
                    .state
                    .lock()
                    .unwrap()
                    .dead
                    .push((payload, reason));
            }
        }
    }
}

#[async_trait]
impl Acker for MemAcker {
    async fn settle(&mut self, how: Settle) -> Result<(), QueueError> {
        self.give_back(how);
        Ok(())
    }
}

impl Drop for MemAcker {
    fn drop(&mut self) {
        self.give_back(Settle::Retry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unsettled_deliveries_return_and_the_limit_dead_letters() {
        let q = MemoryQueue::with_delivery_limit(2);
        q.publish("t", b"m".to_vec()).await.unwrap();
        let mut c = q.consume("t", 1).await.unwrap();
        let d = c.next().await.unwrap().unwrap();
        assert_eq!((d.delivery_count, d.last_attempt), (1, false));
        drop(d); // a consumer that dies mid-task
        let d = c.next().await.unwrap().unwrap();
        assert_eq!((d.delivery_count, d.last_attempt), (2, true));
        d.settle(Settle::Retry).await.unwrap();
        assert_eq!(q.depth("t").await.unwrap(), 0);
        assert_eq!(q.dead_letters("t").len(), 1);
    }

    #[tokio::test]
    async fn acked_messages_are_gone_and_order_is_kept() {
        let q = MemoryQueue::new();
        for i in 0..3u8 {
            q.publish("t", vec![i]).await.unwrap();
        }
        let mut c = q.consume("t", 1).await.unwrap();
        for i in 0..3u8 {
            let d = c.next().await.unwrap().unwrap();
            assert_eq!(d.payload, vec![i]);
            d.settle(Settle::Ack).await.unwrap();
        }
        assert_eq!(q.depth("t").await.unwrap(), 0);
        assert!(q.dead_letters("t").is_empty());
    }

    #[tokio::test]
    async fn a_waiting_consumer_wakes_on_publish() {
        let q = MemoryQueue::new();
        let mut c = q.consume("t", 1).await.unwrap();
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { c.next().await.unwrap().unwrap().payload });
        tokio::task::yield_now().await;
        q2.publish("t", b"x".to_vec()).await.unwrap();
        assert_eq!(waiter.await.unwrap(), b"x".to_vec());
    }
}
