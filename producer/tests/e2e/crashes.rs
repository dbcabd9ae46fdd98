//! Processes that die mid-job: a worker or the merger killed with SIGKILL (a node lost, an OOM
//! kill) and a worker stopped with SIGTERM (a scale-down). The job still completes with the
//! embedded image: no task lost, none merged twice.

use super::*;

/// How often the tests poll /metrics while they wait for the moment to strike.
const POLL: Duration = Duration::from_millis(20);

/// Waits until one of `workers` has just finished a task (its `tasks_done` counter went up
/// since the last poll) and returns its index. A worker holds one task at a time (prefetch 1)
/// and takes the next as soon as it has acked one, so a few milliseconds after a completion it
/// is inside its next task, which takes hundreds of milliseconds in `Render::slow`.
/// `seen` keeps each worker's last count between calls.
fn just_finished(workers: &mut [Proc], seen: &mut Vec<f64>, others: &[&Proc]) -> usize {
    seen.resize(workers.len(), 0.0);
    testkit::poll::until(JOB_DEADLINE, POLL, || {
        for (i, w) in workers.iter_mut().enumerate() {
            let exited = w.try_exit();
            assert!(
                exited.is_none(),
                "{} exited ({exited:?})\n{}",
                w.name,
                w.tail()
            );
            let n = w.metric("moonfarm_worker_tasks_done_total");
            if n > seen[i] {
                seen[i] = n;
                return Ok(i);
            }
        }
        let all: Vec<&Proc> = workers.iter().chain(others.iter().copied()).collect();
        Err(format!("no worker finished a task\n{}", logs(&all)))
    })
}

/// Whether the worker reports a task in progress within 500 ms.
fn in_progress_soon(worker: &Proc) -> bool {
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        if worker.metric("moonfarm_worker_tasks_in_progress") == 1.0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// The tile-pass of every "task started" or "task done" line of a worker's log, in order, with
/// its attempt (the broker's delivery count).
fn task_lines(log: &std::path::Path, event: &str) -> Vec<(u64, u64, u64)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let field = |line: &str, key: &str| -> Option<u64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
    };
    text.lines()
        .filter(|l| l.contains(&format!(" {event} ")))
        .filter_map(|l| Some((field(l, "tile")?, field(l, "pass")?, field(l, "attempt")?)))
        .collect()
}

#[test]
fn workers_killed_mid_task_lose_no_task_and_merge_none_twice() {
    let _serial = serial();
    let mut farm = Farm::new("killworker");
    let render = Render::slow();
    let reference = embedded(&render, farm.path());
    let merger = farm.merger();
    let mut workers: Vec<Proc> = (0..3).map(|_| farm.worker()).collect();
    let job = farm.submit(&render);

    // Three times: SIGKILL a worker inside a task (it finished one and reports the next in
    // progress), and start a fresh worker in its place. Its log proves the kill landed mid-task:
    // the task it last started has no "task done" line. (A task finishing in the few
    // milliseconds between the look and the kill would not count; the next try would.)
    let mut seen = Vec::new();
    let mut victims = Vec::new();
    let mut killed_mid_task = Vec::new();
    for attempt in 0..8 {
        if killed_mid_task.len() == 3 {
            break;
        }
        let i = loop {
            let i = just_finished(&mut workers, &mut seen, &[&merger]);
            // A worker starts its next task a few milliseconds after acking one (it looks at
            // the level queues and reads the job's dispatch record first): look for it in
            // progress for a moment, far less than a task of `Render::slow` takes.
            if in_progress_soon(&workers[i]) {
                break i;
            }
        };
        let mut victim = workers.remove(i);
        seen.remove(i);
        victim.kill();
        let started = task_lines(&victim.log, "task started");
        let done = task_lines(&victim.log, "task done");
        let last = *started.last().expect("the victim started a task");
        let mid_task = !done.iter().any(|d| (d.0, d.1) == (last.0, last.1));
        eprintln!(
            "kill {attempt}: SIGKILL {} inside tile {} pass {}: mid-task {mid_task}",
            victim.name, last.0, last.1
        );
        if mid_task {
            killed_mid_task.push((last.0, last.1));
        }
        victims.push(victim);
        workers.push(farm.worker());
    }
    assert_eq!(
        killed_mid_task.len(),
        3,
        "three kills must land inside a task: {killed_mid_task:?}"
    );
    let s = farm.status(&job);
    assert_eq!(
        s["state"], "rendering",
        "the kills must land mid-job, not after it: {s}"
    );

    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    assert_eq!(
        merger.metric("moonfarm_merger_tiles_merged_total"),
        render.tasks() as f64,
        "the merger merged every tile-pass exactly once"
    );
    // Each task a worker died holding came back from the broker and was rendered again.
    let redone: Vec<(u64, u64, u64)> = victims
        .iter()
        .chain(workers.iter())
        .flat_map(|w| task_lines(&w.log, "task done"))
        .collect();
    for (tile, pass) in killed_mid_task {
        assert!(
            redone.iter().any(|d| (d.0, d.1) == (tile, pass) && d.2 >= 2),
            "tile {tile} pass {pass}, held by a killed worker, was not redelivered and rendered: {redone:?}"
        );
    }
    farm.cleanup();
}

