//! Adaptive sampling in the merger: a flat tile stops after its first pass (its later passes
//! are never published and leave the totals), a noisy one has each next pass published, on the
//! job's level or, while it is paused, nowhere a worker takes from; decisions survive a
//! restart; pieces and sequences decide alike; the final `weight` shows each pixel's samples.

use super::*;
use shared::adaptive::Adaptive;
use shared::priority::Priority;
use shared::protocol::{FramePlan, Rect};

/// `manifest()` made adaptive: passes of 2, 2 and 4 samples (min 2, max 8, target 10).
fn adaptive_manifest() -> JobManifest {
    let mut m = manifest();
    m.job = JobId::parse("adaptive-1").unwrap();
    let a = Adaptive {
        min_samples: 2,
        max_samples: 8,
        target_error: 10.0,
    };
    m.params.adaptive = Some(a);
    m.passes = a.passes();
    m
}

async fn stored(m: JobManifest) -> (MemoryQueue, Blobs, JobManifest) {
    let (q, blobs) = (MemoryQueue::new(), Blobs::memory());
    blobs
        .put(&keys::manifest(&m.job), m.to_bytes())
        .await
        .unwrap();
    (q, blobs, m)
}

/// Sample `s` of every pixel of a tile: 0.5 in a flat tile; in a noisy one 1.0 in
/// even-numbered samples and 0.0 in odd ones. Alpha is 1.
fn sample(noisy: bool, s: u32) -> f32 {
    match (noisy, s % 2) {
        (false, _) => 0.5,
        (true, 0) => 1.0,
        (true, _) => 0.0,
    }
}

/// The partial a worker makes of samples `range` of a tile: the mean, and the odd-numbered
/// samples' sum over the weight (`TileBuffer::from_sums_with_odd`).
fn buffer(rect: Rect, noisy: bool, range: SampleRange) -> TileBuffer {
    let n = rect.pixel_count();
    let mut sum = [0.0f64; 4];
    let mut odd = [0.0f64; 4];
    for s in range.start..range.end {
        let v = f64::from(sample(noisy, s));
        let px = [v, v, v, 1.0];
        for c in 0..4 {
            sum[c] += px[c];
            if s % 2 == 1 {
                odd[c] += px[c];
            }
        }
    }
    TileBuffer::from_sums_with_odd(
        rect,
        &vec![sum; n],
        &vec![odd; n],
        &vec![range.len() as f32; n],
    )
}

/// Publishes the result of (frame, tile, pass) covering `range`, its partial stored.
async fn publish(
    q: &MemoryQueue,
    blobs: &Blobs,
    m: &JobManifest,
    (frame, tile, pass): (i32, u32, u32),
    noisy: bool,
    range: SampleRange,
) {
    let buf = buffer(m.tiles[tile as usize], noisy, range);
    let key = keys::partial(&m.job, frame, tile, pass, range);
    blobs
        .put(&key, exr_io::encode_tile((4, 2), &buf).unwrap())
        .await
        .unwrap();
    let mut r = result(m, tile, pass, TaskOutcome::rendered(key), 4);
    r.frame = frame;
    r.samples = range;
    r.interrupted = range != m.passes[pass as usize];
    publish_result(q, r).await;
}

/// The (frame, tile, pass) of every task on `queue`, taken off it.
async fn take_tasks(q: &MemoryQueue, queue: &str) -> Vec<(i32, u32, u32)> {
    let mut out = Vec::new();
    while let Some(d) = q.get(queue).await.unwrap() {
        match protocol::decode(&d.payload).unwrap() {
            Message::Task(t) => {
                assert_eq!(t.rect, manifest().tiles[t.tile as usize]);
                out.push((t.frame, t.tile, t.pass));
            }
            other => panic!("not a task: {other:?}"),
        }
        d.settle(Settle::Ack).await.unwrap();
    }
    out
}

const TASKS: &str = shared::queue::TASK_QUEUE;

