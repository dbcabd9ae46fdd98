//! Tile-passes rendered in pieces by workers stopped mid-task: each sample range counted at
//! most once, a pass merged once its pieces cover it, the waiting pieces kept across a restart.

use super::*;

fn r(start: u32, end: u32) -> SampleRange {
    SampleRange { start, end }
}

#[test]
fn a_cover_is_found_end_to_end_or_not_at_all() {
    let pass = r(10, 20);
    // (pieces, the cover expected)
    let table: [(Vec<SampleRange>, Option<Vec<SampleRange>>); 7] = [
        (vec![r(10, 20)], Some(vec![r(10, 20)])),
        (vec![r(10, 14)], None),
        (vec![r(14, 20), r(10, 14)], Some(vec![r(10, 14), r(14, 20)])),
        // Two lineages of one task, split at different samples: neither mixes with the other.
        (vec![r(10, 13), r(10, 16), r(13, 17)], None),
        (
            vec![r(10, 13), r(10, 16), r(13, 17), r(16, 20)],
            Some(vec![r(10, 16), r(16, 20)]),
        ),
        (vec![r(10, 13), r(12, 20)], None),
        (
            vec![r(10, 13), r(10, 13), r(13, 20)],
            Some(vec![r(10, 13), r(13, 20)]),
        ),
    ];
    for (pieces, expected) in table {
        assert_eq!(cover(pass, &pieces), expected, "{pieces:?}");
    }
}

/// A piece of tile `tile` pass `pass`: every sample of it has the value `tile * 10 + pass + 1`,
/// as every sample of the whole pass has in `publish_partial` (a sample does not depend on
/// which task rendered it).
async fn publish_piece(
    q: &MemoryQueue,
    blobs: &Blobs,
    m: &JobManifest,
    (tile, pass): (u32, u32),
    samples: SampleRange,
    interrupted: bool,
) {
    let rect = m.tiles[tile as usize];
    let value = (tile * 10 + pass + 1) as f32;
    let buf = TileBuffer {
        rect,
        rgba: vec![[value, value, value, 1.0]; rect.pixel_count()],
        weight: vec![samples.len() as f32; rect.pixel_count()],
        odd: None,
    };
    let key = keys::partial(&m.job, m.frame, tile, pass, samples);
    blobs
        .put(&key, exr_io::encode_tile((4, 2), &buf).unwrap())
        .await
        .unwrap();
    let taken = rect.pixel_count() as u64 * u64::from(samples.len());
    let mut res = result(m, tile, pass, TaskOutcome::rendered(key), taken);
    res.samples = samples;
    res.interrupted = interrupted;
    publish_result(q, res).await;
}

#[tokio::test]
async fn pieces_of_two_lineages_merge_each_sample_once_across_a_restart() {
    let (q, blobs, m) = new_job().await;
    // Pass 1 is samples 1..4. Tile 0's task was stopped after sample 1 (piece 1..2, the rest
    // put back), killed before its ack and so redelivered whole, and stopped again after
    // sample 2 (piece 1..3): two lineages, split at different samples.
    publish_partial(&q, &blobs, &m, 0, 0).await;
    publish_partial(&q, &blobs, &m, 1, 0).await;
    publish_partial(&q, &blobs, &m, 1, 1).await;
    publish_piece(&q, &blobs, &m, (0, 1), r(1, 2), true).await;
    publish_piece(&q, &blobs, &m, (0, 1), r(1, 3), true).await;
    publish_piece(&q, &blobs, &m, (0, 1), r(1, 2), true).await; // a duplicate
    let s = merge_until(&q, &blobs, &m, |s| s.tasks.interrupted == 2).await;
    assert_eq!(
        (s.state, s.tasks_done, s.passes_done),
        (JobState::Rendering, 3, 1)
    );
    let cp = Checkpoint::from_bytes(&blobs.get(&keys::checkpoint(&m.job)).await.unwrap()).unwrap();
    let mut waiting = cp.waiting.clone();
    waiting.sort();
    assert_eq!(waiting, vec![(0, 0, 1, 1, 2), (0, 0, 1, 1, 3)]);

    // A new merger: the rest of the first lineage (2..4) completes the pass with the piece
    // 1..2 it finds in the checkpoint; the second lineage's rest (3..4) comes after the end.
    publish_piece(&q, &blobs, &m, (0, 1), r(2, 4), false).await;
    publish_piece(&q, &blobs, &m, (0, 1), r(3, 4), false).await;
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    assert_eq!(s.tasks_done, 4);
    assert_eq!((s.tasks.interrupted, s.tasks.retried), (2, 0));
    // Three whole tasks reporting 4 samples each (`publish_partial`), then pieces of 2x2
    // pixels times 1, 2 and 2 samples; the late piece of an ended job is not counted.
    assert_eq!(s.tasks.samples_rendered, 3 * 4 + 4 * (1 + 2 + 2), "{s:?}");
    let (image, _) =
        exr_io::decode_image(&blobs.get(&keys::final_image(&m.job)).await.unwrap()).unwrap();
    for (i, p) in image.rgba.iter().enumerate() {
        let tile = u32::from(i % 4 >= 2);
        assert!((p[0] - expected(tile)).abs() < 1e-6, "pixel {i}: {p:?}");
        assert_eq!(image.weight[i], 4.0, "pixel {i}: each sample once");
    }
    assert!(q.dead_letters(shared::queue::RESULT_QUEUE).is_empty());
}

#[tokio::test]
async fn a_piece_outside_its_pass_or_naming_another_partial_is_dead_lettered() {
    let (q, blobs, m) = new_job().await;
    publish_piece(&q, &blobs, &m, (0, 1), r(0, 2), true).await; // pass 1 is 1..4
    let mut other = result(
        &m,
        0,
        1,
        TaskOutcome::rendered(keys::partial(&m.job, 0, 0, 1, r(1, 4))),
        4,
    );
    other.samples = r(1, 2);
    publish_result(&q, other).await;
    let (stop, task) = start(&q, &blobs, Config::default());
    wait_for(
        || async { q.dead_letters(shared::queue::RESULT_QUEUE).len() == 2 },
        "both results to be dead-lettered",
    )
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
    let reasons = q.dead_letters(shared::queue::RESULT_QUEUE);
    let text = format!("{reasons:?}");
    assert!(text.contains("not a part of its pass's 1..4"), "{text}");
    assert!(text.contains("not its own"), "{text}");
}