#[test]
fn the_merger_killed_mid_job_resumes_from_its_checkpoint() {
    let _serial = serial();
    let mut farm = Farm::new("killmerger");
    let render = Render::slow();
    let reference = embedded(&render, farm.path());
    let mut merger = farm.merger();
    let workers: Vec<Proc> = (0..3).map(|_| farm.worker()).collect();
    let job = farm.submit(&render);

    // SIGKILL the merger twice: once early in the job, once near its middle, each time once
    // it has merged something since it started.
    for (round, after) in [(0, render.tasks() / 6), (1, render.tasks() / 2)] {
        testkit::poll::until(JOB_DEADLINE, POLL, || {
            let done = farm.status(&job)["tasks_done"].as_u64().unwrap_or(0);
            if done >= after && merger.metric("moonfarm_merger_tiles_merged_total") >= 1.0 {
                return Ok(());
            }
            let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();
            Err(format!("round {round}: job stuck\n{}", logs(&procs)))
        });
        let s = farm.status(&job);
        assert_eq!(
            s["state"], "rendering",
            "round {round}: the kill must land mid-job: {s}"
        );
        eprintln!("round {round}: SIGKILL {} at {s}", merger.name);
        merger.kill();
        // Results pile up in the queue meanwhile; the new merger takes them from there.
        std::thread::sleep(Duration::from_millis(500));
        merger = farm.merger();
    }

    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    farm.cleanup();
}

#[test]
fn sigterm_on_a_busy_worker_exits_cleanly_within_the_grace_and_loses_nothing() {
    let _serial = serial();
    let mut farm = Farm::new("sigterm");
    let render = Render::slow();
    let reference = embedded(&render, farm.path());
    let merger = farm.merger();
    let grace = Duration::from_secs(10);
    let env = [("MOONFARM_GRACE_SECONDS", grace.as_secs().to_string())];
    let mut workers = vec![farm.worker_with(&env)];
    let job = farm.submit(&render);

    // Past the short first pass, the one worker is always inside a task: SIGTERM it there.
    let mut seen = Vec::new();
    while seen.first().copied().unwrap_or(0.0) < 5.0 {
        just_finished(&mut workers, &mut seen, &[&merger]);
    }
    std::thread::sleep(Duration::from_millis(30));
    let busy = workers.pop().unwrap();
    let name = busy.name.clone();
    let log = busy.log.clone();
    let started = Instant::now();
    let status = busy.terminate(grace + Duration::from_secs(5));
    let took = started.elapsed();
    let tail = std::fs::read_to_string(&log).unwrap_or_default();
    let status =
        status.unwrap_or_else(|| panic!("{name} still running {took:?} after SIGTERM\n{tail}"));
    assert!(
        status.success(),
        "{name} exited with {status} after SIGTERM\n{tail}"
    );
    assert!(
        took <= grace + Duration::from_secs(1),
        "{name} took {took:?}, past its {grace:?} grace"
    );
    let s = farm.status(&job);
    assert_eq!(s["state"], "rendering", "{s}");
    assert!(s["tasks_done"].as_u64().unwrap() < render.tasks(), "{s}");

    // A fresh worker finds the rest, including the task in hand if it was returned.
    let fresh = farm.worker();
    let image = farm.wait_done_and_fetch(&job, &render, &[&fresh, &merger]);
    assert_same_image(&image, &reference, render.spp);
    farm.cleanup();
}
