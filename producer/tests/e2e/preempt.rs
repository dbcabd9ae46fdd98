//! Preemption that keeps its samples: workers sent SIGTERM in the middle of a long task, one
//! after another, each with a 2 s budget. Each stores what it rendered, puts the rest of the
//! range back as a new task and leaves within its budget; the job ends with the embedded image,
//! and the workers together rendered the image's samples and no more than one wave beyond.

use super::*;

/// The counter `field` of a worker's "worker stopped" log line: its metrics as they stood at
/// exit, after its last scrape could have been taken.
fn at_exit(log: &Path, field: &str) -> u64 {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let line = text
        .lines()
        .rfind(|l| l.contains("worker stopped"))
        .unwrap_or_else(|| panic!("{}: no \"worker stopped\" line\n{text}", log.display()));
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(field)?.strip_prefix('=')?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {line}"))
}

#[test]
fn twenty_sigterms_mid_task_keep_every_sample_and_do_not_fail_the_job() {
    let _serial = serial();
    let mut farm = Farm::new("preempt");
    // One task: 16x16 pixels, 8192 samples each, about 2 M samples (a few seconds on one
    // thread), rendered in waves of 16 samples (4096 pixel samples, milliseconds).
    let render = Render {
        scene: cornell(),
        res: 16,
        spp: 8192,
        tile: 16,
        passes: 1,
    };
    let pixels = 16 * 16u64;
    let wave = pixels * 16;
    let reference = embedded(&render, farm.path());
    let merger = farm.merger();
    let job = farm.submit(&render);
    let budget = Duration::from_secs(2);
    let env = [
        ("MOONFARM_GRACE_SECONDS", budget.as_secs().to_string()),
        ("MOONFARM_WAVE_SAMPLES", "16".to_string()),
    ];

    // Twenty workers in a row, each sent SIGTERM 40 ms into the task: more than the queue's
    // delivery limit (4), so a task given back the old way would now be dead-lettered and the
    // job failed.
    let (mut rendered, mut interrupted, mut kept_some) = (0, 0, 0);
    for round in 0..20 {
        let mut w = farm.worker_with(&env);
        testkit::poll::until(JOB_DEADLINE, Duration::from_millis(5), || {
            assert!(w.try_exit().is_none(), "{} exited\n{}", w.name, w.tail());
            if w.metric("moonfarm_worker_tasks_in_progress") == 1.0 {
                Ok(())
            } else {
                Err(format!(
                    "round {round}: {} took no task\n{}",
                    w.name,
                    w.tail()
                ))
            }
        });
        std::thread::sleep(Duration::from_millis(40));
        let (name, log) = (w.name.clone(), w.log.clone());
        let started = Instant::now();
        let status = w.terminate(budget + Duration::from_secs(5));
        let took = started.elapsed();
        let tail = || std::fs::read_to_string(&log).unwrap_or_default();
        let status = status
            .unwrap_or_else(|| panic!("{name} still running {took:?} after SIGTERM\n{}", tail()));
        assert!(status.success(), "{name} exited with {status}\n{}", tail());
        assert!(
            took <= budget + Duration::from_secs(1),
            "{name} took {took:?}, past its {budget:?} budget\n{}",
            tail()
        );
        assert_eq!(
            at_exit(&log, "tasks_done"),
            0,
            "round {round}: the task ended early\n{}",
            tail()
        );
        interrupted += at_exit(&log, "tasks_interrupted");
        // An interruption before the first wave ended stored nothing and reported no piece
        // (`kept=0`): the job's status counts the interruptions that reported one.
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        kept_some += text
            .lines()
            .filter(|l| l.contains("task interrupted") && !l.contains(" kept=0 "))
            .count() as u64;
        rendered += at_exit(&log, "samples_rendered");
    }
    assert_eq!(interrupted, 20, "each SIGTERM interrupted the task");
    let s = farm.status(&job);
    assert_eq!(s["state"], "rendering", "{s}");
    assert!(
        rendered >= pixels * 16 * 10,
        "the interrupted workers kept little: {rendered} pixel samples"
    );
    assert_eq!(farm.depth(&format!("{}.dead", farm.task_queue)), 0);

    // A worker left alone renders the rest, on two threads.
    let last = farm.worker_with(&[
        ("MOONFARM_THREADS", "2".to_string()),
        ("MOONFARM_WAVE_SAMPLES", "16".to_string()),
    ]);
    let image = farm.wait_done_and_fetch(&job, &render, &[&last, &merger]);
    assert_same_image(&image, &reference, render.spp);
    let total = rendered + last.metric("moonfarm_worker_samples_rendered_total") as u64;
    let samples = pixels * u64::from(render.spp);
    assert!(
        (samples..=samples + wave).contains(&total),
        "the workers rendered {total} pixel samples for an image of {samples} (one wave is {wave})"
    );
    let s = farm.status(&job);
    assert!(
        kept_some >= 10,
        "most interruptions kept samples: {kept_some} of 20"
    );
    assert_eq!(s["tasks_interrupted"].as_u64(), Some(kept_some), "{s}");
    assert_eq!(s["tasks"]["retried"], 0, "{s}");
    assert_eq!(s["samples_rendered"].as_u64(), Some(total), "{s}");
    farm.cleanup();
}
