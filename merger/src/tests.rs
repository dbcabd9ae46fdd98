//! The merger against the in-memory queue and blob store: each (tile, pass) counted once,
//! a restart resumes from the checkpoint, garbage is dead-lettered.

use super::*;
use shared::film::TileBuffer;
use shared::protocol::{RenderParams, SampleRange};
use shared::queue::MemoryQueue;

/// A 4x2 image in two 2x2 tiles and two passes; pixel values differ per (tile, pass).
pub(crate) fn manifest() -> JobManifest {
    JobManifest {
        version: PROTOCOL_VERSION,
        job: JobId::parse("job-1").unwrap(),
        frame: 0,
        params: RenderParams {
            scene: vec![],
            res: 1.0,
            width: 4,
            height: 2,
            env: vec![],
            assets: vec![],
            lua: None,
            frame: None,
            rdla_set: vec![],
            adaptive: None,
        },
        tiles: shared::plan::tiles(4, 2, 2),
        passes: vec![
            SampleRange { start: 0, end: 1 },
            SampleRange { start: 1, end: 4 },
        ],
        output_name: "out.exr".into(),
        submitted_unix: 0,
        settings: Default::default(),
        frames: vec![],
        price_per_core_hour: None,
        priority: Default::default(),
    }
}

/// The partial of (tile, pass): its key and EXR bytes, every pixel `tile * 10 + pass + 1`.
pub(crate) fn partial_of(m: &JobManifest, tile: u32, pass: u32) -> (String, Vec<u8>) {
    let rect = m.tiles[tile as usize];
    let samples = m.passes[pass as usize].len() as f32;
    let value = (tile * 10 + pass + 1) as f32;
    let buf = TileBuffer {
        rect,
        rgba: vec![[value, value, value, 1.0]; rect.pixel_count()],
        weight: vec![samples; rect.pixel_count()],
        odd: None,
    };
    let key = keys::partial(&m.job, m.frame, tile, pass, m.passes[pass as usize]);
    (key, exr_io::encode_tile((4, 2), &buf).unwrap())
}

async fn publish_partial(q: &MemoryQueue, blobs: &Blobs, m: &JobManifest, tile: u32, pass: u32) {
    let (key, bytes) = partial_of(m, tile, pass);
    blobs.put(&key, bytes).await.unwrap();
    publish_result(q, result(m, tile, pass, TaskOutcome::rendered(key), 4)).await;
}

/// Every (tile, pass) of the job in `manifest`.
const ALL: [(u32, u32); 4] = [(0, 0), (1, 0), (0, 1), (1, 1)];

async fn publish_all(q: &MemoryQueue, blobs: &Blobs, m: &JobManifest) {
    for (tile, pass) in ALL {
        publish_partial(q, blobs, m, tile, pass).await;
    }
}

fn result(
    m: &JobManifest,
    tile: u32,
    pass: u32,
    outcome: TaskOutcome,
    samples_taken: u64,
) -> TilePassResult {
    TilePassResult {
        job: m.job.clone(),
        frame: 0,
        tile,
        pass,
        samples: m.passes[pass as usize],
        interrupted: false,
        outcome,
        worker: "test".into(),
        render_seconds: 0.0,
        samples_taken,
        cpu_seconds: 0.0,
        attempt: 1,
    }
}

async fn publish_result(q: &MemoryQueue, r: TilePassResult) {
    q.publish(
        shared::queue::RESULT_QUEUE,
        protocol::encode(&Message::Result(r)),
    )
    .await
    .unwrap();
}

/// An empty queue and store holding the job's manifest.
async fn new_job() -> (MemoryQueue, Blobs, JobManifest) {
    let (q, blobs, m) = (MemoryQueue::new(), Blobs::memory(), manifest());
    blobs
        .put(&keys::manifest(&m.job), m.to_bytes())
        .await
        .unwrap();
    (q, blobs, m)
}

