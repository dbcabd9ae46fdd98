//! Hostile messages on both queues, written by hand as anyone who can publish could: oversized,
//! truncated, of the wrong type, naming a job id that is a path, and a task asking for more
//! than the limits allow. Each is dead-lettered with its reason, nothing of it is rendered or
//! stored, and the worker and the merger go on serving a real job.

use super::*;
use shared::protocol::{
    self, JobId, Message, Rect, RenderParams, SampleRange, SceneFile, TaskOutcome, TilePassResult,
    TilePassTask,
};

/// The message size limit both services get here, so that "oversized" is cheap to send.
const MESSAGE_LIMIT: usize = 65_536;

fn task(job: &str, width: u32, height: u32) -> TilePassTask {
    TilePassTask {
        job: JobId::parse(job).unwrap(),
        frame: 0,
        tile: 0,
        rect: Rect {
            x0: 0,
            y0: 0,
            x1: 64,
            y1: 64,
        },
        pass: 0,
        samples: SampleRange { start: 0, end: 4 },
        params: RenderParams {
            scene: vec![SceneFile {
                name: "never-fetched.rdla".into(),
                sha256: "0".repeat(64),
            }],
            res: 1.0,
            width,
            height,
            env: vec![],
            assets: vec![],
            lua: None,
            frame: None,
            rdla_set: vec![],
            adaptive: None,
        },
    }
}

/// A message with its job id `abcd` replaced by `../x` on the wire (the encoder refuses it).
fn with_path_job_id(m: &Message) -> Vec<u8> {
    let mut bytes = protocol::encode(m);
    let at = bytes.windows(4).position(|w| w == b"abcd").unwrap();
    bytes[at..at + 4].copy_from_slice(b"../x");
    bytes
}

#[test]
fn hostile_messages_are_dead_lettered_with_their_reason_and_the_farm_keeps_serving() {
    let _serial = serial();
    let mut farm = Farm::new("hostile");
    let render = Render::tiny();
    let reference = embedded(&render, farm.path());
    let limit = [("MOONFARM_MAX_MESSAGE_BYTES", MESSAGE_LIMIT.to_string())];
    let worker = farm.worker_with(&limit);
    let merger = farm.merger_with(&limit);
    let procs = [&worker, &merger];

    let greedy = uuid::Uuid::new_v4().to_string();
    let result = Message::Result(TilePassResult {
        job: JobId::parse("abcd").unwrap(),
        frame: 0,
        tile: 0,
        pass: 0,
        samples: shared::protocol::SampleRange { start: 0, end: 1 },
        interrupted: false,
        outcome: TaskOutcome::Failed {
            reason: "hand-made".into(),
        },
        worker: "nobody".into(),
        render_seconds: 0.0,
        samples_taken: 0,
        cpu_seconds: 0.0,
        attempt: 1,
    });
    let valid_task = protocol::encode(&Message::Task(task("abcd", 64, 64)));
    let valid_result = protocol::encode(&result);
    // (queue, bytes, words the dead-lettering service's log must hold).
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            &farm.task_queue,
            vec![0x80; MESSAGE_LIMIT + 1],
            format!("the message's size in bytes is {}, over the limit of {MESSAGE_LIMIT}", MESSAGE_LIMIT + 1),
        ),
        (
            &farm.task_queue,
            valid_task[..valid_task.len() / 2].to_vec(),
            "undecodable message".into(),
        ),
        (&farm.task_queue, valid_result.clone(), "expected a task, got a result".into()),
        (
            &farm.task_queue,
            with_path_job_id(&Message::Task(task("abcd", 64, 64))),
            "job id \"../x\"".into(),
        ),
        (
            &farm.task_queue,
            protocol::encode(&Message::Task(task(&greedy, 100_000, 100_000))),
            "task refused: the pixel count of the image 100000x100000 is 10000000000, over the limit of 67108864".into(),
        ),
        (
            &farm.result_queue,
            vec![0x80; MESSAGE_LIMIT + 1],
            format!("the message's size in bytes is {}, over the limit of {MESSAGE_LIMIT}", MESSAGE_LIMIT + 1),
        ),
        (
            &farm.result_queue,
            valid_result[..valid_result.len() / 2].to_vec(),
            "undecodable message".into(),
        ),
        (&farm.result_queue, valid_task.clone(), "a task on the result queue".into()),
        (&farm.result_queue, with_path_job_id(&result), "job id \"../x\"".into()),
    ];
    let (task_queue, result_queue) = (farm.task_queue.clone(), farm.result_queue.clone());
    rt().block_on(async {
        let q = farm.broker().await;
        for (queue, bytes, _) in &cases {
            q.publish(queue, bytes.clone()).await.unwrap();
        }
        q.close().await;
    });
    // The refused task's failure report reaches the merger too: a result of a job without a
    // manifest, dead-lettered as well.
    let per_queue = |name: &str| cases.iter().filter(|c| c.0 == name).count() as u64;
    for (queue, want) in [
        (&task_queue, per_queue(&task_queue)),
        (&result_queue, per_queue(&result_queue) + 1),
    ] {
        let dead = testkit::poll::until(JOB_DEADLINE, Duration::from_millis(200), || {
            let d = farm.depth(&format!("{queue}.dead"));
            if d >= want {
                Ok(d)
            } else {
                Err(format!(
                    "`{queue}.dead` holds {d}, want {want}\n{}",
                    logs(&procs)
                ))
            }
        });
        assert_eq!(dead, want, "`{queue}.dead`");
    }
    for (queue, _, words) in &cases {
        let who = if *queue == task_queue {
            &worker
        } else {
            &merger
        };
        let log = std::fs::read_to_string(farm.path().join(format!("{}.log", who.name))).unwrap();
        assert!(
            log.contains(words.as_str()),
            "{} logs `{words}`:\n{log}",
            who.name
        );
    }
    // Never rendered: nothing stored under the greedy job, no task counted as done.
    let stored = rt().block_on(async {
        farm.blobs()
            .list_folders(&format!("jobs/{greedy}"))
            .await
            .unwrap()
    });
    assert!(stored.is_empty(), "the refused task stored {stored:?}");
    assert_eq!(worker.metric("moonfarm_worker_tasks_done_total"), 0.0);
    for p in procs {
        assert!(p.alive(), "{} died\n{}", p.name, p.tail());
    }
    let job = farm.submit(&render);
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    farm.cleanup();
}

