//! The RabbitMQ adapter of [`Queue`]: quorum queues, publisher confirms, manual acks, dead
//! letters and reconnection, with the same semantics as the in-memory queue.
//!
//! Topology. Every queue name used is declared on first use, idempotently, by whichever process
//! gets there first: a durable quorum queue `<name>` with `x-delivery-limit` (returns allowed
//! before dead-lettering) and `x-dead-letter-exchange` = the durable direct exchange
//! `moonfarm.dlx`, to which the durable quorum queue `<name>.dead` is bound with routing key
//! `<name>`. Dead-lettering is `at-least-once` (RabbitMQ >= 3.10), which quorum queues only honour
//! with `x-overflow: reject-publish`; otherwise they silently fall back to at-most-once and a
//! dead letter could be lost if the DLX queue were unavailable at that moment. Using a name that
//! ends in `.dead` (to count or drain dead letters) declares the topology of the queue it belongs
//! to instead of a dead-letter queue of its own. Result queues (`shard::single_active`, told by
//! name) are also declared `x-single-active-consumer`: RabbitMQ delivers each to one consumer
//! at a time and hands it to the next consumer waiting when that one's channel closes.
//!
//! Several brokers. The URL may be a comma-separated list, the nodes of one RabbitMQ cluster
//! (or a cluster's Service, one URL): each connection attempt tries the nodes in turn,
//! starting after the one used last, so a node that is gone costs one refused connect and a
//! reconnection lands on any node still up. Quorum queues live on every node of the cluster,
//! so which node a client talks to does not matter.
//!
//! Reconnection. One AMQP connection per [`AmqpQueue`], shared by publishing and every consumer,
//! each consumer on its own channel (so `prefetch` is per consumer, and closing a consumer closes
//! only its channel). The first connection is made once, so a wrong URL or password fails the
//! process at start. After that, a lost connection (RabbitMQ restarted, network cut) is
//! re-established with backoff, 100 ms doubling to 5 s, forever until the shutdown token fires:
//! `publish` waits and publishes again (a message whose confirm was lost with the connection may
//! therefore be published twice: delivery is at-least-once, as it already is for consumers), and
//! a consumer opens a new channel and consumes again. Deliveries unacked when the connection died
//! are redelivered by the broker; settling such a stale delivery afterwards is logged and ignored,
//! never an error, because there is nothing the caller could do about it.

use crate::queue::{Acker, Consumer, Delivery, Queue, QueueError, Settle};
use async_trait::async_trait;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions,
    BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The dead-letter exchange shared by every Moonfarm queue.
pub const DEAD_LETTER_EXCHANGE: &str = "moonfarm.dlx";
/// Suffix of the queue that holds a queue's dead letters.
pub const DEAD_SUFFIX: &str = ".dead";

/// How an [`AmqpQueue`] declares its queues and reconnects.
#[derive(Clone, Debug)]
pub struct AmqpOptions {
    /// `x-delivery-limit`: how many times a message may be returned before it is dead-lettered.
    /// RabbitMQ counts returns, so 3 means 4 deliveries, the in-memory queue's
    /// `DEFAULT_DELIVERY_LIMIT`.
    pub delivery_limit: u32,
    /// Fired on process shutdown: stops reconnecting; consumers then end with `Ok(None)` and
    /// a publish waiting for the broker fails with `QueueError::Closed`.
    pub shutdown: CancellationToken,
    /// First and largest pause between reconnection attempts.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Shown in RabbitMQ's management UI and `rabbitmqctl list_connections`.
    pub connection_name: String,
}

impl Default for AmqpOptions {
    fn default() -> AmqpOptions {
        AmqpOptions {
            delivery_limit: crate::queue::DEFAULT_DELIVERY_LIMIT - 1,
            shutdown: CancellationToken::new(),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            connection_name: "moonfarm".into(),
        }
    }
}

/// A RabbitMQ broker seen as a [`Queue`]; cheap to clone, one connection behind all clones.
#[derive(Clone)]
pub struct AmqpQueue {
    inner: Arc<Inner>,
}

