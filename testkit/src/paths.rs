//! The project's paths as tests need them: the workspace root, the read-only scenes and RATS
//! tests beside the checkout (`../shared`), and the binaries `cargo build` put in target/.

use std::path::{Path, PathBuf};

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the workspace root")
        .to_path_buf()
}

/// `../shared` beside the checkout: real MoonRay scenes, RATS tests, schemas (read-only).
pub fn shared() -> PathBuf {
    root().join("../shared")
}

/// `../shared/scenes`: the real MoonRay test scenes every session and CI has.
pub fn shared_scenes() -> PathBuf {
    shared().join("scenes")
}

/// `../shared/rats`: MoonRay's RATS tests (`tests.json` and their scenes).
pub fn shared_rats() -> PathBuf {
    shared().join("rats")
}

/// The target profile folder the running test binary was built into (target/debug for
/// `cargo test`): test binaries live in its `deps/`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe.parent().expect("the test binary's folder");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().unwrap().to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// A workspace binary built beside the running tests; panics with the command that builds it
/// if it is missing (`cargo test` builds only the binaries of the package under test).
pub fn binary(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first with `cargo build -p {name}` (scripts/test does)",
        path.display()
    );
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_holds_the_workspace_and_the_binaries_sit_in_target() {
        assert!(root().join("Cargo.toml").is_file());
        assert!(root().join("testkit/src/paths.rs").is_file());
        assert!(
            target_dir().join("deps").is_dir(),
            "{}",
            target_dir().display()
        );
    }
}
