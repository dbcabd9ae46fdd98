//! `producer`: parses the command line, sets up logging, and hands over to `producer::run`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = producer::cli::Cli::parse();
    // kube's client and lapin log a failed request at ERROR before returning it; the error is
    // printed once anyway, as the command's own one line.
    shared::process::init_tracing(
        shared::process::LogFormat::Text,
        "warn,kube_client::client::builder=off,lapin=off",
    );
    shared::service::exit_code(producer::run(cli))
}
