//! The worker's command line: every flag also an environment variable (the Kubernetes
//! manifests set only variables), validated into `Config`.

use clap::Parser;
use shared::config::ConnectionArgs;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "worker",
    version,
    about = "Moonfarm worker: renders tile-pass tasks from the queue"
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[arg(long, env = "MOONFARM_TASK_QUEUE", default_value = shared::queue::TASK_QUEUE)]
    pub task_queue: String,
    #[arg(long, env = "MOONFARM_RESULT_QUEUE", default_value = shared::queue::RESULT_QUEUE)]
    pub result_queue: String,
    /// Result shards: with N > 1, a job's results go to <result queue>.<i>, i a hash of the
    /// job id modulo N, each shard merged by its own mergers. Every worker, merger and
    /// producer of a farm must be given the same N.
    #[arg(long, env = "MOONFARM_RESULT_SHARDS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub result_shards: u32,
    /// Tasks held at once: 1, the only value (a worker takes the next task only when this one
    /// is done, so it never holds one back while higher-priority work waits).
    #[arg(long, env = "MOONFARM_PREFETCH", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub prefetch: u16,
    /// Log lines as text or as one JSON object each (for log collectors).
    #[arg(long, env = "MOONFARM_LOG_FORMAT", value_enum, default_value_t = shared::process::LogFormat::Text)]
    pub log_format: shared::process::LogFormat,
    /// Port of /healthz, /readyz and /metrics.
    #[arg(long, env = "MOONFARM_HTTP_PORT", default_value_t = 9464)]
    pub http_port: u16,
    /// On SIGTERM the task in hand stops at its next sample wave, stores the samples it
    /// rendered and puts the rest back on the queue as a task; a wave still running this many
    /// seconds after the SIGTERM is abandoned. Waves take about a quarter of it (at most 1 s).
    #[arg(long, env = "MOONFARM_GRACE_SECONDS", default_value_t = 300)]
    pub grace_seconds: u64,
    /// Samples per pixel of every wave of a render, instead of waves sized from its speed.
    #[arg(long, env = "MOONFARM_WAVE_SAMPLES", value_parser = clap::value_parser!(u32).range(1..))]
    pub wave_samples: Option<u32>,
    /// Exit after this many seconds without a task (one-shot pods).
    #[arg(long, env = "MOONFARM_EXIT_WHEN_IDLE")]
    pub exit_when_idle: Option<u64>,
    /// Render threads (default: every core the container may use).
    #[arg(long, env = "MOONFARM_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Skip rendering and store empty partials: measures the farm's own cost per task.
    #[arg(long, env = "MOONFARM_DRY_RUN", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub dry_run: bool,
    /// Bytes the local cache of referenced files (textures, ...) may hold, in a folder under
    /// the temp dir; least recently used files are evicted first.
    #[arg(long, env = "MOONFARM_ASSET_CACHE_BYTES", default_value_t = crate::assets::DEFAULT_CACHE_BYTES)]
    pub asset_cache_bytes: u64,
    /// A partial of at most this many bytes also travels in its result message, so that the
    /// merger merges it without downloading it (it is stored as well: a restarted merger
    /// rebuilds from the store). 0 sends none; at most half of --max-message-bytes is used.
    #[arg(long, env = "MOONFARM_INLINE_PARTIAL_BYTES", default_value_t = crate::DEFAULT_INLINE_PARTIAL_BYTES)]
    pub inline_partial_bytes: u64,
    #[command(flatten)]
    pub limits: shared::limits::Limits,
    /// Parse and check the configuration, print it, and exit.
    #[arg(long)]
    pub check_config: bool,
}

/// Everything the process needs beyond `Config`: where to connect and what to serve.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: crate::Config,
    pub conn: ConnectionArgs,
    pub http_port: u16,
    pub threads: Option<u16>,
    pub log_format: shared::process::LogFormat,
    pub check_config: bool,
}

/// The pod's name on Kubernetes (HOSTNAME), else host and process id.
fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
    format!("{host}-{}", std::process::id())
}

