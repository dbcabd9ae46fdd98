//! RabbitMQ stopped and started again mid-job (a broker restart, a failover): workers and the
//! merger reconnect on their own and the job completes with the same image.

use super::*;

fn rabbitmqctl(args: &[&str]) {
    let o = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("rabbitmqctl {args:?}: {e} (the test needs RabbitMQ's CLI, as root)")
        });
    assert!(
        o.status.success(),
        "rabbitmqctl {args:?}: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// Starts the RabbitMQ application again when dropped, so that a failing test does not leave
/// the shared broker stopped.
struct Stopped;

impl Stopped {
    fn broker() -> Stopped {
        rabbitmqctl(&["stop_app"]);
        Stopped
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        rabbitmqctl(&["start_app"]);
        rabbitmqctl(&["await_startup"]);
    }
}

#[test]
fn workers_and_merger_reconnect_after_rabbitmq_restarts_mid_job() {
    let _serial = serial();
    let mut farm = Farm::new("restart");
    let render = Render::slow();
    let reference = embedded(&render, farm.path());
    let merger = farm.merger();
    let workers: Vec<Proc> = (0..3).map(|_| farm.worker()).collect();
    let job = farm.submit(&render);
    let procs: Vec<&Proc> = workers.iter().chain([&merger]).collect();

    testkit::poll::until(JOB_DEADLINE, Duration::from_millis(50), || {
        if farm.status(&job)["tasks_done"].as_u64().unwrap_or(0) < 3 {
            Err(format!("job stuck before the restart\n{}", logs(&procs)))
        } else {
            Ok(())
        }
    });
    let before = farm.status(&job);
    assert_eq!(
        before["state"], "rendering",
        "the restart must land mid-job: {before}"
    );
    {
        let _stopped = Stopped::broker();
        eprintln!("RabbitMQ stopped at {before}");
        std::thread::sleep(Duration::from_secs(3));
        // Everyone is still alive, waiting for the broker.
        for p in &procs {
            assert!(
                p.alive(),
                "{} died while RabbitMQ was down\n{}",
                p.name,
                p.tail()
            );
        }
    }
    eprintln!("RabbitMQ started again");
    let image = farm.wait_done_and_fetch(&job, &render, &procs);
    assert_same_image(&image, &reference, render.spp);
    farm.cleanup();
}
