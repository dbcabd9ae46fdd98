//! `worker`: parses the configuration, connects to the farm, serves health and metrics, and
//! renders tasks until SIGTERM (or, with --exit-when-idle, until the queue stays empty).

use clap::Parser;
use shared::health::Health;
use std::sync::Arc;

fn main() -> std::process::ExitCode {
    let settings = match worker::cli::validate(worker::cli::Cli::parse()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    if settings.check_config {
        println!("{}", settings.describe());
        return std::process::ExitCode::SUCCESS;
    }
    if let Some(n) = settings.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.into())
            .build_global()
            .expect("the render pool is set up once");
    }
    shared::process::init_tracing(settings.log_format, "info");
    shared::process::run_service(run(settings))
}

async fn run(s: worker::cli::Settings) -> anyhow::Result<()> {
    let shutdown = shared::process::shutdown_on_signal();
    let state = worker::WorkerState::default();
    let mut registry = prometheus_client::registry::Registry::default();
    state.metrics.register(&mut registry);
    let health = Health::new(registry);
    let addr = shared::health::serve(s.http_port, health.clone(), shutdown.clone()).await?;
    tracing::info!(%addr, "health and metrics");
    let (queue, blobs, connection) = shared::process::connect(&s.conn, &s.config.name).await?;
    let adapters = worker::Adapters {
        queue: Arc::new(queue.clone()),
        blobs,
    };
    health.set_ready(true);
    let result = worker::run(&s.config, adapters, state, shutdown).await;
    health.set_ready(false);
    connection.cancel();
    queue.close().await;
    result
}
