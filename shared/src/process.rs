//! What every farm process does at start: logging, the shutdown signal, and the adapters
//! built from their URLs.

use crate::amqp::{AmqpOptions, AmqpQueue};
use crate::blob::Blobs;
use anyhow::Context;
use tokio_util::sync::CancellationToken;

/// How a long-running process writes its log lines to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event (coloured on a terminal only).
    #[default]
    Text,
    /// One JSON object per event, for log collectors (Azure Monitor, Loki, Elasticsearch).
    Json,
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// Logs to stderr in `format`, filtered by `MOONFARM_LOG`, else by `default_filter`.
pub fn init_tracing(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MOONFARM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        // Colours only on a terminal: pod logs and log files get plain text that tools can parse.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

/// Runs a long-running process's work on a multi-threaded runtime: exit status 0 when it
/// ends well, 1 with its error on one line when not.
pub fn run_service(
    work: impl std::future::Future<Output = anyhow::Result<()>>,
) -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(work) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// One token per process, fired by SIGTERM (what Kubernetes sends on scale-in) or Ctrl-C.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let fire = token.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupt: shutting down"),
        }
        fire.cancel();
    });
    token
}

/// Connects to RabbitMQ and opens the blob store. The connection gets its own token, fired by
/// the caller after its work is done, so that a worker finishing its task after SIGTERM can
/// still report it.
pub async fn connect(
    conn: &crate::config::ConnectionArgs,
    name: &str,
) -> anyhow::Result<(AmqpQueue, Blobs, CancellationToken)> {
    conn.check()?;
    let amqp = conn.amqp.as_deref().context("no queue configured: set MOONFARM_AMQP_URL (or --amqp), e.g. amqp://user:pass@rabbitmq:5672/%2f")?;
    let blob = conn.blob.as_deref().context(
        "no blob store configured: set MOONFARM_BLOB_URL (or --blob), e.g. az://renders",
    )?;
    let blobs = Blobs::from_url(blob)?;
    let token = CancellationToken::new();
    let opts = AmqpOptions {
        shutdown: token.clone(),
        connection_name: name.to_string(),
        ..AmqpOptions::default()
    };
    let queue = AmqpQueue::connect(amqp, opts)
        .await
        .with_context(|| format!("connecting to {}", crate::config::redact(amqp)))?;
    Ok((queue, blobs, token))
}