/// Every error is a usage error. `--check-config` may show a connection left unset.
pub fn validate(cli: Cli) -> anyhow::Result<Settings> {
    if cli.check_config {
        cli.conn.check()?;
    } else {
        cli.conn.check_service()?;
    }
    for (flag, q) in [
        ("--task-queue", &cli.task_queue),
        ("--result-queue", &cli.result_queue),
    ] {
        if q.is_empty() || q.len() > 255 {
            anyhow::bail!("{flag} `{q}`: a queue name is 1 to 255 characters");
        }
    }
    if cli.prefetch != 1 {
        anyhow::bail!("--prefetch {} (MOONFARM_PREFETCH): a worker takes one task at a time, so that no task waits behind the one it renders (priorities); set it to 1 or leave it unset", cli.prefetch);
    }
    Ok(Settings {
        config: crate::Config {
            task_queue: cli.task_queue,
            result_queue: cli.result_queue,
            result_shards: cli.result_shards,
            prefetch: cli.prefetch,
            poll: Duration::from_millis(250),
            grace: Duration::from_secs(cli.grace_seconds),
            wave_samples: cli.wave_samples,
            exit_when_idle: cli.exit_when_idle.map(Duration::from_secs),
            dry_run: cli.dry_run,
            name: worker_name(),
            asset_cache_bytes: cli.asset_cache_bytes,
            assets_in_place: false,
            inline_partial_bytes: cli.inline_partial_bytes,
            // A worker process shares its store with the farm: never ephemeral.
            ephemeral_store: false,
            limits: cli.limits,
        },
        conn: cli.conn,
        http_port: cli.http_port,
        threads: cli.threads,
        log_format: cli.log_format,
        check_config: cli.check_config,
    })
}

impl Settings {
    /// The resolved configuration, one `key = value` per line, secrets redacted.
    pub fn describe(&self) -> String {
        let c = &self.config;
        [
            self.conn.describe(),
            format!("task_queue = {}", c.task_queue),
            format!("result_queue = {}", c.result_queue),
            format!("result_shards = {}", c.result_shards),
            format!("prefetch = {}", c.prefetch),
            format!("http_port = {}", self.http_port),
            format!("grace_seconds = {}", c.grace.as_secs()),
            format!("inline_partial_bytes = {}", c.inline_partial_bytes),
            format!(
                "wave_samples = {}",
                c.wave_samples.map_or("auto".into(), |n| n.to_string())
            ),
            format!(
                "exit_when_idle = {}",
                c.exit_when_idle
                    .map_or("never".into(), |d| d.as_secs().to_string())
            ),
            format!(
                "threads = {}",
                self.threads.map_or("all".into(), |t| t.to_string())
            ),
            format!("dry_run = {}", c.dry_run),
            format!("asset_cache_bytes = {}", c.asset_cache_bytes),
            format!("log_format = {}", self.log_format),
            c.limits.describe(),
        ]
        .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_validate() {
        let cli = Cli::try_parse_from([
            "worker",
            "--amqp",
            "amqp://u:secret@h:5672/%2f",
            "--blob",
            "file:///srv/renders",
            "--grace-seconds",
            "30",
        ])
        .unwrap();
        let s = validate(cli).unwrap();
        assert_eq!(s.config.grace, Duration::from_secs(30));
        assert!(s.describe().contains("u:***@h:5672") && !s.describe().contains("secret"));
        // An Azure store is checked for its credential with the URLs, before anything connects.
        let azure = Cli::try_parse_from(["worker", "--amqp", "amqp://h", "--blob", "az://renders"])
            .unwrap();
        if std::env::var_os("MOONFARM_AZURE_AUTH").is_none() {
            assert!(validate(azure)
                .unwrap_err()
                .to_string()
                .contains("MOONFARM_AZURE_AUTH"));
        }
        let bad = Cli::try_parse_from(["worker", "--blob", "s3://x"]).unwrap();
        assert!(validate(bad)
            .unwrap_err()
            .to_string()
            .contains("MOONFARM_BLOB_URL"));
        assert!(Cli::try_parse_from(["worker", "--http-port", "not-a-port"]).is_err());
        let unset = Cli::try_parse_from(["worker"]).unwrap();
        assert!(validate(unset)
            .unwrap_err()
            .to_string()
            .contains("set MOONFARM_AMQP_URL"));
        let json =
            Cli::try_parse_from(["worker", "--check-config", "--log-format", "json"]).unwrap();
        assert!(validate(json)
            .unwrap()
            .describe()
            .contains("log_format = json"));
        assert!(Cli::try_parse_from(["worker", "--log-format", "xml"]).is_err());
    }
}