struct Inner {
    /// The brokers to try, in order (one for a single broker or a cluster's Service).
    urls: Vec<String>,
    /// The index in `urls` to try first on the next connection attempt.
    next_url: std::sync::atomic::AtomicUsize,
    opts: AmqpOptions,
    /// CA certificates (PEM) trusted for `amqps://` besides the system's
    /// (`shared::tls`, MOONFARM_TLS_CA_FILE).
    extra_ca: Option<String>,
    /// The live connection, replaced when it dies. Held only while connecting or while the
    /// control channel is (re)made, never across a publish confirm.
    link: tokio::sync::Mutex<Link>,
}

struct Link {
    /// Bumped on every new connection, so that a failure seen on an old connection does not
    /// tear down the new one.
    generation: u64,
    conn: Option<Arc<Connection>>,
    /// The channel for publishes (in confirm mode), declarations and depth; made lazily.
    control: Option<Channel>,
    /// Queue names whose topology this connection has declared.
    declared: HashSet<String>,
}

/// Whether an error from lapin means the connection is gone (reconnect and try again) or the
/// broker refused this one operation (give up and report it).
fn is_connection_failure(conn: &Connection, err: &lapin::Error) -> bool {
    !conn.status().connected()
        || err.is_io_error()
        || err.is_amqp_hard_error()
        || matches!(
            err.kind(),
            lapin::ErrorKind::InvalidConnectionState(_) | lapin::ErrorKind::MissingHeartbeatError
        )
}

fn broker_err(what: &str, queue: &str, err: lapin::Error) -> QueueError {
    QueueError::Broker(format!("{what} on `{queue}`: {err}"))
}

impl AmqpQueue {
    /// Connects once: a wrong URL or password fails here, not in a retry loop. Reconnection
    /// with backoff only applies to a connection that once worked. `url` may list several
    /// nodes, comma-separated; the first connection is to any one of them.
    pub async fn connect(url: &str, opts: AmqpOptions) -> Result<AmqpQueue, QueueError> {
        let extra_ca = crate::tls::extra_ca_pem().map_err(QueueError::Connection)?;
        let inner = Arc::new(Inner {
            urls: split_urls(url),
            next_url: Default::default(),
            opts,
            extra_ca,
            link: tokio::sync::Mutex::new(Link {
                generation: 0,
                conn: None,
                control: None,
                declared: HashSet::new(),
            }),
        });
        let conn = inner.open_connection().await.map_err(|e| {
            QueueError::Connection(format!(
                "cannot connect to RabbitMQ at {}: {e}{}",
                redact_all(url),
                crate::tls::hint(&format!("{e:?} {e}"))
            ))
        })?;
        {
            let mut link = inner.link.lock().await;
            link.generation = 1;
            link.conn = Some(Arc::new(conn));
        }
        Ok(AmqpQueue { inner })
    }

    /// Deletes a queue and its dead-letter queue (tests and operators; the farm only a job's
    /// parked queue, once the job has ended).
    pub async fn delete_queue(&self, queue: &str) -> Result<(), QueueError> {
        let (_, conn) = self.inner.connection().await?;
        let ch = conn
            .create_channel()
            .await
            .map_err(|e| broker_err("channel", queue, e))?;
        for name in [queue.to_string(), format!("{queue}{DEAD_SUFFIX}")] {
            ch.queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(|e| broker_err("queue.delete", &name, e))?;
        }
        self.inner.link.lock().await.declared.remove(queue);
        let _ = ch.close(200, "done".into()).await;
        Ok(())
    }

    /// Closes the connection. Later calls, and consumers still running, reconnect unless the
    /// shutdown token fired: for a clean stop fire it first, then close.
    pub async fn close(&self) {
        let conn = self.inner.link.lock().await.conn.take();
        if let Some(conn) = conn {
            let _ = conn.close(200, "closing".into()).await;
        }
    }
}

