//! Partials that travel in their result message are merged without a download, and snapshots
//! after the first wait for the snapshot interval.

use super::*;

/// Pass `pass` of tile `tile` as `publish_partial` makes it, its bytes in the message; stored
/// too when `store` (a worker always stores it; the test leaves some out to show that the
/// merger did not read them).
async fn publish_inline(
    q: &MemoryQueue,
    blobs: &Blobs,
    m: &JobManifest,
    tile: u32,
    pass: u32,
    store: bool,
) {
    let (key, bytes) = partial_of(m, tile, pass);
    let bytes = Bytes::from(bytes);
    if store {
        blobs.put(&key, bytes.clone()).await.unwrap();
    }
    let outcome = TaskOutcome::Rendered {
        partial_key: key,
        partial: Some(bytes),
    };
    publish_result(q, result(m, tile, pass, outcome, 4)).await;
}

#[tokio::test]
async fn inline_partials_are_merged_without_reading_the_store() {
    let (q, blobs, m) = new_job().await;
    // Pass 1's partials are not in the store at all: only their messages hold them.
    for (tile, pass) in ALL {
        publish_inline(&q, &blobs, &m, tile, pass, pass == 0).await;
    }
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    assert_eq!(s.tasks_done, 4, "{s:?}");
    let (image, _) =
        exr_io::decode_image(&blobs.get(&keys::final_image(&m.job)).await.unwrap()).unwrap();
    for (i, p) in image.rgba.iter().enumerate() {
        let tile = u32::from(i % 4 >= 2);
        assert!((p[0] - expected(tile)).abs() < 1e-6, "pixel {i}: {p:?}");
        assert_eq!(image.weight[i], 4.0, "pixel {i}");
    }
    assert!(q.dead_letters(shared::queue::RESULT_QUEUE).is_empty());
}

#[tokio::test]
async fn an_inline_partial_over_the_size_limit_is_dead_lettered() {
    let (q, blobs, m) = new_job().await;
    publish_inline(&q, &blobs, &m, 0, 0, true).await;
    let config = Config {
        limits: shared::limits::Limits {
            max_partial_bytes: 64,
            ..shared::limits::Limits::default()
        },
        ..Config::default()
    };
    let (stop, task) = start(&q, &blobs, config);
    wait_for(
        || async { !q.dead_letters(shared::queue::RESULT_QUEUE).is_empty() },
        "the oversized partial to be dead-lettered",
    )
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
    let dead = q.dead_letters(shared::queue::RESULT_QUEUE);
    assert_eq!(dead.len(), 1);
}

/// A job of three passes over the manifest's two tiles, all its results queued: the snapshots
/// written on the way to the end, with `interval` between snapshots.
async fn snapshots_with(interval: Duration) -> u32 {
    let (q, blobs) = (MemoryQueue::new(), Blobs::memory());
    let mut m = manifest();
    m.passes = vec![
        SampleRange { start: 0, end: 1 },
        SampleRange { start: 1, end: 2 },
        SampleRange { start: 2, end: 4 },
    ];
    blobs
        .put(&keys::manifest(&m.job), m.to_bytes())
        .await
        .unwrap();
    let config = Config {
        snapshot_interval: interval,
        // One result per batch, so that every pass ends in a persist of its own.
        batch: 1,
        ..Config::default()
    };
    let (stop, task) = start(&q, &blobs, config);
    for pass in 0..3 {
        for tile in 0..2 {
            publish_inline(&q, &blobs, &m, tile, pass, true).await;
        }
        // Each pass merged before the next is sent: passes complete one after another.
        wait_for(
            || async {
                status(&blobs, &m)
                    .await
                    .is_some_and(|s| s.passes_done > pass)
            },
            "the pass to be merged",
        )
        .await;
    }
    stop.cancel();
    task.await.unwrap().unwrap();
    let s = status(&blobs, &m).await.unwrap();
    assert_eq!(s.state, JobState::Done, "{s:?}");
    s.snapshot_generation
}

#[tokio::test]
async fn snapshots_after_the_first_wait_for_the_interval() {
    // Every pass but the last (whose image is the final one) gets a snapshot with no
    // interval; with a long one only the first pass does.
    assert_eq!(snapshots_with(Duration::ZERO).await, 2);
    assert_eq!(snapshots_with(Duration::from_secs(3600)).await, 1);
}

#[tokio::test]
async fn a_hostile_inline_partial_is_dead_lettered_and_the_job_goes_on() {
    let (q, blobs, m) = new_job().await;
    // Found by `scripts/fuzz partial`: a header whose tile size overflows the reader.
    let hostile = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/regressions/partial/crash-14442ba462a8d769adce438659771e9086b72397"),
    )
    .unwrap();
    let key = keys::partial(&m.job, m.frame, 0, 0, m.passes[0]);
    let outcome = TaskOutcome::Rendered {
        partial_key: key,
        partial: Some(Bytes::from(hostile)),
    };
    publish_result(&q, result(&m, 0, 0, outcome, 4)).await;
    let (stop, task) = start(&q, &blobs, Config::default());
    wait_for(
        || async { !q.dead_letters(shared::queue::RESULT_QUEUE).is_empty() },
        "the hostile partial's result to be dead-lettered",
    )
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
    for (tile, pass) in ALL {
        publish_inline(&q, &blobs, &m, tile, pass, true).await;
    }
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    assert_eq!(s.tasks_done, 4, "{s:?}");
    assert_eq!(q.dead_letters(shared::queue::RESULT_QUEUE).len(), 1);
}
