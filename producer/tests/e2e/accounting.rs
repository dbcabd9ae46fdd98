//! What a job cost: the core-seconds the workers report against the CPU time the kernel gave
//! the worker process, the retries the test forced, the cost at the submitted price.

use super::*;
use shared::queue::Settle;

/// User plus system CPU seconds of a process so far, from /proc/PID/stat (fields 14 and 15,
/// in clock ticks).
fn process_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    let o = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    text(&o.stdout).trim().parse().unwrap()
}

#[test]
fn core_seconds_match_the_workers_cpu_and_retries_and_cost_are_counted() {
    let _serial = serial();
    let mut farm = Farm::new("accounting");
    let merger = farm.merger();
    // Two frames of 32x32 pixels, 4096 samples in 2 passes, tiles of 16: 16 tasks of a few
    // hundred milliseconds each, so rendering is most of what the worker does.
    let price = 0.25;
    let o = farm.producer(&[
        "submit",
        cornell().to_str().unwrap(),
        "--frames",
        "1-2",
        "-o",
        "acc.####.exr",
        "--res",
        "8",
        "--spp",
        "4096",
        "--tile-size",
        "16",
        "--passes",
        "2",
        "--price-per-core-hour",
        &price.to_string(),
        "--json",
    ]);
    assert!(o.status.success(), "submit: {}", text(&o.stderr));
    let submitted: Value = serde_json::from_slice(&o.stdout).unwrap();
    let job = submitted["job"].as_str().unwrap().to_string();
    assert_eq!(submitted["tasks"], 16, "{submitted}");

    // A poison first delivery: the test takes the first task and gives it back, as a worker
    // that failed it would. The broker redelivers it, counted as a retry.
    rt().block_on(async {
        let q = farm.broker().await;
        let mut c = q.consume(&farm.task_queue, 1).await.unwrap();
        let d = c.next().await.unwrap().expect("a task");
        assert_eq!(d.delivery_count, 1);
        d.settle(Settle::Retry).await.unwrap();
        drop(c);
        q.close().await;
    });

    let worker = farm.worker();
    let pid = worker.pid();
    let at_ready = process_cpu_seconds(pid);
    let started = Instant::now();
    let s = farm.wait_state(&job, &[&worker, &merger], |_| {});
    let busy = started.elapsed().as_secs_f64();
    assert_eq!(s["state"], "done", "{s}\n{}", logs(&[&worker, &merger]));
    let at_done = process_cpu_seconds(pid);
    // What the worker burns idle (runtime, heartbeats) over as long as the job ran is not
    // rendering: measured after the job, when the queue is empty, and taken off.
    let idle_for = Duration::from_secs(2);
    std::thread::sleep(idle_for);
    let idle_rate = (process_cpu_seconds(pid) - at_done) / idle_for.as_secs_f64();
    let measured = (at_done - at_ready) - idle_rate * busy;

    let core = s["core_seconds"].as_f64().expect("core_seconds");
    assert!(
        measured > 1.0,
        "the job was too small to measure: {measured} s"
    );
    assert!(
        (core - measured).abs() <= 0.10 * measured,
        "core_seconds {core} vs the worker's CPU {measured} (idle {idle_rate}/s over {busy} s): {s}"
    );
    // The worker's metrics split the same CPU by phase: each phase is there, rendering is
    // most of it, and the phases add up to what the tasks reported.
    let (code, body) = http_get(worker.port, "/metrics").unwrap();
    assert_eq!(code, 200);
    let phase = |p: &str| {
        body.lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "moonfarm_worker_task_cpu_seconds_total{{phase=\"{p}\"}} "
                ))
            })
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {p} phase in the worker's metrics:\n{body}"))
    };
    let (scene, render, encode) = (phase("scene"), phase("render"), phase("encode"));
    assert!(
        scene > 0.0 && encode > 0.0,
        "scene {scene}, encode {encode}"
    );
    assert!(render > 0.8 * core, "render {render} of {core}");
    assert!(
        (scene + render + encode - core).abs() <= 1e-6 * core,
        "phases {scene} + {render} + {encode} vs core_seconds {core}"
    );
    assert_eq!(s["tasks"]["retried"], 1, "one forced retry: {s}");
    assert_eq!(s["tasks"]["done"], 16, "{s}");
    assert_eq!(s["tasks"]["failed"], 0, "{s}");
    assert_eq!(s["priority"], "normal", "{s}");
    assert_eq!(s["eta_seconds"], 0.0, "{s}");
    let cost = s["cost"].as_f64().expect("cost");
    let want = core / 3600.0 * price;
    assert!(
        (cost - want).abs() <= 1e-12 * want.max(1.0),
        "cost {cost}, want {want}"
    );
    // Each frame's tally adds up to the job's.
    let frames = s["frames"].as_array().unwrap();
    let per_frame: f64 = frames
        .iter()
        .map(|f| f["tasks"]["core_seconds"].as_f64().unwrap())
        .sum();
    assert!((per_frame - core).abs() < 1e-9, "{s}");
    farm.cleanup();
}