/// A distinctive credential no process may print: set as a secret variable of every process.
const TEST_SECRET: &str = "moonfarm-e2e-secret-7f3a91";

#[test]
fn no_credential_appears_in_anything_the_farm_prints() {
    let _serial = serial();
    let mut farm = Farm::new("secrets");
    let render = Render::tiny();
    // The queue URL from a file, as a Kubernetes secret mount gives it; the password form
    // `guest:guest` must never be printed (the redacted form is `guest:***`).
    let url_file = farm.path().join("amqp-url");
    std::fs::write(&url_file, format!("{AMQP_URL}\n")).unwrap();
    let env = [
        ("MOONFARM_AMQP_URL", String::new()),
        ("MOONFARM_AMQP_URL_FILE", url_file.display().to_string()),
        ("AZURE_CLIENT_SECRET", TEST_SECRET.to_string()),
    ];
    let worker = farm.worker_with(&env);
    let merger = farm.merger_with(&env);
    let procs = [&worker, &merger];
    let job = farm.submit(&render);
    farm.wait_done_and_fetch(&job, &render, &procs);

    let mut captured = vec![("status --json".to_string(), farm.status(&job).to_string())];
    for bin in ["worker", "merger"] {
        let o = farm
            .command(&binary(bin))
            .arg("--check-config")
            .env("AZURE_CLIENT_SECRET", TEST_SECRET)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{bin} --check-config: {}",
            text(&o.stderr)
        );
        let out = text(&o.stdout);
        assert!(
            out.contains("amqp = amqp://guest:***@127.0.0.1:5672/%2f"),
            "{out}"
        );
        captured.push((format!("{bin} --check-config"), out + &text(&o.stderr)));
    }
    let list = farm.producer(&["list"]);
    captured.push((
        "producer list".into(),
        text(&list.stdout) + &text(&list.stderr),
    ));
    for p in procs {
        let log = std::fs::read_to_string(farm.path().join(format!("{}.log", p.name))).unwrap();
        captured.push((p.name.clone(), log));
    }
    for (what, text) in &captured {
        for secret in [TEST_SECRET, "guest:guest"] {
            assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
        }
    }
    farm.cleanup();
}
