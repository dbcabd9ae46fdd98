//! `merger`: parses the configuration and runs the farm's merger process.

use clap::Parser;

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
    // The RabbitMQ and Azure Blob adapters are the next step (the distributed-farm issue);
    // until they exist the merger runs only embedded, inside `producer submit`.
    eprintln!("error: the distributed merger needs the RabbitMQ and Azure Blob adapters, which are not built yet; use `producer submit SCENE.rdla`, which runs the merger embedded");
    std::process::ExitCode::FAILURE
}