impl Inner {
    /// A connection to the first node of `urls` that takes one, starting after the node used
    /// last; the last node's error if none does.
    async fn open_connection(&self) -> Result<Connection, lapin::Error> {
        use std::sync::atomic::Ordering;
        let start = self.next_url.load(Ordering::Relaxed);
        let mut last_err = None;
        for i in 0..self.urls.len() {
            let index = (start + i) % self.urls.len();
            let props = ConnectionProperties::default()
                .with_connection_name(self.opts.connection_name.as_str().into());
            // The system's roots, plus the extra CA's: every certificate is verified.
            let tls = lapin::tcp::OwnedTLSConfig {
                identity: None,
                cert_chain: self.extra_ca.clone(),
            };
            let connected = match lapin::runtime::default_runtime() {
                Ok(rt) => Connection::connect_with_config(&self.urls[index], props, tls, rt).await,
                Err(e) => Err(e),
            };
            match connected {
                Ok(conn) => {
                    // A later reconnection starts with the next node: if this one dies, the
                    // first attempt goes to another.
                    self.next_url.store(index + 1, Ordering::Relaxed);
                    if self.urls.len() > 1 {
                        tracing::info!(url = %redact(&self.urls[index]), "connected to RabbitMQ node");
                    }
                    return Ok(conn);
                }
                Err(e) => {
                    if self.urls.len() > 1 {
                        tracing::warn!(url = %redact(&self.urls[index]), error = %e,
                            "RabbitMQ node unreachable; trying the next");
                    }
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.expect("split_urls never returns an empty list"))
    }

    /// The brokers, passwords redacted, for logs.
    fn describe(&self) -> String {
        redact_all(&self.urls.join(","))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.opts
            .backoff_min
            .saturating_mul(factor)
            .min(self.opts.backoff_max)
    }

    /// Sleeps unless shutdown fires first; `Err(Closed)` on shutdown.
    async fn pause(&self, attempt: u32, queue: &str) -> Result<(), QueueError> {
        tokio::select! {
            _ = self.opts.shutdown.cancelled() => Err(QueueError::Closed(queue.into())),
            _ = tokio::time::sleep(self.backoff(attempt)) => Ok(()),
        }
    }

    /// The live connection, reconnecting with backoff (forever, until shutdown) if it died.
    async fn connection(&self) -> Result<(u64, Arc<Connection>), QueueError> {
        let mut link = self.link.lock().await;
        if let Some(conn) = &link.conn {
            if conn.status().connected() {
                return Ok((link.generation, conn.clone()));
            }
        }
        link.conn = None;
        link.control = None;
        link.declared.clear();
        let mut attempt = 0;
        loop {
            if self.opts.shutdown.is_cancelled() {
                return Err(QueueError::Closed("connection".into()));
            }
            match self.open_connection().await {
                Ok(conn) => {
                    tracing::info!(url = %self.describe(), attempt, "reconnected to RabbitMQ");
                    let conn = Arc::new(conn);
                    link.generation += 1;
                    link.conn = Some(conn.clone());
                    return Ok((link.generation, conn));
                }
                Err(e) => {
                    tracing::warn!(url = %self.describe(), attempt, error = %e,
                        "RabbitMQ unreachable; retrying");
                    self.pause(attempt, "connection").await?;
                    attempt += 1;
                }
            }
        }
    }

    /// Forgets the connection of `generation` if it is still the current one, so that the next
    /// call reconnects.
    async fn connection_failed(&self, generation: u64) {
        let mut link = self.link.lock().await;
        if link.generation == generation {
            link.conn = None;
            link.control = None;
            link.declared.clear();
        }
    }

    /// The control channel of connection `generation`, with `queue`'s topology declared.
    async fn control(
        &self,
        generation: u64,
        conn: &Connection,
        queue: &str,
    ) -> Result<Channel, OpError> {
        let mut link = self.link.lock().await;
        if link.generation != generation {
            // Someone reconnected in between; the caller's loop picks up the new connection.
            return Err(OpError::Stale);
        }
        let channel = match &link.control {
            Some(ch) if ch.status().connected() => ch.clone(),
            _ => {
                link.declared.clear();
                let ch = conn.create_channel().await?;
                ch.confirm_select(ConfirmSelectOptions::default()).await?;
                link.control = Some(ch.clone());
                ch
            }
        };
        let base = topology_name(queue);
        if !link.declared.contains(base) {
            declare(&channel, base, self.opts.delivery_limit).await?;
            link.declared.insert(base.to_string());
        }
        Ok(channel)
    }

    /// Runs `op` on the control channel, reconnecting and retrying while the connection is
    /// down; a refusal by the broker (a soft error, a nack) is returned at once.
    async fn with_control<T, F, Fut>(&self, queue: &str, what: &str, op: F) -> Result<T, QueueError>
    where
        F: Fn(Channel) -> Fut,
        Fut: std::future::Future<Output = Result<T, OpError>>,
    {
        let mut attempt = 0;
        let mut nacks = 0;
        loop {
            // Waits (with backoff, until shutdown) for a live connection.
            let (generation, conn) = self.connection().await?;
            let result = match self.control(generation, &conn, queue).await {
                Ok(ch) => op(ch).await,
                Err(e) => Err(e),
            };
            let e = match result {
                Ok(v) => return Ok(v),
                Err(OpError::Stale) => continue,
                Err(OpError::Nacked) if nacks < NACK_RETRIES => {
                    tracing::warn!(
                        queue,
                        nacks,
                        "{what}: the broker nacked the message; publishing it again"
                    );
                    self.pause(nacks, queue).await?;
                    nacks += 1;
                    continue;
                }
                Err(OpError::Nacked) => {
                    return Err(QueueError::Broker(format!(
                        "{what} on `{queue}`: the broker nacked the message {} times",
                        nacks + 1
                    )))
                }
                Err(OpError::Refused(reason)) => {
                    // Unroutable: the queue may have been deleted since this connection
                    // declared it (a job's parked queue after `producer resume`), so the
                    // next use declares it again.
                    self.link.lock().await.declared.remove(topology_name(queue));
                    return Err(QueueError::Broker(format!("{what} on `{queue}`: {reason}")));
                }
                Err(OpError::Lapin(e)) => e,
            };
            if is_connection_failure(&conn, &e) {
                tracing::warn!(queue, error = %e, "{what}: connection lost; reconnecting");
                self.connection_failed(generation).await;
                self.pause(attempt, queue).await?;
                attempt += 1;
            } else {
                // A soft error closed the channel; the next call makes a new one.
                let mut link = self.link.lock().await;
                if link.generation == generation {
                    link.control = None;
                    link.declared.clear();
                }
                return Err(broker_err(what, queue, e));
            }
        }
    }
}

/// What went wrong in one operation on the control channel.
enum OpError {
    Lapin(lapin::Error),
    /// The broker answered but said no (a publish returned unroutable).
    Refused(String),
    /// The broker did not take a published message. RabbitMQ does this for a moment while a
    /// quorum queue declared a moment ago elects its leader: publish again.
    Nacked,
    /// The connection was replaced while this operation started; try again on the new one.
    Stale,
}

impl From<lapin::Error> for OpError {
    fn from(e: lapin::Error) -> OpError {
        OpError::Lapin(e)
    }
}

/// Publishes of one message the broker may nack before the publish fails (with the
/// reconnection backoff between them: about 6 s in all).
const NACK_RETRIES: u32 = 6;

/// The queue whose topology a name belongs to: `x.dead` belongs to `x`.
fn topology_name(queue: &str) -> &str {
    queue.strip_suffix(DEAD_SUFFIX).unwrap_or(queue)
}

/// Declares `queue`, its dead-letter queue and the dead-letter exchange. Idempotent as long as
/// every process uses the same arguments; a queue declared earlier with other arguments makes
/// the broker answer PRECONDITION_FAILED, reported as `QueueError::Broker`.
async fn declare(ch: &Channel, queue: &str, delivery_limit: u32) -> Result<(), lapin::Error> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.exchange_declare(
        DEAD_LETTER_EXCHANGE.into(),
        ExchangeKind::Direct,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await?;
    let dead = format!("{queue}{DEAD_SUFFIX}");
    let mut dead_args = FieldTable::default();
    dead_args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    ch.queue_declare(dead.as_str().into(), durable, dead_args)
        .await?;
    ch.queue_bind(
        dead.as_str().into(),
        DEAD_LETTER_EXCHANGE.into(),
        queue.into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongInt(delivery_limit as i32),
    );
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(queue.into()),
    );
    args.insert(
        "x-dead-letter-strategy".into(),
        AMQPValue::LongString("at-least-once".into()),
    );
    args.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    if crate::shard::single_active(queue) {
        // One merger at a time per result queue; the others wait as standbys.
        args.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    }
    ch.queue_declare(queue.into(), durable, args).await?;
    Ok(())
}

#[async_trait]
impl Queue for AmqpQueue {
    async fn publish(&self, queue: &str, payload: Vec<u8>) -> Result<(), QueueError> {
        let payload = Arc::new(payload);
        self.inner
            .with_control(queue, "publish", |ch| {
                let payload = payload.clone();
                async move {
                    // Mandatory: a message that reaches no queue (one deleted behind our back)
                    // comes back to us instead of vanishing with an ack.
                    let confirm = ch
                        .basic_publish(
                            ShortString::from(""),
                            queue.into(),
                            BasicPublishOptions {
                                mandatory: true,
                                ..Default::default()
                            },
                            &payload,
                            BasicProperties::default().with_delivery_mode(2),
                        )
                        .await?
                        .await?;
                    match confirm {
                        Confirmation::Ack(None) => Ok(()),
                        Confirmation::Ack(Some(returned)) => Err(OpError::Refused(format!(
                            "message returned unroutable: {}",
                            returned.reply_text
                        ))),
                        Confirmation::Nack(_) => Err(OpError::Nacked),
                        Confirmation::NotRequested => {
                            Err(OpError::Refused("channel not in confirm mode".into()))
                        }
                    }
                }
            })
            .await
    }

