//! Result shards: which result queue carries a job's results, so that several mergers share
//! the farm's merging, each job on exactly one of them.
//!
//! With `shards` = 1 (the default) every result goes to the result queue itself, as before
//! sharding existed. With `shards` = N > 1 a job's results and control messages go to
//! `<result queue>.<i>`, i = FNV-1a-64(job id) mod N: a pure function of the id, so the
//! workers, the producer (which sends a cancel there) and the mergers agree on it without
//! talking to each other, as long as they are given the same N. Each shard queue is consumed
//! by one active merger at a time (RabbitMQ's single active consumer, declared by
//! [`single_active`]); the other mergers of that shard are standbys that RabbitMQ hands the
//! queue to when the active one's channel closes.

use crate::protocol::JobId;

/// The result queue of shard `index` of `shards`.
pub fn queue(base: &str, shards: u32, index: u32) -> String {
    if shards <= 1 {
        base.to_string()
    } else {
        format!("{base}.{index}")
    }
}

/// The shard of `job`, 0 when there is one.
pub fn of_job(job: &JobId, shards: u32) -> u32 {
    if shards <= 1 {
        return 0;
    }
    // FNV-1a, 64 bits: stable across processes, versions and platforms (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in job.as_str().as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % u64::from(shards)) as u32
}

/// The result queue that carries `job`'s results.
pub fn queue_of_job(base: &str, shards: u32, job: &JobId) -> String {
    queue(base, shards, of_job(job, shards))
}

/// Whether a queue is a result queue (a name ending in `results`, or such a name then `.<n>`),
/// which the RabbitMQ adapter declares with single active consumer. Decided from the name
/// alone so that every process, whatever it is configured with, declares a queue the same way.
pub fn single_active(queue: &str) -> bool {
    let base = match queue.rsplit_once('.') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => queue,
    };
    base.ends_with("results")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shard_is_the_result_queue_itself() {
        let job = JobId::parse("a").unwrap();
        assert_eq!(
            queue_of_job("moonfarm.results", 1, &job),
            "moonfarm.results"
        );
        assert_eq!(
            queue_of_job("moonfarm.results", 0, &job),
            "moonfarm.results"
        );
    }

    #[test]
    fn jobs_spread_over_shards_the_same_way_everywhere() {
        // FNV-1a-64 of "a" is 0xaf63dc4c8601ec8c (the published test vector).
        assert_eq!(
            of_job(&JobId::parse("a").unwrap(), 1000),
            (0xaf63dc4c8601ec8c_u64 % 1000) as u32
        );
        let mut counts = [0u32; 4];
        for i in 0..400 {
            counts[of_job(&JobId::parse(&format!("job-{i}")).unwrap(), 4) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 60), "{counts:?}");
        assert_eq!(queue("moonfarm.results", 4, 3), "moonfarm.results.3");
    }

    #[test]
    fn result_queues_are_told_by_name() {
        for q in [
            "moonfarm.results",
            "moonfarm.results.3",
            "test.x.results",
            "results",
        ] {
            assert!(single_active(q), "{q}");
        }
        for q in [
            "moonfarm.tasks",
            "moonfarm.tasks.3",
            "moonfarm.results.dead",
            "results.x",
        ] {
            assert!(!single_active(q), "{q}");
        }
    }
}
