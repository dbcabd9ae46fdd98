//! The command lines of all three binaries, through the binaries (no service needed): `--help`
//! never prints an environment variable's value, a bad value from a variable is reported as
//! the variable, and every usage error exits 2 with one line.

use super::*;
use clap::CommandFactory;

/// `bin args` with only the variables given, of Moonfarm's and Azure's (none inherited).
fn run(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("MOONFARM_") || name.starts_with("AZURE_") {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().copied()).output().unwrap()
}

const PASSWORD: &str = "hunter2-in-the-environment";

#[test]
fn no_help_of_any_binary_prints_an_environment_value() {
    let amqp = format!("amqp://moonfarm:{PASSWORD}@rabbitmq:5672/%2f");
    let env = [
        ("MOONFARM_AMQP_URL", amqp.as_str()),
        ("MOONFARM_BLOB_URL", "az://renders-from-the-environment"),
        ("MOONFARM_SPP", "7"),
        ("MOONFARM_ALLOW_ENV", "SECRET_TOKEN"),
        ("MOONFARM_NAMESPACE", "nightly"),
        ("MOONFARM_HTTP_PORT", "1234"),
    ];
    let producer = PathBuf::from(env!("CARGO_BIN_EXE_producer"));
    let mut runs: Vec<(PathBuf, Vec<String>)> = vec![(producer.clone(), vec!["--help".into()])];
    for sub in producer::cli::Cli::command().get_subcommands() {
        runs.push((
            producer.clone(),
            vec![sub.get_name().to_string(), "--help".into()],
        ));
    }
    runs.push((binary("worker"), vec!["--help".into()]));
    runs.push((binary("merger"), vec!["--help".into()]));
    let mut variables_shown = 0;
    for (bin, args) in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(bin, &args, &env);
        let what = format!("{} {}", bin.display(), args.join(" "));
        assert_eq!(o.status.code(), Some(0), "{what}: {}", text(&o.stderr));
        let help = text(&o.stdout);
        for secret in [
            PASSWORD,
            "renders-from-the-environment",
            "SECRET_TOKEN",
            "nightly",
        ] {
            assert!(!help.contains(secret), "{what} prints {secret}:\n{help}");
        }
        // The variables are still named, without a value: `[env: NAME]`, never `[env: NAME=..]`.
        for shown in help.split("[env: ").skip(1) {
            let name = shown.split(']').next().unwrap();
            assert!(!name.contains('='), "{what}: [env: {name}]");
            variables_shown += 1;
        }
        if args[0] != "--help" && args[0] != "convert" {
            assert!(
                help.contains("[env: MOONFARM_AMQP_URL]"),
                "{what} names MOONFARM_AMQP_URL:\n{help}"
            );
        }
    }
    assert!(
        help_of(&binary("worker")).contains("[env: MOONFARM_HTTP_PORT]") && variables_shown > 50,
        "{variables_shown}"
    );
}

fn help_of(bin: &Path) -> String {
    text(&run(bin, &["--help"], &[]).stdout)
}

