//! `merger`: parses the configuration, connects to the farm, serves health and metrics, and
//! merges results until SIGTERM.

use clap::Parser;
use shared::health::Health;
use std::sync::Arc;

fn main() -> std::process::ExitCode {
    let cli = merger::cli::Cli::parse();
    let described = match merger::cli::validate(&cli) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    if cli.check_config {
        println!("{described}");
        return std::process::ExitCode::SUCCESS;
    }
    shared::process::init_tracing(cli.log_format, "info");
    shared::process::run_service(run(cli))
}

async fn run(cli: merger::cli::Cli) -> anyhow::Result<()> {
    let shutdown = shared::process::shutdown_on_signal();
    let metrics = merger::Metrics::default();
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let health = Health::new(registry);
    let addr = shared::health::serve(cli.http_port, health.clone(), shutdown.clone()).await?;
    tracing::info!(%addr, "health and metrics");
    let name = format!("merger-{}", std::process::id());
    let (queue, blobs, connection) = shared::process::connect(&cli.conn, &name).await?;
    let adapters = merger::Adapters {
        queue: Arc::new(queue.clone()),
        blobs,
    };
    let config = merger::Config {
        result_queue: cli.result_queue.clone(),
        keep_partials: cli.keep_partials,
        ..merger::Config::default()
    };
    health.set_ready(true);
    let result = merger::run(&config, adapters, metrics, shutdown).await;
    health.set_ready(false);
    connection.cancel();
    queue.close().await;
    result
}
