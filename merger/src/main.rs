//! `merger`: parses the configuration, connects to the farm, serves health and metrics, and
//! merges results until SIGTERM.

use shared::service::{self, ServiceSpec};

fn main() -> std::process::ExitCode {
    if let Err(e) = shared::process::start() {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(shared::cli::EXIT_USAGE);
    }
    let cli = match shared::cli::parse::<merger::cli::Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let described = match merger::cli::validate(&cli) {
        Ok(d) => d,
        Err(e) => return service::exit_code_or(Err(e), shared::cli::EXIT_USAGE),
    };
    if cli.check_config {
        println!("{described}");
        return std::process::ExitCode::SUCCESS;
    }
    shared::process::init_tracing(cli.log_format, "info");
    service::block_on(run(cli))
}

async fn run(cli: merger::cli::Cli) -> anyhow::Result<()> {
    let metrics = merger::Metrics::default();
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let config = merger::Config {
        result_queue: shared::shard::queue(&cli.result_queue, cli.result_shards, cli.shard),
        task_queue: cli.task_queue.clone(),
        keep_partials: cli.keep_partials,
        snapshot_interval: std::time::Duration::from_secs_f64(cli.snapshot_interval_seconds),
        limits: cli.limits,
        ..merger::Config::default()
    };
    let spec = ServiceSpec {
        name: format!("merger-{}", std::process::id()),
        http_port: cli.http_port,
        registry,
        conn: &cli.conn,
    };
    service::run(spec, |c, shutdown| async move {
        let adapters = merger::Adapters {
            queue: c.queue,
            blobs: c.blobs,
        };
        merger::run(&config, adapters, metrics, shutdown).await
    })
    .await
}
