//! `worker`: parses the configuration and runs the farm's worker process.

use clap::Parser;

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
    // The RabbitMQ and Azure Blob adapters are the next step (the distributed-farm issue);
    // until they exist the worker runs only embedded, inside `producer submit`.
    eprintln!("error: the distributed worker needs the RabbitMQ and Azure Blob adapters, which are not built yet; use `producer submit SCENE.rdla`, which runs workers embedded");
    std::process::ExitCode::FAILURE
}
