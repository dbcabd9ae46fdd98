//! The producer: turns scene files into a job of tile-pass tasks and sees it through, either
//! on a farm or embedded in this process, and answers questions about farm jobs.

pub mod cli;
mod cluster;
pub mod embedded;
mod follow;
pub mod frames;
pub mod job;
mod progress;
mod remote;

use cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Submit(args) => {
            cli::validate(&args)?;
            let job = job::prepare(&args)?;
            for w in &job.warnings {
                eprintln!("warning: {w}");
            }
            if args.remote.conn.amqp.is_some() {
                runtime.block_on(remote::submit(job, &args))
            } else {
                runtime.block_on(embedded::render(job, &args))
            }
        }
        Command::Status(args) => runtime.block_on(remote::status(&args)),
        Command::Fetch(args) => runtime.block_on(remote::fetch(&args)),
        Command::Cancel(args) => runtime.block_on(remote::cancel(&args)),
        Command::List(args) => runtime.block_on(remote::list(&args)),
        Command::Cluster(args) => runtime.block_on(cluster::check(&args)),
    }
}
