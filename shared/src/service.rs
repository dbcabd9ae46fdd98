//! The service runner every long-running process (worker, merger) starts through: health
//! server, readiness, signals, connecting, and the orderly shutdown (cancel, then close).
//! Each binary's `main` says only what differs: its name, port, metrics and work.

use crate::blob::Blobs;
use crate::config::ConnectionArgs;
use crate::health::Health;
use crate::queue::Queue;
use prometheus_client::registry::Registry;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What differs between services at start-up.
pub struct ServiceSpec<'a> {
    /// Names the process's broker connection (shown in RabbitMQ's management view).
    pub name: String,
    /// Port of /healthz, /readyz and /metrics (0 picks a free one).
    pub http_port: u16,
    /// The service's metrics, served at /metrics.
    pub registry: Registry,
    pub conn: &'a ConnectionArgs,
}

/// The adapters a service's work gets once connected.
#[derive(Clone)]
pub struct Connected {
    pub queue: Arc<dyn Queue>,
    pub blobs: Blobs,
}

/// Serves health, connects, marks the process ready and runs `work` with the adapters and the
/// shutdown token (fired by SIGTERM or Ctrl-C). When the work ends, the process is marked not
/// ready, then the connection is cancelled and closed: only after the work is done, so that a
/// task finishing after SIGTERM can still be reported.
pub async fn run<W, F>(spec: ServiceSpec<'_>, work: W) -> anyhow::Result<()>
where
    W: FnOnce(Connected, CancellationToken) -> F,
    F: Future<Output = anyhow::Result<()>>,
{
    let shutdown = shutdown_on_signal();
    let health = Health::new(spec.registry);
    let addr = crate::health::serve(spec.http_port, health.clone(), shutdown.clone()).await?;
    tracing::info!(%addr, "health and metrics");
    let (queue, blobs, connection) = crate::process::connect(spec.conn, &spec.name).await?;
    let adapters = Connected {
        queue: Arc::new(queue.clone()),
        blobs,
    };
    health.set_ready(true);
    let result = work(adapters, shutdown).await;
    health.set_ready(false);
    connection.cancel();
    queue.close().await;
    result
}

/// Runs a service's future on a runtime of one thread, the calling one; its outcome as the
/// exit status. The services' heavy work runs elsewhere (the worker's render on its rayon
/// pool, the merger's decodes and encodes on the blocking pool), so that their I/O does not
/// hand each request from thread to thread.
pub fn block_on(work: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    exit_code(runtime.block_on(work))
}

/// Exit status 0 when the process ended well, else 1 with its error on one line on stderr.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    exit_code_or(result, 1)
}

/// Like `exit_code`, with the status of a failure: e.g. 2 for a bad configuration.
pub fn exit_code_or(result: anyhow::Result<()>, failure: u8) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", crate::secrets::redact(&format!("{e:#}")));
            ExitCode::from(failure)
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
