//! Issue 14's scheduled starts, notifications, per-task logs and job list, through the real
//! binaries: a `--not-before` job publishes nothing before its time (its schedule surviving a
//! kill -9 of the merger that holds it), webhooks reach a test server (a refused one fails
//! nothing), `producer logs` shows a scene warning and a forced failure's reason, and
//! `producer list --state` filters.

use super::*;
use std::sync::mpsc;

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `producer list --json [--state S]`: the job ids listed, in order.
fn listed(farm: &Farm, state: Option<&str>) -> Vec<String> {
    let mut args = vec!["list", "--json"];
    if let Some(s) = state {
        args.extend(["--state", s]);
    }
    let o = farm.producer(&args);
    assert!(o.status.success(), "list: {}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).expect("list --json prints JSON");
    v.as_array()
        .expect("an array")
        .iter()
        .map(|j| j["job"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_scheduled_job_publishes_nothing_before_its_time_even_across_a_merger_kill() {
    let _serial = serial();
    let mut farm = Farm::new("notbefore");
    let render = Render::tiny();
    let reference = embedded(&render, farm.path());
    let mut merger = farm.merger();
    // Long enough ahead for a submit, a kill -9 and a restart on a loaded machine.
    let at = now_unix() + 40;
    let at_text = jiff::Timestamp::from_second(at as i64).unwrap().to_string();
    let v = submit_with(&farm, &render, &["--not-before", &at_text]);
    let job = v["job"].as_str().unwrap().to_string();
    assert_eq!(v["state"], "scheduled", "{v}");
    assert_eq!(v["not_before_unix"].as_u64(), Some(at), "{v}");
    let s = farm.status(&job);
    assert_eq!(s["state"], "scheduled", "{s}");
    assert_eq!(s["not_before_unix"].as_u64(), Some(at), "{s}");
    assert_eq!(listed(&farm, Some("scheduled")), vec![job.clone()]);
    assert!(listed(&farm, Some("queued")).is_empty());

    // No worker runs, so the task queue's depth is exactly what was published. It stays 0
    // until the start time, through a kill -9 of the merger and its restart halfway.
    let mut killed = false;
    let released_at = testkit::poll::until(
        Duration::from_secs(at - now_unix() + 90),
        Duration::from_millis(250),
        || {
            let depth = farm.depth(&farm.task_queue);
            let now = now_unix();
            if depth > 0 {
                return Ok(now);
            }
            if !killed && now + 20 >= at {
                merger.kill();
                merger = farm.merger();
                killed = true;
            }
            Err(format!(
                "nothing published yet at {now} (start {at})\n{}",
                logs(&[&merger])
            ))
        },
    );
    assert!(killed, "the merger was killed before the start time");
    assert!(
        released_at >= at,
        "tasks were published at {released_at}, before the start time {at}"
    );
    let depth = testkit::poll::until(Duration::from_secs(30), Duration::from_millis(200), || {
        let d = farm.depth(&farm.task_queue);
        if d == render.tasks() {
            Ok(d)
        } else {
            Err(format!("{d} of {} tasks published", render.tasks()))
        }
    });
    assert_eq!(depth, render.tasks(), "every task published, once");
    assert!(listed(&farm, Some("scheduled")).is_empty());
    let worker = farm.worker();
    let image = farm.wait_done_and_fetch(&job, &render, &[&merger, &worker]);
    assert_same_image(&image, &reference, render.spp);
    assert_eq!(listed(&farm, Some("done")), vec![job.clone()]);
    // The producer exits right after a scheduled submit; bad times are refused up front.
    let o = farm.producer(&[
        "submit",
        cornell().to_str().unwrap(),
        "--not-before",
        "tonight",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "one error line: {err}");
    assert!(err.contains("--not-before `tonight`"), "{err}");
    assert_eq!(listed(&farm, None), vec![job], "nothing else was stored");
    farm.cleanup();
}

/// A one-connection-at-a-time HTTP server on a thread: each request's body goes down the
/// channel, and the answer is 200.
fn webhook_server() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let mut got = Vec::new();
            let mut buf = [0u8; 8192];
            let body = loop {
                let n = match s.read(&mut buf) {
                    Ok(0) | Err(_) => break None,
                    Ok(n) => n,
                };
                got.extend_from_slice(&buf[..n]);
                let raw = String::from_utf8_lossy(&got).to_string();
                if let Some((head, body)) = raw.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let l = l.to_ascii_lowercase();
                            l.strip_prefix("content-length:")
                                .and_then(|v| v.trim().parse::<usize>().ok())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break Some(body.to_string());
                    }
                }
            };
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if let Some(body) = body {
                if tx.send(body).is_err() {
                    break;
                }
            }
        }
    });
    (port, rx)
}

