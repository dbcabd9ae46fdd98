//! Issue 14's priorities, pause and resume, through the real binaries on RabbitMQ and
//! Azurite: interactive work submitted behind a batch backlog finishes first and the backlog
//! still completes; a job moved up with `producer priority` overtakes; a paused job renders
//! nothing (the worker's own counters say so) while its tasks wait parked, and once resumed
//! its image equals the uninterrupted render's; an unknown level publishes nothing.

use super::*;

/// 16x16 pixels in 16 tiles of 4, 16 samples in 4 passes: 64 short tasks, a backlog.
fn backlog() -> Render {
    Render {
        scene: cornell(),
        res: 16,
        spp: 16,
        tile: 4,
        passes: 4,
    }
}

fn level_queue(farm: &Farm, level: &str) -> String {
    shared::priority::Priority::parse(level)
        .unwrap()
        .queue(&farm.task_queue)
}

/// The job of every task the worker started, in the order it started them, from its log.
fn started(worker: &Proc) -> Vec<String> {
    let log = std::fs::read_to_string(&worker.log).unwrap();
    log.lines()
        .filter(|l| l.contains("task started"))
        .filter_map(|l| {
            let at = l.find("job=")? + 4;
            Some(l[at..].split_whitespace().next()?.to_string())
        })
        .collect()
}

/// How many tasks of `other` the worker started before the last task of `job`.
fn started_before_last(worker: &Proc, job: &str, other: &str) -> usize {
    let order = started(worker);
    let last = order
        .iter()
        .rposition(|j| j == job)
        .expect("the job's tasks were started");
    order[..last].iter().filter(|j| *j == other).count()
}

fn tasks_done(s: &Value) -> u64 {
    s["tasks_done"].as_u64().expect("tasks_done")
}

#[test]
fn an_interactive_job_behind_a_batch_backlog_finishes_first_and_the_backlog_completes() {
    let _serial = serial();
    let mut farm = Farm::new("prio");
    let (slow, quick) = (backlog(), Render::tiny());
    let (slow_ref, quick_ref) = (embedded(&slow, farm.path()), embedded(&quick, farm.path()));
    let merger = farm.merger();
    let b = submit_with(&farm, &slow, &["--priority", "batch"]);
    let i = submit_with(&farm, &quick, &["--priority", "interactive"]);
    let (b, i) = (b["job"].as_str().unwrap(), i["job"].as_str().unwrap());
    // Each job's tasks wait on its level's queue, and nothing on the normal one.
    assert_eq!(farm.depth(&level_queue(&farm, "batch")), slow.tasks());
    assert_eq!(
        farm.depth(&level_queue(&farm, "interactive")),
        quick.tasks()
    );
    assert_eq!(farm.depth(&farm.task_queue), 0);
    assert_eq!(farm.status(b)["priority"], "batch");
    assert_eq!(farm.status(i)["priority"], "interactive");

    // One worker, so the order it takes tasks in is the order they render in.
    let worker = farm.worker();
    let procs = [&merger, &worker];
    let image = farm.wait_done_and_fetch(i, &quick, &procs);
    assert_same_image(&image, &quick_ref, quick.spp);
    assert_eq!(farm.status(b)["state"], "rendering");
    // At most one take in 8 went to batch while interactive work waited (FAIRNESS_WINDOW).
    let before = started_before_last(&worker, i, b);
    assert!(
        before <= quick.tasks() as usize / 7 + 1,
        "{before} batch tasks started before the interactive job's last: {:?}",
        started(&worker)
    );
    let image = farm.wait_done_and_fetch(b, &slow, &procs);
    assert_same_image(&image, &slow_ref, slow.spp);
    farm.cleanup();
}

