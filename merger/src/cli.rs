//! The merger's command line: every flag also an environment variable, validated.

use clap::Parser;
use shared::config::ConnectionArgs;

#[derive(Debug, Parser)]
#[command(
    name = "merger",
    version,
    about = "Moonfarm merger: merges partial buffers into snapshots and final EXRs"
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[arg(long, env = "MOONFARM_RESULT_QUEUE", default_value = shared::queue::RESULT_QUEUE)]
    pub result_queue: String,
    /// The farm's task queue, as the workers are given it: where adaptive jobs' next passes
    /// go (on the job's level's queue, `<task queue>.interactive` and so on).
    #[arg(long, env = "MOONFARM_TASK_QUEUE", default_value = shared::queue::TASK_QUEUE)]
    pub task_queue: String,
    /// Result shards: with N > 1, a job's results go to <result queue>.<i>, i a hash of the
    /// job id modulo N, each shard merged by its own mergers. Every worker, merger and
    /// producer of a farm must be given the same N.
    #[arg(long, env = "MOONFARM_RESULT_SHARDS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub result_shards: u32,
    /// The shard this merger merges, 0 to result_shards - 1. Run two or more mergers per
    /// shard: one is active, the others are standbys that take over when it dies.
    #[arg(long, env = "MOONFARM_SHARD", default_value_t = 0)]
    pub shard: u32,
    /// Keep the partial buffers of ended jobs (by default they are deleted once the job's
    /// final image, or its end state, is stored).
    #[arg(long, env = "MOONFARM_KEEP_PARTIALS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub keep_partials: bool,
    /// A single-frame job's snapshot is written when its first pass is complete, and then
    /// after a later pass only if this many seconds have passed since the last one (0: after
    /// every pass). Snapshots are whole-image EXRs: writing one per pass of a fast job costs
    /// the merger more than merging its results.
    #[arg(long, env = "MOONFARM_SNAPSHOT_INTERVAL_SECONDS", default_value_t = 10.0, value_parser = non_negative_seconds)]
    pub snapshot_interval_seconds: f64,
    /// Log lines as text or as one JSON object each (for log collectors).
    #[arg(long, env = "MOONFARM_LOG_FORMAT", value_enum, default_value_t = shared::process::LogFormat::Text)]
    pub log_format: shared::process::LogFormat,
    /// Port of /healthz, /readyz and /metrics.
    #[arg(long, env = "MOONFARM_HTTP_PORT", default_value_t = 9465)]
    pub http_port: u16,
    #[command(flatten)]
    pub limits: shared::limits::Limits,
    /// Parse and check the configuration, print it, and exit.
    #[arg(long)]
    pub check_config: bool,
}

fn non_negative_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds (0 or more)")),
    }
}

/// Every error is a usage error. `--check-config` may show a connection left unset.
pub fn validate(cli: &Cli) -> anyhow::Result<String> {
    if cli.check_config {
        cli.conn.check()?;
    } else {
        cli.conn.check_service()?;
    }
    for (flag, name) in [
        ("--result-queue", &cli.result_queue),
        ("--task-queue", &cli.task_queue),
    ] {
        if name.is_empty() || name.len() > 255 {
            anyhow::bail!("{flag} `{name}`: a queue name is 1 to 255 characters");
        }
    }
    if cli.shard >= cli.result_shards {
        anyhow::bail!(
            "--shard {}: there are {} result shards, numbered 0 to {}; set MOONFARM_SHARD below MOONFARM_RESULT_SHARDS",
            cli.shard,
            cli.result_shards,
            cli.result_shards - 1
        );
    }
    Ok([
        cli.conn.describe(),
        format!("result_queue = {}", cli.result_queue),
        format!("task_queue = {}", cli.task_queue),
        format!("result_shards = {}", cli.result_shards),
        format!("shard = {}", cli.shard),
        format!("keep_partials = {}", cli.keep_partials),
        format!(
            "snapshot_interval_seconds = {}",
            cli.snapshot_interval_seconds
        ),
        format!("log_format = {}", cli.log_format),
        format!("http_port = {}", cli.http_port),
        cli.limits.describe(),
    ]
    .join("\n"))
}