#[test]
fn webhooks_reach_the_server_and_a_refused_one_fails_nothing() {
    let _serial = serial();
    let mut farm = Farm::new("notify");
    let render = Render::tiny();
    let (port, bodies) = webhook_server();
    let merger = farm.merger();
    let hook = format!("http://127.0.0.1:{port}/render-done");
    let refused = format!("http://127.0.0.1:{}/nobody", free_port());
    let heard = submit_with(&farm, &render, &["--notify", &hook])["job"]
        .as_str()
        .unwrap()
        .to_string();
    let unheard = submit_with(&farm, &render, &["--notify", &refused])["job"]
        .as_str()
        .unwrap()
        .to_string();
    let worker = farm.worker();
    for job in [&heard, &unheard] {
        let s = farm.wait_state(job, &[&merger, &worker], |_| {});
        assert_eq!(
            s["state"],
            "done",
            "{job}: {s}\n{}",
            logs(&[&merger, &worker])
        );
    }
    let body = bodies
        .recv_timeout(JOB_DEADLINE)
        .unwrap_or_else(|e| panic!("no webhook came ({e})\n{}", logs(&[&merger])));
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["job"], heard.as_str(), "{v}");
    assert_eq!(v["state"], "done", "{v}");
    assert_eq!(v["tasks_done"].as_u64(), Some(render.tasks()), "{v}");
    assert!(
        v["finished_unix"].as_f64().unwrap() >= v["submitted_unix"].as_f64().unwrap(),
        "{v}"
    );
    assert!(
        v["outputs"][0]["key"]
            .as_str()
            .is_some_and(|k| k.ends_with("final.exr")),
        "{v}"
    );
    // The refused URL is retried in the background; the job is done and the merger goes on:
    // a cancelled job notifies the working hook with its own state.
    let third = submit_with(&farm, &Render::slow(), &["--notify", &hook])["job"]
        .as_str()
        .unwrap()
        .to_string();
    let o = farm.producer(&["cancel", &third]);
    assert!(o.status.success(), "cancel: {}", text(&o.stderr));
    let body = bodies.recv_timeout(JOB_DEADLINE).unwrap_or_else(|e| {
        panic!(
            "no webhook for the cancelled job ({e})\n{}",
            logs(&[&merger])
        )
    });
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["job"].as_str(), v["state"].as_str()),
        (Some(third.as_str()), Some("cancelled")),
        "{v}"
    );
    assert!(merger.alive(), "{}", logs(&[&merger]));
    assert!(
        merger.tail().contains("notification failed"),
        "the refused hook was tried and logged\n{}",
        merger.tail()
    );
    assert_eq!(farm.status(&unheard)["state"], "done");
    farm.cleanup();
}