    async fn consume(&self, queue: &str, prefetch: u16) -> Result<Box<dyn Consumer>, QueueError> {
        let mut consumer = AmqpConsumer {
            inner: self.inner.clone(),
            queue: queue.to_string(),
            prefetch,
            current: None,
            failures: 0,
            opened: 0,
        };
        // Open now, so that a broker refusal (a queue declared with other arguments) is an
        // error here rather than a retry loop in `next`. A lost connection is not a refusal:
        // RabbitMQ 3.10 answers a consume on a quorum queue declared a moment ago by another
        // process, before its Raft member is up, with INTERNAL_ERROR (a hard error that closes
        // the connection). `next` reconnects with backoff, as after any other connection loss,
        // so processes that start together on fresh queues all come up.
        match consumer.open().await {
            Ok(()) => {}
            Err(QueueError::Connection(e)) => {
                tracing::warn!(queue, error = %e, "first consume failed; retrying");
                consumer.failures = 1;
            }
            Err(e) => return Err(e),
        }
        Ok(Box::new(consumer))
    }

    async fn depth(&self, queue: &str) -> Result<u64, QueueError> {
        self.inner
            .with_control(queue, "depth", |ch| async move {
                let q = ch
                    .queue_declare(
                        queue.into(),
                        QueueDeclareOptions {
                            passive: true,
                            ..Default::default()
                        },
                        FieldTable::default(),
                    )
                    .await?;
                Ok(u64::from(q.message_count()))
            })
            .await
    }

