//! `producer`: parses the command line, sets up logging, and hands over to `producer::run`.

fn main() -> std::process::ExitCode {
    if let Err(e) = shared::process::start() {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(producer::EXIT_USAGE);
    }
    let cli = match shared::cli::parse::<producer::cli::Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
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