#[test]
fn logs_show_a_scene_warning_and_a_forced_failures_reason() {
    let _serial = serial();
    let mut farm = Farm::new("tasklogs");
    // A scene the loader warns about, and a copy whose stored scene is broken behind the
    // producer's back (as in poison.rs), so its tasks fail on the workers.
    let warned_text = std::fs::read_to_string(cornell()).unwrap() + WARNING_LINE;
    let warned = farm.path().join("warned.rdla");
    std::fs::write(&warned, &warned_text).unwrap();
    let broken_text = std::fs::read_to_string(cornell()).unwrap() + "\n-- breaks on the farm\n";
    let broken = farm.path().join("broken.rdla");
    std::fs::write(&broken, &broken_text).unwrap();
    let tiny = |scene: &Path| Render {
        scene: scene.to_path_buf(),
        ..Render::tiny()
    };

    let merger = farm.merger();
    let mut args: Vec<String> = vec!["submit".into()];
    args.extend(tiny(&warned).args());
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = farm.producer(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let warning = text(&o.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("warning: ").map(str::to_string))
        .unwrap_or_else(|| panic!("the producer warned at submit: {}", text(&o.stderr)));
    let ok_job = serde_json::from_slice::<Value>(&o.stdout).unwrap()["job"]
        .as_str()
        .unwrap()
        .to_string();
    let bad_job = farm.submit(&tiny(&broken));
    let key = shared::protocol::keys::scene(&shared::blob::sha256_hex(broken_text.as_bytes()));
    rt().block_on(async {
        farm.blobs()
            .put(&key, b"SceneVariables { oops oops".to_vec())
            .await
            .unwrap();
    });
    let worker = farm.worker();
    let procs = [&merger, &worker];
    assert_eq!(farm.wait_state(&ok_job, &procs, |_| {})["state"], "done");
    assert_eq!(farm.wait_state(&bad_job, &procs, |_| {})["state"], "failed");

    // Every task of the good job logged its run with the warning; --tile keeps one tile's.
    let all = testkit::poll::until(Duration::from_secs(30), Duration::from_millis(200), || {
        let o = farm.producer(&["logs", &ok_job]);
        let out = text(&o.stdout);
        let runs = out.lines().filter(|l| l.contains(" rendered on ")).count() as u64;
        if o.status.success() && runs == render_tasks() {
            Ok(out)
        } else {
            Err(format!("{runs} runs logged: {out}{}", text(&o.stderr)))
        }
    });
    assert!(all.contains(&format!("  warning: {warning}")), "{all}");
    let frame: i32 = all
        .split(" frame ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a frame number in {all}"));
    let frame = frame.to_string();
    let tile0 = text(
        &farm
            .producer(&["logs", &ok_job, "--tile", "0", "--frame", &frame])
            .stdout,
    );
    let runs: Vec<&str> = tile0
        .lines()
        .filter(|l| l.contains(" rendered on "))
        .collect();
    assert_eq!(runs.len(), 4, "one per pass: {tile0}");
    assert!(runs.iter().all(|l| l.contains(" tile 0 ")), "{tile0}");
    let other = (frame.parse::<i32>().unwrap() + 1).to_string();
    let none = farm.producer(&["logs", &ok_job, "--frame", &other]);
    assert!(
        none.status.success() && none.stdout.is_empty(),
        "no task of frame {other}: {}",
        text(&none.stdout)
    );

    // The failed job's log says why, in the worker's words.
    let failed = testkit::poll::until(Duration::from_secs(30), Duration::from_millis(200), || {
        let out = text(&farm.producer(&["logs", &bad_job]).stdout);
        if out.contains(" failed on ") {
            Ok(out)
        } else {
            Err(format!("no failed attempt logged yet: {out}"))
        }
    });
    let reason = failed
        .lines()
        .find_map(|l| l.strip_prefix("  error: "))
        .unwrap_or_else(|| panic!("an error line: {failed}"));
    assert!(
        reason.contains("broken.rdla") || reason.contains("syntax"),
        "the reason names the scene or the error: {reason}"
    );
    let status = farm.status(&bad_job);
    assert!(
        status["failures"]
            .as_array()
            .expect("failures")
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.contains(reason))),
        "the log's reason is the one the job failed with: {reason} / {status}"
    );

    // The list, newest first, filtered by state.
    assert_eq!(listed(&farm, None), vec![bad_job.clone(), ok_job.clone()]);
    assert_eq!(listed(&farm, Some("done")), vec![ok_job.clone()]);
    assert_eq!(listed(&farm, Some("failed")), vec![bad_job]);
    let o = farm.producer(&["list", "--state", "rendering"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown state is a usage error"
    );
    farm.cleanup();
}

/// A line the scene loader warns about (and renders without).
const WARNING_LINE: &str = "\nVdbGeometry(\"/fog\") {}\n";

fn render_tasks() -> u64 {
    Render::tiny().tasks()
}
