//! Messages that can never succeed: a scene that fails on the workers, and bytes that are not a
//! message at all. They end in the queue's `.dead` queue instead of looping, the job they
//! belong to (if any) is marked failed with the reason, and everything else keeps flowing.

use super::*;

/// Polls until `queue` holds at least `want` messages.
fn wait_depth(farm: &Farm, queue: &str, want: u64, procs: &[&Proc]) -> u64 {
    testkit::poll::until(JOB_DEADLINE, Duration::from_millis(200), || {
        let d = farm.depth(queue);
        if d >= want {
            Ok(d)
        } else {
            Err(format!("`{queue}` holds {d}, want {want}\n{}", logs(procs)))
        }
    })
}

#[test]
fn a_scene_that_fails_on_the_workers_fails_its_job_and_not_the_next() {
    let _serial = serial();
    let mut farm = Farm::new("badscene");
    // Two jobs with different scene blobs: the first a copy of the Cornell box that passes the
    // producer's check, then has its content-addressed blob replaced behind the producer's
    // back by Lua that does not parse, as a corrupted upload would.
    let text_a = std::fs::read_to_string(cornell()).unwrap() + "\n-- the job whose scene breaks\n";
    let scene_a = farm.path().join("breaks.rdla");
    std::fs::write(&scene_a, &text_a).unwrap();
    let bad = Render {
        scene: scene_a,
        ..Render::tiny()
    };
    let good = Render::tiny();
    let reference = embedded(&good, farm.path());

    let merger = farm.merger();
    let job_bad = farm.submit(&bad);
    let job_good = farm.submit(&good);
    let key = shared::protocol::keys::scene(&shared::blob::sha256_hex(text_a.as_bytes()));
    rt().block_on(async {
        let blobs = farm.blobs();
        assert!(
            blobs.exists(&key).await.unwrap(),
            "the producer uploaded the scene as {key}"
        );
        blobs
            .put(&key, b"SceneVariables { oops oops".to_vec())
            .await
            .unwrap();
    });

    let workers: Vec<Proc> = (0..2).map(|_| farm.worker()).collect();
    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();
    let s = farm.wait_state(&job_bad, &procs, |_| {});
    assert_eq!(s["state"], "failed", "{s}\n{}", logs(&procs));
    let failures: Vec<&str> = s["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!failures.is_empty(), "a failed job says why: {s}");
    eprintln!("failed job's reasons: {failures:?}");
    assert!(
        failures
            .iter()
            .any(|f| f.contains("breaks.rdla") || f.contains("syntax")),
        "the reason names the scene or the error: {failures:?}"
    );
    let dead = wait_depth(&farm, &format!("{}.dead", farm.task_queue), 1, &procs);
    eprintln!("{dead} task(s) dead-lettered");
    let failed: f64 = workers
        .iter()
        .map(|w| w.metric("moonfarm_worker_tasks_failed_total"))
        .sum();
    assert!(
        failed >= 1.0,
        "the workers count their failed attempts\n{}",
        logs(&procs)
    );

    let image = farm.wait_done_and_fetch(&job_good, &good, &procs);
    assert_same_image(&image, &reference, good.spp);
    for p in &procs {
        assert!(p.alive(), "{} died\n{}", p.name, p.tail());
    }
    farm.cleanup();
}

#[test]
fn garbage_on_both_queues_is_dead_lettered_and_the_farm_keeps_working() {
    let _serial = serial();
    let mut farm = Farm::new("garbage");
    let render = Render::tiny();
    let reference = embedded(&render, farm.path());
    let merger = farm.merger();
    let workers: Vec<Proc> = (0..2).map(|_| farm.worker()).collect();
    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();

    let garbage: [&[u8]; 3] = [
        b"\x00\x01 not msgpack at all",
        b"",
        b"{\"json\": \"is not the protocol\"}",
    ];
    rt().block_on(async {
        let q = farm.broker().await;
        for queue in [&farm.task_queue, &farm.result_queue] {
            for g in garbage {
                q.publish(queue, g.to_vec()).await.unwrap();
            }
        }
        q.close().await;
    });
    for queue in [&farm.task_queue, &farm.result_queue] {
        let dead = wait_depth(
            &farm,
            &format!("{queue}.dead"),
            garbage.len() as u64,
            &procs,
        );
        assert_eq!(dead, garbage.len() as u64, "`{queue}.dead`");
        assert_eq!(farm.depth(queue), 0, "`{queue}` drained");
    }
    for p in &procs {
        assert!(p.alive(), "{} died on garbage\n{}", p.name, p.tail());
    }
    let job = farm.submit(&render);
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    farm.cleanup();
}
