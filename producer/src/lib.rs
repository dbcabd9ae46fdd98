//! The producer: turns scene files into a job of tile-pass tasks and sees it through, either
//! on a farm or embedded in this process, and answers questions about farm jobs.

mod assets;
pub mod cli;
#[cfg(feature = "cluster")]
mod cluster;
mod convert;
mod dispatch;
pub mod embedded;
mod follow;
pub mod frames;
pub mod job;
mod list;
mod logs;
mod progress;
mod remote;
mod report;
mod when;

use cli::{Cli, Command};

/// The exit status of a usage error (a bad flag, value or variable), as clap's own.
pub const EXIT_USAGE: u8 = shared::cli::EXIT_USAGE;

/// A command line that cannot work: a flag's value, a variable, an output name. Exits 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The render was stopped by a signal: exits 128 + the signal's number (130 on Ctrl-C).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Interrupted {
    pub signal: i32,
    pub message: String,
}

/// The exit status for a command's error: 2 for usage errors, 128 + N after signal N, else 1.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else if let Some(i) = e.downcast_ref::<Interrupted>() {
        (128 + i.signal).clamp(0, 255) as u8
    } else {
        1
    }
}

/// `anyhow::bail!` for usage errors.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err($crate::UsageError(format!($($arg)*)).into())
    };
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Submit(args) => {
            cli::validate(&args)?;
            let not_before = cli::not_before(&args)?;
            let job = job::prepare(&args)?;
            for w in &job.warnings {
                eprintln!("warning: {w}");
            }
            if args.remote.conn.amqp.is_some() {
                runtime.block_on(remote::submit(job, &args, not_before))
            } else {
                if let Some(blob) = &args.remote.conn.blob {
                    // Not an error: MOONFARM_BLOB_URL may be set for `list` and `status`.
                    eprintln!("warning: --blob (MOONFARM_BLOB_URL) {blob} is not used: without --amqp (MOONFARM_AMQP_URL) the render is embedded in this process; set MOONFARM_AMQP_URL to submit it to the farm");
                }
                runtime.block_on(embedded::render(job, &args))
            }
        }
        Command::Status(args) => runtime.block_on(remote::status(&args)),
        Command::Fetch(args) => runtime.block_on(remote::fetch(&args)),
        Command::Cancel(args) => runtime.block_on(remote::cancel(&args)),
        Command::Pause(args) => runtime.block_on(dispatch::pause(&args)),
        Command::Resume(args) => runtime.block_on(dispatch::resume(&args)),
        Command::Priority(args) => runtime.block_on(dispatch::priority(&args)),
        Command::List(args) => runtime.block_on(list::list(&args)),
        Command::Logs(args) => runtime.block_on(logs::logs(&args)),
        Command::Delete(args) => runtime.block_on(remote::delete(&args)),
        Command::Prune(args) => runtime.block_on(remote::prune(&args)),
        #[cfg(feature = "cluster")]
        Command::Cluster(args) => runtime.block_on(cluster::check(&args)),
        Command::Convert(args) => convert::run(&args),
    }
}