#[tokio::test]
async fn a_converged_tile_publishes_nothing_more_and_a_restart_keeps_the_decisions() {
    let (q, blobs, m) = stored(adaptive_manifest()).await;
    assert_eq!(m.passes.len(), 3);
    // Pass 0 of both tiles: the flat one converges (its two later passes leave the totals),
    // the noisy one's pass 1 is published.
    publish(&q, &blobs, &m, (0, 0, 0), false, m.passes[0]).await;
    publish(&q, &blobs, &m, (0, 1, 0), true, m.passes[0]).await;
    let s = merge_until(&q, &blobs, &m, |s| s.tasks_done == 2).await;
    assert_eq!(s.tasks_total, 4, "tile 0's two later passes left the job");
    assert_eq!((s.frames[0].tasks.total, s.tasks.total), (4, 4));
    assert_eq!(s.passes_done, 1);
    assert_eq!(take_tasks(&q, TASKS).await, vec![(0, 1, 1)]);
    let cp = Checkpoint::from_bytes(&blobs.get(&keys::checkpoint(&m.job)).await.unwrap()).unwrap();
    assert_eq!(cp.converged, vec![(0, 0, 0)]);

    // The restarted merger takes the decision from the checkpoint, not from the sums again:
    // tile 0's partial, made noisy behind its back, changes nothing.
    let noisy = buffer(m.tiles[0], true, m.passes[0]);
    blobs
        .put(
            &keys::partial(&m.job, 0, 0, 0, m.passes[0]),
            exr_io::encode_tile((4, 2), &noisy).unwrap(),
        )
        .await
        .unwrap();
    // A stray result for a pass of the converged tile is none of the job's work.
    publish(&q, &blobs, &m, (0, 0, 1), false, m.passes[1]).await;
    publish(&q, &blobs, &m, (0, 1, 1), true, m.passes[1]).await;
    let s = merge_until(&q, &blobs, &m, |s| s.tasks_done == 3).await;
    assert_eq!(s.tasks_total, 4);
    assert_eq!(s.passes_done, 2, "tile 0 counts as complete in pass 1");
    assert_eq!(take_tasks(&q, TASKS).await, vec![(0, 1, 2)]);

    publish(&q, &blobs, &m, (0, 1, 2), true, m.passes[2]).await;
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    assert_eq!((s.tasks_done, s.tasks_total, s.passes_done), (4, 4, 3));
    assert!(
        take_tasks(&q, TASKS).await.is_empty(),
        "nothing past the last pass"
    );
    assert!(q.dead_letters(shared::queue::RESULT_QUEUE).is_empty());

    let (image, _) =
        exr_io::decode_image(&blobs.get(&keys::final_image(&m.job)).await.unwrap()).unwrap();
    for (i, w) in image.weight.iter().enumerate() {
        let tile = u32::from(i % 4 >= 2);
        assert_eq!(*w, if tile == 0 { 2.0 } else { 8.0 }, "pixel {i}");
        assert!((image.rgba[i][0] - 0.5).abs() < 1e-6, "pixel {i}");
    }
}

#[tokio::test]
async fn next_passes_go_to_the_jobs_level_and_wait_while_it_is_paused() {
    let (q, blobs, m) = stored(adaptive_manifest()).await;
    let batch = Priority::Batch.queue(TASKS);
    let parked = shared::parking::parked_queue(TASKS, &m.job);
    let mut d = Dispatch::new(&m.job, Priority::Batch);
    d.paused = true;
    d.parked = Some(parked.clone());
    let record = dispatch_keys::dispatch(&m.job);
    blobs.put(&record, d.to_bytes()).await.unwrap();

    // Paused: the noisy tile's next pass is parked, on no queue a worker takes from.
    publish(&q, &blobs, &m, (0, 0, 0), true, m.passes[0]).await;
    publish(&q, &blobs, &m, (0, 1, 0), true, m.passes[0]).await;
    merge_until(&q, &blobs, &m, |s| s.tasks_done == 2).await;
    for level in Priority::ALL {
        assert_eq!(q.depth(&level.queue(TASKS)).await.unwrap(), 0, "{level}");
    }
    assert_eq!(q.depth(&parked).await.unwrap(), 2);

    // Resumed as `producer resume` does it (the record, then the parked tasks moved): both
    // next passes are on the job's level, batch.
    d.paused = false;
    blobs.put(&record, d.to_bytes()).await.unwrap();
    shared::parking::move_all(&q, &parked, &batch)
        .await
        .unwrap();
    let mut next = take_tasks(&q, &batch).await;
    next.sort();
    assert_eq!(next, vec![(0, 0, 1), (0, 1, 1)]);

    // Not paused: the next pass goes straight to the level's queue.
    publish(&q, &blobs, &m, (0, 1, 1), true, m.passes[1]).await;
    merge_until(&q, &blobs, &m, |s| s.tasks_done == 3).await;
    assert_eq!(take_tasks(&q, &batch).await, vec![(0, 1, 2)]);
    assert_eq!(q.depth(TASKS).await.unwrap(), 0);
}

#[tokio::test]
async fn pieces_give_the_odd_sums_and_the_decision_of_the_whole_pass() {
    // Tile 1's pass 1 (samples 2..4) comes as pieces 2..3 and 3..4 of a stopped worker:
    // sample 2 is even, 3 odd, so each piece must count its own odd samples.
    let m = adaptive_manifest();
    let rect = m.tiles[1];
    let whole = |job: &mut Job| {
        job.add(
            0,
            1,
            0,
            &[(m.passes[0], buffer(rect, true, m.passes[0]))],
            None,
        )
        .unwrap();
    };
    let mut a = Job::new(m.clone());
    whole(&mut a);
    a.add(
        0,
        1,
        1,
        &[(m.passes[1], buffer(rect, true, m.passes[1]))],
        None,
    )
    .unwrap();
    let mut b = Job::new(m.clone());
    whole(&mut b);
    let pieces = [
        SampleRange { start: 2, end: 3 },
        SampleRange { start: 3, end: 4 },
    ]
    .map(|r| (r, buffer(rect, true, r)));
    b.add(0, 1, 1, &pieces, None).unwrap();
    let (pa, pb) = (a.open[&0].acc.pixel(2, 0), b.open[&0].acc.pixel(2, 0));
    // Four samples 1, 0, 1, 0: sum 2, odd sum 0.
    assert_eq!(pa, ([2.0, 2.0, 2.0, 4.0], [0.0, 0.0, 0.0, 2.0], 4.0));
    assert_eq!(pa, pb);
    let (na, nb) = (a.decide(0, 1, 1), b.decide(0, 1, 1));
    assert_eq!(na.map(|t| t.samples), Some(m.passes[2]));
    assert_eq!(nb.map(|t| t.samples), Some(m.passes[2]));
}

