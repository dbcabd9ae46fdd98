//! Parked tasks: where a paused job's tasks wait, lossless, until the job is resumed.
//!
//! A worker that takes a task of a paused job publishes the task's message unchanged to the
//! job's parked queue (a durable quorum queue like the others, publisher-confirmed) and only
//! then acks the original, so a crash in between leaves the task in both places at worst: it
//! is rendered twice and merged once (the merger counts each (frame, tile, pass) once). Nothing
//! consumes a parked queue, so a farm with only paused work drains and KEDA scales it to zero.
//! `resume` moves every parked message back onto the job's level queue, the same way (publish,
//! confirm, ack). A worker that parks a task just as the job is resumed would leave it behind,
//! so after parking it reads the job's record again and, if the job is no longer paused, moves
//! the parked tasks back itself: whichever of the two moves last finds the task.

use crate::protocol::JobId;
use crate::queue::{Queue, QueueError, Settle};

/// What a parked queue's name has between the task queue's and the job id.
pub const PARKED_INFIX: &str = ".parked.";

/// The parked queue of a job, named from the farm's task queue (`moonfarm.tasks.parked.<job>`).
pub fn parked_queue(task_queue: &str, job: &JobId) -> String {
    format!("{task_queue}{PARKED_INFIX}{job}")
}

/// Moves every message ready in `from` to `to`, each published (confirmed) before it is acked.
/// Returns how many moved. Messages published to `from` while this runs are moved too.
pub async fn move_all(queue: &dyn Queue, from: &str, to: &str) -> Result<u64, QueueError> {
    let mut moved = 0;
    while let Some(d) = queue.get(from).await? {
        queue.publish(to, d.payload.clone()).await?;
        d.settle(Settle::Ack).await?;
        moved += 1;
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::MemoryQueue;

    #[tokio::test]
    async fn moving_keeps_every_message_once_and_in_order() {
        let q = MemoryQueue::new();
        let job = JobId::new();
        let parked = parked_queue("t", &job);
        assert_eq!(parked, format!("t.parked.{job}"));
        for i in 0..5u8 {
            q.publish(&parked, vec![i]).await.unwrap();
        }
        assert_eq!(move_all(&q, &parked, "t.batch").await.unwrap(), 5);
        assert_eq!(q.depth(&parked).await.unwrap(), 0);
        let mut got = vec![];
        while let Some(d) = q.get("t.batch").await.unwrap() {
            got.push(d.payload[0]);
            d.settle(Settle::Ack).await.unwrap();
        }
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert_eq!(move_all(&q, &parked, "t.batch").await.unwrap(), 0);
    }
}