/// A merger running on `q` and `blobs` until the token fires.
fn start(
    q: &MemoryQueue,
    blobs: &Blobs,
    config: Config,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let stop = CancellationToken::new();
    let adapters = Adapters {
        queue: Arc::new(q.clone()),
        blobs: blobs.clone(),
    };
    let s2 = stop.clone();
    (
        stop,
        tokio::spawn(async move { run(&config, adapters, Metrics::default(), s2).await }),
    )
}

async fn status(blobs: &Blobs, m: &JobManifest) -> Option<JobStatus> {
    blobs
        .get_opt(&keys::status(&m.job))
        .await
        .unwrap()
        .map(|b| JobStatus::from_bytes(&b).unwrap())
}

/// Runs a merger until `until` holds for the job's status (or 10 s pass), then stops it.
async fn merge_until(
    q: &MemoryQueue,
    blobs: &Blobs,
    m: &JobManifest,
    until: impl Fn(&JobStatus) -> bool,
) -> JobStatus {
    let (stop, task) = start(q, blobs, Config::default());
    let deadline = Instant::now() + Duration::from_secs(10);
    let reached = loop {
        if let Some(s) = status(blobs, m).await {
            if until(&s) {
                break s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "merger did not get there: {:?}",
            status(blobs, m).await
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    stop.cancel();
    task.await.unwrap().unwrap();
    reached
}

/// The expected final pixel of tile `t`: passes weighted by their sample counts (1 and 3).
fn expected(t: u32) -> f32 {
    let (a, b) = ((t * 10 + 1) as f32, (t * 10 + 2) as f32);
    (a * 1.0 + b * 3.0) / 4.0
}

#[tokio::test]
async fn duplicates_count_once_and_a_restart_resumes_from_the_checkpoint() {
    let (q, blobs, m) = new_job().await;

    // First merger: pass 0 of both tiles, one of them delivered twice.
    publish_partial(&q, &blobs, &m, 0, 0).await;
    publish_partial(&q, &blobs, &m, 0, 0).await;
    publish_partial(&q, &blobs, &m, 1, 0).await;
    let s = merge_until(&q, &blobs, &m, |s| s.passes_done == 1).await;
    assert_eq!((s.tasks_done, s.snapshot_generation), (2, 1));
    assert!(blobs.exists(&keys::snapshot(&m.job)).await.unwrap());

    // A second merger (the first is gone) gets the rest, again with a duplicate of an old one.
    publish_partial(&q, &blobs, &m, 1, 0).await;
    publish_partial(&q, &blobs, &m, 0, 1).await;
    publish_partial(&q, &blobs, &m, 1, 1).await;
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    assert_eq!(s.tasks_done, 4);
    let (image, _) =
        exr_io::decode_image(&blobs.get(&keys::final_image(&m.job)).await.unwrap()).unwrap();
    for (i, p) in image.rgba.iter().enumerate() {
        let tile = u32::from(i % 4 >= 2);
        assert!((p[0] - expected(tile)).abs() < 1e-6, "pixel {i}: {p:?}");
        assert_eq!(image.weight[i], 4.0, "pixel {i} counted once per pass");
    }
    assert_eq!(q.depth(shared::queue::RESULT_QUEUE).await.unwrap(), 0);
    assert!(q.dead_letters(shared::queue::RESULT_QUEUE).is_empty());
    // The job has ended: its partials are deleted, in the background.
    wait_for(
        || async { partials_left(&blobs, &m).await == 0 },
        "the partials to be deleted",
    )
    .await;
    assert!(blobs.exists(&keys::final_image(&m.job)).await.unwrap());
}

/// How many of the job's four partials are in the store.
async fn partials_left(blobs: &Blobs, m: &JobManifest) -> usize {
    let mut n = 0;
    for (tile, pass) in ALL {
        n += usize::from(
            blobs
                .exists(&keys::partial(
                    &m.job,
                    m.frame,
                    tile,
                    pass,
                    m.passes[pass as usize],
                ))
                .await
                .unwrap(),
        );
    }
    n
}

async fn wait_for<F, Fut>(done: F, what: &str)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    testkit::poll::until_async(
        Duration::from_secs(10),
        Duration::from_millis(10),
        || async {
            if done().await {
                Ok(())
            } else {
                Err(format!("waited for {what}"))
            }
        },
    )
    .await
}

#[tokio::test]
async fn late_results_of_an_ended_job_delete_their_own_partial_and_nothing_else() {
    let (q, blobs, m) = new_job().await;
    publish_all(&q, &blobs, &m).await;
    merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    wait_for(
        || async { partials_left(&blobs, &m).await == 0 },
        "the partials to be deleted",
    )
    .await;

    // A redelivered task's worker stores its partial again after the job ended, and a forged
    // result names the final image as its partial.
    publish_partial(&q, &blobs, &m, 1, 1).await;
    publish_result(
        &q,
        result(
            &m,
            0,
            0,
            TaskOutcome::rendered(keys::final_image(&m.job)),
            0,
        ),
    )
    .await;
    let (stop, merger) = start(&q, &blobs, Config::default());
    wait_for(
        || async {
            q.depth(shared::queue::RESULT_QUEUE).await.unwrap() == 0
                && partials_left(&blobs, &m).await == 0
        },
        "the late partial to go",
    )
    .await;
    stop.cancel();
    merger.await.unwrap().unwrap();
    assert!(
        blobs.exists(&keys::final_image(&m.job)).await.unwrap(),
        "a forged key deletes nothing"
    );
}

#[tokio::test]
async fn keep_partials_keeps_them() {
    let (q, blobs, m) = new_job().await;
    publish_all(&q, &blobs, &m).await;
    let (stop, merger) = start(
        &q,
        &blobs,
        Config {
            keep_partials: true,
            ..Config::default()
        },
    );
    wait_for(
        || async {
            status(&blobs, &m)
                .await
                .is_some_and(|s| s.state == JobState::Done)
        },
        "the job to finish",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.cancel();
    merger.await.unwrap().unwrap();
    assert_eq!(partials_left(&blobs, &m).await, 4);
}

#[tokio::test]
async fn garbage_and_failures_are_handled_without_stopping() {
    let (q, blobs, m) = new_job().await;
    q.publish(shared::queue::RESULT_QUEUE, b"\x93garbage".to_vec())
        .await
        .unwrap();
    publish_partial(&q, &blobs, &m, 0, 0).await;
    publish_result(
        &q,
        result(
            &m,
            1,
            0,
            TaskOutcome::Failed {
                reason: "scene.rdla:3: boom".into(),
            },
            0,
        ),
    )
    .await;
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Failed).await;
    assert!(
        s.failures[0].contains("scene.rdla:3: boom"),
        "{:?}",
        s.failures
    );
    assert!(
        blobs.exists(&keys::stopped(&m.job)).await.unwrap(),
        "workers are told to stop"
    );
    assert_eq!(q.dead_letters(shared::queue::RESULT_QUEUE).len(), 1);
}

#[tokio::test]
async fn a_result_naming_another_jobs_partial_is_dead_lettered_and_that_blob_is_not_read() {
    let (q, blobs, m) = new_job().await;
    // Another job's partial, bright, where job-1's tile 0 pass 0 would point.
    let other = JobId::parse("job-2").unwrap();
    let stolen = keys::partial(&other, 0, 0, 0, m.passes[0]);
    let rect = m.tiles[0];
    let bright = TileBuffer {
        rect,
        rgba: vec![[1000.0, 1000.0, 1000.0, 1.0]; rect.pixel_count()],
        weight: vec![1.0; rect.pixel_count()],
        odd: None,
    };
    blobs
        .put(&stolen, exr_io::encode_tile((4, 2), &bright).unwrap())
        .await
        .unwrap();
    for key in [
        stolen.clone(),
        keys::manifest(&m.job),
        "jobs/job-1/partials/../manifest.msgpack".into(),
    ] {
        publish_result(&q, result(&m, 0, 0, TaskOutcome::rendered(key), 1)).await;
    }
    // Then the job's own results: the job completes with its own pixels only.
    publish_all(&q, &blobs, &m).await;
    let s = merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
    assert_eq!(s.tasks_done, 4);
    let dead = q.dead_letters(shared::queue::RESULT_QUEUE);
    assert_eq!(dead.len(), 3, "each foreign key is dead-lettered");
    let (image, _) =
        exr_io::decode_image(&blobs.get(&keys::final_image(&m.job)).await.unwrap()).unwrap();
    for (i, p) in image.rgba.iter().enumerate() {
        let tile = u32::from(i % 4 >= 2);
        assert!((p[0] - expected(tile)).abs() < 1e-6, "pixel {i}: {p:?}");
    }
    assert!(
        blobs.exists(&stolen).await.unwrap(),
        "the other job's partial is left alone"
    );
}

mod adaptive;
mod inline;
pub(crate) mod off_runtime;
mod pieces;
mod policy;
mod sequences;
mod stop_marker;

/// A result merged within the status interval of the previous write is not lost to the
/// status when no further result comes (a paused job, a long last task): the status shows it
/// once the interval has passed.
#[tokio::test]
async fn the_status_catches_up_when_results_stop_within_the_interval() {
    let (q, blobs, m) = new_job().await;
    let config = Config {
        status_interval: Duration::from_millis(400),
        ..Config::default()
    };
    let (stop, task) = start(&q, &blobs, config);
    publish_partial(&q, &blobs, &m, 0, 0).await;
    wait_for(
        || async { status(&blobs, &m).await.is_some_and(|s| s.tasks_done == 1) },
        "the first result's status",
    )
    .await;
    // Within the interval of that write, and completing no pass (which writes at once):
    // merged and checkpointed, its status held back.
    publish_partial(&q, &blobs, &m, 0, 1).await;
    wait_for(
        || async { status(&blobs, &m).await.is_some_and(|s| s.tasks_done == 2) },
        "the second result's status, with no third result to carry it",
    )
    .await;
    stop.cancel();
    task.await.unwrap().unwrap();
}

/// The job index records when a job started and finished, also for a job whose one task's
/// result both starts and ends it (`producer list` showed no start time for it).
#[tokio::test]
async fn a_one_task_jobs_index_entry_has_its_start_and_finish() {
    for tasks in [1, 4] {
        let (q, blobs) = (MemoryQueue::new(), Blobs::memory());
        let mut m = manifest();
        if tasks == 1 {
            m.tiles.truncate(1);
            m.passes.truncate(1);
        }
        blobs
            .put(&keys::manifest(&m.job), m.to_bytes())
            .await
            .unwrap();
        let entry = shared::protocol::index::JobIndex::new(&m.job, "out.exr", 1_000, tasks);
        let index_key = shared::protocol::index::keys::index(&m.job);
        blobs.put(&index_key, entry.to_bytes()).await.unwrap();
        for (tile, pass) in ALL.into_iter().take(tasks as usize) {
            publish_partial(&q, &blobs, &m, tile, pass).await;
        }
        merge_until(&q, &blobs, &m, |s| s.state == JobState::Done).await;
        let e =
            shared::protocol::index::JobIndex::from_bytes(&blobs.get(&index_key).await.unwrap())
                .unwrap();
        let (started, finished) = (e.started_unix_ms, e.finished_unix_ms);
        assert!(
            started.is_some() && finished.is_some() && started <= finished,
            "{tasks} task(s): {e:?}"
        );
        assert_eq!(e.state, shared::lifecycle::JobState::Done, "{e:?}");
    }
}