#[tokio::test]
async fn each_frame_of_a_sequence_decides_for_itself() {
    let mut m = adaptive_manifest();
    m.job = JobId::parse("adaptive-sequence").unwrap();
    m.frame = 7;
    m.frames = [7, 8]
        .into_iter()
        .map(|frame| FramePlan {
            frame,
            params: m.params.clone(),
            output_name: format!("out.{frame:04}.exr"),
        })
        .collect();
    let (q, blobs, m) = stored(m).await;
    // Tile 1 is noisy in frame 7 and flat in frame 8; tile 0 flat in both.
    for (frame, noisy) in [(7, true), (8, false)] {
        publish(&q, &blobs, &m, (frame, 0, 0), false, m.passes[0]).await;
        publish(&q, &blobs, &m, (frame, 1, 0), noisy, m.passes[0]).await;
    }
    let s = merge_until(&q, &blobs, &m, |s| s.frames[1].state == FrameState::Done).await;
    assert_eq!(s.frames[0].state, FrameState::Running);
    assert_eq!((s.frames[0].tasks.total, s.frames[1].tasks.total), (4, 2));
    assert_eq!(s.tasks_total, 6);
    assert_eq!(take_tasks(&q, TASKS).await, vec![(7, 1, 1)]);
    let (image, _) =
        exr_io::decode_image(&blobs.get(&keys::frame_image(&m.job, 8)).await.unwrap()).unwrap();
    assert!(image.weight.iter().all(|&w| w == 2.0), "{:?}", image.weight);

    publish(&q, &blobs, &m, (7, 1, 1), true, m.passes[1]).await;
    merge_until(&q, &blobs, &m, |s| s.tasks_done == 5).await;
    assert_eq!(take_tasks(&q, TASKS).await, vec![(7, 1, 2)]);
    publish(&q, &blobs, &m, (7, 1, 2), true, m.passes[2]).await;
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    assert_eq!((s.tasks_done, s.tasks_total), (6, 6));
    let (image, _) =
        exr_io::decode_image(&blobs.get(&keys::frame_image(&m.job, 7)).await.unwrap()).unwrap();
    assert_eq!(image.weight, vec![2.0, 2.0, 8.0, 8.0, 2.0, 2.0, 8.0, 8.0]);
}

#[test]
fn the_error_is_moonrays_over_the_tile() {
    let m = adaptive_manifest();
    let mut acc = Accumulator::new(4, 2);
    let rect = m.tiles[1];
    acc.add(&buffer(rect, true, m.passes[0])).unwrap();
    // Per pixel: samples 1 and 0, even mean 1, odd mean 0, average 0.5: luminance difference
    // 1 over sqrt(0.5); alpha agrees. Four pixels, over sqrt(4 x 1967 x 815 / 4).
    let expect = 4.0 / 0.5f64.sqrt() / (4.0 * 1967.0 * 815.0 / 4.0f64).sqrt();
    let errors = crate::adaptive::pixel_errors(&acc, rect);
    let e = crate::adaptive::tile_error(&errors, rect);
    assert!((e - expect).abs() < 1e-12, "{e} vs {expect}");
    let a = m.params.adaptive.unwrap();
    let width = (rect.x1 - rect.x0) as usize;
    assert!(!crate::adaptive::converged(&a, 2, &errors, width));
    // Tile 0 has no samples: infinitely far from converged.
    let none = crate::adaptive::pixel_errors(&acc, m.tiles[0]);
    assert_eq!(
        crate::adaptive::tile_error(&none, m.tiles[0]),
        f64::INFINITY
    );
    assert!(!crate::adaptive::converged(&a, 2, &none, width));
    // Under the target (10 / 10000) but short of the minimum: not done either. A tile this
    // small (under 16 pixels across) is one region: its error against the target decides.
    let scale = 0.000_99 / crate::adaptive::tile_error(&[1.0; 4], rect);
    let under = vec![scale; 4];
    assert!((crate::adaptive::tile_error(&under, rect) - 0.000_99).abs() < 1e-12);
    assert!(!crate::adaptive::converged(&a, 1, &under, width));
    assert!(crate::adaptive::converged(&a, 2, &under, width));
    let over: Vec<f64> = under.iter().map(|v| v * 1.02).collect();
    assert!(!crate::adaptive::converged(&a, 2, &over, width));
}
