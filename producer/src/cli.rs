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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Split a scene into tile-pass tasks and render it: on the farm when MOONFARM_AMQP_URL is
    /// set, else embedded in this process, writing the EXR.
    Submit(SubmitArgs),
    /// Where a farm job stands: tasks and passes done, speed, ETA, failures.
    Status(JobArgs),
    /// Download a farm job's final EXR (or, with --snapshot, the image so far).
    Fetch(FetchArgs),
    /// Cancel a farm job: workers drop its remaining tasks, the merger stops it.
    Cancel(JobArgs),
    /// Every job in the farm's blob store.
    List(ListArgs),
    /// Is the farm stuck? Queue depths, the worker ScaledObject, worker pods by phase and why
    /// pending ones wait, from RabbitMQ and the Kubernetes API (kubeconfig as kubectl finds it).
    #[command(name = "farm")]
    Cluster(ClusterArgs),
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
}

#[derive(Debug, Args, Clone)]
pub struct SubmitArgs {
    /// RDLA scene files, run in order in one interpreter (later files override earlier ones).
    #[arg(required = true, value_name = "SCENE.rdla")]
    pub scenes: Vec<PathBuf>,
    /// Output EXR. Default: the scene's output_file, else <first scene's stem>.exr.
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
    /// Progressive passes: a small first pass for a fast first look, then equal passes.
    #[arg(long, env = "MOONFARM_PASSES", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub passes: u32,
    /// Workers rendering at once in the embedded mode.
    #[arg(long, env = "MOONFARM_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// Frame number (default: the scene's `frame`).
    #[arg(long, env = "MOONFARM_FRAME")]
    pub frame: Option<i32>,
    /// Let the scene read this environment variable through os.getenv (repeatable); every
    /// other variable reads as nil. Its value is carried with the job to the workers.
    #[arg(long = "allow-env", value_name = "NAME")]
    pub allow_env: Vec<String>,
    /// Keep a snapshot EXR beside the output, updated after every pass.
    #[arg(long, env = "MOONFARM_SNAPSHOTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub snapshots: bool,
    /// On the farm: follow the job with a progress bar and download the EXR when it is done.
    #[arg(long)]
    pub wait: bool,
    /// Print the submitted job as JSON (farm mode).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args, Clone)]
pub struct JobArgs {
    /// The job id `submit` printed.
    pub job: String,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args, Clone)]
pub struct FetchArgs {
    pub job: String,
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// The latest snapshot instead of the final image.
    #[arg(long)]
    pub snapshot: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
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
    #[arg(long)]
    pub json: bool,
    /// Only --amqp and the queue names are used: the queue depths need no blob store.
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Checks what clap cannot: values that parse but make no sense.
pub fn validate(args: &SubmitArgs) -> anyhow::Result<()> {
    if !(args.res.is_finite() && args.res >= 0.125 && args.res <= 1024.0) {
        anyhow::bail!("--res {}: the resolution divisor must be between 0.125 and 1024 (for example --res 2 for half size)", args.res);
    }
    args.remote.conn.check()?;
    if args.remote.conn.amqp.is_some() && args.remote.conn.blob.is_none() {
        anyhow::bail!("MOONFARM_AMQP_URL is set but MOONFARM_BLOB_URL is not: the farm needs both (e.g. az://renders)");
    }
    Ok(())
}
