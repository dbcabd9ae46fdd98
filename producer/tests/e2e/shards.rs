//! No single merger: a standby merger takes a result queue over when the active one is killed
//! (RabbitMQ's single active consumer), and results sharded by job over two result queues go
//! to two mergers, each job to one.

use super::*;

/// Waits until the job has `at_least` tasks done.
fn wait_tasks(farm: &Farm, job: &str, at_least: u64, procs: &[&Proc]) {
    testkit::poll::until(JOB_DEADLINE, Duration::from_millis(50), || {
        let done = farm.status(job)["tasks_done"].as_u64().unwrap_or(0);
        if done >= at_least {
            Ok(())
        } else {
            Err(format!("job {job} stuck at {done} tasks\n{}", logs(procs)))
        }
    });
}

#[test]
fn a_standby_merger_finishes_the_job_when_the_active_one_is_killed() {
    let _serial = serial();
    let mut farm = Farm::new("standby");
    let render = Render::slow();
    let reference = embedded(&render, farm.path());
    let mut mergers = vec![farm.merger(), farm.merger()];
    let workers: Vec<Proc> = (0..3).map(|_| farm.worker()).collect();
    let job = farm.submit(&render);
    let all: Vec<&Proc> = workers.iter().chain(mergers.iter()).collect();
    wait_tasks(&farm, &job, render.tasks() / 4, &all);

    // One merger has merged everything so far, the other nothing: one active consumer.
    let merged: Vec<f64> = mergers
        .iter()
        .map(|m| m.metric("moonfarm_merger_tiles_merged_total"))
        .collect();
    let active = merged
        .iter()
        .position(|&n| n > 0.0)
        .expect("one merger merges");
    assert_eq!(
        merged[1 - active],
        0.0,
        "the standby merged while the active one was up: {merged:?}"
    );
    let mut victim = mergers.remove(active);
    let s = farm.status(&job);
    assert_eq!(s["state"], "rendering", "the kill must land mid-job: {s}");
    eprintln!("SIGKILL the active {} at {s}", victim.name);
    victim.kill();

    let standby = &mergers[0];
    let procs: Vec<&Proc> = workers.iter().chain([standby]).collect();
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    assert!(
        standby.metric("moonfarm_merger_tiles_merged_total") > 0.0,
        "the standby merged the rest"
    );
    farm.cleanup();
}

#[test]
fn two_shards_merge_jobs_on_two_mergers() {
    let _serial = serial();
    let mut farm = Farm::new("shards");
    let render = Render::tiny();
    let reference = embedded(&render, farm.path());
    let shards = 2u32;
    farm.extra_queues = (0..shards)
        .map(|i| shared::shard::queue(&farm.result_queue, shards, i))
        .collect();
    let env = |shard: u32| {
        [
            ("MOONFARM_RESULT_SHARDS", shards.to_string()),
            ("MOONFARM_SHARD", shard.to_string()),
        ]
    };
    let mergers: Vec<Proc> = (0..shards).map(|i| farm.merger_with(&env(i))).collect();
    let workers: Vec<Proc> = (0..2).map(|_| farm.worker_with(&env(0)[..1])).collect();

    // Submit together until both shards have a job (ids are random: about 2 submits).
    let mut jobs: Vec<(String, u32)> = Vec::new();
    while jobs.len() < 8 && (0..shards).any(|i| !jobs.iter().any(|j| j.1 == i)) {
        let job = farm.submit(&render);
        let shard = shared::shard::of_job(&shared::protocol::JobId::parse(&job).unwrap(), shards);
        jobs.push((job, shard));
    }
    assert!(
        (0..shards).all(|i| jobs.iter().any(|j| j.1 == i)),
        "no job on some shard: {jobs:?}"
    );
    let procs: Vec<&Proc> = workers.iter().chain(mergers.iter()).collect();
    for (job, _) in &jobs {
        let image = farm.wait_done_and_fetch(job, &render, &procs);
        assert_same_image(&image, &reference, render.spp);
    }
    // Each merger merged its shard's jobs, every task once, and nothing of the other shard.
    for (i, m) in mergers.iter().enumerate() {
        let own = jobs.iter().filter(|j| j.1 == i as u32).count() as u64;
        assert_eq!(
            m.metric("moonfarm_merger_tiles_merged_total"),
            (own * render.tasks()) as f64,
            "merger of shard {i} ({own} jobs): {jobs:?}"
        );
    }
    farm.cleanup();
}