#[test]
fn a_job_moved_up_with_producer_priority_overtakes_the_normal_backlog() {
    let _serial = serial();
    let mut farm = Farm::new("reprio");
    let (slow, quick) = (backlog(), Render::tiny());
    let quick_ref = embedded(&quick, farm.path());
    let merger = farm.merger();
    // Submitted first at batch, so without the change it would wait behind the normal job.
    let p = submit_with(&farm, &quick, &["--priority", "batch"]);
    let p = p["job"].as_str().unwrap();
    let n = submit_with(&farm, &slow, &[]);
    let n = n["job"].as_str().unwrap();
    assert_eq!(farm.status(n)["priority"], "normal");

    let o = farm.producer(&["priority", p, "interactive", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (&v["now"], &v["already"]),
        (&"interactive".into(), &false.into())
    );
    assert_eq!(farm.status(p)["priority"], "interactive");
    // The same level again says so and changes nothing; an unknown one is a usage error.
    let o = farm.producer(&["priority", p, "interactive", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["already"], true, "{v}");
    let o = farm.producer(&["priority", p, "urgent"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("unknown priority `urgent`"));

    let worker = farm.worker();
    let procs = [&merger, &worker];
    let image = farm.wait_done_and_fetch(p, &quick, &procs);
    assert_same_image(&image, &quick_ref, quick.spp);
    assert_eq!(farm.status(n)["state"], "rendering");
    // 7 normal takes, then the batch queue's first task is the promoted job's: that one and
    // the rest are moved to interactive in one sweep, and rendered first (one in 8 normal).
    let before = started_before_last(&worker, p, n);
    assert!(
        before <= 7 + quick.tasks() as usize / 7 + 1,
        "{before} of the normal job's tasks started before the promoted job's last: {:?}",
        started(&worker)
    );
    // Every task of the promoted job was moved once, from the batch queue to interactive.
    assert_eq!(
        worker.metric("moonfarm_worker_tasks_rerouted_total"),
        quick.tasks() as f64
    );
    farm.wait_done_and_fetch(n, &slow, &procs);
    farm.cleanup();
}

#[test]
fn a_paused_job_renders_nothing_until_resumed_and_then_equals_an_uninterrupted_run() {
    let _serial = serial();
    let mut farm = Farm::new("pause");
    // 128 short tasks: long enough to pause mid-job.
    let render = Render {
        passes: 8,
        spp: 64,
        ..backlog()
    };
    let reference = embedded(&render, farm.path());
    let merger = farm.merger();
    let worker = farm.worker();
    let procs = [&merger, &worker];
    let job = farm.submit(&render);
    let parked = shared::parking::parked_queue(
        &farm.task_queue,
        &shared::protocol::JobId::parse(&job).unwrap(),
    );
    farm.extra_queues.push(parked.clone());
    testkit::poll::until(JOB_DEADLINE, Duration::from_millis(50), || {
        let s = farm.status(&job);
        if tasks_done(&s) >= 4 {
            Ok(())
        } else {
            Err(format!("no progress: {s}\n{}", logs(&procs)))
        }
    });
    let o = farm.producer(&["pause", &job, "--json"]);
    assert!(o.status.success(), "pause: {}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (&v["now"], &v["already"]),
        (&"paused".into(), &false.into())
    );

    // The task in hand finishes; every other one ends up parked, none on the task queue.
    let (rendered, merged) =
        testkit::poll::until(Duration::from_secs(60), Duration::from_millis(100), || {
            let busy = worker.metric("moonfarm_worker_tasks_in_progress");
            let queued = farm.depth(&farm.task_queue);
            let waiting = farm.depth(&parked);
            let s = farm.status(&job);
            let done = tasks_done(&s);
            if busy == 0.0 && queued == 0 && waiting + done == render.tasks() {
                Ok((worker.metric("moonfarm_worker_tasks_done_total"), done))
            } else {
                Err(format!(
                    "busy {busy}, queued {queued}, parked {waiting}, done {done}: {s}\n{}",
                    logs(&procs)
                ))
            }
        });
    assert!(merged < render.tasks(), "paused before the end: {merged}");
    let s = farm.status(&job);
    assert_eq!(
        (&s["state"], &s["paused"]),
        (&"paused".into(), &true.into()),
        "{s}"
    );
    let o = farm.producer(&["list", "--state", "paused", "--json"]);
    let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(listed[0]["job"], job.as_str(), "{listed}");
    // Paused: nothing renders for a while, by the worker's own count.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(worker.metric("moonfarm_worker_tasks_done_total"), rendered);
    assert_eq!(tasks_done(&farm.status(&job)), merged);
    assert_eq!(farm.depth(&parked), render.tasks() - merged);
    assert_eq!(
        worker.metric("moonfarm_worker_tasks_parked_total"),
        (render.tasks() - merged) as f64
    );
    // Pausing again says so.
    let o = farm.producer(&["pause", &job, "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["already"], true, "{v}");

    let o = farm.producer(&["resume", &job, "--json"]);
    assert!(o.status.success(), "resume: {}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["tasks_queued"].as_u64(),
        Some(render.tasks() - merged),
        "{v}"
    );
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    // Every task rendered once: none lost in the parked queue, none twice.
    assert_eq!(
        worker.metric("moonfarm_worker_tasks_done_total"),
        render.tasks() as f64
    );
    // Once the job has ended, the merger deletes its parked queue.
    testkit::poll::until(Duration::from_secs(30), Duration::from_millis(500), || {
        let o = Command::new("rabbitmqctl")
            .args(["-q", "list_queues", "name"])
            .output()
            .expect("rabbitmqctl runs (the test needs RabbitMQ's CLI)");
        let names = text(&o.stdout);
        if names.lines().any(|l| l.trim() == parked) {
            Err(format!("{parked} is still there"))
        } else {
            Ok(())
        }
    });
    // A finished job cannot be paused; the error says why.
    let o = farm.producer(&["pause", &job]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("done"), "{}", text(&o.stderr));
    farm.cleanup();
}

#[test]
fn an_unknown_priority_is_a_usage_error_and_publishes_nothing() {
    let _serial = serial();
    let farm = Farm::new("badprio");
    let o = farm.producer(&[
        "submit",
        cornell().to_str().unwrap(),
        "--priority",
        "urgent",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "one error line: {err}");
    assert!(err.contains("--priority (MOONFARM_PRIORITY): unknown priority `urgent`: use one of interactive, normal, batch"), "{err}");
    for level in ["interactive", "normal", "batch"] {
        assert_eq!(farm.depth(&level_queue(&farm, level)), 0, "{level}");
    }
    farm.cleanup();
}
