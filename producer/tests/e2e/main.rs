//! End-to-end tests of the distributed farm: the real `producer`, `worker` and `merger`
//! binaries as separate processes against the real RabbitMQ (127.0.0.1:5672) and Azurite
//! (127.0.0.1:10000) that `scripts/services.sh` starts. Nothing is mocked; a missing service or
//! binary fails the tests with what to run.
//!
//! Every test takes [`serial`] first: they share two cores, and one of them restarts RabbitMQ.
//! Each test gets its own queues and blob prefix ([`Farm`]), so a test never sees another's
//! messages. Every process is a [`Proc`], killed when dropped, so a failing test leaves no
//! process behind; its stderr goes to a file that failure messages quote.

mod accounting;
mod adaptive;
mod assets;
mod broker;
mod cli;
mod cluster;
mod crashes;
mod first_hour;
mod frames;
mod hostile;
mod nightly;
mod pipeline;
mod poison;
mod preempt;
mod priorities;
mod rdlb;
mod shards;
mod tls;

use serde_json::Value;
use shared::amqp::{AmqpOptions, AmqpQueue};
use shared::blob::Blobs;
use shared::film::Image;
use shared::queue::Queue;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// Longest a tiny job may take on a loaded two-core machine before a test calls it lost.
pub const JOB_DEADLINE: Duration = Duration::from_secs(120);

/// Held for the whole of every test: they share two cores, and `broker` restarts RabbitMQ.
/// A test that panicked poisons the mutex; the next one runs anyway.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn repo() -> PathBuf {
    testkit::paths::root()
}

pub fn cornell() -> PathBuf {
    repo().join("scenes/cornell-box.rdla")
}

/// A sibling binary of `producer` in the target directory; `scripts/test` builds them.
pub fn binary(name: &str) -> PathBuf {
    testkit::paths::binary(name)
}

pub fn require_service(port: u16, what: &str) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        panic!("{what} is not reachable at {addr} ({e}): run scripts/services.sh first");
    }
}

/// A TCP port nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Settings of a render, shared by the farm run and the embedded run it is compared with.
#[derive(Clone, Debug)]
pub struct Render {
    pub scene: PathBuf,
    pub res: u32,
    pub spp: u32,
    pub tile: u32,
    pub passes: u32,
}

impl Render {
    /// 16x16 pixels, 4 tiles of 8, 16 samples in 4 passes: 16 tasks of a few milliseconds.
    pub fn tiny() -> Render {
        Render {
            scene: cornell(),
            res: 16,
            spp: 16,
            tile: 8,
            passes: 4,
        }
    }

    /// 32x32 pixels, 4 tiles of 16, 16384 samples in 8 passes: 32 tasks, the last 28 of 560k
    /// samples each (a few hundred milliseconds on one thread), a job of several seconds: long
    /// enough to kill processes while they hold work and while the job is still rendering. The
    /// tests assert that their kills landed mid-job, so a faster renderer shows up there.
    pub fn slow() -> Render {
        Render {
            scene: cornell(),
            res: 8,
            spp: 16384,
            tile: 16,
            passes: 8,
        }
    }

    pub fn tasks(&self) -> u64 {
        let side = 256 / self.res;
        let tiles_per_side = side.div_ceil(self.tile);
        u64::from(tiles_per_side * tiles_per_side * self.passes.min(self.spp))
    }

    pub fn args(&self) -> Vec<String> {
        vec![
            self.scene.display().to_string(),
            "--res".into(),
            self.res.to_string(),
            "--spp".into(),
            self.spp.to_string(),
            "--tile-size".into(),
            self.tile.to_string(),
            "--passes".into(),
            self.passes.to_string(),
        ]
    }
}

