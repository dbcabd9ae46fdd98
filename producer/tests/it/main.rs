//! End-to-end tests of the `producer` binary in its embedded mode: real scenes in, EXR files
//! out, bad input refused with one clear line and no output.

mod adaptive;
#[cfg(feature = "cluster")]
mod cluster;
mod determinism;
mod errors;
mod first_hour;
mod hostile;
mod rdlb;
mod scenes;
mod sequences;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn producer(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_producer"))
        .args(args)
        .current_dir(cwd)
        .env_remove("MOONFARM_AMQP_URL")
        .output()
        .expect("the producer binary runs")
}

pub fn repo() -> PathBuf {
    testkit::paths::root()
}

/// `../shared/scenes` beside the checkout: real MoonRay scenes every session and CI has.
pub fn shared_scenes() -> PathBuf {
    testkit::paths::shared_scenes()
}

pub fn read_image(path: &Path) -> shared::film::Image {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    shared::exr_io::decode_image(&bytes)
        .expect("a Moonfarm EXR")
        .0
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
