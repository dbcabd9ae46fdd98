//! `producer`: parses the command line, sets up logging, and hands over to `producer::run`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    if let Err(e) = shared::process::start() {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(producer::EXIT_USAGE);
    }
    let cli = match producer::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(line) = producer::cli::blame_environment(&e) {
                eprintln!("{line}");
                return std::process::ExitCode::from(producer::EXIT_USAGE);
            }
            e.exit()
        }
    };
    // kube's client and lapin log a failed request at ERROR before returning it; the error is
    // printed once anyway, as the command's own one line.
    shared::process::init_tracing(
        shared::process::LogFormat::Text,
        "warn,kube_client::client::builder=off,lapin=off",
    );
    match producer::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", shared::secrets::redact(&format!("{e:#}")));
            std::process::ExitCode::from(producer::exit_code(&e))
        }
    }
}
