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
