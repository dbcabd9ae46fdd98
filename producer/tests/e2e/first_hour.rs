//! Issue 16's findings on the farm, replayed against the real RabbitMQ, Azurite, worker and
//! merger: fetch's default name and missing folder, job id prefixes, times in `list`, cancel
//! twice, a cancelled job's fetch, `delete` and `prune`, and a second worker's busy port.

use super::*;

fn ok(o: &Output, what: &str) -> String {
    assert!(o.status.success(), "{what}: {}", text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn jobs_are_fetched_by_prefix_to_their_own_name_listed_with_times_cancelled_twice_and_deleted() {
    let _serial = serial();
    let mut farm = Farm::new("firsthour");
    let render = Render::tiny();
    let merger = farm.merger();
    let worker = farm.worker();
    let job = farm.submit(&render);
    let s = farm.wait_state(&job, &[&merger, &worker], |_| {});
    assert_eq!(s["state"], "done", "{s}");
    let recorded = s["output"].as_str().unwrap().to_string();

    // A unique prefix names the job, as git takes commit ids.
    let prefix = &job[..8];
    let status = ok(
        &farm.producer(&["status", prefix, "--json"]),
        "status by prefix",
    );
    assert!(status.contains(&job), "{status}");

    // fetch without -o writes the name the job was submitted with.
    let o = farm.producer(&["fetch", prefix]);
    ok(&o, "fetch without -o");
    let fetched = farm.path().join(&recorded);
    assert!(fetched.is_file(), "{} was not written", fetched.display());
    assert_eq!(read_image(&fetched).width, 16);

    // Into a missing folder: one error line naming the user's path, no internal file.
    let o = farm.producer(&["fetch", &job, "-o", "no/such/dir/x.exr"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no/such/dir") && !err.contains(".partial"),
        "{err}"
    );

    // The usage line does not call --amqp or --blob required: they come from the environment.
    let o = farm.producer(&["fetch"]);
    assert_eq!(o.status.code(), Some(2));
    let usage = text(&o.stderr);
    assert!(
        !usage.contains("--amqp") && !usage.contains("--blob"),
        "{usage}"
    );

    // list shows when the job was submitted and when it finished.
    let list = ok(&farm.producer(&["list"]), "list");
    let row = list
        .lines()
        .find(|l| l.starts_with(&job))
        .expect("the job is listed");
    assert!(
        list.starts_with("JOB")
            && list.contains("SUBMITTED (UTC)")
            && list.contains("STARTED (UTC)")
            && list.contains("FINISHED (UTC)"),
        "{list}"
    );
    let year = format!(
        "{}-",
        1970 + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 31_556_952
    );
    assert_eq!(
        row.matches(&year).count(),
        3,
        "submitted, started and finished times: {row}"
    );
    let json: Value =
        serde_json::from_str(&ok(&farm.producer(&["list", "--json"]), "list --json")).unwrap();
    let entry = json
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == job.as_str())
        .unwrap();
    assert!(entry["finished_unix"].as_u64().unwrap() >= entry["submitted_unix"].as_u64().unwrap());

    // A job that is rendering cannot be deleted; a cancelled one is, twice cancelled first.
    drop(worker);
    let second = farm.submit(&render);
    let o = farm.producer(&["delete", &second]);
    assert!(!o.status.success(), "a rendering job must not be deleted");
    ok(&farm.producer(&["cancel", &second]), "first cancel");
    let again = farm.producer(&["cancel", &second]);
    ok(&again, "second cancel");
    assert!(
        text(&again.stderr).contains("already cancelled"),
        "{}",
        text(&again.stderr)
    );
    let s = farm.wait_state(&second, &[&merger], |_| {});
    assert_eq!(s["state"], "cancelled", "{s}");
    ok(
        &farm.producer(&["cancel", &second]),
        "cancel after the merger recorded it",
    );
    let o = farm.producer(&["fetch", &second, "-o", "c.exr"]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("was cancelled"),
        "{}",
        text(&o.stderr)
    );

    // An ambiguous prefix is an error listing the candidates: a twin job whose id shares the
    // first 8 characters (its manifest copied; it never renders, so prune leaves it below).
    let twin = format!(
        "{}{}",
        &job[..8],
        if job.as_bytes()[8] == b'0' { "1" } else { "0" }.repeat(job.len() - 8)
    );
    let rt = rt();
    let blobs = farm.blobs();
    let manifest = rt
        .block_on(blobs.get(&format!("jobs/{job}/manifest.msgpack")))
        .unwrap();
    rt.block_on(blobs.put(&format!("jobs/{twin}/manifest.msgpack"), manifest.to_vec()))
        .unwrap();
    let o = farm.producer(&["status", prefix]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("ambiguous") && err.contains(&job) && err.contains(&twin),
        "{err}"
    );

    let o = farm.producer(&["delete", &second, "--json"]);
    let deleted: Value = serde_json::from_str(&ok(&o, "delete")).unwrap();
    assert_eq!(deleted["deleted"][0]["job"], second.as_str());
    let o = farm.producer(&["status", &second]);
    assert!(!o.status.success(), "a deleted job is gone");

    // prune deletes only ended jobs older than the age: the done job, just now (0s).
    let o = farm.producer(&["prune", "--older-than", "7d", "--json"]);
    let kept: Value = serde_json::from_str(&ok(&o, "prune 7d")).unwrap();
    assert_eq!(kept["deleted"].as_array().unwrap().len(), 0, "{kept}");
    let o = farm.producer(&["prune", "--older-than", "0s"]);
    let out = ok(&o, "prune 0s");
    assert!(out.contains(&format!("deleted job {job}")), "{out}");
    assert!(
        !out.contains(&twin),
        "a job that has not ended is never pruned: {out}"
    );
    assert!(!farm.producer(&["status", &job]).status.success());
    let o = farm.producer(&["prune", "--older-than", "7 days"]);
    assert_eq!(o.status.code(), Some(2), "a bad age is a usage error");
    farm.cleanup();
}

#[test]
fn a_second_worker_on_one_host_names_the_port_and_its_variable() {
    let _serial = serial();
    let mut farm = Farm::new("firsthour-port");
    let first = farm.worker();
    let mut cmd = Command::new(binary("worker"));
    cmd.env("MOONFARM_AMQP_URL", AMQP_URL)
        .env("MOONFARM_BLOB_URL", &farm.blob_url)
        .env("AZURE_STORAGE_USE_EMULATOR", "true")
        .env("MOONFARM_TASK_QUEUE", &farm.task_queue)
        .env("MOONFARM_RESULT_QUEUE", &farm.result_queue)
        .env("MOONFARM_HTTP_PORT", first.port.to_string());
    let o = cmd.output().unwrap();
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("port {}", first.port))
            && err.contains("MOONFARM_HTTP_PORT")
            && err.contains("in use"),
        "{err}"
    );
    drop(first);
    farm.cleanup();
}