    async fn delete(&self, queue: &str) -> Result<(), QueueError> {
        self.delete_queue(queue).await
    }

    async fn get(&self, queue: &str) -> Result<Option<Delivery>, QueueError> {
        // On the control channel: its unacked deliveries return to the queue if it closes, as
        // a consumer's do. The delivery count and last attempt are read as a consumer's are.
        let limit = self.inner.opts.delivery_limit;
        self.inner
            .with_control(queue, "get", |ch| async move {
                let got = ch
                    .basic_get(queue.into(), BasicGetOptions { no_ack: false })
                    .await?;
                Ok(got.map(|m| {
                    let d = m.delivery;
                    let count = delivery_count(&d);
                    let acker = AmqpAcker {
                        acker: Some(d.acker),
                        queue: queue.to_string(),
                    };
                    Delivery::new(d.data, count, count > limit, Box::new(acker))
                }))
            })
            .await
    }
}

struct AmqpConsumer {
    inner: Arc<Inner>,
    queue: String,
    prefetch: u16,
    /// The channel and consumer of the current connection generation; `None` after a failure
    /// until `next` opens new ones. The channel is owned here and closed on drop, which returns
    /// this consumer's unacked deliveries to the queue.
    current: Option<(u64, Channel, lapin::Consumer)>,
    /// Failures since the last delivery, for the backoff.
    failures: u32,
    /// Successful subscriptions so far (the first and every one after a lost channel).
    opened: u64,
}

impl AmqpConsumer {
    async fn open(&mut self) -> Result<(), QueueError> {
        let (generation, conn) = self.inner.connection().await?;
        let queue = self.queue.as_str();
        let ch = conn.create_channel().await;
        let result = async {
            let ch = ch?;
            ch.basic_qos(self.prefetch, BasicQosOptions::default())
                .await?;
            declare(&ch, topology_name(queue), self.inner.opts.delivery_limit).await?;
            let tag = format!("moonfarm-{}", uuid::Uuid::new_v4());
            let consumer = ch
                .basic_consume(
                    queue.into(),
                    tag.as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            Ok::<_, lapin::Error>((ch, consumer))
        }
        .await;
        match result {
            Ok((ch, consumer)) => {
                self.current = Some((generation, ch, consumer));
                self.opened += 1;
                Ok(())
            }
            Err(e) if is_connection_failure(&conn, &e) => {
                self.inner.connection_failed(generation).await;
                Err(QueueError::Connection(format!("consuming `{queue}`: {e}")))
            }
            Err(e) => Err(broker_err("consume", queue, e)),
        }
    }
}

#[async_trait]
impl Consumer for AmqpConsumer {
    fn resubscriptions(&self) -> u64 {
        self.opened.saturating_sub(1)
    }

