//! Job priorities: the three levels, the task queue of each, and the discipline by which a
//! worker chooses the level of the next task it takes.
//!
//! Each level has its own durable quorum queue (RabbitMQ 3.x quorum queues have no message
//! priorities; 4.x ones have two, too few for three levels and without a starvation bound). The
//! normal level keeps the base name, so a farm that never sets a priority uses one queue as
//! before; the others append `.interactive` and `.batch`. A worker never holds a task it is not
//! rendering: it takes one message at a time (`Queue::get`, AMQP `basic.get`) from the level
//! [`Picker`] chooses, so nothing is prefetched that a higher level would have to wait behind.
//!
//! The guarantee, per worker: each take goes to the highest non-empty level, except that a
//! level passed over [`FAIRNESS_WINDOW`] - 1 times in a row while it was non-empty is taken
//! next. So of every [`FAIRNESS_WINDOW`] consecutive takes of a worker during which a level
//! stays non-empty, at least one comes from that level or a lower one (batch, the lowest: from
//! batch itself); and interactive work published behind a batch backlog starts on a worker as
//! soon as it finishes the task in hand, or one task later when that worker's next take is the
//! fairness one (at most one take in [`FAIRNESS_WINDOW`]).

use crate::queue::{Delivery, Queue, QueueError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A job's priority. Serialised lowercase, as `--priority` and `producer status --json` spell it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Interactive,
    #[default]
    Normal,
    Batch,
}

/// Takes within which every non-empty level gets at least one (its own or a lower level's).
pub const FAIRNESS_WINDOW: u32 = 8;

impl Priority {
    /// Highest first: the order a worker looks in.
    pub const ALL: [Priority; 3] = [Priority::Interactive, Priority::Normal, Priority::Batch];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Interactive => "interactive",
            Priority::Normal => "normal",
            Priority::Batch => "batch",
        }
    }

    /// Parses a level name; the error is the one line a user sees.
    pub fn parse(s: &str) -> Result<Priority, String> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown priority `{s}`: use one of interactive, normal, batch"))
    }

    /// The task queue of this level, given the farm's task queue name (the normal level's).
    pub fn queue(self, base: &str) -> String {
        match self {
            Priority::Normal => base.to_string(),
            other => format!("{base}.{}", other.as_str()),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Priority, String> {
        Priority::parse(s)
    }
}

/// One worker's choice of level, a pure state machine: told which levels have work, it says
/// which to take from, and remembers how long each non-empty level has been passed over.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    /// Per level (highest first): consecutive takes that went elsewhere while it had work.
    passed_over: [u32; 3],
}

impl Picker {
    /// The level to take from, given which levels are non-empty (highest first); None when
    /// all are empty.
    pub fn pick(&mut self, non_empty: [bool; 3]) -> Option<Priority> {
        // A starved level is taken first; among several, the one passed over longest, then
        // the lowest (whose only other way in is this).
        let starved = (0..3)
            .filter(|&i| non_empty[i] && self.passed_over[i] + 1 >= FAIRNESS_WINDOW)
            .max_by_key(|&i| (self.passed_over[i], i));
        let chosen = starved.or_else(|| (0..3).find(|&i| non_empty[i]))?;
        self.took(chosen, non_empty);
        Some(Priority::ALL[chosen])
    }

    /// Records a take from `chosen` (used too when the chosen level turned out empty and
    /// another was taken instead).
    fn took(&mut self, chosen: usize, non_empty: [bool; 3]) {
        for (i, (count, has_work)) in self.passed_over.iter_mut().zip(non_empty).enumerate() {
            *count = if i == chosen || !has_work {
                0
            } else {
                *count + 1
            };
        }
    }
}

/// A consumer of the three level queues of a task queue: each `next` takes one message from
/// the level the [`Picker`] chooses (and says which), and polls every `poll` while all three
/// are empty.
pub struct PriorityConsumer {
    queue: Arc<dyn Queue>,
    names: [String; 3],
    picker: Picker,
    poll: Duration,
    shutdown: CancellationToken,
    /// A level to take from first, without counting the take (see [`PriorityConsumer::sweep`]).
    sweeping: Option<Priority>,
}

