//! The merger's EXR work (decoding partials, encoding snapshots and finals) runs off the async
//! runtime: a task sharing the merger's one runtime thread keeps running meanwhile.

use super::*;
use shared::protocol::SampleRange;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

#[tokio::test]
async fn exr_work_leaves_the_runtime_free() {
    let size = 256;
    let (q, blobs, mut m) = (MemoryQueue::new(), Blobs::memory(), manifest());
    m.params.width = size;
    m.params.height = size;
    m.tiles = shared::plan::tiles(size, size, size);
    m.passes = vec![SampleRange { start: 0, end: 1 }];
    blobs
        .put(&keys::manifest(&m.job), m.to_bytes())
        .await
        .unwrap();
    let rect = m.tiles[0];
    let n = rect.pixel_count();
    let tile = TileBuffer {
        rect,
        rgba: (0..n)
            .map(|i| [(i % 97) as f32 / 97.0, 0.5, 0.25, 1.0])
            .collect(),
        weight: vec![1.0; n],
    };
    let key = keys::partial(&m.job, m.frame, 0, 0);
    blobs
        .put(&key, exr_io::encode_tile((size, size), &tile).unwrap())
        .await
        .unwrap();
    publish_result(
        &q,
        result(&m, 0, 0, TaskOutcome::Rendered { partial_key: key }, 1),
    )
    .await;

    // A heartbeat on the same (current-thread) runtime: the longest it went without running.
    let beating = Arc::new(AtomicBool::new(true));
    let longest = Arc::new(Mutex::new(Duration::ZERO));
    let heart = {
        let (beating, longest) = (beating.clone(), longest.clone());
        tokio::spawn(async move {
            while beating.load(Ordering::Relaxed) {
                let t = Instant::now();
                tokio::time::sleep(Duration::from_millis(1)).await;
                let mut l = longest.lock().unwrap();
                *l = (*l).max(t.elapsed());
            }
        })
    };
    merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    beating.store(false, Ordering::Relaxed);
    heart.await.unwrap();
    let longest = *longest.lock().unwrap();

    // What the final image's encoding takes when it does hold the thread.
    let mut acc = Accumulator::new(size, size);
    acc.add(&tile).unwrap();
    let t = Instant::now();
    exr_io::encode_image(&acc.image(), &ImageInfo { attributes: vec![] }).unwrap();
    let encode = t.elapsed();
    assert!(
        longest < encode / 2,
        "the runtime stalled for {longest:?}; encoding the image takes {encode:?}"
    );
}
