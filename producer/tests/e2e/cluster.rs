//! The farm on a three-node RabbitMQ cluster: three extra nodes on loopback
//! (`scripts/rabbit-cluster.sh`, ports 5681-5683), clustered with each other and never with
//! the machine's broker on 5672, which other tests share. Every process is given all three
//! URLs. The node that leads the task queue is stopped mid-job; the job still completes with
//! the embedded image, and the queue's leadership has moved to a node still up.

use super::*;

/// Runs `scripts/rabbit-cluster.sh ARGS` and returns what it printed on stdout.
fn rabbit_cluster(args: &[&str]) -> String {
    let o = Command::new("bash")
        .arg(repo().join("scripts/rabbit-cluster.sh"))
        .args(args)
        .output()
        .expect("bash runs");
    assert!(
        o.status.success(),
        "scripts/rabbit-cluster.sh {args:?} failed ({}):\n{}\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// The number (1..3) of the node whose name `rabbitmqctl list_queues` gives as `queue`'s
/// leader, asking node `ask`.
fn leader(queue: &str, ask: u32) -> Option<u32> {
    let o = Command::new("rabbitmqctl")
        .args(["-q", "-n", &format!("moonfarm{ask}@localhost")])
        .args(["list_queues", "name", "leader", "--formatter", "json"])
        .output()
        .expect("rabbitmqctl runs");
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).ok()?;
    let row = rows.iter().find(|r| r["name"] == queue)?;
    let node = row["leader"].as_str()?;
    node.strip_prefix("moonfarm")?
        .split('@')
        .next()?
        .parse()
        .ok()
}

/// Starts the stopped node again when the test ends, passed or failed, so that the next run
/// finds the whole cluster.
struct Restart(u32);

impl Drop for Restart {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo().join("scripts/rabbit-cluster.sh"))
            .args(["start-node", &self.0.to_string()])
            .status();
    }
}

#[test]
fn the_task_queue_leader_node_stopped_mid_job_loses_nothing() {
    let _serial = serial();
    rabbit_cluster(&["start"]);
    let urls = rabbit_cluster(&["urls"]).trim().to_string();
    assert_eq!(urls.split(',').count(), 3, "{urls}");
    let mut farm = Farm::on_broker("rabbitcluster", &urls);
    let render = Render::slow();
    let reference = embedded(&render, farm.path());
    let merger = farm.merger();
    let workers: Vec<Proc> = (0..2).map(|_| farm.worker()).collect();
    let job = farm.submit(&render);
    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();

    // A quarter of the way in, stop the node that leads the task queue.
    testkit::poll::until(JOB_DEADLINE, Duration::from_millis(100), || {
        let done = farm.status(&job)["tasks_done"].as_u64().unwrap_or(0);
        if done >= render.tasks() / 4 {
            Ok(())
        } else {
            Err(format!("job stuck at {done} tasks\n{}", logs(&procs)))
        }
    });
    let node = leader(&farm.task_queue, 1).expect("the task queue has a leader");
    eprintln!(
        "stopping moonfarm{node}@localhost, leader of {}",
        farm.task_queue
    );
    let _restart = Restart(node);
    rabbit_cluster(&["stop-node", &node.to_string()]);
    let s = farm.status(&job);
    assert_eq!(s["state"], "rendering", "the stop must land mid-job: {s}");

    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    let up = if node == 1 { 2 } else { 1 };
    let now = leader(&farm.task_queue, up).expect("the task queue still has a leader");
    assert_ne!(now, node, "the leadership moved off the stopped node");
    for p in &procs {
        assert!(p.alive(), "{} died with the node\n{}", p.name, p.tail());
    }
    farm.cleanup();
}