impl PriorityConsumer {
    pub fn new(
        queue: Arc<dyn Queue>,
        base: &str,
        poll: Duration,
        shutdown: CancellationToken,
    ) -> PriorityConsumer {
        PriorityConsumer {
            queue,
            names: Priority::ALL.map(|p| p.queue(base)),
            picker: Picker::default(),
            poll,
            shutdown,
            sweeping: None,
        }
    }

    /// The message last taken from `level` was moved on unrendered (a paused job's task
    /// parked, a task moved to its job's new level, a cancelled job's dropped): that cost
    /// nothing, so the next take goes to the same level again, uncounted, while it has
    /// messages. A job's tasks lie together in its queue, so one worker that meets the first
    /// task of a paused or re-prioritised job moves all of them in one sweep, instead of one
    /// per fairness turn.
    pub fn sweep(&mut self, level: Priority) {
        self.sweeping = Some(level);
    }
}

impl PriorityConsumer {
    /// The next task message and the level whose queue it came from; `None` on shutdown.
    pub async fn next(&mut self) -> Result<Option<(Priority, Delivery)>, QueueError> {
        loop {
            if self.shutdown.is_cancelled() {
                return Ok(None);
            }
            if let Some(level) = self.sweeping.take() {
                if let Some(d) = self.queue.get(&self.names[level.index()]).await? {
                    return Ok(Some((level, d)));
                }
            }
            let mut non_empty = [false; 3];
            for (i, name) in self.names.iter().enumerate() {
                non_empty[i] = self.queue.depth(name).await? > 0;
            }
            if let Some(level) = self.picker.pick(non_empty) {
                // Another worker may have emptied the chosen level since: then the other
                // non-empty levels in order, the take counted against the one that gave.
                let order = std::iter::once(level.index())
                    .chain((0..3).filter(|&i| i != level.index() && non_empty[i]));
                for i in order {
                    if let Some(d) = self.queue.get(&self.names[i]).await? {
                        if i != level.index() {
                            self.picker.took(i, non_empty);
                        }
                        return Ok(Some((Priority::ALL[i], d)));
                    }
                }
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return Ok(None),
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::{MemoryQueue, Settle};
    use Priority as P;

    #[test]
    fn names_parse_and_name_their_queues() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Ok(p));
        }
        assert_eq!(
            Priority::parse("urgent").unwrap_err(),
            "unknown priority `urgent`: use one of interactive, normal, batch"
        );
        assert_eq!(P::Normal.queue("moonfarm.tasks"), "moonfarm.tasks");
        assert_eq!(P::Batch.queue("moonfarm.tasks"), "moonfarm.tasks.batch");
        assert_eq!(
            P::Interactive.queue("moonfarm.tasks"),
            "moonfarm.tasks.interactive"
        );
    }

    /// The discipline as a table: which level each take goes to, given which are non-empty.
    #[test]
    fn the_highest_level_wins_and_every_eighth_take_goes_to_the_one_passed_over() {
        let mut p = Picker::default();
        assert_eq!(p.pick([false; 3]), None);
        assert_eq!(p.pick([false, true, true]), Some(P::Normal));
        assert_eq!(p.pick([false, false, true]), Some(P::Batch));
        // Interactive and batch both waiting: 7 interactive, then one batch, and again.
        let mut p = Picker::default();
        let takes: Vec<P> = (0..16)
            .map(|_| p.pick([true, false, true]).unwrap())
            .collect();
        let batch_at: Vec<usize> = (0..16).filter(|&i| takes[i] == P::Batch).collect();
        assert_eq!(batch_at, vec![7, 15]);
        // All three waiting: batch is never starved, nor normal.
        let mut p = Picker::default();
        let takes: Vec<P> = (0..64).map(|_| p.pick([true; 3]).unwrap()).collect();
        for window in takes.windows(FAIRNESS_WINDOW as usize) {
            assert!(window.contains(&P::Batch), "{window:?}");
            assert!(window.iter().any(|&l| l != P::Interactive), "{window:?}");
        }
        assert!(takes.iter().filter(|&&l| l == P::Interactive).count() >= 40);
    }

