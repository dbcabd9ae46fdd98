//! The command line: clap definitions, every flag also readable from an environment variable,
//! validated into the typed settings the rest of the producer takes.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "producer",
    version,
    about = "Render MoonRay scenes on a Moonfarm render farm, or right here"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Each usage line is written out: clap's own lists every flag an environment variable set
/// (MOONFARM_AMQP_URL, MOONFARM_BLOB_URL, ...) as if it were required.
// `Submit` is large (it carries the farm's limits); the command is parsed once per process, so
// its size costs nothing and boxing it would only add noise to every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Split a scene into tile-pass tasks and render it: on the farm when MOONFARM_AMQP_URL is
    /// set, else embedded in this process, writing the EXR.
    #[command(override_usage = "producer submit [OPTIONS] <SCENE.rdla>...")]
    Submit(SubmitArgs),
    /// Where a farm job stands: tasks and passes done, speed, ETA, failures.
    #[command(override_usage = "producer status [OPTIONS] <JOB>")]
    Status(JobArgs),
    /// Download a farm job's final EXR (or, with --snapshot, the image so far).
    #[command(override_usage = "producer fetch [OPTIONS] <JOB>")]
    Fetch(FetchArgs),
    /// Cancel a farm job: workers drop its remaining tasks, the merger stops it.
    #[command(override_usage = "producer cancel [OPTIONS] <JOB>")]
    Cancel(JobArgs),
    /// Pause a farm job: tasks being rendered finish, the others wait, parked, unrendered.
    #[command(override_usage = "producer pause [OPTIONS] <JOB>")]
    Pause(JobArgs),
    /// Resume a paused farm job: its parked tasks are queued again at its priority.
    #[command(override_usage = "producer resume [OPTIONS] <JOB>")]
    Resume(JobArgs),
    /// Change a farm job's priority (interactive, normal or batch) after submission.
    #[command(override_usage = "producer priority [OPTIONS] <JOB> <LEVEL>")]
    Priority(PriorityArgs),
    /// Every job in the farm's blob store, newest first: state, frames, priority, when it was
    /// submitted, started and finished, cost.
    #[command(override_usage = "producer list [--state STATE] [OPTIONS]")]
    List(ListArgs),
    /// The per-task logs of a farm job: which worker ran each task, when, for how long, the
    /// scene's warnings and the error of a failed attempt.
    #[command(override_usage = "producer logs [OPTIONS] <JOB>")]
    Logs(LogsArgs),
    /// Delete a job that has ended (done, failed or cancelled) from the blob store.
    #[command(override_usage = "producer delete [OPTIONS] <JOB>")]
    Delete(JobArgs),
    /// Delete every ended job older than --older-than from the blob store.
    #[command(override_usage = "producer prune --older-than <AGE> [OPTIONS]")]
    Prune(PruneArgs),
    /// Is the farm stuck? Queue depths, the worker ScaledObject, worker pods by phase and why
    /// pending ones wait, from RabbitMQ and the Kubernetes API (kubeconfig as kubectl finds it).
    #[cfg(feature = "cluster")]
    #[command(name = "farm")]
    Cluster(ClusterArgs),
    /// Convert scenes between RDLA and RDLB, as MoonRay's rdl2_convert: the inputs are read in
    /// order into one scene; OUT's extension picks the format (.rdla, .rdlb), and an OUT
    /// without one writes the split pair OUT.rdla + OUT.rdlb (vectors of more than 12
    /// elements in the binary file).
    Convert(ConvertArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ConvertArgs {
    /// Input scene files (RDLA or RDLB, told apart by content), then the output file.
    #[arg(required = true, num_args = 2.., value_name = "IN... OUT")]
    pub paths: Vec<PathBuf>,
    /// Let the scene read this environment variable through os.getenv (repeatable).
    /// MOONFARM_ALLOW_ENV takes a comma-separated list.
    #[arg(
        long = "allow-env",
        value_name = "NAME",
        env = "MOONFARM_ALLOW_ENV",
        value_delimiter = ','
    )]
    pub allow_env: Vec<String>,
}

/// Where the farm is. Without `amqp`, `submit` renders embedded.
#[derive(Debug, Args, Clone)]
pub struct RemoteArgs {
    #[command(flatten)]
    pub conn: shared::config::ConnectionArgs,
    #[arg(long, env = "MOONFARM_TASK_QUEUE", default_value = shared::queue::TASK_QUEUE)]
    pub task_queue: String,
    #[arg(long, env = "MOONFARM_RESULT_QUEUE", default_value = shared::queue::RESULT_QUEUE)]
    pub result_queue: String,
    /// Result shards: with N > 1, a job's results go to <result queue>.<i>, i a hash of the
    /// job id modulo N, each shard merged by its own mergers. Every worker, merger and
    /// producer of a farm must be given the same N.
    #[arg(long, env = "MOONFARM_RESULT_SHARDS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub result_shards: u32,
}

