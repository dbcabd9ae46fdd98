//! The worker against the in-memory queue and blob store.

use super::*;
use shared::protocol::{Rect, SampleRange, SceneFile};
use shared::queue::MemoryQueue;

/// A task of a scene whose file is missing from the store: a scene error, on every attempt.
fn task_of_a_missing_scene() -> TilePassTask {
    TilePassTask {
        job: JobId::new(),
        frame: 0,
        tile: 0,
        rect: Rect {
            x0: 0,
            y0: 0,
            x1: 2,
            y1: 2,
        },
        pass: 0,
        samples: SampleRange { start: 0, end: 1 },
        params: RenderParams {
            scene: vec![SceneFile {
                name: "missing.rdla".into(),
                sha256: "00".repeat(32),
            }],
            res: 1.0,
            width: 2,
            height: 2,
            env: vec![],
            assets: vec![],
            lua: None,
            frame: None,
            rdla_set: vec![],
            adaptive: None,
        },
    }
}

/// On the last delivery the queue allows (here 2, not the default), a scene error is reported
/// to the merger as a failed task and the task is dead-lettered.
#[tokio::test]
async fn a_scene_error_on_the_queues_last_delivery_fails_the_task() {
    let queue = MemoryQueue::with_delivery_limit(2);
    let config = Config {
        task_queue: "last-attempt.tasks".into(),
        result_queue: "last-attempt.results".into(),
        ..Config::default()
    };
    let task = task_of_a_missing_scene();
    queue
        .publish(&config.task_queue, protocol::encode(&Message::Task(task)))
        .await
        .unwrap();
    let adapters = Adapters {
        queue: Arc::new(queue.clone()),
        blobs: Blobs::memory(),
    };
    let stop = CancellationToken::new();
    let worker = {
        let (config, stop) = (config.clone(), stop.clone());
        tokio::spawn(async move { run(&config, adapters, WorkerState::default(), stop).await })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while queue.dead_letters(&config.task_queue).is_empty() {
        assert!(Instant::now() < deadline, "the task was not dead-lettered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    worker.await.unwrap().unwrap();
    let mut results = queue.consume(&config.result_queue, 1).await.unwrap();
    assert_eq!(
        queue.depth(&config.result_queue).await.unwrap(),
        1,
        "one failed result"
    );
    let d = results.next().await.unwrap().unwrap();
    match protocol::decode(&d.payload).unwrap() {
        Message::Result(TilePassResult {
            outcome: TaskOutcome::Failed { reason },
            ..
        }) => assert!(reason.contains("missing.rdla"), "{reason}"),
        other => panic!("expected a failed result, got {other:?}"),
    }
}

/// The example scene in a memory store, and a task of its 16x16 image (`res` 16): one 2x2
/// tile, samples 0..`spp`.
async fn cornell_task(blobs: &Blobs, spp: u32) -> TilePassTask {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenes/cornell-box.rdla");
    let bytes = std::fs::read(path).unwrap();
    let sha256 = shared::blob::sha256_hex(&bytes);
    blobs.put(&keys::scene(&sha256), bytes).await.unwrap();
    let mut task = task_of_a_missing_scene();
    task.params.scene = vec![SceneFile {
        name: "cornell-box.rdla".into(),
        sha256,
    }];
    task.params.res = 16.0;
    (task.params.width, task.params.height) = (16, 16);
    task.rect = Rect {
        x0: 7,
        y0: 7,
        x1: 9,
        y1: 9,
    };
    task.samples = SampleRange { start: 0, end: spp };
    task
}

/// The sums and weights of a stored partial, per pixel.
async fn partial_sums(blobs: &Blobs, key: &str) -> Vec<([f64; 4], f64)> {
    let tile = exr_io::decode(&blobs.get(key).await.unwrap()).unwrap().tile;
    tile.rgba
        .iter()
        .zip(&tile.weight)
        .map(|(c, w)| {
            let w = f64::from(*w);
            (c.map(|v| f64::from(v) * w), w)
        })
        .collect()
}

/// A worker shut down mid-task stores the samples it rendered as a result of their own, puts
/// the rest back as a new task (a first delivery again) and acks: the rest, rendered by another
/// worker, adds up to the task rendered in one go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_mid_task_keeps_the_samples_and_puts_the_rest_back() {
    let queue = MemoryQueue::with_delivery_limit(2);
    let blobs = Blobs::memory();
    let config = Config {
        task_queue: "interrupt.tasks".into(),
        result_queue: "interrupt.results".into(),
        wave_samples: Some(16),
        grace: Duration::from_secs(5),
        ..Config::default()
    };
    // Enough samples that the three 30 ms shutdowns land mid-task on an idle machine too
    // (16384 took about 60 ms in all there, so the third found the task already done).
    let spp = 65536;
    let task = cornell_task(&blobs, spp).await;
    let adapters = Adapters {
        queue: Arc::new(queue.clone()),
        blobs: blobs.clone(),
    };
    let state = WorkerState::default();
    queue
        .publish(
            &config.task_queue,
            protocol::encode(&Message::Task(task.clone())),
        )
        .await
        .unwrap();
    let mut tasks = queue.consume(&config.task_queue, 1).await.unwrap();
    let mut results = queue.consume(&config.result_queue, 8).await.unwrap();
    // Three shutdowns in a row, past the queue's limit of two deliveries: each stops the task at
    // a wave boundary and puts the rest back as a new message; then a worker left alone ends it.
    let mut pieces = Vec::new();
    for round in 0..4 {
        let delivery = tasks.next().await.unwrap().unwrap();
        assert_eq!(delivery.delivery_count, 1, "round {round}: a new message");
        // The shutdown comes 30 ms into the render (waves of 64 samples take well under 1 ms).
        let shutdown = CancellationToken::new();
        let signal = (round < 3).then(|| {
            let (shutdown, metrics) = (shutdown.clone(), state.metrics.clone());
            tokio::spawn(async move {
                while metrics.tasks_in_progress.get() == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
                shutdown.cancel();
            })
        });
        handle(
            &config,
            &adapters,
            &state,
            Priority::Normal,
            delivery,
            &shutdown,
        )
        .await
        .unwrap();
        if let Some(signal) = signal {
            signal.await.unwrap();
        }
        while queue.depth(&config.result_queue).await.unwrap() > 0 {
            let d = results.next().await.unwrap().unwrap();
            let Message::Result(r) = protocol::decode(&d.payload).unwrap() else {
                panic!("a result")
            };
            d.settle(Settle::Ack).await.unwrap();
            assert_eq!(r.interrupted, round < 3, "round {round}: {r:?}");
            pieces.push(r);
        }
        if round < 3 {
            assert_eq!(
                queue.depth(&config.task_queue).await.unwrap(),
                1,
                "the rest"
            );
        }
    }
    assert_eq!(queue.depth(&config.task_queue).await.unwrap(), 0);
    assert!(queue.dead_letters(&config.task_queue).is_empty());
    assert_eq!(state.metrics.tasks_interrupted.get(), 3);
    // The pieces follow one another from the task's start to its end.
    let mut at = 0;
    for r in &pieces {
        assert_eq!(r.samples.start, at, "{pieces:?}");
        at = r.samples.end;
    }
    assert_eq!(at, spp, "{pieces:?}");
    assert!(
        pieces.len() >= 2,
        "no samples kept from a shutdown: {pieces:?}"
    );
    let rendered: u64 = pieces.iter().map(|r| r.samples_taken).sum();
    assert_eq!(rendered, 4 * u64::from(spp));
    assert!(state.metrics.samples_rendered.get() >= rendered);
    // Their sums are the task's, rendered in one go.
    let mut sums = [([0.0f64; 4], 0.0f64); 4];
    for r in &pieces {
        let TaskOutcome::Rendered {
            partial_key,
            partial,
        } = &r.outcome
        else {
            panic!("{r:?}")
        };
        // A small piece's bytes travel in its result too, the same as those stored.
        let stored = blobs.get(partial_key).await.unwrap();
        assert_eq!(partial.as_ref(), Some(&stored), "{partial_key}");
        for (total, (s, w)) in sums.iter_mut().zip(partial_sums(&blobs, partial_key).await) {
            for (t, v) in total.0.iter_mut().zip(s) {
                *t += v;
            }
            total.1 += w;
        }
    }
    let whole = {
        let mut one = config.clone();
        one.wave_samples = Some(spp);
        let (t, q) = (task.clone(), MemoryQueue::new());
        q.publish(&one.task_queue, protocol::encode(&Message::Task(t.clone())))
            .await
            .unwrap();
        let a = Adapters {
            queue: Arc::new(q.clone()),
            blobs: blobs.clone(),
        };
        let d = q.consume(&one.task_queue, 1).await.unwrap().next().await;
        handle(
            &one,
            &a,
            &state,
            Priority::Normal,
            d.unwrap().unwrap(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        partial_sums(&blobs, &t.partial_key()).await
    };
    for (i, ((s, w), (ws, ww))) in sums.iter().zip(&whole).enumerate() {
        assert_eq!(*w, f64::from(spp), "pixel {i}");
        assert_eq!(w, ww, "pixel {i}");
        for c in 0..4 {
            let d = (s[c] - ws[c]).abs() / ws[c].abs().max(1e-3);
            assert!(d < 1e-5, "pixel {i} channel {c}: {} vs {}", s[c], ws[c]);
        }
    }
}

/// A worker on an ephemeral store (the embedded farm's) sends a small partial in its result
/// and stores neither it nor the task's log; on a shared store both are stored as well.
#[tokio::test]
async fn an_ephemeral_store_keeps_no_task_log_and_no_second_copy_of_an_inline_partial() {
    for ephemeral_store in [false, true] {
        let queue = MemoryQueue::new();
        let blobs = Blobs::memory();
        let config = Config {
            task_queue: "ephemeral.tasks".into(),
            result_queue: "ephemeral.results".into(),
            ephemeral_store,
            ..Config::default()
        };
        let task = cornell_task(&blobs, 4).await;
        let adapters = Adapters {
            queue: Arc::new(queue.clone()),
            blobs: blobs.clone(),
        };
        queue
            .publish(
                &config.task_queue,
                protocol::encode(&Message::Task(task.clone())),
            )
            .await
            .unwrap();
        let mut tasks = queue.consume(&config.task_queue, 1).await.unwrap();
        let delivery = tasks.next().await.unwrap().unwrap();
        let state = WorkerState::default();
        handle(
            &config,
            &adapters,
            &state,
            Priority::Normal,
            delivery,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        let mut results = queue.consume(&config.result_queue, 1).await.unwrap();
        let d = results.next().await.unwrap().unwrap();
        let Message::Result(TilePassResult {
            outcome:
                TaskOutcome::Rendered {
                    partial_key,
                    partial: Some(inline),
                },
            ..
        }) = protocol::decode(&d.payload).unwrap()
        else {
            panic!("a rendered result with its partial inline")
        };
        assert_eq!(
            exr_io::decode(&inline).unwrap().tile.weight,
            vec![4.0; 4],
            "the inline partial holds the task's samples"
        );
        let stored = blobs.exists(&partial_key).await.unwrap();
        let logs = blobs
            .list_keys(&shared::protocol::tasklog::keys::logs(&task.job))
            .await
            .unwrap();
        assert_eq!(
            stored, !ephemeral_store,
            "partial stored (ephemeral {ephemeral_store})"
        );
        assert_eq!(
            logs.len(),
            usize::from(!ephemeral_store),
            "task logs (ephemeral {ephemeral_store}): {logs:?}"
        );
    }
}