    async fn next(&mut self) -> Result<Option<Delivery>, QueueError> {
        loop {
            if self.inner.opts.shutdown.is_cancelled() {
                self.current = None;
                return Ok(None);
            }
            if self.current.is_none() {
                if self.failures > 0
                    && self
                        .inner
                        .pause(self.failures - 1, &self.queue)
                        .await
                        .is_err()
                {
                    return Ok(None);
                }
                match self.open().await {
                    Ok(()) => {}
                    Err(QueueError::Closed(_)) => return Ok(None),
                    Err(QueueError::Connection(e)) => {
                        tracing::warn!(queue = %self.queue, error = %e, "consumer reconnecting");
                        self.failures += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            let (_, _, consumer) = self.current.as_mut().expect("opened above");
            let item = tokio::select! {
                _ = self.inner.opts.shutdown.cancelled() => continue,
                item = consumer.next() => item,
            };
            match item {
                Some(Ok(d)) => {
                    self.failures = 0;
                    let count = delivery_count(&d);
                    let acker = AmqpAcker {
                        acker: Some(d.acker),
                        queue: self.queue.clone(),
                    };
                    // `x-delivery-limit` counts returns: the delivery after the last allowed
                    // return is the last.
                    let last = count > self.inner.opts.delivery_limit;
                    return Ok(Some(Delivery::new(d.data, count, last, Box::new(acker))));
                }
                Some(Err(e)) => {
                    tracing::warn!(queue = %self.queue, error = %e,
                        "consumer lost its channel; reconnecting");
                    // Whether the connection or only the channel died, the next `connection()`
                    // call sees it: a dead connection is replaced, a live one reused.
                    self.current = None;
                    self.failures += 1;
                }
                None => {
                    // The broker cancelled the consumer (queue deleted) or the channel closed.
                    tracing::warn!(queue = %self.queue, "consumer ended; consuming again");
                    self.current = None;
                    self.failures += 1;
                }
            }
        }
    }
}

impl Drop for AmqpConsumer {
    fn drop(&mut self) {
        // Closing the channel returns its unacked deliveries to the queue, as the in-memory
        // queue does for deliveries dropped unsettled.
        if let Some((_, ch, _)) = self.current.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = ch.close(200, "consumer dropped".into()).await;
                });
            }
        }
    }
}

/// `x-delivery-count`, set by quorum queues on redelivery, counts earlier deliveries; absent on
/// the first. A `redelivered` flag without the header (a classic queue) counts as the second.
fn delivery_count(d: &lapin::message::Delivery) -> u32 {
    let header = d
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("x-delivery-count").cloned())
        .and_then(|v| match v {
            AMQPValue::ShortShortInt(n) => Some(i64::from(n)),
            AMQPValue::ShortShortUInt(n) => Some(i64::from(n)),
            AMQPValue::ShortInt(n) => Some(i64::from(n)),
            AMQPValue::ShortUInt(n) => Some(i64::from(n)),
            AMQPValue::LongInt(n) => Some(i64::from(n)),
            AMQPValue::LongUInt(n) => Some(i64::from(n)),
            AMQPValue::LongLongInt(n) => Some(n),
            _ => None,
        });
    match header {
        Some(n) => u32::try_from(n.max(0)).unwrap_or(u32::MAX - 1) + 1,
        None if d.redelivered => 2,
        None => 1,
    }
}