impl RemoteArgs {
    /// The result queue of `job`'s shard, where its cancel goes.
    pub fn result_queue_of(&self, job: &shared::protocol::JobId) -> String {
        shared::shard::queue_of_job(&self.result_queue, self.result_shards, job)
    }
}

#[derive(Debug, Args, Clone)]
pub struct SubmitArgs {
    /// Scene files, RDLA or RDLB (told apart by content), read in order into one scene
    /// (later files override earlier ones), as `moonray -in a -in b`.
    #[arg(required = true, value_name = "SCENE")]
    pub scenes: Vec<PathBuf>,
    /// Output image: .exr (the full float image), or .png (an 8-bit sRGB preview). Default:
    /// the scene's output_file, else <first scene's stem>.exr.
    #[arg(short = 'o', long = "out", env = "MOONFARM_OUT")]
    pub out: Option<PathBuf>,
    /// Samples per pixel (default: the scene's pixel_samples squared).
    #[arg(long, env = "MOONFARM_SPP", value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub spp: Option<u32>,
    /// Divide the resolution by this, as MoonRay's -res.
    #[arg(long, env = "MOONFARM_RES", default_value_t = 1.0)]
    pub res: f64,
    /// Tile edge in pixels.
    #[arg(long, env = "MOONFARM_TILE_SIZE", default_value_t = 64, value_parser = clap::value_parser!(u32).range(4..=4096))]
    pub tile_size: u32,
    /// Adaptive sampling (MoonRay's sampling_mode 2) with this target_adaptive_error (MoonRay's
    /// default is 10), for a scene that does not ask for it; a scene that does keeps its own
    /// minimum and maximum samples and takes this target. Each tile's passes stop once its
    /// error is under the target; --spp then sets the maximum samples per pixel.
    #[arg(long = "adaptive-error", env = "MOONFARM_ADAPTIVE_ERROR", value_name = "E", value_parser = adaptive_error)]
    pub adaptive_error: Option<f32>,
    /// Progressive passes: a small first pass for a fast first look, then equal passes.
    #[arg(long, env = "MOONFARM_PASSES", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub passes: u32,
    /// Workers rendering at once in the embedded mode.
    #[arg(long, env = "MOONFARM_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// Frame number (default: the scene's `frame`).
    #[arg(long, env = "MOONFARM_FRAME")]
    pub frame: Option<i32>,
    /// Render a frame sequence as one job: 1-240, 1-240x2 (every second), 1,5,9-12, 7. Each
    /// frame sets the Lua global `frame` and SceneVariables.frame (unless the scene sets it);
    /// scene paths with #### or %04d name each frame's file; -o needs a pattern (default
    /// <scene stem>.####.exr).
    #[arg(long, env = "MOONFARM_FRAMES", value_name = "LIST")]
    pub frames: Option<String>,
    /// Run `NAME = VALUE` (VALUE is Lua) before any scene file, as `moonray -rdla_set NAME
    /// VALUE`; repeatable. MOONFARM_RDLA_SET takes one assignment per line.
    #[arg(
        long = "rdla-set",
        value_name = "NAME=VALUE",
        env = "MOONFARM_RDLA_SET",
        value_delimiter = '\n'
    )]
    pub rdla_set: Vec<String>,
    /// Price of one core-hour, for the job's cost in `producer status` and its report.
    #[arg(long, env = "MOONFARM_PRICE_PER_CORE_HOUR", value_name = "PRICE")]
    pub price_per_core_hour: Option<f64>,
    /// Let the scene read this environment variable through os.getenv (repeatable); every
    /// other variable reads as nil. Its value is carried with the job to the workers.
    /// MOONFARM_ALLOW_ENV takes a comma-separated list.
    #[arg(
        long = "allow-env",
        value_name = "NAME",
        env = "MOONFARM_ALLOW_ENV",
        value_delimiter = ','
    )]
    pub allow_env: Vec<String>,
    /// A file the scene references (a texture, ...) that does not exist is a warning instead
    /// of an error, and the render goes on without it.
    #[arg(long, env = "MOONFARM_ALLOW_MISSING")]
    pub allow_missing: bool,
    /// Most Lua VM instructions the scene files may run (all together), on every machine that
    /// loads the scene.
    #[arg(long, env = "MOONFARM_LUA_INSTRUCTIONS", default_value_t = render::rdla::LoadOptions::default().instruction_limit, value_parser = clap::value_parser!(u64).range(1..))]
    pub lua_instructions: u64,
    /// Most memory (MiB) the scene's interpreter and scene graph may hold, on every machine
    /// that loads the scene.
    #[arg(long, env = "MOONFARM_LUA_MEMORY", value_name = "MIB", default_value_t = (render::rdla::LoadOptions::default().memory_limit_bytes >> 20) as u64, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub lua_memory: u64,
    /// Keep a snapshot EXR beside the output, updated after the first pass and then at most
    /// every 10 s (the merger's snapshot interval).
    #[arg(long, env = "MOONFARM_SNAPSHOTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub snapshots: bool,
    /// On the farm: follow the job with a progress bar and download the EXR when it is done.
    #[arg(long, env = "MOONFARM_WAIT")]
    pub wait: bool,
    /// Print JSON for scripts: on the farm, the submitted job (with --wait, a second line
    /// once it is done); embedded, the finished render.
    #[arg(long, env = "MOONFARM_JSON")]
    pub json: bool,
    /// interactive, normal or batch. Workers take interactive tasks first and batch ones
    /// last, yet at least one of every 8 tasks a worker takes comes from a lower level that
    /// has work (README, "Priorities, pause and resume").
    #[arg(
        long,
        env = "MOONFARM_PRIORITY",
        value_name = "LEVEL",
        default_value = "normal"
    )]
    pub priority: String,
    /// On the farm: publish no task before this time: `22:00` (the next such time on this
    /// machine's clock) or RFC 3339 (`2026-12-02T22:00:00Z`). The merger publishes the tasks
    /// then; the producer may exit at once (or follow the job with --wait).
    #[arg(long, env = "MOONFARM_NOT_BEFORE", value_name = "TIME")]
    pub not_before: Option<String>,
    /// On the farm: POST a JSON report to this http(s) URL when the job is done, failed or
    /// cancelled (retried with backoff; a failure to notify never fails the job).
    #[arg(long, env = "MOONFARM_NOTIFY", value_name = "URL")]
    pub notify: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The farm's limits (README, "Limits"), checked here before anything is published.
    #[command(flatten)]
    pub limits: shared::limits::Limits,
}

