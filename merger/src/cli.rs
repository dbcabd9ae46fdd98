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
    /// Keep the partial buffers of ended jobs (by default they are deleted once the job's
    /// final image, or its end state, is stored).
    #[arg(long, env = "MOONFARM_KEEP_PARTIALS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub keep_partials: bool,
    /// Log lines as text or as one JSON object each (for log collectors).
    #[arg(long, env = "MOONFARM_LOG_FORMAT", value_enum, default_value_t = shared::process::LogFormat::Text)]
    pub log_format: shared::process::LogFormat,
    /// Port of /healthz, /readyz and /metrics.
    #[arg(long, env = "MOONFARM_HTTP_PORT", default_value_t = 9465)]
    pub http_port: u16,
    /// Parse and check the configuration, print it, and exit.
    #[arg(long)]
    pub check_config: bool,
}

/// Every error is a usage error. `--check-config` may show a connection left unset.
pub fn validate(cli: &Cli) -> anyhow::Result<String> {
    if cli.check_config {
        cli.conn.check()?;
    } else {
        cli.conn.check_service()?;
    }
    if cli.result_queue.is_empty() || cli.result_queue.len() > 255 {
        anyhow::bail!(
            "--result-queue `{}`: a queue name is 1 to 255 characters",
            cli.result_queue
        );
    }
    Ok([
        cli.conn.describe(),
        format!("result_queue = {}", cli.result_queue),
        format!("keep_partials = {}", cli.keep_partials),
        format!("log_format = {}", cli.log_format),
        format!("http_port = {}", cli.http_port),
    ]
    .join("\n"))
}
