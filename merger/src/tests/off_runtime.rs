//! The merger's EXR work (decoding partials; normalising and encoding snapshots and finals)
//! runs off the async runtime: on a current-thread runtime, a heartbeat task gets to run while
//! each piece of that work is still in progress, which it cannot if the work holds the thread.
//! No wall-clock threshold: the deadline below only stops a test that has already failed.

use super::*;
use shared::protocol::SampleRange;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Names the test runtime's blocking pool, so that the hook acts on this test's work only, not
/// on other tests' running in parallel (work run inline on the runtime thread never reaches it).
const THREAD: &str = "merger-off-runtime-test";

/// Heartbeats of the test's runtime; pieces of work that saw one while in progress; pieces
/// that did not within the deadline.
static BEATS: AtomicU64 = AtomicU64::new(0);
static OVERLAPPED: AtomicU64 = AtomicU64::new(0);
static STALLED: AtomicU64 = AtomicU64::new(0);

/// Called by `off_runtime` at the end of each piece of work, on the thread that did it: on
/// this test's threads, waits for the heartbeat to beat again before the work may end.
pub(crate) fn work_done() {
    if std::thread::current().name() != Some(THREAD) {
        return;
    }
    let seen = BEATS.load(Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while BEATS.load(Ordering::SeqCst) == seen {
        if Instant::now() > deadline {
            STALLED.fetch_add(1, Ordering::SeqCst);
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    OVERLAPPED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn exr_work_leaves_the_runtime_free() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .thread_name(THREAD)
        .enable_all()
        .build()
        .unwrap();
    // The runtime's one thread is this test's own; `THREAD` names its blocking pool.
    runtime.block_on(merge_one_job());
    assert_eq!(
        STALLED.load(Ordering::SeqCst),
        0,
        "EXR work held the runtime thread"
    );
    // The partial's decoding and the final image's normalisation and encoding.
    let overlapped = OVERLAPPED.load(Ordering::SeqCst);
    assert!(
        overlapped >= 2,
        "only {overlapped} pieces of EXR work ran off the runtime"
    );
}

async fn merge_one_job() {
    let size = 64;
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
        odd: None,
    };
    let key = keys::partial(&m.job, m.frame, 0, 0, m.passes[0]);
    blobs
        .put(&key, exr_io::encode_tile((size, size), &tile).unwrap())
        .await
        .unwrap();
    publish_result(&q, result(&m, 0, 0, TaskOutcome::rendered(key), 1)).await;

    // The heartbeat: another task on the same, single runtime thread.
    let beating = Arc::new(AtomicBool::new(true));
    let heart = {
        let beating = beating.clone();
        tokio::spawn(async move {
            while beating.load(Ordering::Relaxed) {
                BEATS.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    beating.store(false, Ordering::Relaxed);
    heart.await.unwrap();
    // The final image is the merged tile, so the work done off the runtime was the real one.
    let image = exr_io::decode_image(&blobs.get(&keys::final_image(&m.job)).await.unwrap());
    assert!(image.is_ok(), "the final image does not decode");
}