/// The same render made embedded, in one process without RabbitMQ: the reference image. Made
/// once per scene, settings and producer build, and shared by every test and test run
/// (testkit::cache, under target/testkit-cache).
pub fn embedded(render: &Render, dir: &Path) -> Image {
    let producer = Path::new(env!("CARGO_BIN_EXE_producer"));
    let key = [
        testkit::cache::file_part(&render.scene),
        render.args()[1..].join(" ").into_bytes(),
        testkit::cache::binary_part(producer),
    ];
    let key: Vec<&[u8]> = key.iter().map(Vec::as_slice).collect();
    let out = testkit::cache::file("embedded", "exr", &key, |cached| {
        let out = dir.join(format!(
            "embedded-{}-{}-{}-{}.exr",
            render.res, render.spp, render.tile, render.passes
        ));
        let mut cmd = Command::new(producer);
        cmd.arg("submit")
            .args(render.args())
            .arg("-o")
            .arg(&out)
            .current_dir(dir);
        for (k, _) in std::env::vars() {
            if k.starts_with("MOONFARM_") {
                cmd.env_remove(k);
            }
        }
        let o = cmd.output().expect("the producer binary runs");
        assert!(
            o.status.success(),
            "embedded render failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::copy(&out, cached).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    });
    read_image(&out)
}

pub fn read_image(path: &Path) -> Image {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    shared::exr_io::decode_image(&bytes)
        .expect("a Moonfarm EXR")
        .0
}

/// The farm image equals the embedded one and every pixel took exactly `spp` samples: no task
/// lost, none merged twice.
pub fn assert_same_image(farm: &Image, reference: &Image, spp: u32) {
    assert_eq!(
        (farm.width, farm.height),
        (reference.width, reference.height)
    );
    let bad: Vec<usize> = (0..farm.weight.len())
        .filter(|&i| farm.weight[i] != spp as f32)
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} pixels do not have weight {spp} (first: pixel {} has {}): a task was lost or merged twice",
        bad.len(),
        farm.weight.len(),
        bad[0],
        farm.weight[bad[0]]
    );
    assert!(reference.mean_rgb()[0] > 0.01, "the reference is black");
    let d = farm.max_relative_difference(reference);
    assert!(
        d <= 1e-5,
        "farm image differs from the embedded render by {d}"
    );
}

/// One farm: its own task and result queues and blob prefix, the processes started on it,
/// and a folder for their logs and outputs.
pub struct Farm {
    pub dir: tempfile::TempDir,
    pub task_queue: String,
    pub result_queue: String,
    pub blob_url: String,
    /// The broker (or comma-separated cluster nodes) every process of this farm talks to.
    pub amqp_url: String,
    /// Queues a test made beyond the two above (result shards), deleted with them.
    pub extra_queues: Vec<String>,
    /// Variables every process of this farm gets besides the farm's own (a CA file, the
    /// https Azurite's address).
    pub env: Vec<(String, String)>,
    next_id: u32,
}

impl Farm {
    pub fn new(name: &str) -> Farm {
        Farm::on_broker(name, AMQP_URL)
    }

    /// A farm on another broker than the machine's: `amqp_url` may list several nodes.
    pub fn on_broker(name: &str, amqp_url: &str) -> Farm {
        require_service(5672, "RabbitMQ");
        require_service(10000, "Azurite");
        let id = uuid::Uuid::new_v4().simple().to_string();
        let id = &id[..12];
        Farm {
            dir: tempfile::Builder::new()
                .prefix(&format!("farm-{name}-"))
                .tempdir()
                .unwrap(),
            task_queue: format!("test.{name}.{id}.tasks"),
            result_queue: format!("test.{name}.{id}.results"),
            blob_url: format!("az://renders/test-{name}-{id}"),
            amqp_url: amqp_url.to_string(),
            extra_queues: Vec::new(),
            env: Vec::new(),
            next_id: 0,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The environment every process of this farm gets; nothing else of ours leaks in.
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        for (k, _) in std::env::vars() {
            if k.starts_with("MOONFARM_") {
                cmd.env_remove(k);
            }
        }
        cmd.current_dir(self.path())
            .env("MOONFARM_AMQP_URL", &self.amqp_url)
            .env("MOONFARM_BLOB_URL", &self.blob_url)
            .env("AZURE_STORAGE_USE_EMULATOR", "true")
            .env("MOONFARM_TASK_QUEUE", &self.task_queue)
            .env("MOONFARM_RESULT_QUEUE", &self.result_queue)
            .env("MOONFARM_LOG", "info");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn spawn(
        &mut self,
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
    ) -> Proc {
        self.next_id += 1;
        let name = format!("{name}-{}", self.next_id);
        let log = self.path().join(format!("{name}.log"));
        let mut cmd = self.command(program);
        cmd.args(args);
        for (k, v) in env {
            // An empty value removes the variable (a test that passes it as a file instead).
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let port = free_port();
        cmd.env("MOONFARM_HTTP_PORT", port.to_string());
        Proc {
            inner: testkit::process::Proc::spawn(name, cmd, log),
            port,
        }
    }

    /// A worker rendering on one thread (three of them share two cores).
    pub fn worker(&mut self) -> Proc {
        self.worker_with(&[])
    }

    pub fn worker_with(&mut self, env: &[(&str, String)]) -> Proc {
        let mut env = env.to_vec();
        if !env.iter().any(|(k, _)| *k == "MOONFARM_THREADS") {
            env.push(("MOONFARM_THREADS", "1".into()));
        }
        let mut p = self.spawn("worker", &binary("worker"), &[], &env);
        p.wait_ready();
        p
    }

    pub fn merger(&mut self) -> Proc {
        self.merger_with(&[])
    }

    pub fn merger_with(&mut self, env: &[(&str, String)]) -> Proc {
        let mut p = self.spawn("merger", &binary("merger"), &[], env);
        p.wait_ready();
        p
    }

    /// Runs `producer` with this farm's environment and waits for it.
    pub fn producer(&self, args: &[&str]) -> Output {
        self.producer_with(args, &[])
    }

    /// `producer` with some of the farm's variables replaced.
    pub fn producer_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(Path::new(env!("CARGO_BIN_EXE_producer")))
            .args(args)
            .envs(env.iter().copied())
            .output()
            .expect("the producer binary runs")
    }

    /// `producer submit --json` without waiting: the job id.
    pub fn submit(&self, render: &Render) -> String {
        let mut args: Vec<String> = vec!["submit".into()];
        args.extend(render.args());
        args.push("--json".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = self.producer(&args);
        assert!(o.status.success(), "submit failed: {}", text(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("submit --json printed no JSON ({e}): {}", text(&o.stdout)));
        let side = u64::from(256 / render.res);
        assert_eq!(v["tasks"].as_u64(), Some(render.tasks()), "{v}");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(side), Some(side)),
            "{v}"
        );
        assert_eq!(v["spp"].as_u64(), Some(u64::from(render.spp)), "{v}");
        v["job"].as_str().expect("a job id").to_string()
    }

    /// `producer status JOB --json`.
    pub fn status(&self, job: &str) -> Value {
        let o = self.producer(&["status", job, "--json"]);
        assert!(
            o.status.success(),
            "status {job} failed: {}",
            text(&o.stderr)
        );
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("status --json printed no JSON ({e}): {}", text(&o.stdout)))
    }

    /// Polls the status until the job leaves `rendering`, calling `each` with every status
    /// seen; panics with the processes' logs after `JOB_DEADLINE`.
    pub fn wait_state(&self, job: &str, procs: &[&Proc], mut each: impl FnMut(&Value)) -> Value {
        testkit::poll::until(JOB_DEADLINE, Duration::from_millis(200), || {
            let s = self.status(job);
            each(&s);
            if s["state"] != "rendering" {
                Ok(s)
            } else {
                Err(format!("job {job} still rendering: {s}\n{}", logs(procs)))
            }
        })
    }

    /// Waits for `done`, checks the status's counts, fetches the EXR.
    pub fn wait_done_and_fetch(&self, job: &str, render: &Render, procs: &[&Proc]) -> Image {
        let s = self.wait_state(job, procs, |_| {});
        assert_eq!(s["state"], "done", "job {job}: {s}\n{}", logs(procs));
        assert_eq!(s["tasks_done"].as_u64(), Some(render.tasks()), "{s}");
        assert_eq!(s["tasks_total"].as_u64(), Some(render.tasks()), "{s}");
        assert_eq!(s["passes_done"], s["passes_total"], "{s}");
        self.fetch(job)
    }

    pub fn fetch(&self, job: &str) -> Image {
        let out = self.path().join(format!("{job}.exr"));
        let o = self.producer(&["fetch", job, "-o", out.to_str().unwrap()]);
        assert!(
            o.status.success(),
            "fetch {job} failed: {}",
            text(&o.stderr)
        );
        read_image(&out)
    }

    /// A connection of our own to RabbitMQ, to publish and count messages behind the farm's back.
    pub async fn broker(&self) -> AmqpQueue {
        let opts = AmqpOptions {
            connection_name: format!("farm-test-{}", self.task_queue),
            ..AmqpOptions::default()
        };
        AmqpQueue::connect(&self.amqp_url, opts)
            .await
            .expect("connect to RabbitMQ")
    }

    /// The farm's blob store, as its processes see it.
    pub fn blobs(&self) -> Blobs {
        // Only read by object_store when the store is built; every test holds `serial`.
        std::env::set_var("AZURE_STORAGE_USE_EMULATOR", "true");
        Blobs::from_url(&self.blob_url).unwrap()
    }

    /// Every queue this farm's processes may have made: the task queue of each priority level,
    /// the result queue, and those a test added.
    fn queues(&self) -> Vec<String> {
        let mut all: Vec<String> = shared::priority::Priority::ALL
            .iter()
            .map(|p| p.queue(&self.task_queue))
            .collect();
        all.push(self.result_queue.clone());
        all.extend(self.extra_queues.iter().cloned());
        all
    }

    /// Deletes this farm's queues (its blobs stay under their unique prefix in Azurite); also
    /// done on drop, this makes a failure to delete visible.
    pub fn cleanup(&self) {
        rt().block_on(async {
            let q = self.broker().await;
            for name in self.queues() {
                q.delete_queue(&name).await.unwrap();
            }
            q.close().await;
        });
    }

    /// Messages waiting in `queue` (a `.dead` name counts dead letters).
    pub fn depth(&self, queue: &str) -> u64 {
        rt().block_on(async {
            let q = self.broker().await;
            let d = q.depth(queue).await.expect("queue depth");
            q.close().await;
            d
        })
    }
}

impl Drop for Farm {
    /// Deletes the queues of a test that failed before `cleanup`, giving up quietly (the broker
    /// may be what failed); the processes are dropped first, as locals declared after the farm.
    fn drop(&mut self) {
        rt().block_on(async {
            let opts = AmqpOptions {
                connection_name: "farm-test-cleanup".into(),
                ..AmqpOptions::default()
            };
            let connect = tokio::time::timeout(
                Duration::from_secs(5),
                AmqpQueue::connect(&self.amqp_url, opts),
            );
            if let Ok(Ok(q)) = connect.await {
                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                    for name in self.queues() {
                        let _ = q.delete_queue(&name).await;
                    }
                })
                .await;
                q.close().await;
            }
        });
    }
}