/// A binary, its arguments, its variables, and what its one error line holds ("": no error).
type Case<'a> = (&'a Path, Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn usage_errors_exit_2_in_every_binary_and_a_bad_variable_is_named_as_itself() {
    let dir = tempfile::tempdir().unwrap();
    let scene = cornell();
    let scene = scene.to_str().unwrap();
    let out = dir.path().join("x.exr");
    let out = out.to_str().unwrap();
    let producer = PathBuf::from(env!("CARGO_BIN_EXE_producer"));
    let (worker, merger) = (binary("worker"), binary("merger"));
    let farm = [
        ("MOONFARM_AMQP_URL", AMQP_URL),
        ("MOONFARM_BLOB_URL", "memory://"),
    ];
    let cases: Vec<Case> = vec![
        (&producer, vec!["submit", scene, "-o", out], vec![("MOONFARM_SPP", "abc")], "error: MOONFARM_SPP=abc: invalid digit found in string (the variable sets --spp; fix or unset it)"),
        (&producer, vec!["submit", scene, "-o", out], vec![("MOONFARM_TILE_SIZE", "2")], "error: MOONFARM_TILE_SIZE=2: 2 is not in 4..=4096 (the variable sets --tile-size"),
        (&producer, vec!["submit", scene, "-o", out], vec![("MOONFARM_SNAPSHOTS", "maybe")], "error: MOONFARM_SNAPSHOTS=maybe: "),
        (&producer, vec!["submit", scene, "--spp", "abc", "-o", out], vec![], "'--spp <SPP>'"),
        (&producer, vec!["submit", scene, "-o", "x.gif"], vec![], "x.gif"),
        (&producer, vec!["prune"], vec![], "--older-than"),
        (&producer, vec!["convert", scene, "out.xyz"], vec![], "unknown extension .xyz"),
        (&producer, vec!["list"], vec![("MOONFARM_BLOB_URL", "s3://bucket")], "MOONFARM_BLOB_URL `s3://bucket`"),
        (&producer, vec!["list"], vec![], "set MOONFARM_BLOB_URL"),
        (&worker, vec!["--bogus"], vec![], "--bogus"),
        (&worker, vec![], farm.to_vec(), ""),
        (&worker, vec![], vec![], "no queue configured: set MOONFARM_AMQP_URL"),
        (&worker, vec![], [&farm[..], &[("MOONFARM_HTTP_PORT", "abc")]].concat(), "error: MOONFARM_HTTP_PORT=abc: invalid digit found in string (the variable sets --http-port"),
        (&worker, vec![], [&farm[..], &[("MOONFARM_PREFETCH", "0")]].concat(), "error: MOONFARM_PREFETCH=0: 0 is not in 1..=64"),
        (&worker, vec![], [&farm[..], &[("MOONFARM_LOG_FORMAT", "xml")]].concat(), "error: MOONFARM_LOG_FORMAT=xml: "),
        (&worker, vec![], vec![("MOONFARM_AMQP_URL", AMQP_URL), ("MOONFARM_BLOB_URL", "s3://x")], "MOONFARM_BLOB_URL `s3://x`"),
        (&worker, vec![], vec![("MOONFARM_AMQP_URL", AMQP_URL), ("MOONFARM_BLOB_URL", "az://renders"), ("MOONFARM_AZURE_AUTH", "password")], "MOONFARM_AZURE_AUTH"),
        (&merger, vec!["--bogus"], vec![], "--bogus"),
        (&merger, vec![], vec![("MOONFARM_BLOB_URL", "memory://")], "no queue configured: set MOONFARM_AMQP_URL"),
        (&merger, vec![], [&farm[..], &[("MOONFARM_HTTP_PORT", "99999")]].concat(), "error: MOONFARM_HTTP_PORT=99999: "),
        (&merger, vec![], [&farm[..], &[("MOONFARM_KEEP_PARTIALS", "maybe")]].concat(), "error: MOONFARM_KEEP_PARTIALS=maybe: "),
        (&merger, vec!["--http-port", "abc"], farm.to_vec(), "'--http-port <HTTP_PORT>'"),
    ];
    for (bin, args, env, expected) in cases {
        let mut args = args;
        // A worker or merger that got past its checks would connect and run: give it one that
        // stops at once, so that the case `farm` (no error) proves the checks let it through.
        if expected.is_empty() {
            args.push("--check-config");
        }
        let o = run(bin, &args, &env);
        let what = format!("{} {args:?} {env:?}", bin.display());
        let err = text(&o.stderr);
        if expected.is_empty() {
            assert_eq!(o.status.code(), Some(0), "{what}: {err}");
            continue;
        }
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(expected), "{what}: {err}");
        if !expected.starts_with('\'') && !expected.starts_with("--") {
            assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
        }
        assert!(err.starts_with("error: "), "{what}: {err}");
    }
    assert!(!Path::new(out).exists());
}
