//! The farm as a whole: separate worker and merger processes render exactly what the embedded
//! mode renders.

use super::*;

#[test]
fn three_workers_and_a_merger_render_the_embedded_image() {
    let _serial = serial();
    let mut farm = Farm::new("pipeline");
    let render = Render::tiny();
    let reference = embedded(&render, farm.path());

    let job = farm.submit(&render);
    let merger = farm.merger();
    let workers: Vec<Proc> = (0..3).map(|_| farm.worker()).collect();
    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);

    // The workers' metrics add up to the job, and the merger merged each tile-pass once.
    let done: f64 = workers
        .iter()
        .map(|w| w.metric("moonfarm_worker_tasks_done_total"))
        .sum();
    assert_eq!(done, render.tasks() as f64, "{}", logs(&procs));
    let samples: f64 = workers
        .iter()
        .map(|w| w.metric("moonfarm_worker_samples_total"))
        .sum();
    let side = 256 / render.res;
    assert_eq!(
        samples,
        f64::from(side * side * render.spp),
        "samples taken over all workers"
    );
    assert_eq!(
        merger.metric("moonfarm_merger_tiles_merged_total"),
        render.tasks() as f64
    );
    assert!(merger.metric("moonfarm_merger_bytes_merged_total") > 0.0);
    assert!(merger.metric("moonfarm_merger_merge_seconds_total") > 0.0);
    assert!(
        workers
            .iter()
            .map(|w| w.metric("moonfarm_worker_render_seconds_total"))
            .sum::<f64>()
            > 0.0
    );

    // The job has ended: the merger deletes its partials from Azure, and only them.
    let blobs = farm.blobs();
    let job_id = shared::protocol::JobId::parse(&job).unwrap();
    testkit::poll::until(JOB_DEADLINE, Duration::from_millis(50), || {
        if merger.metric("moonfarm_merger_partials_deleted_total") < render.tasks() as f64 {
            Err(format!("partials not deleted\n{}", logs(&procs)))
        } else {
            Ok(())
        }
    });
    rt().block_on(async {
        let left = blobs
            .list_folders(&shared::protocol::keys::partials(&job_id))
            .await
            .unwrap();
        assert!(left.is_empty(), "partials are left under {left:?}");
        assert!(
            blobs
                .exists(&shared::protocol::keys::final_image(&job_id))
                .await
                .unwrap(),
            "the final image stays"
        );
    });
    farm.cleanup();
}

#[test]
fn status_fetch_list_submit_wait_and_cancel_follow_the_contract() {
    let _serial = serial();
    let mut farm = Farm::new("cli");
    let render = Render::tiny();
    let reference = embedded(&render, farm.path());

    // Submitted, nothing consuming yet: known, rendering, nothing done, fetch refuses.
    let job = farm.submit(&render);
    let s = farm.status(&job);
    assert_eq!(s["state"], "rendering", "{s}");
    assert_eq!(s["tasks_total"].as_u64(), Some(render.tasks()), "{s}");
    assert_eq!(s["tasks_done"].as_u64(), Some(0), "{s}");
    let early = farm.path().join("early.exr");
    let o = farm.producer(&["fetch", &job, "-o", early.to_str().unwrap()]);
    assert!(!o.status.success(), "fetch of an unfinished job must fail");
    assert!(!early.exists(), "and write nothing");
    let o = farm.producer(&["status", "no-such-job", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "an unknown job: {}",
        text(&o.stderr)
    );
    let list = farm.producer(&["list", "--json"]);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let list: Value = serde_json::from_slice(&list.stdout).expect("list --json prints JSON");
    assert!(
        list.as_array()
            .expect("an array")
            .iter()
            .any(|s| s["job"] == job.as_str()),
        "{list}"
    );

    let merger = farm.merger();
    let worker = farm.worker();

    let out = farm.path().join("waited.exr");
    let mut args: Vec<String> = vec!["submit".into()];
    args.extend(render.args());
    args.extend(["--wait", "--json", "-o"].map(String::from));
    args.push(out.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = farm.producer(&args);
    assert!(
        o.status.success(),
        "submit --wait: {}\n{}",
        text(&o.stderr),
        logs(&[&merger, &worker])
    );
    assert_same_image(&read_image(&out), &reference, render.spp);
    // --json with --wait: the submitted job, then its end, one JSON object a line.
    let lines: Vec<Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["state"], "queued", "{}", lines[0]);
    assert_eq!(lines[1]["state"], "done", "{}", lines[1]);
    assert_eq!(lines[0]["job"], lines[1]["job"]);
    assert_eq!(lines[1]["output"], out.display().to_string().as_str());
    assert_eq!(lines[1]["tasks"], lines[0]["tasks"]);

    // A cancelled job ends `cancelled`, and fetch refuses it. Without workers it cannot finish
    // before the cancel arrives.
    drop(worker);
    let job = farm.submit(&render);
    let c = farm.producer(&["cancel", &job]);
    assert!(c.status.success(), "cancel: {}", text(&c.stderr));
    let s = farm.wait_state(&job, &[&merger], |_| {});
    assert_eq!(s["state"], "cancelled", "{s}");
    let fetched = farm.producer(&[
        "fetch",
        &job,
        "-o",
        farm.path().join("cancelled.exr").to_str().unwrap(),
    ]);
    assert!(
        !fetched.status.success(),
        "fetch of a cancelled job must fail"
    );
    farm.cleanup();
}

#[test]
fn a_submit_that_fails_part_way_cancels_its_job_instead_of_leaving_it_unfinishable() {
    let _serial = serial();
    let mut farm = Farm::new("withdraw");
    let render = Render::tiny();
    let merger = farm.merger();
    // The task queue already exists with another delivery limit: the producer stores the
    // manifest, then its first task publish is refused (PRECONDITION_FAILED).
    rt().block_on(async {
        let opts = AmqpOptions {
            connection_name: "farm-test-withdraw".into(),
            delivery_limit: 9,
            ..AmqpOptions::default()
        };
        let q = AmqpQueue::connect(AMQP_URL, opts)
            .await
            .expect("connect to RabbitMQ");
        q.depth(&farm.task_queue)
            .await
            .expect("declare the task queue");
        q.close().await;
    });
    let mut args: Vec<String> = vec!["submit".into()];
    args.extend(render.args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // With the producer's own log filter, as a user runs it.
    let o = farm
        .command(Path::new(env!("CARGO_BIN_EXE_producer")))
        .args(&args)
        .env_remove("MOONFARM_LOG")
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("failed part-way; it was cancelled") && err.contains("x-delivery-limit"),
        "{err}"
    );
    assert_eq!(
        err.lines().count(),
        1,
        "one error line, not the AMQP client's logs too: {err}"
    );

    // The half-submitted job is there, and ends cancelled rather than rendering forever.
    let list = farm.producer(&["list", "--json"]);
    let list: Value = serde_json::from_slice(&list.stdout).expect("list --json prints JSON");
    let jobs = list.as_array().expect("an array");
    assert_eq!(jobs.len(), 1, "{list}");
    let job = jobs[0]["job"].as_str().unwrap().to_string();
    assert!(err.contains(&job), "the error names the job: {err}");
    let s = farm.wait_state(&job, &[&merger], |_| {});
    assert_eq!(s["state"], "cancelled", "{s}");
    farm.cleanup();
}
