//! What every farm process does at start: logging, and the adapters built from their URLs
//! (the service runner, `service`, does the rest for long-running processes).

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
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("MOONFARM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    // The certificate verifier logs an ERROR line per refused certificate, and the blob client
    // tries each request ten times: the error that ends the operation says it once, with what
    // to do (`tls::hint`). Unless MOONFARM_LOG asks for them by name.
    const VERIFIER: &str = "rustls_platform_verifier";
    if !std::env::var("MOONFARM_LOG").is_ok_and(|v| v.contains(VERIFIER)) {
        filter = filter.add_directive(format!("{VERIFIER}=off").parse().expect("a directive"));
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| RedactedStderr(Vec::new()));
    match format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        // Colours only on a terminal: pod logs and log files get plain text that tools can parse.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

/// One log event's bytes, written to stderr with its secrets masked (`secrets::redact`) when
/// the event is done: whatever a library puts in a log line, a credential never reaches the
/// log.
struct RedactedStderr(Vec<u8>);

impl std::io::Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedStderr {
    fn drop(&mut self) {
        let text = crate::secrets::redact(&String::from_utf8_lossy(&self.0));
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
    }
}

/// What every binary does first, before it parses its command line: credentials given as
/// files read into their variables, a password on the command line refused, panic messages
/// redacted. An error here is a usage error (exit 2).
pub fn start() -> Result<(), String> {
    crate::secrets::redact_panics();
    crate::secrets::refuse_on_command_line(std::env::args_os())?;
    crate::secrets::load_files()
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
        .with_context(|| format!("connecting to {}", crate::secrets::redact_url(amqp)))?;
    Ok((queue, blobs, token))
}
