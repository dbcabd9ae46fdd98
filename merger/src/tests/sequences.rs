//! A sequence in the merger: each frame merged into its own image, written as soon as it is
//! complete and then dropped from memory; tallies of CPU time and retries per frame and job.

use super::*;
use shared::protocol::FramePlan;

/// The test job as a sequence of frames 7 and 8, the same scene for both.
async fn new_sequence() -> (MemoryQueue, Blobs, JobManifest) {
    let (q, blobs, mut m) = (MemoryQueue::new(), Blobs::memory(), manifest());
    m.job = JobId::parse("sequence-1").unwrap();
    m.frame = 7;
    m.price_per_core_hour = Some(36.0);
    m.frames = [7, 8]
        .into_iter()
        .map(|frame| FramePlan {
            frame,
            params: m.params.clone(),
            output_name: format!("out.{frame:04}.exr"),
        })
        .collect();
    blobs
        .put(&keys::manifest(&m.job), m.to_bytes())
        .await
        .unwrap();
    (q, blobs, m)
}

/// Every (tile, pass) of `frame`, each with 0.5 s of CPU, the first delivered a second time.
async fn publish_frame(q: &MemoryQueue, blobs: &Blobs, m: &JobManifest, frame: i32) {
    for (i, (tile, pass)) in ALL.into_iter().enumerate() {
        let rect = m.tiles[tile as usize];
        let samples = m.passes[pass as usize].len() as f32;
        let value = (tile * 10 + pass + 1) as f32 * frame as f32;
        let buf = TileBuffer {
            rect,
            rgba: vec![[value, value, value, 1.0]; rect.pixel_count()],
            weight: vec![samples; rect.pixel_count()],
            odd: None,
        };
        let key = keys::partial(&m.job, frame, tile, pass, m.passes[pass as usize]);
        blobs
            .put(&key, exr_io::encode_tile((4, 2), &buf).unwrap())
            .await
            .unwrap();
        let mut r = result(m, tile, pass, TaskOutcome::rendered(key), 4);
        r.frame = frame;
        r.cpu_seconds = 0.5;
        r.attempt = if i == 0 { 2 } else { 1 };
        publish_result(q, r).await;
    }
}

#[tokio::test]
async fn each_frame_is_written_when_complete_and_tallied() {
    let (q, blobs, m) = new_sequence().await;
    publish_frame(&q, &blobs, &m, 7).await;
    let s = merge_until(&q, &blobs, &m, |s| s.frames[0].state == FrameState::Done).await;
    // Frame 7 is written, frame 8 not begun; the job goes on.
    assert_eq!(s.state, JobState::Rendering);
    assert_eq!(s.frames[1].state, FrameState::Queued);
    assert!(blobs.exists(&keys::frame_image(&m.job, 7)).await.unwrap());
    assert!(!blobs.exists(&keys::frame_image(&m.job, 8)).await.unwrap());
    assert_eq!(s.frames[0].tasks.done, 4);
    assert_eq!(s.frames[0].tasks.retried, 1);
    assert_eq!(s.frames[0].tasks.core_seconds, 2.0);
    // The checkpoint holds no partial of the written frame: it is not rebuilt on a restart.
    let cp = Checkpoint::from_bytes(&blobs.get(&keys::checkpoint(&m.job)).await.unwrap()).unwrap();
    assert!(cp.merged.is_empty(), "{:?}", cp.merged);

    // A second merger (a restart) takes frame 8 and keeps frame 7's tally.
    publish_frame(&q, &blobs, &m, 8).await;
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    assert_eq!((s.tasks_done, s.tasks_total), (8, 8));
    assert_eq!(s.tasks.retried, 2);
    assert_eq!(s.tasks.core_seconds, 4.0);
    // 4 core-seconds at 36 per core-hour.
    assert!((s.cost.unwrap() - 0.04).abs() < 1e-12, "{:?}", s.cost);
    for frame in [7, 8] {
        let bytes = blobs.get(&keys::frame_image(&m.job, frame)).await.unwrap();
        let (image, info) = exr_io::decode_image(&bytes).unwrap();
        let tile0 = image.rgba[0][0];
        assert!(
            (tile0 - expected(0) * frame as f32).abs() < 1e-4,
            "frame {frame}: {tile0}"
        );
        let attr = info
            .attributes
            .iter()
            .find(|(k, _)| k == "moonfarm:frame")
            .map(|(_, v)| v.clone());
        assert_eq!(attr, Some(exr_io::Attr::Int(frame)));
    }
    assert!(!blobs.exists(&keys::final_image(&m.job)).await.unwrap());
}