/// Settles one delivery on the channel it came from.
struct AmqpAcker {
    /// `None` once settled.
    acker: Option<lapin::Acker>,
    queue: String,
}

#[async_trait]
impl Acker for AmqpAcker {
    async fn settle(&mut self, how: Settle) -> Result<(), QueueError> {
        let Some(acker) = self.acker.take() else {
            return Ok(());
        };
        let result = match &how {
            Settle::Ack => acker.ack(BasicAckOptions::default()).await,
            Settle::Retry => {
                acker
                    .nack(BasicNackOptions {
                        requeue: true,
                        multiple: false,
                    })
                    .await
            }
            Settle::DeadLetter(reason) => {
                tracing::warn!(queue = %self.queue, %reason, "dead-lettering message");
                // Rejected without requeue, a quorum queue sends it to its dead-letter exchange.
                acker.reject(BasicRejectOptions { requeue: false }).await
            }
        };
        // `Ok(false)` or an error both mean the delivery's channel is gone: the broker has
        // already put the message back and will deliver it again, so there is nothing left to
        // settle and nothing the caller could do.
        match result {
            Ok(true) => {}
            Ok(false) => tracing::warn!(queue = %self.queue, ?how,
                "delivery's channel closed before it was settled; the broker redelivers it"),
            Err(e) => tracing::warn!(queue = %self.queue, ?how, error = %e,
                "settling failed; the broker redelivers the message"),
        }
        Ok(())
    }
}

impl Drop for AmqpAcker {
    fn drop(&mut self) {
        // Dropped unsettled: return it now rather than when the channel closes, as the
        // in-memory queue does. Without a runtime (process exiting) the channel's close does it.
        if let Some(acker) = self.acker.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = acker
                        .nack(BasicNackOptions {
                            requeue: true,
                            multiple: false,
                        })
                        .await;
                });
            }
        }
    }
}

use crate::secrets::redact_url as redact;
/// The nodes of a comma-separated URL list, blanks dropped; at least one (the input itself).
pub fn split_urls(urls: &str) -> Vec<String> {
    let list: Vec<String> = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect();
    if list.is_empty() {
        vec![urls.to_string()]
    } else {
        list
    }
}

/// A comma-separated URL list without its passwords.
fn redact_all(urls: &str) -> String {
    split_urls(urls)
        .iter()
        .map(String::as_str)
        .map(redact)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_logs() {
        assert_eq!(
            redact("amqp://guest:secret@h:5672/%2f"),
            "amqp://guest:***@h:5672/%2f"
        );
        assert_eq!(redact("amqp://h:5672"), "amqp://h:5672");
    }

    #[test]
    fn a_url_list_names_each_node() {
        assert_eq!(
            split_urls("amqp://a:5672, amqp://b:5672,"),
            ["amqp://a:5672", "amqp://b:5672"]
        );
        assert_eq!(split_urls("amqp://a"), ["amqp://a"]);
        assert_eq!(
            redact_all("amqp://u:p@a/%2f,amqp://u:q@b/%2f"),
            "amqp://u:***@a/%2f,amqp://u:***@b/%2f"
        );
    }

    #[test]
    fn dead_letter_queues_belong_to_their_queue() {
        assert_eq!(topology_name("moonfarm.tasks.dead"), "moonfarm.tasks");
        assert_eq!(topology_name("moonfarm.tasks"), "moonfarm.tasks");
    }

    #[test]
    fn backoff_doubles_to_its_ceiling() {
        let inner = Inner {
            urls: vec![String::new()],
            next_url: Default::default(),
            opts: AmqpOptions::default(),
            extra_ca: None,
            link: tokio::sync::Mutex::new(Link {
                generation: 0,
                conn: None,
                control: None,
                declared: HashSet::new(),
            }),
        };
        let ms: Vec<u128> = (0..8).map(|a| inner.backoff(a).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }
}