#[test]
fn farm_without_a_kubeconfig_shows_the_queues_and_the_blob_store_and_why_kubernetes_is_not() {
    let _serial = serial();
    let farm = Farm::new("firsthour-farm");
    let render = Render::tiny();
    farm.submit(&render);
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        farm.command(Path::new(env!("CARGO_BIN_EXE_producer")))
            .arg("farm")
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("HOME", home.path())
            .output()
            .unwrap()
    };

    let o = run(&["--json"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: no Kubernetes configuration"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("--json printed no JSON ({e}): {}", text(&o.stdout)));
    assert_eq!(v["queues"]["status"], "ok", "{v}");
    assert_eq!(
        v["queues"]["ready"][&farm.task_queue].as_u64(),
        Some(render.tasks()),
        "{v}"
    );
    assert_eq!(v["blob_store"]["status"], "ok", "{v}");
    assert_eq!(v["blob_store"]["jobs"], 1, "{v}");
    assert_eq!(v["kubernetes"]["status"], "unreachable", "{v}");
    let why = v["kubernetes"]["error"].as_str().unwrap();
    assert!(why.starts_with("no Kubernetes configuration"), "{why}");
    assert!(v["pods"].is_null() && v["scaled_object"].is_null(), "{v}");
    let diagnosis = v["diagnosis"].as_array().unwrap();
    assert!(
        diagnosis[0]
            .as_str()
            .unwrap()
            .starts_with("the Kubernetes API could not be read"),
        "{diagnosis:?}"
    );

    let o = run(&[]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        out.contains(&format!(
            "queue           {:<24} {:>6} ready",
            farm.task_queue,
            render.tasks()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("blob store      {}: 1 jobs", farm.blob_url)),
        "{out}"
    );
    assert!(
        out.contains("kubernetes      unreachable: no Kubernetes configuration"),
        "{out}"
    );
    farm.cleanup();
}
