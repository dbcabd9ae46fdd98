//! The producer: turns scene files into a job of tile-pass tasks and sees it through, either
//! on a farm or embedded in this process.

pub mod cli;
pub mod embedded;
pub mod job;
mod progress;

use cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Submit(args) => {
            cli::validate(&args)?;
            let job = job::prepare(&args)?;
            for w in &job.warnings {
                eprintln!("warning: {w}");
            }
            runtime.block_on(embedded::render(job, &args))
        }
    }
}