/// `producer submit --json` with extra flags: the printed JSON.
pub fn submit_with(farm: &Farm, render: &Render, extra: &[&str]) -> Value {
    let mut args: Vec<String> = vec!["submit".into()];
    args.extend(render.args());
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = farm.producer(&args);
    assert!(o.status.success(), "submit failed: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("submit --json printed no JSON ({e}): {}", text(&o.stdout)))
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The last lines of every process's log, for failure messages.
pub fn logs(procs: &[&Proc]) -> String {
    testkit::process::logs(procs.iter().map(|p| &p.inner))
}

/// A farm process (a [`testkit::process::Proc`]: its log kept, killed and reaped when dropped)
/// and the port of its health and metrics server.
pub struct Proc {
    inner: testkit::process::Proc,
    pub port: u16,
}

impl std::ops::Deref for Proc {
    type Target = testkit::process::Proc;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Proc {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl Proc {
    /// Waits until /readyz answers 200, or fails with the log if the process exits first.
    pub fn wait_ready(&mut self) {
        testkit::poll::until(Duration::from_secs(30), Duration::from_millis(50), || {
            if let Ok((200, _)) = http_get(self.port, "/readyz") {
                return Ok(());
            }
            let exited = self.try_exit();
            assert!(
                exited.is_none(),
                "{} exited ({:?}) before it was ready\n{}",
                self.name,
                exited,
                self.tail()
            );
            Err(format!("{} not ready\n{}", self.name, self.tail()))
        });
    }

    /// Whether it still serves HTTP (whatever /healthz answers): a process that died does not.
    pub fn alive(&self) -> bool {
        http_get(self.port, "/healthz").is_ok()
    }

    /// The value of one Prometheus counter or gauge from /metrics (0 if not yet exported).
    pub fn metric(&self, name: &str) -> f64 {
        let (code, body) = http_get(self.port, "/metrics")
            .unwrap_or_else(|e| panic!("{} /metrics: {e}\n{}", self.name, self.tail()));
        assert_eq!(code, 200, "{} /metrics: {body}", self.name);
        metric_value(&body, name).unwrap_or(0.0)
    }

    /// Sends SIGTERM and waits up to `within` for the exit status.
    pub fn terminate(self, within: Duration) -> Option<ExitStatus> {
        self.inner.terminate(within)
    }
}

/// A minimal HTTP/1.0 GET: (status code, body).
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Ok((code, body))
}

/// The value of `name` in Prometheus text: the sample line `name value` or `name{...} value`,
/// summed over label sets.
pub fn metric_value(body: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let (key, value) = match line.rsplit_once(' ') {
            Some(kv) => kv,
            None => continue,
        };
        let base = key.split('{').next().unwrap().trim();
        if base == name {
            if let Ok(v) = value.trim().parse::<f64>() {
                *found.get_or_insert(0.0) += v;
            }
        }
    }
    found
}

#[test]
fn metric_values_are_read_from_prometheus_text() {
    let body = "# HELP a_total x\n# TYPE a_total counter\na_total 3\nb{job=\"x\"} 1.5\nb{job=\"y\"} 2\na_total_other 9\n";
    assert_eq!(metric_value(body, "a_total"), Some(3.0));
    assert_eq!(metric_value(body, "b"), Some(3.5));
    assert_eq!(metric_value(body, "c"), None);
}
