//! `producer`: parses the command line, sets up logging, and hands over to `producer::run`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = producer::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            // kube's client and lapin log a failed request at ERROR before returning it; the
            // error is printed once anyway, as the command's own one line.
            tracing_subscriber::EnvFilter::try_from_env("MOONFARM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kube_client::client::builder=off,lapin=off")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match producer::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
