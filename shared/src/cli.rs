//! How every Moonfarm binary reads its command line, so that the producer, the worker and the
//! merger behave alike: `--help` never prints an environment variable's value (a
//! MOONFARM_AMQP_URL holds a password), a bad value that came from a variable is reported as
//! that variable, and every usage error exits 2.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgMatches, Command};
use std::ffi::OsString;
use std::process::ExitCode;

/// The exit status of a usage error (a bad flag, value or variable), as clap's own.
pub const EXIT_USAGE: u8 = 2;

/// Parses the process's arguments into `T`. On a usage error, prints one error line and
/// returns the exit status to end with (2; 0 for `--help` and `--version`).
pub fn parse<T: clap::Parser>() -> Result<T, ExitCode> {
    parse_from(std::env::args_os())
}

/// `parse` of the given arguments (the first is the program's name).
pub fn parse_from<T: clap::Parser>(
    argv: impl IntoIterator<Item = impl Into<OsString>>,
) -> Result<T, ExitCode> {
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let mut cmd = hide_env_values(T::command());
    let parsed = cmd
        .try_get_matches_from_mut(&argv)
        .and_then(|m: ArgMatches| T::from_arg_matches(&m).map_err(|e| e.format(&mut cmd)));
    parsed.map_err(|e| {
        if let Some(line) = blame_environment(&cmd, &argv, &e) {
            eprintln!("{line}");
            return ExitCode::from(EXIT_USAGE);
        }
        // clap prints help and version to stdout with status 0, errors to stderr with 2.
        let _ = e.print();
        ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 })
    })
}

/// `cmd` with every flag's environment value hidden from `--help`, in every subcommand: the
/// variable's name still shows (`[env: MOONFARM_AMQP_URL]`), its value never does.
pub fn hide_env_values(cmd: Command) -> Command {
    cmd.mut_args(|a| a.hide_env_values(true))
        .mut_subcommands(hide_env_values)
}

/// A flag's bad value that came from its environment variable, not from `argv`: the one error
/// line naming the variable (clap's own names the flag the user never typed). None for every
/// other error.
pub fn blame_environment(cmd: &Command, argv: &[OsString], e: &clap::Error) -> Option<String> {
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = arg.split_whitespace().next()?.strip_prefix("--")?;
    // The subcommand the arguments name (`producer submit ...`), where the flag is defined.
    let mut sub = cmd;
    for a in argv.iter().skip(1).filter_map(|a| a.to_str()) {
        if let Some(s) = sub.find_subcommand(a) {
            sub = s;
        }
    }
    let flag = sub.get_arguments().find(|a| a.get_long() == Some(long))?;
    let long = format!("--{long}");
    let short = flag.get_short().map(|c| format!("-{c}"));
    let typed = argv.iter().skip(1).filter_map(|a| a.to_str()).any(|a| {
        a == long
            || a.starts_with(&format!("{long}="))
            || short
                .as_deref()
                .is_some_and(|s| a.starts_with(s) && !a.starts_with("--"))
    });
    if typed {
        return None;
    }
    let var = flag.get_env()?.to_str()?.to_string();
    let value = crate::config::redact(&std::env::var(&var).ok()?);
    Some(format!(
        "error: {var}={value}: {} (the variable sets {long}; fix or unset it)",
        why(e)
    ))
}

/// Why clap refused a value, without the flag's name: its validator's message, or the values
/// it takes.
fn why(e: &clap::Error) -> String {
    if let Some(ContextValue::String(s)) = e.get(ContextKind::Custom) {
        return s.clone();
    }
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        return format!("expected one of {}", valid.join(", "));
    }
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or_default();
    // "error: invalid value 'abc' for '--spp <SPP>': invalid digit found in string"
    match first.split_once("': ") {
        Some((_, reason)) => reason.to_string(),
        None => "not a valid value".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct Demo {
        #[arg(long, env = "MOONFARM_DEMO_URL")]
        url: Option<String>,
        #[command(subcommand)]
        cmd: Option<Sub>,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        Run {
            #[arg(long, env = "MOONFARM_DEMO_SPP")]
            spp: Option<u32>,
        },
    }

    #[test]
    fn every_flag_of_every_subcommand_hides_its_environment_value() {
        let mut cmd = hide_env_values(Demo::command());
        cmd.build();
        assert!(cmd
            .get_arguments()
            .filter(|a| a.get_env().is_some())
            .all(|a| a.is_hide_env_values_set()));
        let run = cmd.find_subcommand("run").unwrap();
        assert!(run
            .get_arguments()
            .filter(|a| a.get_env().is_some())
            .all(|a| a.is_hide_env_values_set()));
    }
}