#[derive(Debug, Args, Clone)]
pub struct JobArgs {
    /// The job id `submit` printed, or a unique prefix of it.
    pub job: String,
    /// Print JSON for scripts.
    #[arg(long, env = "MOONFARM_JSON")]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args, Clone)]
pub struct PriorityArgs {
    /// The job id `submit` printed, or a unique prefix of it.
    pub job: String,
    /// The new level: interactive, normal or batch.
    #[arg(value_name = "LEVEL")]
    pub level: String,
    /// Print JSON for scripts.
    #[arg(long, env = "MOONFARM_JSON")]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args, Clone)]
pub struct FetchArgs {
    /// The job id (or a unique prefix of it).
    pub job: String,
    /// Where to write the image. Default: the output name the job was submitted with.
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
    /// The latest snapshot instead of the final image.
    #[arg(long)]
    pub snapshot: bool,
    /// Print JSON for scripts.
    #[arg(long, env = "MOONFARM_JSON")]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// Only the jobs in this state.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    pub state: Option<shared::lifecycle::JobState>,
    /// Print JSON for scripts.
    #[arg(long, env = "MOONFARM_JSON")]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args, Clone)]
pub struct LogsArgs {
    /// The job id (or a unique prefix of it).
    pub job: String,
    /// Only this frame's tasks.
    #[arg(long, value_name = "N")]
    pub frame: Option<i32>,
    /// Only this tile's tasks (its index, as status and failures name it).
    #[arg(long, value_name = "T")]
    pub tile: Option<u32>,
    /// Keep printing new task logs until the job ends.
    #[arg(long)]
    pub follow: bool,
    /// One JSON object per task log, per line.
    #[arg(long, env = "MOONFARM_JSON")]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// `--priority` (or MOONFARM_PRIORITY) as a level; a usage error names both.
pub fn priority(args: &SubmitArgs) -> anyhow::Result<shared::priority::Priority> {
    match shared::priority::Priority::parse(&args.priority) {
        Ok(p) => Ok(p),
        Err(e) => crate::usage!("--priority (MOONFARM_PRIORITY): {e}"),
    }
}

/// A `--state` value: one of the job states, lowercase.
fn parse_state(text: &str) -> Result<shared::lifecycle::JobState, String> {
    shared::lifecycle::JobState::parse(text).ok_or_else(|| {
        let names: Vec<&str> = shared::lifecycle::JobState::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        format!("`{text}` is not a job state; one of {}", names.join(", "))
    })
}

#[derive(Debug, Args, Clone)]
pub struct PruneArgs {
    /// Age of the ended jobs to delete, from their submission: 7d, 12h, 30m, 90s.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: u64,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// `7d`, `12h`, `30m`, `90s` (or bare seconds) as seconds.
pub fn parse_age(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}`: expected a number and a unit, e.g. 7d, 12h, 30m"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "`{text}`: the unit must be s, m, h, d or w (e.g. 7d)"
            ))
        }
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("`{text}`: too long"))
}

/// Where the farm runs in Kubernetes. The defaults are the names in deploy/k8s and deploy/keda.
#[derive(Debug, Args, Clone)]
pub struct ClusterArgs {
    /// The namespace Moonfarm is deployed in.
    #[arg(long, env = "MOONFARM_NAMESPACE", default_value = "moonfarm")]
    pub namespace: String,
    /// Label selector of the worker pods (the worker Deployment's and ScaledJob's pod labels).
    #[arg(
        long,
        env = "MOONFARM_WORKER_SELECTOR",
        default_value = "app.kubernetes.io/name=moonfarm-worker"
    )]
    pub selector: String,
    /// The KEDA ScaledObject that scales the workers.
    #[arg(
        long,
        env = "MOONFARM_SCALED_OBJECT",
        default_value = "moonfarm-worker"
    )]
    pub scaled_object: String,
    /// Print JSON for scripts.
    #[arg(long, env = "MOONFARM_JSON")]
    pub json: bool,
    /// --amqp and the queue names for the queue depths, --blob for the jobs in the store.
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Checks what clap cannot: values that parse but make no sense. Every error is a usage error.
pub fn validate(args: &SubmitArgs) -> anyhow::Result<()> {
    if !(args.res.is_finite() && args.res >= 0.125 && args.res <= 1024.0) {
        crate::usage!("--res {}: the resolution divisor must be between 0.125 and 1024 (for example --res 2 for half size)", args.res);
    }
    if let Some(p) = args.price_per_core_hour {
        if !(p.is_finite() && p >= 0.0) {
            crate::usage!(
                "--price-per-core-hour {p}: the price must be a number of at least 0 (e.g. 0.04)"
            );
        }
    }
    if let Err(e) = args.remote.conn.check() {
        crate::usage!("{e:#}");
    }
    if args.remote.conn.amqp.is_some() && args.remote.conn.blob.is_none() {
        crate::usage!("MOONFARM_AMQP_URL is set but MOONFARM_BLOB_URL is not: the farm needs both (e.g. az://renders)");
    }
    if let Some(out) = &args.out {
        crate::job::OutputFormat::of(out)?;
    }
    priority(args)?;
    let farm = args.remote.conn.amqp.is_some();
    if let Some(url) = &args.notify {
        if !farm {
            crate::usage!(
                "--notify needs a farm (MOONFARM_AMQP_URL): the merger sends the notification"
            );
        }
        let host = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        if host.is_none_or(str::is_empty) || url.chars().any(char::is_whitespace) {
            crate::usage!("--notify `{url}`: expected an http:// or https:// URL with a host, e.g. https://hooks.example.com/render");
        }
    }
    if args.not_before.is_some() && !farm {
        crate::usage!(
            "--not-before needs a farm (MOONFARM_AMQP_URL): an embedded render starts now"
        );
    }
    not_before(args)?;
    Ok(())
}

/// `--not-before` as milliseconds since the Unix epoch (None without the flag). A bad time is
/// a usage error, found before the scene is read or anything is stored.
pub fn not_before(args: &SubmitArgs) -> anyhow::Result<Option<u64>> {
    match &args.not_before {
        None => Ok(None),
        Some(text) => match crate::when::parse(text, &crate::when::now()) {
            Ok(ms) => Ok(Some(ms)),
            Err(e) => crate::usage!("{e}"),
        },
    }
}

/// `--adaptive-error`: a finite number of at least 0.
fn adaptive_error(v: &str) -> Result<f32, String> {
    match v.parse::<f32>() {
        Ok(e) if e.is_finite() && e >= 0.0 => Ok(e),
        _ => Err(format!(
            "`{v}` is not an error target: give a number of at least 0 (MoonRay's default is 10)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// README: every `submit` flag can also be set by an environment variable.
    #[test]
    fn every_submit_flag_has_an_environment_variable() {
        let cli = Cli::command();
        let submit = cli.find_subcommand("submit").unwrap();
        let missing: Vec<&str> = submit
            .get_arguments()
            .filter(|a| !a.is_positional() && a.get_long().is_some())
            .filter(|a| a.get_env().is_none())
            .map(|a| a.get_id().as_str())
            .collect();
        assert!(missing.is_empty(), "flags without a variable: {missing:?}");
    }
}