    /// An empty level resets its count: a level that just got work waits for no backlog.
    #[test]
    fn a_level_that_was_empty_is_not_owed_anything() {
        let mut p = Picker::default();
        for _ in 0..20 {
            assert_eq!(p.pick([true, false, false]), Some(P::Interactive));
        }
        assert_eq!(p.pick([true, false, true]), Some(P::Interactive));
    }

    /// A consumer of the levels of task queue `t`, polling every 5 ms.
    fn consumer(q: &MemoryQueue) -> PriorityConsumer {
        PriorityConsumer::new(
            Arc::new(q.clone()),
            "t",
            Duration::from_millis(5),
            CancellationToken::new(),
        )
    }

    #[tokio::test]
    async fn the_consumer_takes_interactive_work_before_a_batch_backlog() {
        let q = MemoryQueue::new();
        for i in 0..3u8 {
            q.publish(&P::Batch.queue("t"), vec![b'b', i])
                .await
                .unwrap();
        }
        let mut c = consumer(&q);
        let (level, first) = c.next().await.unwrap().unwrap();
        assert_eq!(level, P::Batch);
        assert_eq!(first.payload, vec![b'b', 0]);
        // Published while the first batch task is in hand: taken next.
        q.publish(&P::Interactive.queue("t"), b"i".to_vec())
            .await
            .unwrap();
        first.settle(Settle::Ack).await.unwrap();
        let (level, next) = c.next().await.unwrap().unwrap();
        assert_eq!(level, P::Interactive);
        assert_eq!(next.payload, b"i".to_vec());
        next.settle(Settle::Ack).await.unwrap();
        // Nothing is held but the task in hand: two batch tasks still wait.
        assert_eq!(q.depth(&P::Batch.queue("t")).await.unwrap(), 2);
    }

    /// After a sweep, the same level is taken again even though a higher one has work, and
    /// the take is not counted: the next counted choice is the highest level again.
    #[tokio::test]
    async fn a_sweep_takes_the_same_level_again_uncounted() {
        let q = MemoryQueue::new();
        for i in 0..3u8 {
            q.publish(&P::Batch.queue("t"), vec![i]).await.unwrap();
        }
        q.publish(&P::Interactive.queue("t"), b"i".to_vec())
            .await
            .unwrap();
        let mut c = consumer(&q);
        let (level, d) = c.next().await.unwrap().unwrap();
        assert_eq!((level, d.payload.clone()), (P::Interactive, b"i".to_vec()));
        d.settle(Settle::Ack).await.unwrap();
        q.publish(&P::Interactive.queue("t"), b"j".to_vec())
            .await
            .unwrap();
        c.sweep(P::Batch);
        for want in 0..3u8 {
            let (level, d) = c.next().await.unwrap().unwrap();
            assert_eq!((level, d.payload.clone()), (P::Batch, vec![want]));
            d.settle(Settle::Ack).await.unwrap();
            c.sweep(P::Batch);
        }
        // Batch is empty now: the sweep ends and the picker chooses as before.
        let (level, d) = c.next().await.unwrap().unwrap();
        assert_eq!((level, d.payload.clone()), (P::Interactive, b"j".to_vec()));
        d.settle(Settle::Ack).await.unwrap();
    }

    #[tokio::test]
    async fn the_consumer_ends_on_shutdown_while_waiting() {
        let shutdown = CancellationToken::new();
        let mut c = PriorityConsumer::new(
            Arc::new(MemoryQueue::new()),
            "t",
            Duration::from_millis(5),
            shutdown.clone(),
        );
        let waiter = tokio::spawn(async move { c.next().await.unwrap().is_none() });
        shutdown.cancel();
        assert!(waiter.await.unwrap());
    }
}
