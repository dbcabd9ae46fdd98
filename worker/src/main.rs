//! `worker`: parses the configuration, connects to the farm, serves health and metrics, and
//! renders tasks until SIGTERM (or, with --exit-when-idle, until the queue stays empty).

use shared::service::{self, ServiceSpec};

fn main() -> std::process::ExitCode {
    if let Err(e) = shared::process::start() {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(shared::cli::EXIT_USAGE);
    }
    let cli = match shared::cli::parse::<worker::cli::Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let settings = match worker::cli::validate(cli) {
        Ok(s) => s,
        Err(e) => return service::exit_code_or(Err(e), shared::cli::EXIT_USAGE),
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
    service::block_on(run(settings))
}

async fn run(s: worker::cli::Settings) -> anyhow::Result<()> {
    let state = worker::WorkerState::default();
    let mut registry = prometheus_client::registry::Registry::default();
    state.metrics.register(&mut registry);
    let spec = ServiceSpec {
        name: s.config.name.clone(),
        http_port: s.http_port,
        registry,
        conn: &s.conn,
    };
    service::run(spec, |c, shutdown| async move {
        let adapters = worker::Adapters {
            queue: c.queue,
            blobs: c.blobs,
        };
        worker::run(&s.config, adapters, state, shutdown).await
    })
    .await
}
